#!/usr/bin/env bash
# Installs what opsconsole needs from Debian's packages and makes sure the
# local PostgreSQL answers on 127.0.0.1:5432 as user postgres without a
# password, and a local Redis on 127.0.0.1:6379 (shared cache and broker tests). Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(
  python3 python3-venv python3-dev build-essential make
  postgresql
  redis-server
  chromium libatomic1 fonts-liberation
  poppler-utils
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
)

# A Python from elsewhere (pyenv, /usr/local) is fine if it can make a venv.
python_ok=0
command -v python3 >/dev/null && python3 -c "import venv, ensurepip" 2>/dev/null && python_ok=1

filtered=()
for p in "${packages[@]}"; do
  case "$p" in python3*) [ "$python_ok" = 1 ] && continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || filtered+=("$p")
done

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

if [ ${#filtered[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${filtered[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${filtered[@]}" >/dev/null
fi

# PostgreSQL: start the cluster if it is down (no init system in containers).
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    echo "PostgreSQL is not installed and could not be installed." >&2
    exit 1
  fi
  hba=/etc/postgresql/$version/main/pg_hba.conf
  # Tests and the demo connect as postgres without a password from loopback.
  if ! grep -Eq '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

# Redis: start it if it is down (no init system in containers); it keeps nothing on disk.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/opsconsole.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping
