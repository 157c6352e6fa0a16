"""The baseline: a minimal reimplementation of the original system's server.

Flask's development server (threaded), an in-memory dict keyed by hostname,
jsonify, and the two documented routes — nothing more. The benchmark harness
starts it to measure the original design side by side with the hub.

Usage: python3 server.py PORT
"""

import sys
import threading
from datetime import datetime

from flask import Flask, jsonify, request

OFFLINE_AFTER_SECONDS = 10

app = Flask(__name__)
machines = {}
lock = threading.Lock()


@app.route("/api/report-gpu-stats", methods=["POST"])
def report_gpu_stats():
    data = request.get_json()
    hostname = data["hostname"]
    with lock:
        machines[hostname] = {"data": data, "last_update": datetime.now()}
    return jsonify({"status": "success", "message": "Data received"})


@app.route("/api/gpu-stats", methods=["GET"])
def gpu_stats():
    now = datetime.now()
    out = {}
    with lock:
        items = list(machines.items())
    for hostname, entry in items:
        report = dict(entry["data"])
        age = (now - entry["last_update"]).total_seconds()
        report["is_online"] = age < OFFLINE_AFTER_SECONDS
        out[hostname] = report
    return jsonify({"machines": out})


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 7864
    app.run(host="127.0.0.1", port=port, threaded=True)
