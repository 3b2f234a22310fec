"""Frame codec (protocol section 2): ``length:u32be body``, ``body = header_length:u32be
header pad buffer_0 pad buffer_1 ...``, each buffer at a body offset that is a multiple of 8.

Why it looks the way it does:

- Reading allocates the body as one ``bytearray`` *after* checking ``length`` against the
  limit, then fills it in place (``readinto``), so a huge or hostile length never allocates
  and the buffers handed on are zero-copy, 8-byte aligned ``memoryview`` slices of it.
- Writing produces a list of parts (header bytes, padding, the buffers themselves) for
  ``os.writev``, so large arrays are never concatenated into a new ``bytes`` object.
- Errors carry the codes of the conformance vectors (section 7), so tests and the fatal
  ``ProtocolError`` message name the same problem.
"""

from __future__ import annotations

import io
import json
import os
import select
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterable, Sequence, Union

KINDS = frozenset(
    {"hello", "call", "result", "chunk", "end", "error", "cancel", "ping", "pong", "shutdown"}
)
DEFAULT_MAX_FRAME = 1 << 30
MAX_LENGTH = 0xFFFFFFFF  # what a u32 length prefix can say
ALIGN = 8

Buffer = Union[bytes, bytearray, memoryview]

_U32 = struct.Struct(">I")
_U32x2 = struct.Struct(">II")
_ZEROS = bytes(ALIGN)
_IOV_MAX = min(os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024, 1024)


