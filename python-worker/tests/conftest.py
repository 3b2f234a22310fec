"""Shared fixtures: paths, the conformance vectors and worker processes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (ROOT, HERE, ROOT / "test_tasks", HERE / "tasks", ROOT / "examples"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from client import WorkerClient  # noqa: E402

try:
    import numpy
except ImportError:  # the runtime and most tests must work without NumPy
    numpy = None

needs_numpy = pytest.mark.skipif(numpy is None, reason="NumPy is not installed")

VECTORS_PATH = ROOT.parent / "docs" / "protocol-vectors.json"
VECTORS = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def start_worker(tmp_path):
    """Factory: ``start_worker(allow=[...], ...)`` -> a started :class:`WorkerClient`."""
    workers: list[WorkerClient] = []

    def start(allow=("open_test_tasks", "pyworker_tasks"), **kwargs) -> WorkerClient:
        worker = WorkerClient(list(allow), tmp_path, **kwargs)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.close()


@pytest.fixture
def worker(start_worker) -> WorkerClient:
    return start_worker()
