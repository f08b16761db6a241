#!/usr/bin/env bash
# The whole test suite from a fresh clone: sets up .venv with the versions pinned in requirements/lock.txt, then runs
# ruff, mypy and pytest. Extra arguments go to pytest (for example: bash scripts/test.sh tests/unit -x).
#
# bash scripts/test.sh --latest [pytest args]   The same checks in .venv-latest, against the newest versions that
#     setup.py and dev-requirements.txt allow, followed by the packages whose newest version differs from the lock.
#     It shows drift before it reaches the lock; CI does not run it. When it passes, `bash scripts/lock.sh` moves
#     the lock forward.
set -euo pipefail
mode=locked
if [ "${1:-}" = "--latest" ]; then
    mode=latest
    shift
fi
source "$(dirname "$0")/_venv.sh"
source "$(dirname "$0")/_redis.sh"
ensure_redis_server
ensure_venv "$mode"
cd "$PROJECT_ROOT"

failed=()
run_step() {
    local name="$1"
    shift
    echo "==> $name"
    if ! "$@"; then
        failed+=("$name")
    fi
}

run_step "ruff check" ruff check
run_step "mypy pysoa" mypy pysoa
run_step "mypy tests" mypy tests example_service
set +e
echo "==> pytest"
python -m pytest "$@"
pytest_status=$?
set -e
if [ "$pytest_status" -eq 5 ]; then
    echo "ERROR: pytest collected no tests." >&2
fi
if [ "$pytest_status" -ne 0 ]; then
    failed+=("pytest (exit status $pytest_status)")
fi

if [ "$mode" = "latest" ]; then
    echo "==> Newest allowed versions that differ from requirements/lock.txt"
    python -m pip freeze --all --exclude-editable --disable-pip-version-check \
        | python scripts/_lock_drift.py "$LOCK_FILE"
fi
if [ "${#failed[@]}" -ne 0 ]; then
    echo "FAILED ($mode versions): ${failed[*]}" >&2
    exit 1
fi
if [ "$mode" = "latest" ]; then
    echo "PASSED (latest versions): ruff, mypy, pytest"
fi
