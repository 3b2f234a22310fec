"""Frame codec (protocol section 2): ``length:u32be body``, ``body = header_length:u32be
header pad buffer_0 pad buffer_1 ...``, each buffer at a body offset that is a multiple of 8.

Why it looks the way it does:

- Reading checks ``length`` against the limit before allocating anything, then lets the body
  grow with what arrives: 64 KiB first, doubled whenever it is full, never past ``length``, so
  the memory taken is at most max(64 KiB, 2 x the bytes received). A peer that announces a
  gigabyte and stalls costs 64 KiB, not a gigabyte. The growth resizes one ``bytearray`` in
  place (no copy of what has arrived where the allocator can move pages), so the buffers handed
  on are still zero-copy, 8-byte aligned ``memoryview`` slices of the one final body.
- Writing produces a list of parts (header bytes, padding, the buffers themselves) for
  ``os.writev``, so large arrays are never concatenated into a new ``bytes`` object.
- Errors carry the codes of the conformance vectors (section 7), so tests and the fatal
  ``ProtocolError`` message name the same problem.

The header limits (section 2, "Limits") and where each is enforced:

- more than :data:`MAX_BUFFERS` buffers, or a duplicate key in any object of the header:
  :class:`FrameError` (``bad_buffers``, ``bad_header``), like any malformed frame;
- a number literal of more than :data:`MAX_NUMBER_DIGITS` digits, a float literal outside the
  binary64 range (``1e400`` never becomes infinity), nesting deeper than :data:`MAX_DEPTH`:
  a *bad value*, an error of that message only if it is a ``call``, ``result`` or ``chunk``
  with a positive ``id`` (:data:`VALUE_KINDS`), else a malformed frame (``bad_header``). A
  header the JSON parser refuses for one of these becomes a :class:`Frame` holding just the
  ``kind`` and ``id`` that a linear scan of the header's top level recovers, with ``bad_value``
  saying what was wrong (no ``kind``/``id`` to recover: ``bad_header``). Depth in a header that
  did parse is checked here for every field but the values (``args``, ``kwargs``, ``value``),
  which :func:`~open_worker.values.decode_value` checks as it decodes them, so that a large
  value is walked once.
"""

from __future__ import annotations

import io
import json
import os
import re
import select
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Iterable, Sequence, Union

KINDS = frozenset(
    {"hello", "call", "result", "chunk", "end", "error", "cancel", "ping", "pong", "shutdown"}
)
DEFAULT_MAX_FRAME = 1 << 30
MAX_LENGTH = 0xFFFFFFFF  # what a u32 length prefix can say
ALIGN = 8
#: The most buffers one frame may carry.
MAX_BUFFERS = 65_536
#: The deepest a header's JSON may nest; the header object itself is level 1, so a result's
#: ``value`` is at level 2 and each argument of a call at level 3.
MAX_DEPTH = 512
#: The most digits of a JSON number literal (Python's default ``sys.get_int_max_str_digits()``).
MAX_NUMBER_DIGITS = 4300
#: What a body takes before any of it has arrived; it then doubles as it fills.
FIRST_BODY_CHUNK = 64 << 10

Buffer = Union[bytes, bytearray, memoryview]

_U32 = struct.Struct(">I")
_U32x2 = struct.Struct(">II")
_ZEROS = bytes(ALIGN)
_IOV_MAX = min(os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024, 1024)
# The kinds whose values may be bad without making the stream untrustworthy: a bad value fails
# that one message. In any other message it is a malformed frame.
VALUE_KINDS = frozenset({"call", "result", "chunk"})
# Header fields whose depth parse_body need not check: values (decode_value checks them as it
# decodes them) and the buffer sizes (checked to be a flat list of integers).
_FLAT_OR_VALUE = {
    "call": ("args", "kwargs", "buffers"), "result": ("value", "buffers"),
    "chunk": ("value", "buffers"),
}


