#!/usr/bin/env bash
# Checks OPEN's monitoring against a real Prometheus: MonitoringExample is scraped, the alert
# rules are loaded and evaluated, and every metric and query of the Grafana dashboard is asked of
# Prometheus, so neither the dashboard nor the rules can drift from the metrics unnoticed.
#
#   check-prometheus.sh JAVA JAR                  the example from JAR (the shaded examples jar)
#   check-prometheus.sh --exporter COMMAND [ARG...]   any command that serves /metrics on
#                                                 127.0.0.1 and prints "metrics: URL" first
#                                                 (sample-exporter.py: no JVM needed)
#
# Needs python3, and Prometheus (Debian: apt-get install prometheus; PROMETHEUS and PROMTOOL name
# other binaries). promtool, when found, also checks the rule file, the configs and the rule tests.
# CHECK_TIMEOUT (default 180 s) bounds each wait. Everything it starts is stopped on exit, and
# its temporary directory removed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
alerts=$repo/docs/operations/prometheus/open-alerts.yml
alert_tests=$repo/docs/operations/prometheus/open-alerts.test.yml
example_config=$repo/docs/operations/prometheus/prometheus.yml
dashboard=$repo/docs/operations/grafana/open-dashboard.json
prometheus=${PROMETHEUS:-prometheus}
promtool=${PROMTOOL:-promtool}
timeout=${CHECK_TIMEOUT:-180}

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

if [[ $# -ge 2 && $1 == --exporter ]]; then
  shift
  exporter=("$@")
elif [[ $# -eq 2 && $1 != -* ]]; then
  exporter=("$1" --enable-native-access=ALL-UNNAMED "-Dopen.repo=$repo" -cp "$2"
    dev.open.examples.MonitoringExample 0 forever)
else
  usage
fi
command -v "$prometheus" >/dev/null || {
  echo "no $prometheus on the PATH (Debian: apt-get install prometheus)" >&2
  exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/open-prometheus-check.XXXXXX")
started=()
cleanup() {
  local status=$? pid
  for pid in "${started[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${started[@]}"; do
    for _ in $(seq 100); do # up to 10 s for each to exit (the JVM closes its worker pool)
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ $status -ne 0 ]]; then
    for log in "$work"/*.log; do
      [[ -f $log ]] || continue
      echo "---- last lines of $(basename "$log")" >&2
      tail -n 30 "$log" >&2
    done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Polls a condition (a command) every 0.2 s until it holds; fails after $timeout seconds.
wait_for() {
  local what=$1
  shift
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      echo "FAIL: $what: not within ${timeout} s" >&2
      return 1
    fi
    sleep 0.2
  done
}

alive() { kill -0 "$1" 2>/dev/null || { echo "FAIL: process $1 exited" >&2; exit 1; }; }

echo "== the dashboard: JSON, a datasource and a target in every panel"
python3 "$here/promcheck.py" dashboard "$dashboard" >"$work/metrics.txt"

if command -v "$promtool" >/dev/null; then
  echo "== promtool"
  "$promtool" check rules "$alerts"
  "$promtool" check config "$example_config"
  if [[ -f $alert_tests ]]; then
    "$promtool" test rules "$alert_tests"
  fi
else
  echo "== no promtool: the rules are checked by Prometheus alone"
fi

echo "== the exporter: ${exporter[*]}"
"${exporter[@]}" >"$work/exporter.log" 2>&1 &
exporter_pid=$!
started+=("$exporter_pid")
metrics_line() { alive "$exporter_pid"; grep -q '^metrics: http://127\.0\.0\.1:[0-9]*/metrics' "$work/exporter.log"; }
wait_for "the exporter printing its address" metrics_line
target=$(grep -m1 -o '127\.0\.0\.1:[0-9]*' "$work/exporter.log")
echo "   serving on $target"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $alerts
scrape_configs:
  - job_name: open
    static_configs:
      - targets: ["$target"]
EOF
if command -v "$promtool" >/dev/null; then
  "$promtool" check config "$work/prometheus.yml" >/dev/null
fi

echo "== Prometheus $("$prometheus" --version 2>&1 | head -n1 | awk '{print $3}') on 127.0.0.1:$port"
"$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$port" >"$work/prometheus.log" 2>&1 &
prometheus_pid=$!
started+=("$prometheus_pid")
url=http://127.0.0.1:$port
ready() {
  alive "$prometheus_pid"
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "$url/-/ready" 2>/dev/null
}
wait_for "Prometheus ready" ready

echo "== scraped: tasks succeeded and workers alive"
python3 "$here/promcheck.py" wait "$url" "$timeout" \
  'sum(open_dag_tasks_succeeded_total)' 'open_workers_alive'

echo "== every metric of the dashboard and the rules, every query, every rule"
python3 "$here/promcheck.py" present "$url" "$timeout" "$dashboard" "$alerts"
alive "$exporter_pid"
alive "$prometheus_pid"
echo "OK: $(wc -l <"$work/metrics.txt") metrics of the dashboard found in Prometheus; rules valid"
