#!/usr/bin/env bash
# Runs a hub and one local agent from bin/ (see `make demo`). The agent reads
# this machine's real system data; GPUs are simulated when no NVIDIA driver is
# present. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

http_addr="${GPUMON_HTTP_ADDR:-:7864}"
grpc_addr="${GPUMON_GRPC_ADDR:-:7865}"
data_dir="${GPUMON_DATA_DIR:-./gpumon-data}"
grpc_port="${grpc_addr##*:}"
http_port="${http_addr##*:}"

agent_args=()
if [[ -e /proc/driver/nvidia/version ]] || command -v nvidia-smi >/dev/null 2>&1; then
  echo "demo: NVIDIA driver found: the agent reads the real GPUs"
else
  agent_args+=(--simulate "${GPUMON_SIMULATE:-dgxh100}")
  echo "demo: no NVIDIA driver here: the agent simulates ${GPUMON_SIMULATE:-dgxh100} GPUs (system data is real)"
fi

mkdir -p "$data_dir"
admin_file="$data_dir/demo-admin-token"
if [[ ! -s "$admin_file" ]]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' > "$admin_file")
fi
admin_token="$(cat "$admin_file")"

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup INT TERM EXIT

bin/gpumon-hub --http-addr "$http_addr" --grpc-addr "$grpc_addr" --data-dir "$data_dir" \
  --admin-token "$admin_token" --legacy-open &
pids+=($!)

for _ in $(seq 1 100); do
  [[ -s "$data_dir/agent-token" ]] && curl -fsS "http://127.0.0.1:${http_port}/healthz" >/dev/null 2>&1 && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then echo "demo: the hub did not start (see above)" >&2; exit 1; fi
  sleep 0.1
done

bin/gpumon-agent --hub "127.0.0.1:${grpc_port}" --token "$(cat "$data_dir/agent-token")" "${agent_args[@]}" &
pids+=($!)

cat <<MSG

  gpumon is running:  http://localhost:${http_port}/
  admin token (kill, forget; paste it into the page's settings): ${admin_token}
  Ctrl-C stops the hub and the agent.

MSG
wait -n "${pids[@]}" || true
