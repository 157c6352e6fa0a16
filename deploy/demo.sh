#!/usr/bin/env bash
# Runs a hub and one local agent from bin/ (see `make demo`). The agent reads
# this machine's real system data; GPUs are simulated when no NVIDIA driver is
# present, with the simulated jobs running as harmless processes of their own
# (in screen/tmux sessions where installed). Beside it, gpumon-loadgen
# simulates a small lab of other machines (GPUMON_DEMO_FLEET, default 12; 0
# for none). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

http_addr="${GPUMON_HTTP_ADDR:-:7864}"
grpc_addr="${GPUMON_GRPC_ADDR:-:7865}"
data_dir="${GPUMON_DATA_DIR:-./gpumon-data}"
grpc_port="${grpc_addr##*:}"
http_port="${http_addr##*:}"

fleet="${GPUMON_DEMO_FLEET:-12}"
if ! [[ "$fleet" =~ ^[0-9]+$ ]] || ((fleet > 1000)); then
  echo "demo: GPUMON_DEMO_FLEET=$fleet: want a number of simulated machines from 0 to 1000" >&2
  exit 2
fi
agent_args=()
simulated=""
if [[ -e /proc/driver/nvidia/version ]] || command -v nvidia-smi >/dev/null 2>&1; then
  echo "demo: NVIDIA driver found: the agent reads the real GPUs"
else
  # The simulated jobs are processes the agent started: stopping one from the
  # page (or gpumon kill, or kill PID) ends the job and frees its GPU.
  agent_args+=(--simulate "${GPUMON_SIMULATE:-dgxh100}" --allow-kill)
  simulated=1
  echo "demo: no NVIDIA driver here: the agent simulates ${GPUMON_SIMULATE:-dgxh100} GPUs (system data is real);"
  echo "demo: its jobs run as harmless processes (python train.py ..., torchrun ...), stopped with the agent"
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

# A GPU held idle shows after 5 minutes here, not the default 30.
bin/gpumon-hub --http-addr "$http_addr" --grpc-addr "$grpc_addr" --data-dir "$data_dir" \
  --admin-token "$admin_token" --legacy-open --idle-after "${GPUMON_IDLE_AFTER:-5m}" &
pids+=($!)

for _ in $(seq 1 100); do
  [[ -s "$data_dir/agent-token" ]] && curl -fsS "http://127.0.0.1:${http_port}/healthz" >/dev/null 2>&1 && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then echo "demo: the hub did not start (see above)" >&2; exit 1; fi
  sleep 0.1
done

# The token file, never the token: a command line is visible to every user.
bin/gpumon-agent --hub "127.0.0.1:${grpc_port}" --token-file "$data_dir/agent-token" \
  --state-dir "$data_dir/demo-agent-state" "${agent_args[@]}" &
pids+=($!)

if [[ "$fleet" -gt 0 ]]; then
  # Simulated machines lab-0001, lab-0002, ...: DGX servers and workstations,
  # some idle, some full, sampling at different moments as a lab's agents
  # do; their progress goes to a log, not the terminal.
  GPUMON_TOKEN="$(cat "$data_dir/agent-token")" bin/gpumon-loadgen --hub "127.0.0.1:${grpc_port}" \
    --agents "$fleet" --prefix lab --duration 8760h --spread >"$data_dir/demo-loadgen.log" 2>&1 &
  pids+=($!)
fi

echo
echo "  gpumon is running:  http://localhost:${http_port}/"
echo "  admin token (kill, forget; paste it into the page's settings): ${admin_token}"
if [[ -n "$simulated" ]]; then
  echo "  stopping a simulated job's process (the page's Stop, gpumon kill, kill PID) ends the job"
fi
if [[ "$fleet" -gt 0 ]]; then
  echo "  beside this machine: ${fleet} simulated machines lab-0001 ... (gpumon-loadgen)"
fi
echo "  Ctrl-C stops everything."
echo
# The hub and the agent are the demo: when either stops, everything stops.
wait -n "${pids[0]}" "${pids[1]}" || true
