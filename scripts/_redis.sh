# Shared by the scripts in this folder: make sure redis-server (which also runs Sentinels) is installed. Sourced.

ensure_redis_server() {
    if command -v redis-server >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "ERROR: redis-server is not installed, and this script can only install it as root on Debian." >&2
        echo "       Install Debian's package yourself (sudo apt-get install -y redis-server), then run again." >&2
        return 1
    fi
    echo "==> Installing redis-server (Debian package)"
    # Keep the package from starting its own Redis service on port 6379: tests start their own servers.
    local policy=/usr/sbin/policy-rc.d created_policy=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
    fi
    local status=0
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null \
        || status=$?
    [ -n "$created_policy" ] && rm -f "$policy"
    if [ "$status" != "0" ] || ! command -v redis-server >/dev/null 2>&1; then
        echo "ERROR: installing redis-server failed (apt-get exit status $status)." >&2
        return 1
    fi
}
