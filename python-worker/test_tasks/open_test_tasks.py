"""Task functions for the integration tests of the Java host (open-ports) and of this worker.

Importable without NumPy: the array functions import it when called. Start a worker with
``PYTHONPATH=python-worker/test_tasks python -m open_worker --allow open_test_tasks``.
"""

from __future__ import annotations

import builtins
import os
import struct
import sys
import time
from typing import Any, Iterator

_hog: list = []
_calls = 0


def echo(x: Any) -> Any:
    """Return the argument unchanged (round trip of any value)."""
    return x


def identity(x: Any) -> Any:
    """Same as :func:`echo`; kept as a separate name for readability of host tests."""
    return x


def add(a: Any, b: Any) -> Any:
    return a + b


def sleep(seconds: float) -> float:
    """Sleep, then return ``seconds`` (long calls, timeouts, cancellation, ping while busy)."""
    time.sleep(seconds)
    return seconds


def crash(code: int) -> None:
    """Exit the worker process at once with ``code``, without an answer."""
    sys.stderr.flush()
    os._exit(code)


def kill_self(sig: int) -> None:
    """Send signal ``sig`` to the worker process itself (e.g. 9 for SIGKILL)."""
    os.kill(os.getpid(), sig)
    time.sleep(60)  # a signal that does not kill lets the call hang like a stuck task


def fail(type_name: str, message: str) -> None:
    """Raise the builtin exception ``type_name`` (e.g. ``"ValueError"``) with ``message``."""
    cls = getattr(builtins, type_name, None)
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        raise ValueError(f"not a builtin exception type: {type_name!r}")
    raise cls(message)


def count(n: int) -> Iterator[int]:
    """Stream 0 .. n-1."""
    yield from range(n)


def slow_count(n: int, delay: float) -> Iterator[int]:
    """Stream 0 .. n-1, sleeping ``delay`` seconds before each item."""
    for i in range(n):
        time.sleep(delay)
        yield i


def array_sum(a: Any) -> Any:
    """Sum of all elements as a Python number."""
    import numpy as np

    return np.asarray(a).sum().item()


def array_double(a: Any) -> Any:
    """``a * 2`` as a new array (same shape; dtype as NumPy promotes it)."""
    import numpy as np

    return np.asarray(a) * 2


def array_address(a: Any) -> int:
    """Where the array's data lives: equal addresses across calls mean reused memory."""
    return int(a.__array_interface__["data"][0])


_kept: list = []


def keep(a: Any) -> int:
    """Holds on to an argument beyond its call, as a cache in a task module would."""
    _kept.append(a)
    return len(_kept)


def kept_checksum() -> list:
    """Sums of the arrays held by :func:`keep`, to prove nothing overwrote them."""
    return [float(a.sum()) for a in _kept]


def array_info(a: Any) -> dict:
    """How a received array lies in memory: dtype, shape, order flags, alignment, writability."""
    import numpy as np

    a = np.asarray(a)
    return {
        "dtype": a.dtype.str,
        "shape": list(a.shape),
        "c_contiguous": bool(a.flags.c_contiguous),
        "f_contiguous": bool(a.flags.f_contiguous),
        "aligned_8": a.ctypes.data % 8 == 0,
        "writeable": bool(a.flags.writeable),
        "owns_data": bool(a.flags.owndata),
    }


def noisy(x: Any) -> Any:
    """Write to stdout (print and raw fd 1, as C code would) and stderr; return ``x``."""
    print(f"noisy stdout: {x!r}")
    os.write(1, b"noisy fd1\n")
    print(f"noisy stderr: {x!r}", file=sys.stderr)
    return x


def memory_hog(megabytes: int) -> int:
    """Allocate ``megabytes`` MiB (touched, so resident) and keep it; returns the MiB held."""
    _hog.append(bytearray(b"\xa5") * (megabytes << 20))
    return sum(len(b) for b in _hog) >> 20


def pid() -> int:
    return os.getpid()


def calls_so_far() -> int:
    """How many times this function has been called in this process (this call included)."""
    global _calls
    _calls += 1
    return _calls


def record(path: str, label: str) -> str:
    """Append ``label`` and a newline to the file ``path`` and return it: proof that a call ran."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(label + "\n")
    return label


def emit(kind: str) -> None:
    """Write a bad frame straight to the frame stream, then hang (never returns normally).

    - ``"garbage"``: ``00 00 00 10`` then 16 bytes ``ff``: a complete 16-byte body whose
      header length (0xffffffff) is past its end (host error ``bad_header_length``);
    - ``"truncated"``: a length prefix of 100 followed by only 10 bytes;
    - ``"oversized"``: a length prefix of 2**31 (over any sane limit) and nothing else.

    After writing it logs ``open_test_tasks.emit: wrote a KIND frame`` on stderr.
    """
    payloads = {
        "garbage": struct.pack(">I", 16) + b"\xff" * 16,
        "truncated": struct.pack(">I", 100) + b"\x00" * 10,
        "oversized": struct.pack(">I", 1 << 31),
    }
    if kind not in payloads:
        raise ValueError(f"unknown kind {kind!r}")
    os.write(int(os.environ["OPEN_WORKER_FRAME_FD"]), payloads[kind])
    print(f"open_test_tasks.emit: wrote a {kind} frame", file=sys.stderr, flush=True)
    while True:
        time.sleep(3600)


def scale_in_place(a: Any) -> Any:
    """Doubles its argument in place (fails on a read-only shared-memory argument)."""
    a *= 2
    return a


def tail_half(a: Any) -> Any:
    """The second half of a 1-d array: a view of the argument, not a copy."""
    return a[len(a) // 2 :]


def copy(a: Any) -> Any:
    """A new array equal to the argument, in its memory order."""
    import numpy as np

    return np.array(a, copy=True, order="K")


def array_sum_after(a: Any, marker: str, seconds: float) -> Any:
    """Create ``marker`` (the call is running, its argument mapped), sleep, return the sum."""
    from pathlib import Path

    Path(marker).touch()
    time.sleep(seconds)
    return array_sum(a)


def halves(a: Any) -> list:
    """Both halves of a 1-d array, as views of it."""
    n = len(a) // 2
    return [a[:n], a[n:]]


def halves_streamed(a: Any) -> Iterator[Any]:
    """Both halves of a 1-d array, yielded as views of it."""
    n = len(a) // 2
    yield a[:n]
    yield a[n:]


def misaligned(a: Any) -> Any:
    """The float64 payload after a 1-byte header of a uint8 argument (a view at offset 1)."""
    import numpy as np

    return np.asarray(a)[1:].view(np.float64)


def big_then_unsendable(n: int) -> Any:
    """A large array next to something the protocol cannot carry: nothing may be left behind."""
    import numpy as np

    return [np.zeros(n), object()]


def big_endian(n: int) -> Any:
    """``n`` float64 numbers 0, 1, 2, ... stored big-endian."""
    import numpy as np

    return np.arange(n, dtype=">f8")