class FrameError(Exception):
    """A malformed frame; ``code`` is one of the section 7 codes (``too_large``, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class FrameTooLarge(ValueError):
    """An outgoing frame would exceed the frame limit (an error of that call, not fatal)."""


@dataclass
class Frame:
    """A decoded frame: its JSON header and zero-copy views of its buffers.

    ``bad_value`` is set when the header broke a value limit (see the module docstring): the
    message must then fail on its own. If the JSON could not be parsed at all, ``header`` holds
    only the ``kind`` and ``id`` recovered from its text and there are no buffers.
    """

    header: dict
    buffers: list = field(default_factory=list)
    bad_value: str | None = None


def pad_to(offset: int) -> int:
    """Number of zero bytes that bring ``offset`` to the next multiple of 8."""
    return -offset % ALIGN


def exceeds_depth(container: list | dict, level: int) -> bool:
    """Whether ``container``, sitting at nesting ``level``, or anything in it is deeper than
    :data:`MAX_DEPTH`. One Python frame per level, so 512 levels fit the default recursion limit.
    """
    if level > MAX_DEPTH:
        return True
    for child in container.values() if type(container) is dict else container:
        cls = type(child)
        if (cls is list or cls is dict) and exceeds_depth(child, level + 1):
            return True
    return False


# ----------------------------------------------------------------------------- reading


class _DuplicateKey(Exception):
    """Raised by the JSON decoder's object hook: a header object names a key twice."""


class _NotJSON(Exception):
    """Raised by the JSON decoder for ``NaN``/``Infinity`` literals, which JSON does not have."""


class _ValueLimit(ValueError):
    """Raised by the JSON decoder for a number literal beyond the protocol's limits."""


def _unique_keys(pairs: list) -> dict:
    """The object hook: a dict, refusing duplicates, so ``{"kind":"call",...,"kind":"shutdown"}``
    cannot mean one thing to this worker and another to a host whose parser keeps the first key.
    """
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(f"duplicate key {key[:100]!r}")
            seen.add(key)
    return obj


def _reject_constant(name: str) -> Any:
    raise _NotJSON(f"{name} is not valid JSON")


def _digits(literal: str) -> int:
    return sum(c.isdigit() for c in literal)


def _parse_float(literal: str) -> float:
    """Floats must be finite binary64 values (``1e400`` must not become infinity)."""
    value = float(literal)
    if value - value != 0.0:  # inf - inf is nan; a literal cannot be nan
        raise _ValueLimit(f"float literal {literal[:40]} is outside the range of binary64")
    if len(literal) > MAX_NUMBER_DIGITS and _digits(literal) > MAX_NUMBER_DIGITS:
        raise _ValueLimit(f"a number literal has more than {MAX_NUMBER_DIGITS} digits")
    return value


def _parse_int(literal: str) -> int:
    """Used only where the interpreter's own digit limit is not :data:`MAX_NUMBER_DIGITS`.

    Converts in pieces of 600 digits, below the least limit ``int()`` may have (640), so that
    a limit lowered by task code does not refuse what the protocol allows.
    """
    negative = literal[0] == "-"
    digits = literal[1:] if negative else literal
    if len(digits) > MAX_NUMBER_DIGITS:
        raise _ValueLimit(f"a number literal has more than {MAX_NUMBER_DIGITS} digits")
    if len(digits) <= 600:
        return int(literal)
    value = 0
    for i in range(0, len(digits), 600):
        piece = digits[i : i + 600]
        value = value * 10 ** len(piece) + int(piece)
    return -value if negative else value


# Made once: ``json.loads``/``json.dumps`` with options build a new coder on every call, which
# costs as much as the coding itself for the small headers that make up most frames. Integers
# are left to the C parser, whose conversion refuses more than 4300 digits by itself (CPython's
# default int_max_str_digits); a second decoder checks them in Python where that default was
# changed (PYTHONINTMAXSTRDIGITS, a task calling sys.set_int_max_str_digits) or is missing.
_JSON_OPTIONS: dict[str, Any] = dict(
    object_pairs_hook=_unique_keys, parse_float=_parse_float, parse_constant=_reject_constant
)
_JSON_DECODER = json.JSONDecoder(**_JSON_OPTIONS)
_JSON_DECODER_CHECKING_INTS = json.JSONDecoder(parse_int=_parse_int, **_JSON_OPTIONS)
_JSON_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_int_max_str_digits: Callable[[], int] = getattr(sys, "get_int_max_str_digits", lambda: 0)
# Shortcuts for the small headers that most frames have, exact all the same: a header of at
# most 640 bytes (the least int_max_str_digits can be) has no number that any digit limit
# refuses, and one of fewer than 2 x 513 bytes has too few brackets to nest past 512 levels.
_NO_LONG_NUMBER = 640
_DEPTH_NEEDS = 2 * (MAX_DEPTH + 1)


