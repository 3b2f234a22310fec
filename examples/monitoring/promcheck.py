#!/usr/bin/env python3
"""The checks of check-prometheus.sh that need JSON: the dashboard's structure, and queries
through a running Prometheus' HTTP API. Standard library only.

  promcheck.py dashboard DASHBOARD.json
      the file is JSON; every panel but a row has a datasource (the ${DS_PROMETHEUS} variable)
      and at least one target with an expression; ids are unique; the dag and pool variables
      exist. Prints the metric names the dashboard uses.
  promcheck.py wait URL TIMEOUT EXPR...
      polls URL/api/v1/query until each EXPR returns a non-empty result whose values are all > 0.
  promcheck.py present URL TIMEOUT DASHBOARD.json RULES.yml
      polls until every metric the dashboard and the rules use has a series; then checks that
      every expression of the dashboard (its variables replaced) is valid PromQL, and that every
      rule of RULES.yml is loaded and evaluates without error.
"""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

METRIC = re.compile(r"\bopen_[a-z0-9_]+\b")
# What Grafana puts in for its variables when it sends a query; ours are regex matchers.
VARIABLES = [
    ("$__rate_interval", "1m"), ("$__interval", "15s"), ("$__range", "5m"),
    ("${DS_PROMETHEUS}", ""), ("$instance", ".*"), ("$dag", ".*"), ("$pool", ".*"),
]


def fail(message: str) -> None:
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def load_dashboard(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def panels_of(dashboard: dict) -> list[dict]:
    """Every panel, those inside collapsed rows included."""
    out = []
    for panel in dashboard.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def dashboard_exprs(dashboard: dict) -> list[str]:
    exprs = [t["expr"] for p in panels_of(dashboard) for t in p.get("targets", []) if "expr" in t]
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            query = var.get("query")
            exprs.append(query["query"] if isinstance(query, dict) else query)
    return exprs


def rule_exprs(path: str) -> list[str]:
    """The expr: blocks of a rule file (block scalars or one line), without a YAML library."""
    exprs, current, indent = [], None, 0
    for line in open(path, encoding="utf-8"):
        stripped = line.strip()
        if current is not None:
            if stripped and len(line) - len(line.lstrip()) <= indent:
                exprs.append("\n".join(current))
                current = None
            else:
                current.append(stripped)
                continue
        m = re.match(r"^(\s*)expr:\s*(.*)$", line.rstrip("\n"))
        if m:
            indent = len(m.group(1))
            if m.group(2) in ("|", ">", "|-", ">-"):
                current = []
            else:
                exprs.append(m.group(2))
    if current is not None:
        exprs.append("\n".join(current))
    return exprs


def check_dashboard(path: str) -> list[str]:
    dashboard = load_dashboard(path)
    problems = []
    if not isinstance(dashboard.get("schemaVersion"), int):
        problems.append("no schemaVersion")
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    for name in ("DS_PROMETHEUS", "dag", "pool"):
        if name not in variables:
            problems.append(f"no template variable {name}")
    if variables.get("DS_PROMETHEUS", {}).get("type") != "datasource":
        problems.append("DS_PROMETHEUS is not a datasource variable")
    ids = set()
    panels = panels_of(dashboard)
    for panel in panels:
        title = panel.get("title", "?")
        if panel.get("id") in ids:
            problems.append(f"panel {title!r}: id {panel.get('id')} used twice")
        ids.add(panel.get("id"))
        if "gridPos" not in panel:
            problems.append(f"panel {title!r}: no gridPos")
        if panel.get("type") == "row":
            continue
        ds = panel.get("datasource")
        if not isinstance(ds, dict) or ds.get("uid") != "${DS_PROMETHEUS}":
            problems.append(f"panel {title!r}: datasource is not ${{DS_PROMETHEUS}}: {ds}")
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"panel {title!r}: no target")
        for t in targets:
            if not t.get("expr", "").strip():
                problems.append(f"panel {title!r}: target {t.get('refId')} has no expr")
            elif not METRIC.search(t["expr"]):
                problems.append(f"panel {title!r}: target {t.get('refId')} uses no open_ metric")
    if problems:
        fail(f"{path}:\n  " + "\n  ".join(problems))
    names = sorted({n for e in dashboard_exprs(dashboard) for n in METRIC.findall(e)})
    print(f"{path}: {len([p for p in panels if p.get('type') != 'row'])} panels, "
          f"{len(names)} metrics", file=sys.stderr)
    return names


