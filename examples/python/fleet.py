#!/usr/bin/env python3
"""List a gpumon fleet and follow its watch stream over gRPC.

Generate the stubs first (see README.md next to this file), then:

    python3 fleet.py --hub localhost:7865 [--token TOKEN] [--follow 5]

--follow N prints N fleet events from the watch stream and exits (0: list
only; -1: follow until Ctrl-C). The token (the hub's --api-token, when reads
are protected) is also read from GPUMON_TOKEN.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("GPUMON_PY_STUBS", os.path.join(HERE, "gen")))

try:
    import grpc
    from gpumon.v1 import fleet_pb2, fleet_pb2_grpc
except ImportError as err:  # pragma: no cover - guidance only
    sys.exit(f"fleet.py: {err}: run examples/python/generate.sh first "
             "(needs, as root: apt-get install -y protobuf-compiler protobuf-compiler-grpc "
             "libprotobuf-dev python3-grpcio python3-protobuf)")


def parse_args():
    p = argparse.ArgumentParser(description="List a gpumon fleet and follow its watch stream.")
    p.add_argument("--hub", default=os.environ.get("GPUMON_HUB", "localhost:7865"),
                   help="address of the hub's gRPC port (default localhost:7865) [$GPUMON_HUB]")
    p.add_argument("--token", default=os.environ.get("GPUMON_TOKEN", ""),
                   help="API token, when the hub protects reads [$GPUMON_TOKEN]")
    p.add_argument("--tls-ca", default=os.environ.get("GPUMON_TLS_CA", ""),
                   help="PEM CA file to verify the hub's certificate (enables TLS) [$GPUMON_TLS_CA]")
    p.add_argument("--follow", type=int, default=0,
                   help="print this many watch events, then exit (0: none; -1: until Ctrl-C)")
    p.add_argument("--machine", default="", help="follow one machine only")
    return p.parse_args()


def channel(args):
    if args.tls_ca:
        with open(args.tls_ca, "rb") as f:
            creds = grpc.ssl_channel_credentials(root_certificates=f.read())
        return grpc.secure_channel(args.hub, creds)
    return grpc.insecure_channel(args.hub)


def gib(mib):
    return f"{mib / 1024:.1f}G"


def hottest(m):
    # max_temperature is a proto3 optional: absent when no GPU reports a
    # temperature, which HasField tells from 0.
    return f"{m.max_temperature}C" if m.HasField("max_temperature") else "-"


def print_machines(resp):
    print(f"{'HOST':<24} {'STATE':<7} {'GPUS':>5} {'GPU MEMORY':>15} {'CPU':>5} {'MEM':>5} {'HOT':>5}")
    for m in resp.machines:
        state = "online" if m.online else "offline"
        memory = f"{gib(m.gpu_memory_used)}/{gib(m.gpu_memory_total)}"
        print(f"{m.key[:24]:<24} {state:<7} {m.gpus_busy:>2}/{m.gpu_count:<2} {memory:>15} "
              f"{m.cpu_percent:>4.0f}% {m.memory_percent:>4.0f}% {hottest(m):>5}")
    t = resp.totals
    print(f"{t.machines} machines ({t.machines_online} online), {t.gpus_busy}/{t.gpus} GPUs busy")


def follow(stub, args, metadata):
    if args.follow == 0:
        return
    heartbeat = fleet_pb2.WATCH_EVENT_TYPE_HEARTBEAT
    seen = 0
    req = fleet_pb2.WatchRequest(machine=args.machine)
    stream = stub.Watch(req, metadata=metadata)
    for ev in stream:
        if ev.type == heartbeat:
            continue
        kind = fleet_pb2.WatchEventType.Name(ev.type).replace("WATCH_EVENT_TYPE_", "").lower()
        m = ev.machine
        print(f"{ev.time.ToDatetime().isoformat()}Z {kind:<9} {m.key} "
              f"online={str(m.online).lower()} gpus_busy={m.gpus_busy}/{m.gpu_count} "
              f"gpu_util={m.gpu_utilization:.0f}%", flush=True)
        seen += 1
        if 0 < args.follow <= seen:
            stream.cancel()
            return


def main():
    args = parse_args()
    metadata = [("authorization", "Bearer " + args.token)] if args.token else []
    with channel(args) as ch:
        stub = fleet_pb2_grpc.FleetServiceStub(ch)
        try:
            print_machines(stub.ListMachines(fleet_pb2.ListMachinesRequest(), metadata=metadata, timeout=10))
            follow(stub, args, metadata)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.CANCELLED:
                return 0
            print(f"fleet.py: {err.code().name}: {err.details()}", file=sys.stderr)
            return 3 if err.code() == grpc.StatusCode.UNAVAILABLE else 1
        except KeyboardInterrupt:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
