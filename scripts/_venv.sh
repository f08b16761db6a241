# Shared by the scripts in this folder: create (once) and refresh (when the requirements change) the project's
# virtualenv in .venv, then put it first on PATH. Sourced, not run.

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PYSOA_VENV:-$PROJECT_ROOT/.venv}"

pick_python() {
    if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
    for candidate in python3.11 python3.12 python3.10 python3.9 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
                && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
            echo "$candidate"; return
        fi
    done
    echo "ERROR: PySOA needs Python 3.9 or newer with the venv module (Debian: apt-get install python3-venv)." >&2
    return 1
}

ensure_venv() {
    local python
    python="$(pick_python)" || return 1
    if [ ! -x "$VENV/bin/python" ]; then
        echo "==> Creating virtualenv $VENV with $python"
        "$python" -m venv "$VENV" || return 1
    fi
    local stamp="$VENV/.pysoa-requirements"
    local wanted
    wanted="$(cat "$PROJECT_ROOT/setup.py" "$PROJECT_ROOT/dev-requirements.txt" | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        echo "==> Installing PySOA and its test requirements into $VENV"
        local log="$VENV/pysoa-install.log"
        if ! { "$VENV/bin/python" -m pip install --upgrade pip \
                && "$VENV/bin/python" -m pip install -e "$PROJECT_ROOT[testing]" -r "$PROJECT_ROOT/dev-requirements.txt"
             } >"$log" 2>&1; then
            tail -n 40 "$log" >&2
            echo "ERROR: installing the requirements failed; the whole log is in $log" >&2
            return 1
        fi
        echo "$wanted" > "$stamp"
    fi
    export PATH="$VENV/bin:$PATH"
}
