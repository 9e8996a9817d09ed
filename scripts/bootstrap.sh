#!/usr/bin/env bash
# Shared set-up for scripts/demo.sh and scripts/test.sh: a virtualenv with llmwatch installed.
# Usage: source scripts/bootstrap.sh [EXTRAS]   (EXTRAS e.g. "test"; default: the demo's needs)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
VENV="${LLMWATCH_VENV:-$ROOT/.venv}"
EXTRAS="${1:-openai,tokens}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
STAMP="$VENV/.llmwatch-installed-$(cat pyproject.toml | sha1sum | cut -c1-12)-${EXTRAS//,/_}"
if [ ! -f "$STAMP" ]; then
  echo "==> installing llmwatch[$EXTRAS] into $VENV"
  python -m pip install -q --upgrade pip
  python -m pip install -q -e ".[$EXTRAS]"
  touch "$STAMP"
fi
