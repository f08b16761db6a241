#!/usr/bin/env bash
# The demo from a fresh clone: sets up .venv (and redis-server, if missing), then runs the example service demo.
set -euo pipefail
source "$(dirname "$0")/_venv.sh"
source "$(dirname "$0")/_redis.sh"
ensure_redis_server
ensure_venv
cd "$PROJECT_ROOT"
exec python -m example_service.demo "$@"
