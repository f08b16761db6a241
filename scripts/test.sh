#!/usr/bin/env bash
# The whole test suite from a fresh clone: sets up .venv, then runs ruff, mypy and pytest. Extra arguments go to
# pytest (for example: bash scripts/test.sh tests/unit -x).
set -euo pipefail
source "$(dirname "$0")/_venv.sh"
source "$(dirname "$0")/_redis.sh"
ensure_redis_server
ensure_venv
cd "$PROJECT_ROOT"

echo "==> ruff check"
ruff check
echo "==> mypy pysoa"
mypy pysoa
echo "==> pytest"
set +e
python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "ERROR: pytest collected no tests." >&2
fi
exit "$status"
