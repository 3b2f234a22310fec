"""Tasks that misbehave on purpose, for the host's fault-containment tests (open-ports).

Each one attacks the host the way a buggy or hostile task could: by writing to the frame
stream behind the worker's back (``OPEN_WORKER_FRAME_FD``), by flooding stderr, by yielding
without end. Functions that must coordinate with a test take a marker path: they create the
file when they have started, so the test waits on a fact, not on a sleep.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import time
from pathlib import Path

_U32 = struct.Struct(">I")


def _frame_fd() -> int:
    return int(os.environ["OPEN_WORKER_FRAME_FD"])


def _hang() -> None:
    while True:
        time.sleep(3600)


def _frame(header: bytes, buffers: tuple[bytes, ...] = ()) -> bytes:
    body = bytearray(_U32.pack(len(header)) + header)
    for buffer in buffers:
        body += bytes(-len(body) % 8) + buffer
    return _U32.pack(len(body)) + bytes(body)


def started(marker: str, seconds: float) -> float:
    """Create ``marker`` (the call is running), then sleep; returns ``seconds``."""
    Path(marker).touch()
    time.sleep(seconds)
    return seconds


def value(x):
    """Return ``x``: a call that does nothing but count."""
    return x


def huge_prefix_then_stall(length: int) -> None:
    """Announce a frame of ``length`` bytes, send 10 of them, and never send the rest."""
    os.write(_frame_fd(), _U32.pack(length) + bytes(10))
    _hang()


def trickle(length: int, interval: float) -> None:
    """Announce a frame of ``length`` bytes and send it one byte every ``interval`` seconds."""
    fd = _frame_fd()
    os.write(fd, _U32.pack(length))
    while True:
        os.write(fd, b" ")
        time.sleep(interval)


def endless(size: int):
    """Yield ``size`` bytes at a time, for ever."""
    chunk = bytes(size)
    while True:
        yield chunk


def stderr_flood(megabytes: int) -> str:
    """Write one stderr line of ``megabytes`` MiB (no newline until the end); returns "done"."""
    block = b"x" * (1 << 20)
    err = sys.stderr.buffer
    for _ in range(megabytes):
        err.write(block)
    err.write(b"\n")
    err.flush()
    return "done"


def close_stderr() -> str:
    """Close the worker's stderr: its prints can no longer reach the host."""
    os.close(2)
    return "closed"


def big_bytes(megabytes: int) -> bytes:
    """A result of ``megabytes`` MiB."""
    return bytes(megabytes << 20)


def raw_result(call_id: int, text: str) -> None:
    """Answer call ``call_id`` with a result frame whose value is the JSON ``text``, verbatim.

    The worker's own answer (None) follows it, for an id the host no longer holds: the call is
    settled by the forged frame alone.
    """
    header = b'{"kind":"result","id":' + str(call_id).encode() + b',"value":' + text.encode() + b"}"
    os.write(_frame_fd(), _frame(header))


def raw_bool_array(call_id: int) -> None:
    """Answer call ``call_id`` with a ``|b1`` array holding the byte 2 (as ``raw_result``)."""
    value = {"$nd": {"buffer": 0, "dtype": "|b1", "shape": [3], "order": "C"}}
    header = json.dumps({"kind": "result", "id": call_id, "value": value, "buffers": [3]})
    os.write(_frame_fd(), _frame(header.encode(), (bytes([1, 2, 0]),)))


def duplicate_kind(call_id: int) -> None:
    """Answer with a header naming its kind twice (the second would be a shutdown), then hang."""
    header = b'{"kind":"result","id":' + str(call_id).encode() + b',"value":1,"kind":"shutdown"}'
    os.write(_frame_fd(), _frame(header))
    _hang()


def deep_list(depth: int) -> list:
    """A list nested ``depth`` deep (the worker itself may refuse to send it)."""
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def print_then_wait(text: str, seconds: float = 60.0) -> str:
    """Print ``text`` (to stderr, as every print in a worker), then wait."""
    print(text, flush=True)
    time.sleep(seconds)
    return text


def garbage_when(marker: str, go: str) -> None:
    """Create ``marker``, wait until the file ``go`` exists, then write garbage and hang."""
    Path(marker).touch()
    while not Path(go).exists():
        time.sleep(0.005)
    os.write(_frame_fd(), _U32.pack(16) + b"\xff" * 16)
    _hang()


def nap(seconds: float) -> float:
    """Sleep ``seconds`` and return them: a call that takes time."""
    time.sleep(seconds)
    return seconds


def exit_leaving_output_open(seconds: float, status: int) -> None:
    """Fork a child that keeps the worker's frame stream open for ``seconds``, then exit.

    The host then sees the worker's exit but no end of its output until the child is gone.
    """
    if os.fork() == 0:
        time.sleep(seconds)
        os._exit(0)
    os._exit(status)


def forged_segment(call_id: int, kind: str, length: int) -> None:
    """Answer call ``call_id`` (as ``raw_result``) with a ``<f8`` array of ``length`` elements
    said to lie in a shared-memory segment that is not what it should be: ``kind`` is
    ``symlink`` (a link to a file that would fit), ``hardlink`` (a second name of another
    file), ``overflow`` (an offset past any file), ``fifo`` (opening it would block), ``short``
    (fewer bytes than the array), ``other`` (another process's name), ``escape`` (a path out of
    the directory) or ``missing``."""
    directory = sys.argv[sys.argv.index("--shm-dir") + 1]
    name = f"w{os.getpid()}-{call_id}"
    path = os.path.join(directory, name)
    offset = 0
    if kind == "symlink":  # to a file that would do, were the link followed
        target = os.path.join(directory, f"w{os.getpid()}-888{call_id}")
        with open(target, "wb") as f:
            f.write(bytes(8 * length))
        os.symlink(target, path)
    elif kind == "hardlink":  # a second name of another file: mapping it would alias that file
        other = os.path.join(directory, f"w{os.getpid()}-999{call_id}")
        with open(other, "wb") as f:
            f.write(bytes(8 * length))
        os.link(other, path)
    elif kind == "overflow":
        with open(path, "wb") as f:
            f.write(bytes(8 * length))
        offset = 1 << 62
    elif kind == "fifo":
        os.mkfifo(path, 0o600)
    elif kind == "short":
        with open(path, "wb") as f:
            f.write(bytes(8))
    elif kind == "other":
        name = f"w{os.getpid() + 1}-{call_id}"
    elif kind == "escape":
        name = "../" + name
    value = {"$nd": {"segment": {"name": name, "offset": offset}, "dtype": "<f8", "shape": [length]}}
    header = json.dumps({"kind": "result", "id": call_id, "value": value})
    os.write(_frame_fd(), _frame(header.encode()))


def segment_then_sleep(marker: str) -> None:
    """Write a file of this worker's own into the shared-memory directory, as a result half
    written, then create ``marker`` and sleep: a worker killed now leaves that file."""
    directory = sys.argv[sys.argv.index("--shm-dir") + 1]
    with open(os.path.join(directory, f"w{os.getpid()}-4242"), "wb") as f:
        f.write(bytes(4096))
    Path(marker).touch()
    _hang()
