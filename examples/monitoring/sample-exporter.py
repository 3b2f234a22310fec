#!/usr/bin/env python3
"""Serves a hand-written imitation of what MonitoringExample exposes at /metrics.

It lets the Prometheus side (check-prometheus.sh, the dashboard's queries, the alert rules) be
tried without building the Java: ``check-prometheus.sh --exporter python3 sample-exporter.py``.
The series are the ones DagMetrics and WorkerPoolMetrics register through
micrometer-registry-prometheus (docs/operations/monitoring.md, section 3), with counters that
grow as time passes. It is an imitation: the real check runs the real example.

Usage: sample-exporter.py [PORT]   (0 or nothing: a free port). Prints
``metrics: http://127.0.0.1:PORT/metrics`` once it listens, like the example.
"""

from __future__ import annotations

import http.server
import sys
import time

DAG = "monitoring-demo"
# node -> backend, as in MonitoringExample.dag
NODES = {
    "fetch-source": "java", "samples": "java", "normalize": "python", "stats": "python",
    "labels": "java", "describe-labels": "python", "transpose": "java", "gram": "native",
    "checksum": "native", "rows": "java", "score": "java", "validate": "java", "report": "java",
}
START = time.monotonic()


def exposition() -> str:
    runs = int((time.monotonic() - START) * 3) + 1  # about three runs a second
    failed_runs = runs // 10 + runs // 25
    out: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[str, dict, float]]):
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        for suffix, labels, value in samples:
            text = ",".join(f'{k}="{v}"' for k, v in labels.items())
            out.append(f"{name}{suffix}{{{text}}} {value}")

    def tasks(node: str) -> int:
        return runs  # a map node (score) is one task, whatever its elements

    for outcome, share in [("started", 1.0), ("succeeded", 0.97), ("failed", 0.01),
                           ("retried", 0.02), ("skipped", 0.01), ("cancelled", 0.0),
                           ("cached", 0.0)]:
        family(f"open_dag_tasks_{outcome}_total", "counter", f"tasks {outcome}",
               [("", {"backend": b, "dag": DAG, "node": n}, float(int(tasks(n) * share)))
                for n, b in NODES.items()])
    samples = []
    for n, b in NODES.items():
        for outcome in ("succeeded", "failed", "cancelled"):
            labels = {"backend": b, "dag": DAG, "node": n, "outcome": outcome}
            count = tasks(n) if outcome == "succeeded" else 0
            samples.append(("_count", labels, float(count)))
            samples.append(("_sum", labels, count * 0.004))
    family("open_dag_task_duration_seconds", "summary",
           "how long tasks ran, all attempts included", samples)
    family("open_dag_task_duration_seconds_max", "gauge",
           "how long tasks ran, all attempts included",
           [("", {"backend": b, "dag": DAG, "node": n, "outcome": "succeeded"}, 0.02)
            for n, b in NODES.items()])
    family("open_dag_tasks_running", "gauge", "tasks running now", [("", {"dag": DAG}, 3.0)])
    family("open_dag_runs_started_total", "counter", "runs started",
           [("", {"dag": DAG}, float(runs))])
    family("open_dag_runs_finished_total", "counter", "runs finished",
           [("", {"dag": DAG, "status": "SUCCEEDED"}, float(runs - failed_runs)),
            ("", {"dag": DAG, "status": "FAILED"}, float(failed_runs))])
    samples = []
    for status, count in [("SUCCEEDED", runs - failed_runs), ("FAILED", failed_runs)]:
        labels = {"dag": DAG, "status": status}
        samples += [("_count", labels, float(count)), ("_sum", labels, count * 0.12)]
    family("open_dag_run_duration_seconds", "summary", "how long runs took", samples)
    family("open_dag_run_duration_seconds_max", "gauge", "how long runs took",
           [("", {"dag": DAG, "status": "SUCCEEDED"}, 0.2)])
    family("open_dag_runs_active", "gauge", "runs in progress", [("", {"dag": DAG}, 1.0)])
    pool = {"pool": "python"}
    family("open_workers_size", "gauge", "configured workers", [("", pool, 2.0)])
    family("open_workers_alive", "gauge", "workers alive", [("", pool, 2.0)])
    family("open_workers_busy", "gauge", "workers with a call in flight", [("", pool, 1.0)])
    family("open_workers_calls_inflight", "gauge", "calls in flight", [("", pool, 1.0)])
    family("open_workers_rss_bytes", "gauge", "resident memory of the workers",
           [("", pool, 2 * 48_000_000.0)])
    family("open_workers_restarts_total", "counter", "workers replaced",
           [("", pool, float(runs * 3 // 500))])
    family("open_workers_calls_total", "counter", "calls started", [("", pool, float(runs * 3))])
    return "\n".join(out) + "\n"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the http.server API)
        if self.path != "/metrics":
            self.send_error(404)
            return
        body = exposition().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet: Prometheus scrapes every second
        pass


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"metrics: http://127.0.0.1:{server.server_address[1]}/metrics", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
