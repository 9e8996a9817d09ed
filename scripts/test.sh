#!/usr/bin/env bash
# The README's second command: install everything the tests need on a fresh machine, run them all.
#   - Debian packages: Prometheus + Alertmanager (+ promtool/amtool), PostgreSQL if absent
#   - .venv with llmwatch[test] (openai 3.x), and .venv-openai2 with openai 2.54 for the 2.x suite
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

need_apt=()
command -v prometheus >/dev/null || need_apt+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need_apt+=(prometheus-alertmanager)
command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# The PostgreSQL the tests use at 127.0.0.1:5432 (started if the machine has one that stopped).
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if ls /etc/postgresql >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
fi

source scripts/bootstrap.sh "test,otlp-test"
# Lint and type-check the package first (rules and strictness live in pyproject.toml); set -e fails the run.
echo "==> ruff check llmwatch"
python -m ruff check llmwatch
echo "==> mypy (strict, packages from pyproject.toml)"
python -m mypy
echo "==> pytest (openai $(python -c 'import openai; print(openai.__version__)'))"
set +e
python -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
[ $rc -eq 0 ] || exit $rc

# The instrumentation suite again against openai 2.x (the last 2.x release).
if [ -z "${LLMWATCH_SKIP_OPENAI2:-}" ] && [ $# -eq 0 ]; then
  deactivate
  LLMWATCH_VENV="$ROOT/.venv-openai2" source scripts/bootstrap.sh "test"
  python -m pip install -q "openai==2.54.0"
  echo "==> pytest -m openai2 (openai $(python -c 'import openai; print(openai.__version__)'))"
  python -m pytest -q -p no:cacheprovider -m openai2
fi
