#!/usr/bin/env bash
# The whole test suite from a fresh clone: sets up .venv with the versions pinned in requirements/lock.txt, then runs
# ruff, mypy and pytest. Extra arguments go to pytest (for example: bash scripts/test.sh tests/unit -x).
#
# A whole run (no pytest arguments) also runs tests/unit on Python 3.9 and 3.13, in .venv-py3.9 and .venv-py3.13, before
# the whole suite (which goes last, so that the end of the output names any test that failed).
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
run_step "ruff format" ruff format --check
run_step "mypy pysoa" mypy pysoa
run_step "mypy tests" mypy tests example_service
# The unit tests on the oldest and newest supported Pythons (EXTRA_PYTHON_VERSIONS in _venv.sh), each in its own
# locked virtualenv: about a minute each. Only for a whole run (no pytest arguments); PYSOA_EXTRA_PYTHONS="" skips it.
# A missing interpreter fails the run in CI, and is skipped with a notice elsewhere.
run_unit_tests_on() {
    local version="$1" python started=$SECONDS status=0
    python="$(ensure_unit_test_venv "$version")" || return 1
    "$python" -m pytest tests/unit -q -p no:cacheprovider || status=$?
    echo "(Python $version: $((SECONDS - started)) s, virtualenv included)"
    return "$status"
}
if [ "$mode" = "locked" ] && [ "$#" -eq 0 ]; then
    for version in $EXTRA_PYTHON_VERSIONS; do
        if [ -z "${CI:-}" ] && ! find_python_version "$version" >/dev/null; then
            echo "==> SKIPPED pytest tests/unit on Python $version: it is not installed (pyenv install $version)"
            continue
        fi
        run_step "pytest tests/unit on Python $version" run_unit_tests_on "$version"
    done
fi

# The whole suite last, so that the end of the output (all a CI log may show) names any test that failed.
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
