"""Unit tests of the frame and value codecs beyond the vectors: zero-copy paths, layouts,
Python-specific value rules, the NumPy-less stand-in, and name resolution."""

from __future__ import annotations

import io
import math
import os
import struct

import pytest

from conftest import needs_numpy
from conftest import numpy as np
from neutral import meaning
from open_worker import values
from open_worker.errors import NotAllowed, ProtocolError, type_name
from open_worker.frames import (
    BodyRecycler, FdReader, FrameError, FrameTooLarge, decode_frame, encode_frame, frame_bytes,
    read_frame, write_all,
)
from open_worker.functions import AllowList, Functions
from open_worker.runtime import is_stream
from open_worker.values import NDArray, decode_value, encode_value


def roundtrip(value):
    tree, buffers = encode_value(value)
    data = b"".join(bytes(p) for p in encode_frame({"kind": "result", "id": 1, "value": tree}, buffers))
    frame = decode_frame(data)
    return decode_value(frame.header["value"], frame.buffers)


# ----------------------------------------------------------------------------- arrays


@needs_numpy
def test_decoded_array_is_the_received_body():
    a = np.arange(12, dtype="<f8").reshape(3, 4)
    tree, buffers = encode_value(a)
    stream = io.BytesIO(b"".join(bytes(p) for p in encode_frame({"kind": "result", "id": 1, "value": tree}, buffers)))
    frame = read_frame(stream)
    body = frame.buffers[0].obj  # the one bytearray the frame was read into
    out = decode_value(frame.header["value"], frame.buffers)
    assert isinstance(body, bytearray)
    assert np.shares_memory(out, np.frombuffer(body, dtype=np.uint8))
    assert out.ctypes.data % 8 == 0 and out.flags.writeable
    assert np.array_equal(out, a)


@needs_numpy
def test_encoder_passes_array_memory_without_copy():
    for a in (np.arange(6.0).reshape(2, 3), np.asfortranarray(np.arange(6, dtype="<i4").reshape(2, 3))):
        tree, buffers = encode_value(a)
        assert tree["$nd"]["order"] == ("C" if a.flags.c_contiguous else "F")
        assert np.shares_memory(np.frombuffer(buffers[0], dtype=np.uint8), a)
        parts = encode_frame({"kind": "result", "id": 1, "value": tree}, buffers)
        assert any(isinstance(p, memoryview) and np.shares_memory(np.frombuffer(p, np.uint8), a) for p in parts)


@needs_numpy
def test_fortran_order_decodes_without_copy():
    a = np.asfortranarray(np.arange(6, dtype="<i4").reshape(2, 3))
    out = roundtrip(a)
    assert out.flags.f_contiguous and not out.flags.c_contiguous
    assert np.array_equal(out, a)


@needs_numpy
def test_non_contiguous_array_is_copied_to_c_order():
    a = np.arange(20.0).reshape(4, 5)[::2, 1:4]
    tree, buffers = encode_value(a)
    assert tree["$nd"]["order"] == "C" and len(buffers[0]) == a.size * 8
    assert np.array_equal(roundtrip(a), a)


@needs_numpy
def test_big_endian_array_round_trips_as_big_endian():
    a = np.array([1.0, -2.5], dtype=">f8")
    out = roundtrip(a)
    assert out.dtype.str == ">f8" and np.array_equal(out, a)


@needs_numpy
def test_unsupported_dtype_is_a_type_error():
    for a in (np.zeros(2, dtype=np.complex128), np.zeros(2, dtype=np.float16), np.array(["a"]), np.array([None])):
        with pytest.raises(TypeError):
            encode_value(a)


# ----------------------------------------------------------------------------- other values


def test_python_values():
    value = {"t": (1, (2, 3)), "big": 2**100, "neg": -(2**70), "nan": math.nan, "inf": -math.inf,
             "b": b"\x00\x01", "ba": bytearray(b"xy"), "mv": memoryview(b"z"), "u": "😀"}
    out = roundtrip(value)
    assert out["t"] == [1, [2, 3]] and out["big"] == 2**100 and out["neg"] == -(2**70)
    assert math.isnan(out["nan"]) and out["inf"] == -math.inf
    assert out["b"] == b"\x00\x01" and out["ba"] == b"xy" and out["mv"] == b"z" and out["u"] == "😀"


def test_dollar_keys_are_escaped():
    tree, _ = encode_value({"$nd": 1})
    assert tree == {"$map": {"$nd": 1}}
    assert roundtrip({"$nd": {"$float": 2}}) == {"$nd": {"$float": 2}}
    assert encode_value({"$a": 1, "b": 2})[0] == {"$a": 1, "b": 2}


