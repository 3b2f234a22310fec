"""Task functions used only by this worker's own end-to-end tests."""

from __future__ import annotations

import sys
import time
from typing import Any, Iterator


class CustomError(Exception):
    """A non-builtin exception: its protocol type is qualified ('pyworker_tasks.CustomError')."""


def busy_loop(seconds: float) -> int:
    """Pure-Python loop (no blocking call): cancellation must come from the async exception."""
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


def stream_then_fail(n: int) -> Iterator[int]:
    yield from range(n)
    raise ValueError(f"failed after {n} items")


def raise_custom(message: str) -> None:
    raise CustomError(message)


def singular_inverse() -> Any:
    import numpy as np

    return np.linalg.inv(np.zeros((2, 2)))


def numpy_scalars() -> list:
    import numpy as np

    return [np.float64(1.5), np.float32(0.25), np.int32(-7), np.uint64(2**64 - 1), np.bool_(True),
            np.float64("nan"), np.int64(3)]


def big_bytes(n: int) -> bytes:
    return bytes(n)


def unsendable() -> Any:
    return {1: "int key"}


def read_stdin() -> str:
    return sys.stdin.read()


def iterators() -> dict:
    """Iterables that are not iterators are values, not streams."""
    return {"range": list(range(3)), "tuple": (1, 2)}


def map_iterator(n: int) -> Any:
    """A non-generator iterator: streamed."""
    return map(str, range(n))


def returns_range(n: int) -> Any:
    return range(n)


def frame_fd() -> int:
    import os

    return int(os.environ["OPEN_WORKER_FRAME_FD"])


def nested_list(depth: int) -> Any:
    """``depth`` lists, one inside the other (the innermost empty)."""
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def empty_bytes(n: int) -> list:
    """``n`` empty byte strings: a frame of ``n`` buffers."""
    return [b""] * n


def integer_of_digits(digits: int) -> int:
    """The smallest integer of ``digits`` decimal digits (built without str(), which refuses
    more than 4300)."""
    return 10 ** (digits - 1)


def sys_path_has(directory: str) -> bool:
    """Whether ``directory`` (or '', meaning the working directory) is on the module search path."""
    import os

    return any(entry in ("", directory) or os.path.abspath(entry) == directory for entry in sys.path)

