#!/usr/bin/env python3
"""A stand-in for the original gpu-monitor collector, for gpumon's end-to-end
tests: it reports with POST /api/report-gpu-stats and keeps the websocket at
/ws the way the original does, with the same library (Debian's
python3-websockets) and the same messages:

  -> {"type": "register", "hostname": H}
  <- {"type": "register_response", "status": "success"}
  <- {"type": "kill_processes", "pids": [...]}
  -> {"type": "kill_process_result", "status", "message", "results": [{"pid", "status", "message"}]}

It sends SIGTERM itself, to every PID it is asked to stop, as the original
does; on any failure it waits 5 s and connects again.

  original_collector.py --hub http://HOST:PORT --hostname NAME [--token T]
                        [--gpu-pid PID]... [--mode answer|drop|probe]

answer: report every second and answer kills (the original's behaviour).
drop:   like answer, but close the websocket without answering a kill.
probe:  connect and register once, print what happened, exit.

Each event is printed on its own line: "registered", "refused STATUS",
"closed CODE REASON", "killed PIDS", "dropped".
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import threading
import time
import urllib.request

import websockets


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--hub", required=True, help="the hub's HTTP base URL")
    p.add_argument("--hostname", required=True)
    p.add_argument("--token", default="")
    p.add_argument("--gpu-pid", type=int, action="append", default=[])
    p.add_argument("--mode", choices=["answer", "drop", "probe"], default="answer")
    return p.parse_args()


def say(*words):
    print(*words, flush=True)


def headers(args):
    return {"Authorization": "Bearer " + args.token} if args.token else {}


def report(args):
    procs = [{"pid": pid, "name": "python3", "cmdline": "python3 train.py", "cpu_percent": 0.0,
              "memory_percent": 1.0, "create_time": time.time(), "status": "sleeping",
              "username": "alice", "is_gpu_process": True, "gpu_memory_usage": 1024, "gpu_id": 0}
             for pid in args.gpu_pid]
    return {
        "hostname": args.hostname,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "gpu_data": [{"id": 0, "name": "NVIDIA GeForce RTX 3090", "temperature": 50, "memory_used": 1024,
                      "memory_total": 24576, "utilization": 30, "processes": procs}],
        "system_info": {"cpu_percent": 5.0, "memory_total": 1 << 34, "memory_used": 1 << 33,
                        "memory_percent": 50.0, "disk_total": 1 << 40, "disk_used": 1 << 39,
                        "disk_percent": 50.0, "ip_address": "192.0.2.7", "screen_sessions": [],
                        "docker_containers": [], "processes": procs},
    }


def post_reports(args):
    while True:
        body = json.dumps(report(args)).encode()
        req = urllib.request.Request(args.hub + "/api/report-gpu-stats", data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers(args)})
        try:
            urllib.request.urlopen(req, timeout=10).close()
        except Exception as err:  # the original logs and goes on
            say("post failed", err)
        time.sleep(1)


def stop(pids):
    results = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
            results.append({"pid": pid, "status": "success", "message": f"进程 {pid} 已终止"})
        except ProcessLookupError:
            results.append({"pid": pid, "status": "error", "message": f"进程 {pid} 不存在"})
        except PermissionError:
            results.append({"pid": pid, "status": "error", "message": f"没有权限终止进程 {pid}"})
    done = sum(1 for r in results if r["status"] == "success")
    return {"type": "kill_process_result", "status": "success" if done else "error",
            "message": f"成功终止 {done}/{len(pids)} 个进程", "results": results}


async def session(args):
    url = "ws" + args.hub[len("http"):] + "/ws"
    async with websockets.connect(url, extra_headers=headers(args)) as ws:
        await ws.send(json.dumps({"type": "register", "hostname": args.hostname}))
        answer = json.loads(await ws.recv())
        if answer.get("type") != "register_response" or answer.get("status") != "success":
            say("register failed", answer)
            return
        say("registered")
        if args.mode == "probe":
            return
        while True:
            msg = json.loads(await ws.recv())
            if msg.get("type") != "kill_processes":
                continue
            if args.mode == "drop":
                say("dropped")
                await ws.close()
                sys.exit(0)
            result = stop(msg.get("pids", []))
            await ws.send(json.dumps(result))
            say("killed", " ".join(str(r["pid"]) for r in result["results"] if r["status"] == "success"))


async def main(args):
    while True:
        try:
            await session(args)
        except websockets.exceptions.InvalidStatusCode as err:
            say("refused", err.status_code)
        except websockets.exceptions.ConnectionClosed as err:
            say("closed", err.rcvd.code if err.rcvd else "-", err.rcvd.reason if err.rcvd else "")
        if args.mode == "probe":
            return
        await asyncio.sleep(5)


if __name__ == "__main__":
    a = parse_args()
    if a.mode != "probe":
        threading.Thread(target=post_reports, args=(a,), daemon=True).start()
    asyncio.run(main(a))