def api(url: str, path: str, **params: str) -> dict:
    query = "?" + urllib.parse.urlencode(params) if params else ""
    try:
        with urllib.request.urlopen(url + path + query, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:  # 400 and 422 carry the error as JSON
        return json.load(e)


def instant(url: str, expr: str) -> dict:
    return api(url, "/api/v1/query", query=expr)


def substitute(expr: str) -> str:
    for name, value in VARIABLES:
        expr = expr.replace(name, value)
    return expr


def wait(url: str, timeout: float, exprs: list[str]) -> None:
    deadline = time.monotonic() + timeout
    for expr in exprs:
        while True:
            answer = instant(url, expr)
            result = answer.get("data", {}).get("result", [])
            if answer.get("status") == "success" and result and all(
                    float(r["value"][1]) > 0 for r in result):
                print(f"  {expr} = {', '.join(r['value'][1] for r in result)}", file=sys.stderr)
                break
            if time.monotonic() > deadline:
                fail(f"{expr}: no result > 0 within {timeout:.0f} s; last answer: {answer}")
            time.sleep(0.5)


def present(url: str, timeout: float, dashboard_path: str, rules_path: str) -> None:
    dashboard = load_dashboard(dashboard_path)
    exprs = dashboard_exprs(dashboard)
    rules = rule_exprs(rules_path)
    if not rules:
        fail(f"{rules_path}: no expr found")
    names = sorted({n for e in exprs + rules for n in METRIC.findall(e)})
    deadline = time.monotonic() + timeout
    missing = names
    while missing:
        missing = [n for n in missing if not instant(url, n).get("data", {}).get("result")]
        if not missing:
            break
        if time.monotonic() > deadline:
            fail(f"no series within {timeout:.0f} s for: {', '.join(missing)}")
        time.sleep(1)
    print(f"  every metric of the dashboard and the rules has series: {', '.join(names)}",
          file=sys.stderr)

    invalid = []
    for expr in exprs:
        if expr.startswith("label_values("):
            continue  # Grafana's, not PromQL; its metric was checked above
        answer = instant(url, substitute(expr))
        if answer.get("status") != "success":
            invalid.append(f"{expr!r}: {answer.get('error')}")
    if invalid:
        fail("the dashboard has queries Prometheus refuses:\n  " + "\n  ".join(invalid))
    print(f"  {len(exprs)} dashboard queries accepted by Prometheus", file=sys.stderr)

    while True:  # every rule loaded, evaluated at least once, without error
        groups = api(url, "/api/v1/rules").get("data", {}).get("groups", [])
        loaded = [r for g in groups for r in g.get("rules", [])]
        health = {r["name"]: (r.get("health"), r.get("lastError")) for r in loaded}
        if len(loaded) == len(rules) and all(h == "ok" for h, _ in health.values()):
            break
        if any(h == "err" for h, _ in health.values()) or time.monotonic() > deadline:
            fail(f"rules: {len(loaded)} loaded of {len(rules)} in {rules_path}; health {health}")
        time.sleep(1)
    firing = [r["name"] for r in loaded if r.get("state") == "firing"]
    print(f"  {len(loaded)} alert rules loaded and evaluated without error"
          + (f" (firing now: {', '.join(firing)})" if firing else ""), file=sys.stderr)


def main(argv: list[str]) -> None:
    if len(argv) >= 2 and argv[0] == "dashboard":
        print("\n".join(check_dashboard(argv[1])))
    elif len(argv) >= 4 and argv[0] == "wait":
        wait(argv[1], float(argv[2]), argv[3:])
    elif len(argv) == 5 and argv[0] == "present":
        present(argv[1], float(argv[2]), argv[3], argv[4])
    else:
        fail(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