@needs_numpy
def test_numpy_scalars_become_json_numbers():
    tree, _ = encode_value([np.float64(1.5), np.int32(-3), np.uint64(2**64 - 1), np.bool_(False), np.float32(np.inf)])
    assert tree == [1.5, -3, 2**64 - 1, False, {"$float": "inf"}]
    assert type(tree[1]) is int and type(tree[3]) is bool


def test_unencodable_values():
    for bad in ({1: "x"}, {1, 2}, object(), 1j, range(3)):
        with pytest.raises(TypeError):
            encode_value(bad)


def test_strided_memoryview_is_copied():
    data = bytes(range(10))
    assert roundtrip(memoryview(data)[::2]) == data[::2]


def test_without_numpy_nd_decodes_to_a_read_only_stand_in(monkeypatch):
    monkeypatch.setattr(values, "_numpy", None)
    monkeypatch.setattr(values, "_numpy_tried", True)
    raw = bytearray(struct.pack("<6i", 0, 3, 1, 4, 2, 5))  # [[0, 1, 2], [3, 4, 5]] in F order
    tree = {"$nd": {"buffer": 0, "dtype": "<i4", "shape": [2, 3], "order": "F"}}
    out = decode_value(tree, [memoryview(raw)])
    assert isinstance(out, NDArray) and out.shape == (2, 3) and out.order == "F" and out.itemsize == 4
    assert out.data.readonly and bytes(out.data) == bytes(raw)
    again_tree, again_buffers = encode_value(out)
    assert again_tree == tree and bytes(again_buffers[0]) == bytes(raw)
    assert meaning(out)["ndarray"]["data"] == ["0", "3", "1", "4", "2", "5"]


# ----------------------------------------------------------------------------- frames


def test_frame_limit_checked_before_reading_the_body():
    class NoBody(io.RawIOBase):
        def __init__(self):
            self.calls = 0

        def readinto(self, b):
            self.calls += 1
            if self.calls > 1:
                raise AssertionError("read past the length prefix")
            b[:4] = (1 << 31).to_bytes(4, "big")
            return 4

    with pytest.raises(FrameError) as info:
        read_frame(NoBody(), 1 << 30)
    assert info.value.code == "too_large"


def test_outgoing_frame_over_the_limit():
    with pytest.raises(FrameTooLarge):
        encode_frame({"kind": "result", "id": 1, "value": None}, [bytes(100)], limit=64)


def test_write_all_handles_partial_writes(monkeypatch):
    written = bytearray()
    real_writev = os.writev

    def short_writev(fd, parts):  # write at most 5 bytes per call
        data = b"".join(bytes(p) for p in parts)[:5]
        written.extend(data)
        return len(data)

    monkeypatch.setattr(os, "writev", short_writev)
    parts = [b"abc", memoryview(b""), memoryview(b"defghij"), b"k"]
    write_all(99, parts)
    assert bytes(written) == b"abcdefghijk"
    assert real_writev is not short_writev


def test_read_eof_between_frames_is_none():
    assert read_frame(io.BytesIO(b"")) is None


def test_fd_reader_says_what_it_has_read_ahead():
    r, w = os.pipe()
    try:
        pings = [frame_bytes({"kind": "ping", "id": i}) for i in range(3)]
        call = frame_bytes({"kind": "call", "id": 9, "function": "m:f", "args": [{"$bytes": {"buffer": 0}}]},
                           [bytes(range(200))])
        os.write(w, b"".join(pings) + call + pings[0][:5])
        os.close(w)
        reader = FdReader(r, chunk=128)  # the call's body is larger: read straight into it
        assert reader.buffered() == 0
        assert read_frame(reader).header["id"] == 0
        assert reader.buffered() == 128 - len(pings[0])  # one read: the other pings, part of the call
        assert read_frame(reader).header["id"] == 1 and read_frame(reader).header["id"] == 2
        frame = read_frame(reader)
        assert frame.header["id"] == 9 and bytes(frame.buffers[0]) == bytes(range(200))
        with pytest.raises(FrameError) as info:
            read_frame(reader)
        assert info.value.code == "truncated"
        assert read_frame(reader) is None and reader.buffered() == 0
    finally:
        os.close(r)


# ----------------------------------------------------------------------------- names and rules


def test_allow_list():
    allow = AllowList(["tasks", "pkg.*", "a.b"])
    assert allow.allows("tasks") and not allow.allows("tasks.sub") and not allow.allows("tasksx")
    assert allow.allows("pkg") and allow.allows("pkg.sub") and allow.allows("pkg.sub.deep")
    assert not allow.allows("pkgx") and allow.allows("a.b") and not allow.allows("a")
    with pytest.raises(ValueError):
        AllowList(["bad name"])


