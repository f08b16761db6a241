#!/usr/bin/env bash
# The demo from a fresh clone: sets up .venv and runs the example service demo.
set -euo pipefail
source "$(dirname "$0")/_venv.sh"
ensure_venv
cd "$PROJECT_ROOT"
exec python -m example_service.demo "$@"