class FrameError(Exception):
    """A malformed frame; ``code`` is one of the section 7 codes (``too_large``, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class FrameTooLarge(ValueError):
    """An outgoing frame would exceed the frame limit (an error of that call, not fatal)."""


@dataclass
class Frame:
    """A decoded frame: its JSON header and zero-copy views of its buffers."""

    header: dict
    buffers: list = field(default_factory=list)


def pad_to(offset: int) -> int:
    """Number of zero bytes that bring ``offset`` to the next multiple of 8."""
    return -offset % ALIGN


# ----------------------------------------------------------------------------- reading


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# Made once: ``json.loads``/``json.dumps`` with options build a new coder on every call, which
# costs as much as the coding itself for the small headers that make up most frames.
_JSON_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def read_frame(
    stream: BinaryIO, limit: int = DEFAULT_MAX_FRAME, bodies: BodyRecycler | None = None
) -> Frame | None:
    """Read one frame from a binary stream; ``None`` at end-of-file between frames.

    End-of-file inside a frame (even inside the length prefix) is ``truncated``. With
    ``bodies``, a large body may reuse the memory of an earlier one that nothing refers to.
    """
    prefix = bytearray(4)
    got = _fill(stream, memoryview(prefix))
    if got == 0:
        return None
    if got < 4:
        raise FrameError("truncated", f"stream ended after {got} of 4 length bytes")
    (length,) = _U32.unpack(prefix)
    if length > limit:
        raise FrameError("too_large", f"frame of {length} bytes exceeds the limit of {limit} bytes")
    body = bodies.body(length) if bodies is not None else memoryview(bytearray(length))
    got = _fill(stream, body)
    if got < length:
        raise FrameError("truncated", f"stream ended after {got} of {length} body bytes")
    return parse_body(body)


class BodyRecycler:
    """Lends the memory of a large frame body again once nothing refers to it.

    A fresh ``bytearray`` of tens of megabytes is mapped from the kernel page by page as the
    pipe fills it, and on a virtual machine those page faults cost as much as the copy itself
    (64 MiB: about 26 ms of faults for 25 ms of reading). The body of a call is free again once
    the call has finished and dropped its arguments; the recycler keeps one such spare and
    hands it out again when it is idle and fits.

    Idle means two things, both checked. No view of it is alive: every ``memoryview`` of the
    body, every NumPy array made on it by ``frombuffer`` and every frame buffer is a buffer
    export, and Python refuses to resize a ``bytearray`` while it has one. And nothing else
    refers to the ``bytearray`` itself: ``memoryview.obj`` or an array built with
    ``np.ndarray(buffer=...)`` hold the object without an export, so its reference count must be
    what it was when the recycler alone held it (CPython only; elsewhere nothing is reused). A
    task that keeps an argument thus keeps its memory from reuse. Bodies below ``min_size`` are
    not worth it; above ``max_size`` they are not kept, and a spare more than four times the
    size asked for is replaced, so a worker keeps about the memory of its recent large frames.
    """

    def __init__(self, min_size: int = 1 << 20, max_size: int = 256 << 20) -> None:
        self.min_size = min_size
        self.max_size = max_size
        self._spare: bytearray | None = None
        self._idle_refs = -1
        self.reused = 0

    def body(self, length: int) -> memoryview:
        """A writable view of exactly ``length`` bytes, of recycled memory where possible."""
        if not _CPYTHON or not self.min_size <= length <= self.max_size:
            return memoryview(bytearray(length))
        spare = self._spare
        if (
            spare is not None
            and length < len(spare) <= 4 * length + 1
            and sys.getrefcount(spare) == self._idle_refs
            and _unviewed(spare)
        ):
            self.reused += 1
            return memoryview(spare)[:length]
        spare = self._spare = bytearray(length + 1)  # one byte to resize in _unviewed
        self._idle_refs = sys.getrefcount(spare)  # held as above: by self._spare and `spare`
        return memoryview(spare)[:length]


_CPYTHON = sys.implementation.name == "cpython"


def _unviewed(buf: bytearray) -> bool:
    """Whether no view of ``buf`` is alive: resizing fails while one is."""
    try:
        last = buf.pop()  # within the allocation: never moves the memory
    except BufferError:
        return False
    buf.append(last)
    return True


def decode_frame(data: Buffer, limit: int = DEFAULT_MAX_FRAME) -> Frame:
    """Decode the frame at the start of ``data`` (a whole frame held in memory)."""
    frame = read_frame(io.BytesIO(data), limit)
    if frame is None:
        raise FrameError("truncated", "no bytes")
    return frame


def _fill(stream: BinaryIO, view: memoryview) -> int:
    """``readinto`` until ``view`` is full or end-of-file; returns the bytes read."""
    total = 0
    size = len(view)
    while total < size:
        n = stream.readinto(view[total:])
        if not n:
            break
        total += n
    return total


class FdReader:
    """A read buffer over a file descriptor that can say whether it holds unread bytes.

    ``select``/``poll`` on the descriptor cannot see bytes already read ahead into a buffer,
    and :class:`io.BufferedReader` cannot tell whether it has any without risking a blocking
    read; :meth:`buffered` can. Small reads are served from one ``chunk``-sized read; with the
    buffer empty, a read of at least ``chunk`` bytes goes straight into the caller's memory, so
    a large frame body is not copied twice.
    """

    def __init__(self, fd: int, chunk: int = 1 << 16, spin_ns: int = 0) -> None:
        self.fd = fd
        self._buf = memoryview(bytearray(chunk))
        self._start = self._end = 0
        # Poll this long for input before a blocking read: on virtual machines a process blocked
        # in the kernel sleeps on a halted virtual CPU, and waking it costs tens of microseconds,
        # more than a small call. The next call of a busy host usually comes within that time.
        self.spin_ns = spin_ns
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)

    def _await_input(self) -> None:
        deadline = time.perf_counter_ns() + self.spin_ns
        while not self._poll.poll(0) and time.perf_counter_ns() < deadline:
            pass

    def buffered(self) -> int:
        """Bytes read from the descriptor and not handed out yet."""
        return self._end - self._start

    def readinto(self, view: memoryview) -> int:
        """Like :meth:`io.RawIOBase.readinto`: at least one byte, or 0 at end-of-file."""
        if self._start == self._end:
            if self.spin_ns:
                self._await_input()
            if len(view) >= len(self._buf):
                return os.readv(self.fd, [view])
            self._start, self._end = 0, os.readv(self.fd, [self._buf])
        n = min(len(view), self._end - self._start)
        view[:n] = self._buf[self._start : self._start + n]
        self._start += n
        return n


def parse_body(body: Buffer) -> Frame:
    """Split a frame body into header and buffer views, checking every layout rule."""
    view = memoryview(body)
    size = len(view)
    if size < 4:
        raise FrameError("bad_header_length", f"body of {size} bytes cannot hold a header length")
    (header_length,) = _U32.unpack_from(view, 0)
    if header_length > size - 4:
        raise FrameError(
            "bad_header_length", f"header length {header_length} exceeds the body ({size} bytes)"
        )
    try:
        text = bytes(view[4 : 4 + header_length]).decode("utf-8")
        header = _JSON_DECODER.decode(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FrameError("bad_header", f"header is not UTF-8 JSON ({exc})") from None
    if not isinstance(header, dict):
        raise FrameError("bad_header", f"header is a JSON {type(header).__name__}, not an object")
    kind = header.get("kind")
    if not isinstance(kind, str):
        raise FrameError("missing_kind", "header has no string 'kind'")
    if kind not in KINDS:
        raise FrameError("unknown_kind", f"unknown kind {kind!r}")
    sizes = header.get("buffers", [])
    if not isinstance(sizes, list) or not all(
        type(n) is int and n >= 0 for n in sizes  # noqa: E721 - bool is not a size
    ):
        raise FrameError("bad_buffers", "'buffers' is not a list of non-negative integers")
    offset = 4 + header_length
    buffers = []
    for n in sizes:
        offset += pad_to(offset)
        if offset + n > size:
            raise FrameError("bad_buffers", f"buffers need more than the {size} body bytes")
        buffers.append(view[offset : offset + n])
        offset += n
    if offset != size:
        raise FrameError(
            "bad_buffers", f"header and buffers take {offset} bytes but the body has {size}"
        )
    return Frame(header, buffers)


# ----------------------------------------------------------------------------- writing


def _byte_view(buf: Buffer) -> memoryview:
    """A flat unsigned-byte view of ``buf`` without copying (copies only if non-contiguous)."""
    view = buf if isinstance(buf, memoryview) else memoryview(buf)
    if view.format == "B" and view.ndim == 1 and view.c_contiguous:
        return view
    if view.c_contiguous:
        try:
            return view.cast("B")
        except (TypeError, ValueError):  # non-native format such as '>d'
            pass
    return memoryview(view.tobytes())


def encode_header(header: dict) -> bytes:
    """Compact UTF-8 JSON; ``allow_nan=False`` so NaN never leaks out as invalid JSON."""
    return _JSON_ENCODER.encode(header).encode("utf-8")


def encode_frame(
    header: dict, buffers: Sequence[Buffer] = (), limit: int | None = None
) -> list[memoryview | bytes]:
    """Encode a frame as parts for ``os.writev``; sets ``header["buffers"]`` when there are any.

    Raises :class:`FrameTooLarge` (nothing written yet) when the frame exceeds ``limit`` or
    what a u32 length can express.
    """
    views = [_byte_view(b) for b in buffers]
    if views:
        header = {**header, "buffers": [v.nbytes for v in views]}
    header_bytes = encode_header(header)
    parts: list[memoryview | bytes] = []
    offset = 4 + len(header_bytes)
    for v in views:
        pad = pad_to(offset)
        if pad:
            parts.append(_ZEROS[:pad])
        parts.append(v)
        offset += pad + v.nbytes
    length = offset
    if length > MAX_LENGTH or (limit is not None and length > limit):
        bound = MAX_LENGTH if limit is None else min(limit, MAX_LENGTH)
        raise FrameTooLarge(f"frame of {length} bytes exceeds the maximum frame size of {bound}")
    return [_U32x2.pack(length, len(header_bytes)) + header_bytes, *parts]


def frame_bytes(header: dict, buffers: Sequence[Buffer] = ()) -> bytes:
    """A whole frame as one ``bytes`` (tests and small frames only)."""
    return b"".join(bytes(p) for p in encode_frame(header, buffers))


def write_all(fd: int, parts: Iterable[Buffer]) -> None:
    """Write every part with ``os.writev``, resuming after partial writes."""
    pending = [p if isinstance(p, memoryview) else memoryview(p) for p in parts]
    i = 0
    while i < len(pending):
        written = os.writev(fd, pending[i : i + _IOV_MAX])
        while i < len(pending) and written >= pending[i].nbytes:
            written -= pending[i].nbytes
            i += 1
        if written:
            pending[i] = pending[i][written:]


class FrameWriter:
    """Writes whole frames to a file descriptor under a lock, so frames never interleave."""

    def __init__(self, fd: int, limit: int | None = DEFAULT_MAX_FRAME) -> None:
        self.fd = fd
        self.limit = limit
        self.lock = threading.Lock()

    def send(self, header: dict, buffers: Sequence[Buffer] = (), timeout: float = -1) -> bool:
        """Encode and write one frame; ``False`` if the lock was not had within ``timeout``."""
        parts = encode_frame(header, buffers, self.limit)
        if not self.lock.acquire(timeout=timeout):
            return False
        try:
            write_all(self.fd, parts)
        finally:
            self.lock.release()
        return True
