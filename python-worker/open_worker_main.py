"""Launcher of the OPEN Python worker: ``python -u <runtime>/open_worker_main.py --allow ...``.

The host starts the worker through this script rather than ``python -m open_worker``: for a
script, Python puts the script's own directory (the runtime, which holds only ``open_worker/``
and this file) first on ``sys.path``, not the working directory, so no file lying in the
working directory can stand in for ``open_worker`` or a module it imports. Task modules come
from ``PYTHONPATH``, as the host configures it. The command line is that of
:mod:`open_worker.__main__`.
"""

import os
import sys

_RUNTIME = os.path.dirname(os.path.realpath(__file__))
if not sys.path or sys.path[0] != _RUNTIME:  # e.g. under -P, which adds no script directory
    sys.path.insert(0, _RUNTIME)

from open_worker.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
