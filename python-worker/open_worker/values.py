"""Value codec (protocol section 4): JSON plus the tagged objects ``$nd``, ``$bytes``,
``$float`` and ``$map``.

Python -> wire (:class:`Encoder`):

- ``None``, ``bool``, ``str`` as JSON; ``int`` (any size) as a JSON integer; finite ``float``
  as a JSON float, NaN and infinities as ``{"$float": ...}``;
- ``list`` and ``tuple`` as lists; ``dict`` with ``str`` keys as objects, escaped as
  ``{"$map": ...}`` when its only key starts with ``$``;
- ``bytes``, ``bytearray``, ``memoryview`` as ``$bytes``;
- NumPy arrays of the dtypes in :data:`DTYPES` as ``$nd`` -- C- or F-contiguous arrays are
  passed to the writer as views of their own memory (no copy), other layouts are copied to C
  order; NumPy scalars as JSON numbers/booleans; :class:`NDArray` stand-ins as ``$nd``;
- anything else raises ``TypeError`` (reported as an error of the call).

The encoder refuses, with ``ValueError`` (an error of that call, nothing is sent), what the
receiver would have to refuse (protocol section 2, "Limits"): an integer of more than 4300
digits, nesting that would take the header past 512 levels (a result's value sits at level 2;
``$bytes`` adds 2 levels, ``$nd`` 3, ``$map`` 1), and more than 65,536 buffers in one frame.

Wire -> Python (:func:`decode_value`): the reverse; ``$bytes`` becomes ``bytes``; ``$nd``
becomes a NumPy array that *is* the received buffer (``np.frombuffer`` on a view of the frame
body, writable, honouring dtype byte order and C/F order), or, when NumPy cannot be imported,
a read-only :class:`NDArray` stand-in. Malformed tagged values raise :class:`BadValue`, and
so do values beyond the limits: nesting past level 512, an integer of more than 4300 digits or a
non-finite float in the tree (only an overflowing literal such as ``1e400`` can produce one; the
frame parser already refuses both), a ``|b1`` array with a byte other than 0 or 1.

Encoding and decoding recurse with one Python frame per level of nesting (no comprehensions,
which are frames of their own before Python 3.12), so the deepest legal value stays well within
the default recursion limit of 1000.

NumPy is never imported by this module at import time: :func:`numpy_module` imports it on
first need, and the encoder only looks at ``sys.modules`` (an array cannot exist unless NumPy
is already loaded).
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from typing import Any, Sequence

from .frames import MAX_BUFFERS, MAX_DEPTH, MAX_NUMBER_DIGITS, Buffer, exceeds_depth

#: Supported array dtypes (NumPy type strings) and their item sizes.
DTYPES: dict[str, int] = {"|i1": 1, "|u1": 1, "|b1": 1}
for _kind, _size in (("f", 8), ("f", 4), ("i", 8), ("i", 4), ("i", 2), ("u", 8), ("u", 4), ("u", 2)):
    for _order in "<>":
        DTYPES[f"{_order}{_kind}{_size}"] = _size

_FLOAT_NAMES = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
#: The smallest integer with more digits than a number literal may have, and its negative
#: (made once: negating it on each check would build a 1.8 KB integer every time).
_INT_LIMIT = 10**MAX_NUMBER_DIGITS
_NEG_INT_LIMIT = -_INT_LIMIT
_NOT_BOOL = re.compile(rb"[^\x00\x01]")

_numpy: Any = None
_numpy_tried = False


class BadValue(ValueError):
    """A malformed tagged value (conformance code ``bad_value``)."""


def numpy_module() -> Any:
    """NumPy if it can be imported (imported once, on first need), else ``None``."""
    global _numpy, _numpy_tried
    if not _numpy_tried:
        _numpy_tried = True
        try:
            import numpy

            _numpy = numpy
        except ImportError:
            _numpy = None
    return _numpy


@dataclass(frozen=True)
class NDArray:
    """Stand-in for a ``$nd`` array when NumPy is not importable.

    ``data`` is a read-only ``memoryview`` of the received bytes, in ``order`` ("C" or "F"),
    of ``product(shape)`` elements of ``dtype`` (a NumPy type string such as ``"<f8"``).
    It round-trips unchanged when returned, so arrays can pass through a NumPy-less worker.
    """

    dtype: str
    shape: tuple
    order: str
    data: memoryview

    @property
    def itemsize(self) -> int:
        return DTYPES[self.dtype]


# ----------------------------------------------------------------------------- encoding


class Encoder:
    """Turns Python values into JSON trees, collecting the buffers they refer to.

    One encoder per frame: ``buffers`` is the frame's buffer list in order. ``level`` is the
    nesting level of the header at which the value will sit: 2 for a result's or chunk's
    ``value`` (the default), 3 for an argument of a call.
    """

    def __init__(self, shm: Any = None, locate: bool = True) -> None:
        self.buffers: list[Buffer] = []
        self.shm = shm  # a shm.SharedMemory when the host enabled shared memory
        # Whether an array lying in an argument's segment is named in place (results) or
        # copied (chunks: the host could write into a chunk while the task still reads it).
        self.locate = locate
        self.written: list[str] = []  # segments written for this value, to undo on failure

    def _add(self, buf: Buffer) -> int:
        if len(self.buffers) >= MAX_BUFFERS:
            raise ValueError(f"cannot send more than {MAX_BUFFERS} buffers in one frame")
        self.buffers.append(buf)
        return len(self.buffers) - 1

    def encode(self, obj: Any, level: int = 2) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            if _NEG_INT_LIMIT < obj < _INT_LIMIT:
                return int(obj)
            raise ValueError(f"cannot send an integer of more than {MAX_NUMBER_DIGITS} digits")
        if isinstance(obj, float):
            if math.isfinite(obj):
                return float(obj)
            return {"$float": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
        if isinstance(obj, (list, tuple)):
            _check_depth(level)
            out = []
            for x in obj:
                out.append(self.encode(x, level + 1))
            return out
        if isinstance(obj, dict):
            return self._dict(obj, level)
        if isinstance(obj, (bytes, bytearray, memoryview)):
            _check_depth(level + 1)
            return {"$bytes": {"buffer": self._add(obj)}}
        if isinstance(obj, NDArray):
            _check_depth(level + 2)
            spec = {"buffer": self._add(obj.data), "dtype": obj.dtype, "shape": list(obj.shape)}
            return {"$nd": {**spec, "order": obj.order}}
        np = sys.modules.get("numpy")
        if np is not None:
            if isinstance(obj, np.ndarray):
                _check_depth(level + 2)
                return self._ndarray(np, obj)
            if isinstance(obj, np.generic):  # NumPy scalar: bool_, integer, floating, ...
                item = obj.item()
                if not isinstance(item, np.generic):
                    return self.encode(item, level)
        cls = type(obj)
        raise TypeError(f"cannot send a value of type {cls.__module__}.{cls.__qualname__}")

    def _dict(self, obj: dict, level: int) -> dict:
        """An object; one whose only key starts with ``$`` is wrapped in ``$map`` (one level)."""
        escape = False
        if len(obj) == 1:
            (key,) = obj
            escape = isinstance(key, str) and key.startswith("$")
        if escape:
            level += 1
        _check_depth(level)
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"map keys must be strings, not {type(key).__name__} ({key!r})")
            out[key] = self.encode(value, level + 1)
        return {"$map": out} if escape else out

    def _ndarray(self, np: Any, array: Any) -> dict:
        dtype = array.dtype.str
        if dtype not in DTYPES:
            raise TypeError(f"arrays of dtype {array.dtype} ({dtype}) cannot be sent")
        if array.flags.c_contiguous:
            order, flat = "C", array.reshape(-1)
        elif array.flags.f_contiguous:
            order, flat = "F", array.reshape(-1, order="F")
        else:
            order, flat = "C", np.ascontiguousarray(array).reshape(-1)
        buf = memoryview(flat.view(np.uint8))  # a view: the writer sends the array's own memory
        shm = self.shm
        if shm is not None and flat.nbytes >= shm.threshold:
            segment = shm.locate(flat) if self.locate else None  # part of an argument: no copy
            if segment is None:
                name = shm.write(buf)
                segment = None if name is None else (name, 0)
                if name is not None:
                    self.written.append(name)
            if segment is not None:
                ref = {"name": segment[0], "offset": segment[1]}
                return {"$nd": {"segment": ref, "dtype": dtype, "shape": list(array.shape), "order": order}}
        spec = {"buffer": self._add(buf), "dtype": dtype, "shape": list(array.shape)}
        return {"$nd": {**spec, "order": order}}


def _check_depth(level: int) -> None:
    if level > MAX_DEPTH:
        raise ValueError(f"cannot send a value nested deeper than {MAX_DEPTH} levels of JSON")


def encode_value(obj: Any, shm: Any = None) -> tuple[Any, list[Buffer]]:
    """Encode one value; returns its JSON tree and the buffers it refers to."""
    encoder = Encoder(shm)
    return encoder.encode(obj), encoder.buffers


# ----------------------------------------------------------------------------- decoding


def decode_value(tree: Any, buffers: Sequence[Buffer], level: int = 2, shm: Any = None) -> Any:
    """Decode a JSON tree from a header, resolving tagged objects against ``buffers``.

    ``level`` is where the tree sits in its header: 2 for a ``value``, 3 for a call's argument.
    ``shm`` (a :class:`~open_worker.shm.SharedMemory`) maps ``$nd`` values held in segments;
    without it they are bad values.
    """
    cls = type(tree)
    if cls is int:
        if _NEG_INT_LIMIT < tree < _INT_LIMIT:
            return tree
        raise BadValue(f"an integer has more than {MAX_NUMBER_DIGITS} digits")
    if cls is float:
        if tree - tree == 0.0:
            return tree
        raise BadValue(f"float {tree} is not finite (a literal outside the range of binary64)")
    if isinstance(tree, list):
        if level > MAX_DEPTH:
            raise _too_deep()
        out = []
        for x in tree:
            out.append(decode_value(x, buffers, level + 1, shm))
        return out
    if isinstance(tree, dict):
        if level > MAX_DEPTH:
            raise _too_deep()
        if len(tree) == 1:
            ((key, body),) = tree.items()
            if key.startswith("$"):
                return _decode_tag(key, body, buffers, level, shm)
        obj = {}
        for k, v in tree.items():
            obj[k] = decode_value(v, buffers, level + 1, shm)
        return obj
    return tree


def _too_deep() -> BadValue:
    return BadValue(f"value nests deeper than {MAX_DEPTH} levels of its header")


def _decode_tag(tag: str, body: Any, buffers: Sequence[Buffer], level: int, shm: Any) -> Any:
    """The tagged object sits at ``level``, so its body at ``level + 1``."""
    if tag == "$float":
        if isinstance(body, str) and body in _FLOAT_NAMES:
            return _FLOAT_NAMES[body]
        raise BadValue(f"$float must be 'nan', 'inf' or '-inf', not {body!r}")
    if tag == "$map":
        if not isinstance(body, dict):
            raise BadValue("$map must hold an object")
        if level + 1 > MAX_DEPTH:
            raise _too_deep()
        obj = {}
        for k, v in body.items():
            obj[k] = decode_value(v, buffers, level + 2, shm)
        return obj
    if isinstance(body, dict) and exceeds_depth(body, level + 1):
        raise _too_deep()
    if tag == "$bytes":
        return bytes(_buffer(tag, body, buffers))
    if tag == "$nd":
        return _decode_nd(body, buffers, shm)
    raise BadValue(f"unknown tag {tag!r}")


def _buffer(tag: str, body: Any, buffers: Sequence[Buffer]) -> memoryview:
    if not isinstance(body, dict):
        raise BadValue(f"{tag} must hold an object")
    index = body.get("buffer")
    if type(index) is not int or not 0 <= index < len(buffers):  # noqa: E721 - not bool
        raise BadValue(f"{tag} refers to buffer {index!r} but the frame has {len(buffers)}")
    buf = buffers[index]
    return buf if isinstance(buf, memoryview) else memoryview(buf)


def _decode_nd(body: Any, buffers: Sequence[Buffer], shm: Any = None) -> Any:
    if not isinstance(body, dict):
        raise BadValue("$nd must hold an object")
    dtype, shape, order = body.get("dtype"), body.get("shape"), body.get("order", "C")
    if dtype not in DTYPES:
        raise BadValue(f"unsupported dtype {dtype!r}")
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):  # noqa: E721
        raise BadValue(f"shape must be a list of non-negative integers, not {shape!r}")
    if order not in ("C", "F"):
        raise BadValue(f"order must be 'C' or 'F', not {order!r}")
    count = math.prod(shape)
    buf = _nd_bytes(body, buffers, shm, count * DTYPES[dtype], DTYPES[dtype])
    if buf.nbytes != count * DTYPES[dtype]:
        raise BadValue(
            f"$nd {dtype} {shape} needs {count * DTYPES[dtype]} bytes, buffer has {buf.nbytes}"
        )
    np = numpy_module()
    if dtype == "|b1" and count and not _zeros_and_ones(np, buf):
        raise BadValue("a |b1 array holds a byte other than 0 or 1")
    if np is None:
        return NDArray(dtype, tuple(shape), order, buf.cast("B").toreadonly())
    return np.frombuffer(buf, dtype=np.dtype(dtype), count=count).reshape(shape, order=order)


def _nd_bytes(body: dict, buffers: Sequence[Buffer], shm: Any, nbytes: int, itemsize: int) -> memoryview:
    """The bytes of an ``$nd``: a buffer of the frame, or a part of a shared-memory segment."""
    if "segment" not in body:
        return _buffer("$nd", body, buffers)
    segment = body["segment"]
    if "buffer" in body:
        raise BadValue("$nd has both a buffer and a segment")
    if shm is None:
        raise BadValue("$nd names a shared-memory segment, but shared memory is not enabled")
    if not isinstance(segment, dict):
        raise BadValue("$nd segment must be an object")
    offset = segment.get("offset", 0)
    if type(offset) is int and offset % itemsize:  # noqa: E721 - not bool
        raise BadValue(f"segment offset {offset} is not a multiple of the item size {itemsize}")
    return shm.view(segment.get("name"), offset, nbytes)


def _zeros_and_ones(np: Any, buf: memoryview) -> bool:
    """Whether every byte is 0 or 1, without copying the buffer."""
    if np is not None:
        return int(np.frombuffer(buf, dtype=np.uint8).max()) <= 1
    return _NOT_BOOL.search(buf) is None
