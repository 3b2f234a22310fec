# OPEN — the newcomer's entry point. Every target sets itself up on a fresh machine:
# it finds a JDK >= 21 (JAVA_HOME, then /usr/lib/jvm), builds the Rust library with cargo and
# creates the Python venv with its packages.
#
#   make demo    run the flagship example
#   make test    run every test: Java (Maven), Rust (cargo), Python (pytest), Julia (if installed)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
export PATH := $(HOME)/.cargo/bin:$(PATH)

MVN    := ./mvnw -B -ntp
VENV   := .venv
PY     := $(VENV)/bin/python
JAVA    = $$(. .mvn/find-jdk.sh && open_find_jdk && echo "$$JAVA_HOME/bin/java")
BENCH_JAR := open-bench/target/open-bench.jar

.PHONY: help demo test test-java test-rust test-python test-julia venv jdk cargo-check build \
        bench bench-scheduling bench-heap bench-dask replay-all bench-native bench-matmul \
        bench-ports bench-shm bench-cluster bench-report chaos-cluster clean getting-started check-monitoring \
        example-science example-training example-analysis

help:
	@echo "make demo   - run the flagship example"
	@echo "make test   - run every test (Java, cargo, pytest; Julia when 'julia' is on PATH)"
	@echo "make bench  - run the benchmarks behind docs/benchmarks.md (long)"
	@echo "make example-science|example-training|example-analysis - the examples of examples/README.md"
	@echo "make getting-started - build and run examples/getting-started as its guide says"
	@echo "make check-monitoring - Prometheus scrapes the monitoring example (needs 'prometheus')"

## Set-up ---------------------------------------------------------------------------------------

jdk:
	@. .mvn/find-jdk.sh && open_find_jdk && echo "using JDK at $$JAVA_HOME"

cargo-check:
	@command -v cargo >/dev/null || { echo "error: cargo not found; install Rust with rustup (https://rustup.rs)"; exit 1; }

# The venv shared by pytest and the Java integration tests of the worker pools.
venv: $(VENV)/.installed
$(VENV)/.installed: python-worker/requirements-dev.txt
	@command -v python3 >/dev/null || { echo "error: python3 not found (3.11+ needed)"; exit 1; }
	@python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "error: $$(command -v python3) is Python $$(python3 -c 'import platform; print(platform.python_version())');" \
	       "the venv's packages (NumPy, pandas, scikit-learn as pinned in" \
	       "python-worker/requirements-dev.txt) need Python 3.11 or newer"; exit 1; }
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r python-worker/requirements-dev.txt
	touch $@

build: jdk cargo-check venv
	$(MVN) -q package -DskipTests

## The two commands -----------------------------------------------------------------------------

demo: build
	$(JAVA) -Dopen.python=$(abspath $(PY)) -jar examples/target/open-examples.jar

test: test-rust test-python test-java test-julia

# install, not only verify: examples/getting-started builds against ~/.m2 as a user's project does.
test-java: jdk cargo-check venv
	$(MVN) install -Dopen.python=$(abspath $(PY))

test-rust: cargo-check
	cargo test --manifest-path rust/Cargo.toml --release -q

test-python: venv
	$(PY) -m pytest -q python-worker/tests

test-julia:
	@if command -v julia >/dev/null; then \
	  julia --project=julia-worker julia-worker/test/runtests.jl; \
	else \
	  echo "SKIPPED: Julia worker tests (julia is not on PATH)"; \
	fi

## Examples (examples/README.md) ---------------------------------------------------------------

EXAMPLE = $(JAVA) --enable-native-access=ALL-UNNAMED -Dopen.python=$(abspath $(PY)) \
          -cp examples/target/open-examples.jar

example-science: build
	$(EXAMPLE) dev.open.examples.ScienceExample

example-training: build
	$(EXAMPLE) dev.open.examples.TrainingExample

example-analysis: build
	$(EXAMPLE) dev.open.examples.AnalysisExample

# docs/guides/getting-started.md, as a user follows it: OPEN into ~/.m2, then a project of its own.
getting-started: jdk cargo-check venv
	examples/getting-started/run.sh

# docs/operations/monitoring.md: Debian's prometheus scrapes the monitoring example and answers
# PromQL for every metric the dashboard and the alert rules use.
check-monitoring: build
	bash examples/monitoring/check-prometheus.sh "$(JAVA)" examples/target/open-examples.jar

## Longer tests ----------------------------------------------------------------------------------

# The cluster's member-process tests (docs/cluster.md §10) again and again, each round killing
# members at other points of the run (seeds 1..ROUNDS).
ROUNDS ?= 5
chaos-cluster: jdk cargo-check venv
	for seed in $$(seq 1 $(ROUNDS)); do \
	  echo "== round $$seed of $(ROUNDS)"; \
	  $(MVN) -q test -pl open-cluster -am -Dtest=ClusterProcessesTest -Dsurefire.failIfNoSpecifiedTests=false \
	    -Dopen.python=$(abspath $(PY)) -Dopen.cluster.chaos.seed=$$seed || exit 1; \
	done