def test_resolution_rules():
    functions = Functions(AllowList(["open_test_tasks"]))
    assert functions.resolve("open_test_tasks:echo")(5) == 5
    for name, error in [
        ("os:system", NotAllowed),
        ("open_test_tasks:os.system", NotAllowed),  # reaching a module through the allowed one
        ("open_test_tasks:_hog", NotAllowed),
        ("open_test_tasks:echo.__globals__", NotAllowed),
        ("open_test_tasks", ProtocolError),
        ("open_test_tasks:", ProtocolError),
        ("open_test_tasks:a b", ProtocolError),
        ("open_test_tasks:missing", AttributeError),
    ]:
        with pytest.raises(error):
            functions.resolve(name)


def test_stream_rule():
    def gen():
        yield 1

    for streamed in (gen(), iter([1]), map(str, [1]), zip([1], [2]), iter({}), enumerate([])):
        assert is_stream(streamed)
    for value in ([1], (1,), {}, "ab", b"ab", bytearray(), memoryview(b""), range(2), {1}, None, 3):
        assert not is_stream(value)
    if np is not None:
        assert not is_stream(np.zeros(2))


def test_type_names():
    assert type_name(ValueError()) == "ValueError"
    if np is not None:
        assert type_name(np.linalg.LinAlgError()) == "numpy.linalg.LinAlgError"
    assert type_name(NotAllowed()) == "NotAllowed" and type_name(ProtocolError()) == "ProtocolError"

    class Local(Exception):
        pass

    assert type_name(Local()) == f"{__name__}.test_type_names.<locals>.Local"


# ----------------------------------------------------------------------------- body recycling


def _big_frames(*fills: int, size: int = 2 << 20) -> io.BytesIO:
    """Frames of ``size``-byte buffers, each filled with one byte value."""
    return io.BytesIO(b"".join(frame_bytes({"kind": "call", "id": i + 1}, [bytes([f]) * size])
                               for i, f in enumerate(fills)))


def test_a_released_large_body_is_reused():
    bodies = BodyRecycler()
    stream = _big_frames(1, 2)
    first = read_frame(stream, bodies=bodies)
    assert bytes(first.buffers[0][:3]) == b"\x01\x01\x01"
    del first
    second = read_frame(stream, bodies=bodies)
    assert bodies.reused == 1
    assert set(bytes(second.buffers[0])) == {2}


def test_a_body_still_viewed_is_never_overwritten():
    bodies = BodyRecycler()
    stream = _big_frames(1, 2, 3)
    kept = read_frame(stream, bodies=bodies).buffers[0]  # a task keeping its argument
    second = read_frame(stream, bodies=bodies)
    third = read_frame(stream, bodies=bodies)
    assert bodies.reused == 0
    assert set(bytes(kept)) == {1}
    assert set(bytes(second.buffers[0])) == {2} and set(bytes(third.buffers[0])) == {3}


@needs_numpy
def test_a_numpy_array_on_a_body_keeps_it_from_reuse():
    bodies = BodyRecycler()
    stream = _big_frames(1, 2)
    array = np.frombuffer(read_frame(stream, bodies=bodies).buffers[0], dtype=np.uint8)
    read_frame(stream, bodies=bodies)
    assert bodies.reused == 0
    assert int(array.min()) == int(array.max()) == 1
    del array
    assert read_frame(_big_frames(4), bodies=bodies) is not None
    assert bodies.reused == 1


@needs_numpy
def test_an_array_holding_the_body_object_itself_keeps_it_from_reuse():
    # np.ndarray(buffer=memoryview) keeps memoryview.obj, the bytearray, and releases the
    # export: only the reference count shows that the memory is still in use.
    bodies = BodyRecycler()
    stream = _big_frames(1, 2)
    frame = read_frame(stream, bodies=bodies)
    held = np.ndarray((2 << 20,), np.uint8, buffer=frame.buffers[0].obj)  # the whole body
    before = held.copy()
    del frame
    read_frame(stream, bodies=bodies)
    assert bodies.reused == 0
    assert np.array_equal(held, before)


def test_small_bodies_and_far_larger_spares_are_not_reused():
    bodies = BodyRecycler(min_size=1 << 20)
    for _ in range(3):
        read_frame(_big_frames(1, size=1000), bodies=bodies)
    assert bodies.reused == 0
    read_frame(_big_frames(1, size=16 << 20), bodies=bodies)
    frame = read_frame(_big_frames(2, size=2 << 20), bodies=bodies)  # 16 MiB > 4 x 2 MiB
    assert bodies.reused == 0
    assert set(bytes(frame.buffers[0])) == {2}