_WS = "[ \t\n\r]*"
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_OPEN = re.compile(_WS + r"\{")
_TOP_TOKEN = re.compile(r'["{}[\]]')  # what matters at the top level: strings and brackets
# Inside a nested value only brackets matter: this skips everything else, strings whole (so a
# bracket or quote inside one counts for nothing). It stops at a bracket, at a quote that opens
# a string never closed, or at the end.
# (Nothing follows the repetition, so the nested quantifier never backtracks.)
_NESTED_FILL = re.compile(r'(?:[^"{}[\]]+|' + _STRING + ")*", re.S)
# Runs of opening or of closing brackets (and whitespace), counted in one step: deep nesting is
# made of them.
_OPENING_RUN = re.compile(r"[{[][{[ \t\n\r]*")
_CLOSING_RUN = re.compile(r"[}\]][}\] \t\n\r]*")
_STRING_AT = re.compile(_STRING, re.S)
_COLON = re.compile(_WS + ":" + _WS)
_ID_VALUE = re.compile(r"-?(?:0|[1-9][0-9]{0,17})(?=" + _WS + "[,}])")
_END = re.compile(_WS + r"\Z")
_NAME_LIMIT = 64  # longer strings are no kind name and no "kind"/"id" key, however escaped


def _short_string(text: str, start: int, end: int) -> str | None:
    """The JSON string literal ``text[start:end]``, decoded, if short; else None."""
    if end - start > _NAME_LIMIT:
        return None
    literal = text[start:end]
    return json.loads(literal) if "\\" in literal else literal[1:-1]


def _brackets(text: str, start: int, end: int, pair: str) -> int:
    """How many of the brackets ``pair`` a run ``text[start:end]`` (brackets, whitespace) has."""
    if end - start == 1:
        return 1
    return text.count(pair[0], start, end) + text.count(pair[1], start, end)


def scan_kind_and_id(text: str) -> tuple[str, int] | None:
    """The top-level ``kind`` and ``id`` of a header the JSON parser refused for a value limit.

    A single pass that allocates nothing in proportion to the header and leaves the work to
    ``re``: at the top level it steps from string to bracket (strings matched whole, escapes
    included), inside nested values it skips all but brackets in one match, and it counts
    runs of brackets at once. Only the top-level keys are decoded. Returns None unless the text
    is one object whose top level has a string ``kind`` and an integer ``id``, each given once.
    """
    opening = _OPEN.match(text)
    if opening is None:
        return None
    kind: str | None = None
    ident: int | None = None
    seen_kind = seen_id = False
    depth, pos, size = 1, opening.end(), len(text)
    while True:
        if depth == 1:
            token = _TOP_TOKEN.search(text, pos)
            if token is None:
                return None
            pos = token.start()
        else:
            pos = _NESTED_FILL.match(text, pos).end()
            if pos == size:
                return None
        c = text[pos]
        if c == '"':
            string = _STRING_AT.match(text, pos) if depth == 1 else None
            if string is None:
                return None  # a string that never ends
            start, pos = string.span()
            colon = _COLON.match(text, pos)
            if colon is None:
                continue  # a value, not a key
            key = _short_string(text, start, pos)
            if key == "kind":
                if seen_kind:
                    return None
                seen_kind = True
                value = _STRING_AT.match(text, colon.end())
                kind = _short_string(text, *value.span()) if value is not None else None
            elif key == "id":
                if seen_id:
                    return None
                seen_id = True
                number = _ID_VALUE.match(text, colon.end())
                ident = int(number.group()) if number is not None else None
        elif c in "[{":
            run = _OPENING_RUN.match(text, pos)
            depth += _brackets(text, pos, run.end(), "[{")
            pos = run.end()
        else:
            run = _CLOSING_RUN.match(text, pos)
            count = _brackets(text, pos, run.end(), "]}")
            if count < depth:
                depth -= count
                pos = run.end()
            elif count == depth and _END.match(text, run.end()) is not None:
                return (kind, ident) if kind is not None and ident is not None else None
            else:
                return None  # more closing brackets than open ones, or bytes after the object


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
    recycler = bodies if bodies is not None and length >= bodies.min_size else None
    body = recycler.lend(length) if recycler is not None else None
    if body is None:
        body = _read_body(stream, length)
        if recycler is not None:
            recycler.keep(body)
    else:
        got = _fill(stream, body)
        if got < length:
            raise FrameError("truncated", f"stream ended after {got} of {length} body bytes")
    return parse_body(body)


