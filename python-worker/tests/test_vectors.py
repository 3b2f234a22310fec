"""The codec against docs/protocol-vectors.json (protocol section 7)."""

from __future__ import annotations

import importlib.util
import json
import struct

import pytest

from conftest import ROOT, VECTORS, VECTORS_PATH
from neutral import canon, meaning
from open_worker.frames import DEFAULT_MAX_FRAME, FrameError, decode_frame, encode_frame, frame_bytes
from open_worker.values import BadValue, decode_value, encode_value

FRAMES = VECTORS["frames"]
VALUES = VECTORS["values"]


def _ids(vectors):
    return [v["name"] for v in vectors]


def test_vectors_file_is_up_to_date():
    spec = importlib.util.spec_from_file_location("make_vectors", ROOT / "tools" / "make_vectors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert VECTORS_PATH.read_text(encoding="utf-8") == module.render()


def test_vectors_cover_every_error_code_and_kind():
    codes = {v["expect"]["error"] for v in FRAMES if "error" in v["expect"]}
    assert codes == {"too_large", "truncated", "bad_header_length", "bad_header",
                     "missing_kind", "unknown_kind", "bad_buffers"}
    kinds = {v["expect"]["header"]["kind"] for v in FRAMES if "header" in v["expect"]}
    assert kinds == {"hello", "call", "result", "chunk", "end", "error", "cancel", "ping",
                     "pong", "shutdown"}
    assert len(set(_ids(FRAMES))) == len(FRAMES) and len(set(_ids(VALUES))) == len(VALUES)


@pytest.mark.parametrize("vector", FRAMES, ids=_ids(FRAMES))
def test_frame_vector(vector):
    data = bytes.fromhex(vector["hex"])
    limit = vector.get("limit", DEFAULT_MAX_FRAME)
    expect = vector["expect"]
    if "error" in expect:
        with pytest.raises(FrameError) as info:
            decode_frame(data, limit)
        assert info.value.code == expect["error"]
        return
    frame = decode_frame(data, limit)
    assert frame.header == expect["header"]
    assert [bytes(b).hex() for b in frame.buffers] == expect["buffers"]
    # Round trip through the encoder, whose output must also follow the layout rules.
    header = {k: v for k, v in frame.header.items() if k != "buffers"}
    again = frame_bytes(header, frame.buffers)
    check_layout(again)
    decoded = decode_frame(again, limit)
    assert decoded.header == {**header, **({"buffers": expect["header"]["buffers"]} if frame.buffers else {})}
    assert [bytes(b) for b in decoded.buffers] == [bytes(b) for b in frame.buffers]


def check_layout(data: bytes) -> None:
    """Section 2 rules an encoder must follow, checked on raw bytes."""
    (length,) = struct.unpack_from(">I", data, 0)
    assert length == len(data) - 4
    body = data[4:]
    (header_length,) = struct.unpack_from(">I", body, 0)
    text = body[4 : 4 + header_length].decode("utf-8")
    header = json.loads(text)
    assert not text.startswith("\ufeff")
    assert text == json.dumps(header, separators=(",", ":"), ensure_ascii=False)  # compact
    offset = 4 + header_length
    for size in header.get("buffers", []):
        pad = -offset % 8
        assert body[offset : offset + pad] == bytes(pad)
        offset += pad
        assert offset % 8 == 0
        offset += size
    assert offset == len(body)  # no padding after the last buffer


def in_header(text: str, buffers: list[bytes]) -> bytes:
    """A frame whose header holds the value text at level 2: ``{"kind":"result",...,"value":V}``."""
    head = '{"kind":"result","id":1,"value":%s,"buffers":%s}' % (text, json.dumps([len(b) for b in buffers]))
    body = bytearray(struct.pack(">I", len(head.encode())) + head.encode())
    for buf in buffers:
        body += bytes(-len(body) % 8) + buf
    return struct.pack(">I", len(body)) + bytes(body)


def decode_in_header(vector: dict) -> object:
    """The vector's value decoded as it travels: parsed with its header, then decoded."""
    buffers = [bytes.fromhex(h) for h in vector["buffers"]]
    text = vector.get("header_value_json")
    if text is None:
        text = json.dumps(vector["header_value"], ensure_ascii=False)
    frame = decode_frame(in_header(text, buffers))
    if frame.bad_value is not None:
        raise BadValue(frame.bad_value)
    return decode_value(frame.header["value"], frame.buffers)


def assert_meaning(value: object, expect: dict) -> None:
    if "nested_lists" in expect:  # compared by walking: meaning() would recurse 1000 levels deep
        depth = 0
        while True:
            assert isinstance(value, list), value
            depth += 1
            if not value:
                break
            assert len(value) == 1
            value = value[0]
        assert depth == expect["nested_lists"]
        return
    assert canon(meaning(value)) == canon(expect)


def test_vectors_describe_the_value_level():
    assert any("level 2" in line for line in VECTORS["description"])


@pytest.mark.parametrize("vector", VALUES, ids=_ids(VALUES))
def test_value_vector(vector):
    expect = vector["expect"]
    if expect == {"error": "bad_value"}:
        with pytest.raises(BadValue):
            decode_in_header(vector)
        if "header_value" in vector:  # a tree from any parser: the decoder refuses it as well
            buffers = [memoryview(bytearray.fromhex(h)) for h in vector["buffers"]]
            with pytest.raises(BadValue):
                decode_value(vector["header_value"], buffers)
        return
    value = decode_in_header(vector)
    assert_meaning(value, expect)
    if "header_value" in vector:
        buffers = [memoryview(bytearray.fromhex(h)) for h in vector["buffers"]]
        assert_meaning(decode_value(vector["header_value"], buffers), expect)
    # Encode -> decode round trip keeps the meaning.
    tree, out_buffers = encode_value(value)
    again = decode_value(json.loads(json.dumps(tree)), [memoryview(b) for b in out_buffers])
    assert_meaning(again, expect)


@pytest.mark.parametrize("vector", [v for v in VALUES if "error" not in v["expect"]], ids=lambda v: v["name"])
def test_value_vector_in_a_frame(vector):
    """Values travel inside frames: encode a result frame, decode it, same meaning."""
    value = decode_in_header(vector)
    tree, out_buffers = encode_value(value)
    data = b"".join(bytes(p) for p in encode_frame({"kind": "result", "id": 1, "value": tree}, out_buffers))
    check_layout(data)
    frame = decode_frame(data)
    assert frame.bad_value is None
    again = decode_value(frame.header["value"], frame.buffers)
    assert_meaning(again, vector["expect"])
