#!/usr/bin/env bash
# Generates the Python gRPC stubs of gpumon's API from proto/ into OUT_DIR
# (default: examples/python/gen, which git ignores) with Debian's protoc
# (protobuf-compiler, 3.21) and its gRPC Python plugin (protobuf-compiler-grpc).
# As root (prefix sudo otherwise):
#
#   apt-get install -y protobuf-compiler protobuf-compiler-grpc libprotobuf-dev python3-grpcio python3-protobuf
#   examples/python/generate.sh [OUT_DIR]
#
# protoc 3.21 keeps proto3 `optional`: an absent value (the temperature of a GPU
# without a sensor) is told from zero with HasField(). (Debian's
# python3-grpc-tools bundles protoc 3.5, which does not know `optional`.)
# libprotobuf-dev holds google/protobuf/*.proto, which the API imports.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$here/gen}"
protoc="${PROTOC:-protoc}"
plugin="${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}"
install="apt-get install -y protobuf-compiler protobuf-compiler-grpc libprotobuf-dev python3-grpcio python3-protobuf"

fail() {
  echo "generate.sh: $1: run '$install' as root (or with sudo)" >&2
  exit 1
}
command -v "$protoc" >/dev/null 2>&1 || fail "no protoc"
[ -x "$plugin" ] || fail "no gRPC Python plugin at $plugin"
version="$("$protoc" --version | awk '{print $2}')"
major="${version%%.*}"
minor="${version#*.}"
minor="${minor%%.*}"
# proto3 optional without flags needs protoc 3.15 or newer (or 4.x/2x.x).
if [ "$major" = 3 ] && [ "$minor" -lt 15 ]; then
  fail "protoc $version predates proto3 optional (want 3.15 or newer)"
fi
include=""
for dir in /usr/include /usr/local/include; do
  [ -f "$dir/google/protobuf/timestamp.proto" ] && include="$dir" && break
done
[ -n "$include" ] || fail "google/protobuf/timestamp.proto not found (libprotobuf-dev)"

mkdir -p "$out"
"$protoc" -I"$root/proto" -I"$include" \
  --python_out="$out" --grpc_python_out="$out" --plugin=protoc-gen-grpc_python="$plugin" \
  "$root"/proto/gpumon/v1/*.proto
touch "$out/gpumon/__init__.py" "$out/gpumon/v1/__init__.py"
echo "generate.sh: Python stubs in $out/gpumon/v1 (protoc $version)"