def _read_body(stream: BinaryIO, length: int) -> bytearray:
    """Read a body of ``length`` bytes into memory that grows with what has arrived.

    64 KiB first, then doubled each time it is full, never past ``length``: at most
    max(64 KiB, 2 x received) is ever taken, and small bodies are read in one allocation.
    """
    if length <= FIRST_BODY_CHUNK:  # most frames: one allocation, one fill
        body = bytearray(length)
        got = _fill(stream, memoryview(body))
        if got < length:
            raise FrameError("truncated", f"stream ended after {got} of {length} body bytes")
        return body
    size = FIRST_BODY_CHUNK
    body = bytearray(size)
    got = 0
    while True:
        with memoryview(body) as view:  # released before the resize, which refuses exports
            got += _fill(stream, view[got:])
        if got < size:
            raise FrameError("truncated", f"stream ended after {got} of {length} body bytes")
        if size == length:
            return body
        size = min(2 * size, length)
        _grow(body, size)


def _resize_function() -> Callable[[bytearray, int], int] | None:
    """CPython's ``PyByteArray_Resize``, which ``realloc``s a bytearray to an exact size."""
    if not _CPYTHON:
        return None
    try:
        import ctypes

        prototype = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_ssize_t)
        return prototype(("PyByteArray_Resize", ctypes.pythonapi))
    except (ImportError, AttributeError, OSError):  # pragma: no cover - unusual builds
        return None


_resize: Callable[[bytearray, int], int] | None | bool = False  # False: not looked up yet


def _grow(body: bytearray, size: int) -> None:
    """Make ``body`` ``size`` bytes long, keeping its content.

    Python itself can only grow a bytearray by copying bytes into it (``extend``), which here
    means a temporary of the added size and a pass over memory that the next read fills anyway.
    ``PyByteArray_Resize`` just ``realloc``s: for a large body glibc moves the pages with
    ``mremap`` instead of copying them, and the new tail is not touched until data arrives. The
    new bytes are uninitialised, and are never seen: they are read into before the body is
    used, and a body that ends early is dropped (``truncated``).
    """
    global _resize
    if _resize is False:
        _resize = _resize_function()
    if _resize is not None:
        _resize(body, size)  # raises MemoryError like any allocation
    else:  # pragma: no cover - other interpreters
        body.extend(bytes(size - len(body)))