## Benchmarks (see docs/benchmarks.md) ----------------------------------------------------------

bench: bench-scheduling bench-heap bench-inflight bench-dask replay-all bench-native bench-matmul bench-ports bench-shm bench-store \
       bench-cluster bench-report

# JMH runs need the venv's Python (ports) and the repository root (task modules, corpus).
BENCH_PROPS = -Dopen.python=$(abspath $(PY)) -Dopen.repo=$(CURDIR) -Dopen.wfinstances=$(abspath ../shared/wfinstances)

bench-scheduling: build
	$(JAVA) -jar $(BENCH_JAR) SchedulingBenchmark -rf json -rff target/bench-scheduling.json

bench-heap: build
	for shape in WIDE CHAIN LAYERED; do $(JAVA) -Xmx512m -jar $(BENCH_JAR) heap 1000000 $$shape; done

open-bench/.venv/.installed: open-bench/python/requirements.txt
	python3 -m venv open-bench/.venv
	open-bench/.venv/bin/python -m pip install -q -r open-bench/python/requirements.txt
	touch $@

bench-dask: build open-bench/.venv/.installed
	open-bench/.venv/bin/python open-bench/python/dask_scheduling.py --nodes 100000 --runs 3 \
	  --open-jar $(BENCH_JAR) --java "$(JAVA)"

bench-native: build
	$(JAVA) $(BENCH_PROPS) -jar $(BENCH_JAR) 'CallOverheadBenchmark|ZstdBenchmark|HashBenchmark' \
	  -jvmArgsAppend "$(BENCH_PROPS)" -rf json -rff target/bench-native.json

bench-matmul: build
	$(JAVA) -jar $(BENCH_JAR) MatmulBenchmark -rf json -rff target/bench-matmul.json
	OPENBLAS_NUM_THREADS=1 $(PY) open-bench/python/numpy_matmul.py
	OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX $(PY) open-bench/python/numpy_matmul.py

bench-ports: build
	$(JAVA) $(BENCH_PROPS) -jar $(BENCH_JAR) 'PortCallBenchmark|PortArrayBenchmark' \
	  -jvmArgsAppend "$(BENCH_PROPS)" -rf json -rff target/bench-ports.json
	$(JAVA) $(BENCH_PROPS) -jar $(BENCH_JAR) recovery 100
	for seed in 1 2 3; do $(JAVA) $(BENCH_PROPS) -jar $(BENCH_JAR) chaos 2000 15 $$seed; done

bench-shm: build
	$(JAVA) $(BENCH_PROPS) -jar $(BENCH_JAR) SharedMemoryBenchmark \
	  -jvmArgsAppend "$(BENCH_PROPS)" -rf json -rff target/bench-shm.json
	$(JAVA) $(BENCH_PROPS) -jar $(BENCH_JAR) SharedMemoryBenchmark.roundTrip -p mib=64 \
	  -bm ss -wi 0 -i 1 -f 5 -tu ms -jvmArgsAppend "$(BENCH_PROPS)"

bench-inflight: build
	$(JAVA) -jar $(BENCH_JAR) inflight 1000000 10 3 -Xmx2g
	$(JAVA) -jar $(BENCH_JAR) inflight 1000000 1 3 -Xmx2g

bench-store: build
	$(JAVA) -jar $(BENCH_JAR) StoreBenchmark -f 2 -wi 3 -i 6 -rf json -rff target/bench-store.json
	@for f in 1000genome-chameleon-2ch-100k-001 cycles-chameleon-1l-1c-9p-001 \
	  epigenomics-chameleon-hep-1seq-100k-001 montage-chameleon-2mass-03d-001; do \
	  $(JAVA) -jar $(BENCH_JAR) resume ../shared/wfinstances/$$f.json 4; \
	done

# Member processes on 127.0.0.1; add --slow for SIGSTOP under Hazelcast's defaults (minutes).
bench-cluster: build
	$(JAVA) -jar $(BENCH_JAR) cluster all

# docs/benchmarks.md §7: report sizes, the time to write them and to open them in headless Chromium;
# then the same random DAGs laid out by ELK (the report's way) and by dagre (npm), side by side.
bench-report: build
	for round in 1 2 3; do \
	  $(MVN) -q install -pl open-report,open-bench -Dtest='ReportInBrowserTest,ReplayReportInBrowserTest' \
	    -Dsurefire.failIfNoSpecifiedTests=false -Dopen.python=$(abspath $(PY)) >/dev/null; \
	  cat open-report/target/surefire-reports/*ReportInBrowserTest-output.txt \
	    open-bench/target/surefire-reports/*ReplayReportInBrowserTest-output.txt | grep 'report figures'; \
	done
	$(JAVA) -jar $(BENCH_JAR) layout
	cd open-bench/js && npm install --no-audit --no-fund --silent && node dagre_layout.js

replay-all: build
	@for f in ../shared/wfinstances/*.json; do \
	  $(JAVA) -jar $(BENCH_JAR) replay "$$f" --critical-path 2; \
	done

clean:
	$(MVN) -q clean
	cargo clean --manifest-path rust/Cargo.toml
