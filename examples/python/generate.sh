#!/usr/bin/env bash
# Generates the Python gRPC stubs of gpumon's API from proto/ into OUT_DIR
# (default: examples/python/gen, which git ignores) with Debian's
# python3-grpc-tools:
#
#   sudo apt-get install -y python3-grpc-tools python3-grpcio
#   examples/python/generate.sh [OUT_DIR]
#
# Debian's grpc_tools (1.14) bundles a protoc that predates proto3 `optional`,
# so the protos are copied with that keyword removed before generating. The
# wire format is the same; the only difference for Python is that an absent
# optional value (e.g. the temperature of a GPU that does not report one)
# reads as 0 instead of being detectable with HasField().
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$here/gen}"
python="${PYTHON:-/usr/bin/python3}"

if ! "$python" -c 'import grpc_tools.protoc, grpc' 2>/dev/null; then
  echo "generate.sh: $python lacks grpc_tools or grpc: run 'sudo apt-get install -y python3-grpc-tools python3-grpcio'" >&2
  exit 1
fi
include="$("$python" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/gpumon/v1" "$out"
for f in "$root"/proto/gpumon/v1/*.proto; do
  sed -E 's/^([[:space:]]*)optional /\1/' "$f" > "$work/gpumon/v1/$(basename "$f")"
done
"$python" -m grpc_tools.protoc -I"$work" -I"$include" \
  --python_out="$out" --grpc_python_out="$out" "$work"/gpumon/v1/*.proto
touch "$out/gpumon/__init__.py" "$out/gpumon/v1/__init__.py"
echo "generate.sh: Python stubs in $out/gpumon/v1"
