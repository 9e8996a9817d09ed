#!/usr/bin/env bash
# The README's first command: install llmwatch in .venv and run the demo workload.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh" "openai,anthropic,ollama,tokens,scoring,injection,similarity"
exec llmwatch demo "$@"
