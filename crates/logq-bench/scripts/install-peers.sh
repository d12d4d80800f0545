#!/bin/sh
# Installs the comparison peers of logq-bench from Debian packages, if missing.
# Needs root and access to the Debian mirror. Services are NOT started or enabled here:
# logq-bench starts private instances on 127.0.0.1 in temporary directories.
set -eu
want=""
for pair in redis-server:redis-server postgres:postgresql rabbitmq-server:rabbitmq-server nats-server:nats-server; do
    bin=${pair%%:*}
    pkg=${pair#*:}
    if command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || ls /usr/lib/postgresql/*/bin/"$bin" >/dev/null 2>&1; then
        echo "install-peers: $pkg present"
    else
        want="$want $pkg"
    fi
done
if [ -z "$want" ]; then
    echo "install-peers: nothing to install"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-peers: need root to install:$want" >&2
    exit 1
fi
# Keep the packaged services from starting system-wide instances on install.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || true
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $want
