"""Scheduling overhead per node on Dask's local threaded scheduler, beside OPEN.

The peer a Python user would pick for an in-process task graph is Dask
(`dask.threaded.get`). This script builds the same shapes as OPEN's
SchedulingBenchmark (open-bench/src/main/java/dev/open/bench/dag/Shape.java) --
WIDE, CHAIN and LAYERED, the latter from the same seeded java.util.Random, so
the graphs are identical -- runs them with no-op tasks, and prints the time per
node. With --open-jar it also runs OPEN's own timing (`open-bench.jar schedule`)
in the same session and prints the ratio.

    python dask_scheduling.py --nodes 100000 --runs 5 --open-jar open-bench/target/open-bench.jar
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import dask
from dask.threaded import get


class JavaRandom:
    """java.util.Random's 48-bit LCG, so LAYERED picks the same parents as the Java side."""

    def __init__(self, seed: int) -> None:
        self.seed = (seed ^ 0x5DEECE66D) & ((1 << 48) - 1)

    def _next(self, bits: int) -> int:
        self.seed = (self.seed * 0x5DEECE66D + 0xB) & ((1 << 48) - 1)
        value = self.seed >> (48 - bits)
        return value - (1 << 32) if value >= 1 << 31 else value  # Java's (int) cast

    def next_int(self, bound: int) -> int:
        r = self._next(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            if u - r + m < (1 << 31):
                return r
            u = self._next(31)


def parents(shape: str, n: int) -> list[list[int]]:
    if shape == "WIDE":
        return [[]] + [[0] for _ in range(1, n - 1)] + [list(range(1, n - 1))]
    if shape == "CHAIN":
        return [[]] + [[i - 1] for i in range(1, n)]
    if shape == "LAYERED":
        width = min(1000, n)
        random = JavaRandom(42)
        result = []
        for i in range(n):
            layer_start = i // width * width
            if layer_start == 0:
                result.append([])
                continue
            previous = layer_start - width
            k = 1 + random.next_int(3)
            result.append([previous + random.next_int(width) for _ in range(k)])
        return result
    raise ValueError(f"unknown shape {shape}")


def one(*_inputs) -> int:
    """The no-op task: receives its inputs like an OPEN task does, returns 1."""
    return 1


def graph(shape: str, n: int) -> tuple[dict, list[str]]:
    ps = parents(shape, n)
    dsk = {}
    has_child = [False] * n
    for i, p in enumerate(ps):
        dsk[f"n{i}"] = (one, *[f"n{q}" for q in p])
        for q in p:
            has_child[q] = True
    sinks = [f"n{i}" for i in range(n) if not has_child[i]]
    return dsk, sinks


def time_dask(shape: str, n: int, runs: int) -> float:
    dsk, sinks = graph(shape, n)
    get(dsk, sinks)  # warm-up
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        get(dsk, sinks)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def time_open(jar: str, java: str, shape: str, n: int, runs: int) -> float:
    out = subprocess.run([java, "-jar", jar, "schedule", shape, str(n), str(runs)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["medianSeconds"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--shapes", default="WIDE,CHAIN,LAYERED")
    parser.add_argument("--open-jar", help="open-bench.jar, to time OPEN in the same session")
    parser.add_argument("--java", default="java")
    args = parser.parse_args()
    print(f"dask {dask.__version__}, python {sys.version.split()[0]}, "
          f"{args.nodes} nodes, median of {args.runs} runs", file=sys.stderr)
    for shape in args.shapes.split(","):
        dask_s = time_dask(shape, args.nodes, args.runs)
        line = {"shape": shape, "nodes": args.nodes,
                "daskSeconds": round(dask_s, 4),
                "daskMicrosPerNode": round(dask_s / args.nodes * 1e6, 2)}
        if args.open_jar:
            open_s = time_open(args.open_jar, args.java, shape, args.nodes, args.runs)
            line["openSeconds"] = round(open_s, 4)
            line["openMicrosPerNode"] = round(open_s / args.nodes * 1e6, 3)
            line["daskOverOpen"] = round(dask_s / open_s, 1)
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
