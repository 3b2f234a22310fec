"""OPEN Python worker: runs task functions for a Java OPEN host over the framed protocol.

The protocol is specified in ``docs/protocol.md`` of the OPEN repository. The package is
standard-library only; NumPy is used when it is importable (``$nd`` values become arrays).

Modules, by concern:

- :mod:`open_worker.frames` -- the frame codec (length prefix, JSON header, aligned buffers) and
  the header limits;
- :mod:`open_worker.values` -- the value codec (JSON plus ``$nd``/``$bytes``/``$float``/``$map``);
- :mod:`open_worker.functions` -- the allow list and what a ``module:name`` may name;
- :mod:`open_worker.runtime` -- reader thread, execution loop, cancellation;
- :mod:`open_worker.__main__` -- the command line, the ``sys.path`` repair and the stdout/stdin
  redirection (``open_worker_main.py``, next to the package, is the launcher the host runs).
"""

__version__ = "0.1.0"
