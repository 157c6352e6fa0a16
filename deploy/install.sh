#!/usr/bin/env bash
# Installs gpumon's binaries and systemd units. Run it from a checkout after
# `make build`, or from an unpacked release (`make release`).
set -euo pipefail

usage() {
  cat <<'EOF'
install.sh: installs gpumon's binaries, systemd units and settings files.

Usage: deploy/install.sh [flags]

Flags:
  --prefix DIR   install under DIR (default /usr/local): binaries in DIR/bin;
                 with the default prefix units go to /etc/systemd/system and
                 settings to /etc/gpumon, otherwise to DIR/lib/systemd/system
                 and DIR/etc/gpumon
  --from DIR     directory holding the built binaries (default: bin/ next to
                 deploy/, i.e. the checkout's or the release's)
  --no-user      do not create the gpumon system user the hub runs as
  --help         print this help

It never overwrites existing settings files (hub.env, agent.env), creates the
system user "gpumon" (as root), and prints the next steps. It does not start
anything.
EOF
}

here="$(cd "$(dirname "$0")" && pwd)"
prefix=/usr/local
from="$here/../bin"
make_user=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
    --prefix=*) prefix="${1#*=}"; shift ;;
    --from) from="${2:?--from needs a directory}"; shift 2 ;;
    --from=*) from="${1#*=}"; shift ;;
    --no-user) make_user=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown flag $1 (see --help)" >&2; exit 2 ;;
  esac
done

prefix="$(mkdir -p "$prefix" && cd "$prefix" && pwd)"
if [[ "$prefix" == /usr/local || "$prefix" == /usr ]]; then
  unit_dir=/etc/systemd/system
  conf_dir=/etc/gpumon
else
  unit_dir="$prefix/lib/systemd/system"
  conf_dir="$prefix/etc/gpumon"
fi
bin_dir="$prefix/bin"

binaries=(gpumon-hub gpumon-agent gpumon-gateway gpumon)
for b in "${binaries[@]}"; do
  if [[ ! -x "$from/$b" ]]; then
    echo "install.sh: $from/$b is missing: run 'make build' (or 'make release') first, or pass --from DIR" >&2
    exit 1
  fi
done

install -d -m 0755 "$bin_dir" "$unit_dir"
install -d -m 0750 "$conf_dir"
for b in "${binaries[@]}"; do
  install -m 0755 "$from/$b" "$bin_dir/$b"
done
for unit in gpumon-hub.service gpumon-agent.service; do
  sed -e "s|/usr/local/bin/|$bin_dir/|g" -e "s|/etc/gpumon/|$conf_dir/|g" \
    "$here/systemd/$unit" > "$unit_dir/$unit.tmp"
  chmod 0644 "$unit_dir/$unit.tmp"
  mv "$unit_dir/$unit.tmp" "$unit_dir/$unit"
done
for env in hub.env agent.env; do
  if [[ -e "$conf_dir/$env" ]]; then
    echo "install.sh: keeping the existing $conf_dir/$env"
  else
    install -m 0600 "$here/systemd/$env" "$conf_dir/$env"
  fi
done

if [[ $make_user == 1 ]]; then
  if id gpumon >/dev/null 2>&1; then
    :
  elif [[ "$(id -u)" == 0 ]]; then
    useradd --system --home-dir /var/lib/gpumon --no-create-home --shell /usr/sbin/nologin gpumon
    echo "install.sh: created the system user gpumon"
  else
    echo "install.sh: not root, so the system user was not created; run: sudo useradd --system --home-dir /var/lib/gpumon --shell /usr/sbin/nologin gpumon" >&2
  fi
fi

cat <<EOF

gpumon is installed:
  binaries  $bin_dir/{gpumon-hub,gpumon-agent,gpumon-gateway,gpumon}
  units     $unit_dir/gpumon-hub.service, gpumon-agent.service
  settings  $conf_dir/hub.env, $conf_dir/agent.env

Next steps:
  On the hub machine:
    1. set GPUMON_ADMIN_TOKEN in $conf_dir/hub.env (e.g. openssl rand -hex 16)
    2. sudo systemctl daemon-reload && sudo systemctl enable --now gpumon-hub
    3. sudo cat /var/lib/gpumon/agent-token      # the token agents need
    4. open http://HUB:7864/  (or: gpumon --hub HUB:7865 ls)
  On every GPU machine (run this script there too):
    1. set GPUMON_HUB=HUB:7865 in $conf_dir/agent.env
    2. put the agent token in $conf_dir/agent-token, readable by root only:
       sudo sh -c 'umask 077; cat > $conf_dir/agent-token'   (paste the token, then Ctrl-D)
    3. sudo systemctl daemon-reload && sudo systemctl enable --now gpumon-agent
EOF
