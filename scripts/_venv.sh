# Shared by the scripts in this folder: create (once) and refresh (when the requirements or the lock change) a
# virtualenv of the project, then put it first on PATH. Sourced, not run.
#
# ensure_venv          .venv, every package at the exact version pinned in requirements/lock.txt (reproducible).
# ensure_venv latest   .venv-latest, the newest versions that setup.py and dev-requirements.txt allow (drift check).

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK_FILE="$PROJECT_ROOT/requirements/lock.txt"

pick_python() {
    if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
    # requirements/lock.txt is resolved for CPython 3.11: prefer it.
    for candidate in python3.11 python3.12 python3.10 python3.9 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
                && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
            echo "$candidate"; return
        fi
    done
    echo "ERROR: PySOA needs Python 3.9 or newer with the venv module (Debian: apt-get install python3-venv)." >&2
    return 1
}

# Installs pip, then the project with its extras and the test tools, into the virtualenv $1. With a lock file as $2,
# every package (and the build backend pip fetches for the editable install) is held at the locked version.
install_requirements() {
    local venv="$1" lock="${2:-}"
    local python="$venv/bin/python" extras="$PROJECT_ROOT[testing,django,docs]"
    local dev="$PROJECT_ROOT/dev-requirements.txt"
    if [ -n "$lock" ]; then
        PIP_CONSTRAINT="$lock" "$python" -m pip install --disable-pip-version-check pip setuptools wheel \
            && PIP_CONSTRAINT="$lock" "$python" -m pip install --disable-pip-version-check -e "$extras" -r "$dev"
    else
        "$python" -m pip install --disable-pip-version-check --upgrade pip setuptools wheel \
            && "$python" -m pip install --disable-pip-version-check --upgrade --upgrade-strategy eager \
                -e "$extras" -r "$dev"
    fi
}

ensure_venv() {
    local mode="${1:-locked}" venv lock python
    if [ "$mode" = "latest" ]; then
        venv="${PYSOA_LATEST_VENV:-$PROJECT_ROOT/.venv-latest}"; lock=""
    else
        venv="${PYSOA_VENV:-$PROJECT_ROOT/.venv}"; lock="$LOCK_FILE"
    fi
    python="$(pick_python)" || return 1
    if [ ! -x "$venv/bin/python" ]; then
        echo "==> Creating virtualenv $venv with $python"
        "$python" -m venv "$venv" || return 1
    fi
    local stamp="$venv/.pysoa-requirements" wanted
    wanted="$(cat "$PROJECT_ROOT/setup.py" "$PROJECT_ROOT/dev-requirements.txt" ${lock:+"$lock"} | sha256sum | cut -d' ' -f1)"
    # The latest environment is refreshed on every run: "newest" changes without any file of ours changing.
    if [ -n "$lock" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        export PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv"
        return 0
    fi
    echo "==> Installing PySOA and its test requirements into $venv${lock:+ (versions from ${lock#"$PROJECT_ROOT"/})}"
    local log="$venv/pysoa-install.log"
    if ! install_requirements "$venv" "$lock" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "ERROR: installing the requirements failed; the whole log is in $log" >&2
        return 1
    fi
    echo "$wanted" > "$stamp"
    export PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv"
}

# The unit tests also run on the oldest and newest Python PySOA supports, each in .venv-py<version>: the project with
# its testing and django extras and UNIT_TEST_TOOLS, pinned by requirements/lock-py<version>.txt where the main lock
# does not install on that Python (scripts/lock.sh writes those), else by requirements/lock.txt.
EXTRA_PYTHON_VERSIONS="${PYSOA_EXTRA_PYTHONS-3.9 3.13}"
UNIT_TEST_TOOLS=(hypothesis pytest-timeout parameterized)

# Prints the interpreter of Python $1 (X.Y): pyenv's newest X.Y.*, else pythonX.Y on the PATH (pyenv's shims of
# versions that are not selected fail the version check).
find_python_version() {
    local version="$1" candidate
    local candidates=()
    mapfile -t candidates < <(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version".*/bin/"python$version" 2>/dev/null \
        | sort -V -r)
    candidates+=("$(command -v "python$version" || true)")
    for candidate in "${candidates[@]}"; do
        if [ -n "$candidate" ] && "$candidate" -c \
                "import sys, venv; sys.exit(sys.version_info[:2] != tuple(int(p) for p in '$version'.split('.')))" \
                2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    return 1
}

unit_test_lock_file() {
    local lock="$PROJECT_ROOT/requirements/lock-py$1.txt"
    if [ -f "$lock" ]; then echo "$lock"; else echo "$LOCK_FILE"; fi
}

# Installs what the unit tests need into the virtualenv $1, at the versions of the lock file $2 if given.
install_unit_test_requirements() {
    local venv="$1" lock="${2:-}"
    local python="$venv/bin/python" extras="$PROJECT_ROOT[testing,django]" ranges="$PROJECT_ROOT/dev-requirements.txt"
    if [ -n "$lock" ]; then
        PIP_CONSTRAINT="$lock" "$python" -m pip install --disable-pip-version-check pip setuptools wheel \
            && PIP_CONSTRAINT="$lock" "$python" -m pip install --disable-pip-version-check -e "$extras" \
                -c "$ranges" "${UNIT_TEST_TOOLS[@]}"
    else
        "$python" -m pip install --disable-pip-version-check --upgrade pip setuptools wheel \
            && "$python" -m pip install --disable-pip-version-check -e "$extras" -c "$ranges" "${UNIT_TEST_TOOLS[@]}"
    fi
}

# Creates (once) and refreshes (when setup.py, the ranges or the lock change) .venv-py$1; prints its Python.
ensure_unit_test_venv() {
    local version="$1" python venv lock stamp wanted log
    venv="$PROJECT_ROOT/.venv-py$version"
    python="$(find_python_version "$version")" || {
        echo "ERROR: no Python $version found (pyenv install $version, or put python$version on the PATH)" >&2
        return 1
    }
    lock="$(unit_test_lock_file "$version")"
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv" >&2 || return 1
    fi
    stamp="$venv/.pysoa-requirements"
    wanted="$( (cat "$PROJECT_ROOT/setup.py" "$PROJECT_ROOT/dev-requirements.txt" "$lock"; echo "${UNIT_TEST_TOOLS[*]}") \
        | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        echo "==> Installing PySOA and its unit test requirements into $venv (versions from ${lock#"$PROJECT_ROOT"/})" >&2
        log="$venv/pysoa-install.log"
        if ! install_unit_test_requirements "$venv" "$lock" >"$log" 2>&1; then
            tail -n 40 "$log" >&2
            echo "ERROR: installing the requirements failed; the whole log is in $log" >&2
            return 1
        fi
        echo "$wanted" > "$stamp"
    fi
    echo "$venv/bin/python"
}