class BodyRecycler:
    """Lends the memory of a large frame body again once nothing refers to it.

    Fresh memory for tens of megabytes is mapped from the kernel page by page as the pipe fills
    it, and on a virtual machine those page faults cost as much as the copy itself (64 MiB:
    about 26 ms of faults for 25 ms of reading). The body of a call is free again once the call
    has finished and dropped its arguments; the recycler keeps the latest large body read
    (:meth:`keep`) and lends it to a later frame (:meth:`lend`) when it is idle and fits. A spare
    is memory already taken, so lending it for a frame still arriving costs nothing new.

    Idle means two things, both checked. No view of it is alive: every ``memoryview`` of the
    body, every NumPy array made on it by ``frombuffer`` and every frame buffer is a buffer
    export, and Python refuses to resize a ``bytearray`` while it has one. And nothing else
    refers to the ``bytearray`` itself: ``memoryview.obj`` or an array built with
    ``np.ndarray(buffer=...)`` hold the object without an export, so its reference count must be
    what it is when the recycler alone holds it (CPython only; elsewhere nothing is reused). A
    task that keeps an argument thus keeps its memory from reuse. Bodies below ``min_size`` are
    not worth it; above ``max_size`` they are not kept, and a spare more than four times the
    size asked for is not lent, so a worker keeps about the memory of its recent large frames.
    """

    def __init__(self, min_size: int = 1 << 20, max_size: int = 256 << 20) -> None:
        self.min_size = min_size
        self.max_size = max_size
        self._spare: bytearray | None = None
        self._idle_refs = -1
        if _CPYTHON:  # measured on a spare that only the recycler holds
            self._spare = bytearray(1)
            self._idle_refs = self._spare_refs()
            self._spare = None
        self.reused = 0

    def _spare_refs(self) -> int:
        """The spare's reference count, seen from here (the same count whenever it is idle)."""
        spare = self._spare
        return sys.getrefcount(spare)

    def lend(self, length: int) -> memoryview | None:
        """A writable view of ``length`` bytes of the idle spare, or None when there is none."""
        if (
            self._spare is None
            or not self.min_size <= length <= len(self._spare) <= 4 * length
            or self._spare_refs() != self._idle_refs
            or not _unviewed(self._spare)
        ):
            return None
        self.reused += 1
        return memoryview(self._spare)[:length]

    def keep(self, body: bytearray) -> None:
        """Make a freshly read ``body`` the spare, if its size is worth keeping."""
        if _CPYTHON and self.min_size <= len(body) <= self.max_size:
            self._spare = body


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
    """Split a frame body into header and buffer views, checking every layout rule and limit."""
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
        if header_length <= _NO_LONG_NUMBER or _int_max_str_digits() == MAX_NUMBER_DIGITS:
            header = _JSON_DECODER.decode(text)
        else:
            header = _JSON_DECODER_CHECKING_INTS.decode(text)
    except UnicodeDecodeError as exc:
        raise FrameError("bad_header", f"header is not UTF-8 JSON ({exc})") from None
    except _DuplicateKey as exc:
        raise FrameError("bad_header", f"header has a {exc}") from None
    except (json.JSONDecodeError, _NotJSON) as exc:
        raise FrameError("bad_header", f"header is not UTF-8 JSON ({exc})") from None
    except _ValueLimit as exc:
        return _recovered(text, str(exc))
    except RecursionError:
        return _recovered(text, f"header nests deeper than {MAX_DEPTH} levels")
    except ValueError:  # the C parser's int conversion refusing too many digits
        return _recovered(text, f"a number literal has more than {MAX_NUMBER_DIGITS} digits")
    if not isinstance(header, dict):
        raise FrameError("bad_header", f"header is a JSON {type(header).__name__}, not an object")
    kind = header.get("kind")
    if not isinstance(kind, str):
        raise FrameError("missing_kind", "header has no string 'kind'")
    if kind not in KINDS:
        raise FrameError("unknown_kind", f"unknown kind {kind!r}")
    sizes = header.get("buffers", [])
    if not isinstance(sizes, list):
        raise FrameError("bad_buffers", "'buffers' is not a list of non-negative integers")
    if len(sizes) > MAX_BUFFERS:
        raise FrameError("bad_buffers", f"{len(sizes)} buffers exceed the limit of {MAX_BUFFERS}")
    if not all(type(n) is int and n >= 0 for n in sizes):  # noqa: E721 - bool is not a size
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
    bad_value = None
    if header_length >= _DEPTH_NEEDS:
        skip = _FLAT_OR_VALUE.get(kind, ("buffers",))
        for key, value in header.items():
            cls = type(value)
            if (cls is list or cls is dict) and key not in skip and exceeds_depth(value, 2):
                bad_value = f"header field {key[:100]!r} nests deeper than {MAX_DEPTH} levels"
                _check_value_kind(kind, header.get("id"), bad_value)
                break
    return Frame(header, buffers, bad_value)


def _check_value_kind(kind: str, ident: Any, bad_value: str) -> None:
    """A bad value fails only its message if that is a call, result or chunk with a positive id;
    anywhere else it is a malformed frame."""
    if kind not in VALUE_KINDS or type(ident) is not int or ident <= 0:  # noqa: E721 - not bool
        raise FrameError("bad_header", f"{bad_value}, in a {kind} message")


def _recovered(text: str, bad_value: str) -> Frame:
    """The frame of a header refused for a value limit: its kind and id, if a scan finds them."""
    found = scan_kind_and_id(text)
    if found is None:
        raise FrameError(
            "bad_header", f"{bad_value}, and the header's kind and id cannot be recovered"
        )
    kind, ident = found
    if kind not in KINDS:
        raise FrameError("unknown_kind", f"unknown kind {kind[:100]!r} ({bad_value})")
    _check_value_kind(kind, ident, bad_value)
    return Frame({"kind": kind, "id": ident}, [], bad_value)


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
    what a u32 length can express, or has more than :data:`MAX_BUFFERS` buffers.
    """
    if len(buffers) > MAX_BUFFERS:
        raise FrameTooLarge(f"{len(buffers)} buffers exceed the limit of {MAX_BUFFERS} per frame")
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
