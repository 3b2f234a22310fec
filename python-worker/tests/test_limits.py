"""The limits of protocol section 2 in the codecs: bounded body reads, the buffer count,
duplicate keys, number length, float range, nesting depth, ``|b1`` bytes, and the scan that
recovers a refused header's kind and id. Property tests are seeded random generators."""

from __future__ import annotations

import io
import json
import random
import struct
import sys

import pytest

from conftest import numpy as np
from open_worker import frames, values
from open_worker.frames import (
    FIRST_BODY_CHUNK, MAX_BUFFERS, MAX_DEPTH, BodyRecycler, FrameError,
    FrameTooLarge, decode_frame, encode_frame, frame_bytes, read_frame, scan_kind_and_id,
)
from open_worker.values import BadValue, Encoder, NDArray, decode_value, encode_value


def raw_frame(header_text: str | bytes, payload: bytes = b"") -> bytes:
    """A frame around a header given as text, so tests can write what an encoder never would."""
    head = header_text.encode() if isinstance(header_text, str) else header_text
    body = struct.pack(">I", len(head)) + head + payload
    return struct.pack(">I", len(body)) + body


def nested(depth: int, inner: str = "") -> str:
    """JSON text of ``depth`` lists one inside the other."""
    return "[" * depth + inner + "]" * depth


def text_depth(text: str) -> int:
    """Nesting depth of JSON text, counted on the text (an oracle independent of the codec)."""
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


# ----------------------------------------------------------------------------- bounded reads


class Trickle(io.RawIOBase):
    """Serves ``data`` in pieces of at most ``piece`` bytes and records, at every read, the size
    of the memory being read into (``view.obj``) against the body bytes delivered so far."""

    def __init__(self, data: bytes, piece: int) -> None:
        self.data, self.piece, self.pos = data, piece, 0
        self.seen: list[tuple[int, int]] = []  # (allocated, body bytes received before this read)

    def readinto(self, view) -> int:
        if self.pos >= 4:  # past the length prefix: the view is (a slice of) the body
            obj = view.obj
            self.seen.append((len(obj), self.pos - 4))
        n = min(len(view), self.piece, len(self.data) - self.pos)
        view[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


def test_a_huge_announced_body_takes_memory_only_as_it_arrives():
    # A prefix announcing 1 GiB, then 3 MiB, then end-of-file: the body never takes more than
    # max(64 KiB, 2 x received), and the frame is truncated (nothing of 1 GiB was allocated).
    stream = Trickle(struct.pack(">I", 1 << 30) + bytes(3 << 20), piece=100_000)
    with pytest.raises(FrameError) as info:
        read_frame(stream, 1 << 30)
    assert info.value.code == "truncated" and f"of {1 << 30} body bytes" in str(info.value)
    assert stream.seen, "the body was never read"
    for allocated, received in stream.seen:
        assert allocated <= max(FIRST_BODY_CHUNK, 2 * received), (allocated, received)
    assert max(a for a, _ in stream.seen) >= 3 << 20  # it did grow with the data


def test_a_large_body_grows_by_doubling_up_to_exactly_its_length():
    data = frame_bytes({"kind": "call", "id": 1}, [bytes(range(256)) * (5 * FIRST_BODY_CHUNK // 256 + 50)])
    body = len(data) - 4
    expected, size = [], FIRST_BODY_CHUNK
    while size < body:
        expected.append(size)
        size *= 2
    stream = Trickle(data, piece=1 << 20)
    frame = read_frame(stream)
    assert sorted({a for a, _ in stream.seen}) == expected + [body]
    assert len(frame.buffers[0].obj) == body  # the final memory is exactly the body


@pytest.mark.parametrize("seed", range(5))
def test_grown_bodies_are_zero_copy_and_exact(seed):
    rng = random.Random(seed)
    for _ in range(20):
        sizes = [rng.choice([0, 1, 7, 8, rng.randrange(1, 300_000)]) for _ in range(rng.randrange(1, 5))]
        buffers = [rng.randbytes(n) for n in sizes]
        data = frame_bytes({"kind": "result", "id": 1, "value": None}, buffers)
        frame = read_frame(Trickle(data, piece=rng.choice([1000, 65536, 1 << 20])))
        assert [bytes(b) for b in frame.buffers] == buffers
        bodies = {id(b.obj) for b in frame.buffers}
        assert len(bodies) == 1 and isinstance(frame.buffers[0].obj, bytearray)
        assert all((b.obj is frame.buffers[0].obj) for b in frame.buffers)


def test_small_bodies_are_read_in_one_allocation():
    data = frame_bytes({"kind": "ping", "id": 1})
    stream = Trickle(data, piece=1)
    read_frame(stream)
    assert {a for a, _ in stream.seen} == {len(data) - 4}


def test_a_spare_body_is_lent_to_a_frame_still_arriving():
    # Reusing memory already taken is not a new allocation: a stalled frame may have it.
    bodies = BodyRecycler()
    first = read_frame(io.BytesIO(frame_bytes({"kind": "call", "id": 1}, [bytes(4 << 20)])), bodies=bodies)
    spare_size = len(first.buffers[0].obj)
    del first
    stream = Trickle(struct.pack(">I", 3 << 20) + bytes(100), piece=1 << 20)
    with pytest.raises(FrameError):
        read_frame(stream, bodies=bodies)
    assert bodies.reused == 1 and stream.seen[0][0] == spare_size


# ----------------------------------------------------------------------------- buffer count


def test_more_than_65536_buffers_is_bad_buffers():
    ok = decode_frame(frame_bytes({"kind": "result", "id": 1, "value": None}, [b""] * MAX_BUFFERS))
    assert len(ok.buffers) == MAX_BUFFERS
    # Well laid out in every other respect: only the count is wrong.
    with pytest.raises(FrameError) as info:
        decode_frame(raw_frame(json.dumps({"kind": "result", "id": 1, "value": None,
                                           "buffers": [0] * (MAX_BUFFERS + 1)})))
    assert info.value.code == "bad_buffers" and str(MAX_BUFFERS) in str(info.value)


def test_the_buffer_count_is_checked_before_any_view(monkeypatch):
    made = []
    real = frames.pad_to
    monkeypatch.setattr(frames, "pad_to", lambda offset: made.append(offset) or real(offset))
    with pytest.raises(FrameError):
        decode_frame(raw_frame(json.dumps({"kind": "result", "id": 1, "buffers": [0] * (MAX_BUFFERS + 1)})))
    assert made == []


def test_encoders_refuse_more_than_65536_buffers():
    with pytest.raises(ValueError, match="65536 buffers"):
        encode_value([b""] * (MAX_BUFFERS + 1))
    with pytest.raises(FrameTooLarge):
        encode_frame({"kind": "result", "id": 1, "value": None}, [b""] * (MAX_BUFFERS + 1))
    tree, buffers = encode_value([b""] * MAX_BUFFERS)
    assert len(buffers) == MAX_BUFFERS


# ----------------------------------------------------------------------------- duplicate keys


@pytest.mark.parametrize("text", [
    '{"kind":"call","id":1,"function":"m:f","args":[],"kind":"shutdown"}',
    '{"kind":"shutdown","kind":"shutdown"}',
    '{"kind":"call","id":1,"function":"m:f","args":[{"a":1,"b":2,"a":3}]}',
    '{"kind":"call","id":1,"function":"m:f","args":[{"$nd":{"buffer":0,"buffer":0,"dtype":"|u1","shape":[0]}}]}',
    '{"kind":"ping","id":1,"k\\u0069nd":"shutdown"}',
    '{"kind":"ping","id":1,"x":[[{"y":{"z":1,"z":1}}]]}',
], ids=["top", "top-same-value", "in-args", "in-tag", "escaped", "deep"])
def test_duplicate_keys_are_bad_header(text):
    with pytest.raises(FrameError) as info:
        decode_frame(raw_frame(text))
    assert info.value.code == "bad_header" and "duplicate key" in str(info.value)


def test_equal_keys_in_different_objects_are_fine():
    frame = decode_frame(raw_frame('{"kind":"ping","id":1,"x":{"id":2,"kind":3},"y":[{"x":1},{"x":2}]}'))
    assert frame.header["id"] == 1 and frame.bad_value is None


# ----------------------------------------------------------------------------- number limits


def call_text(arg_text: str, call_id: int = 7) -> str:
    return '{"kind":"call","id":%d,"function":"m:f","args":[%s]}' % (call_id, arg_text)


@pytest.mark.parametrize("literal", ["9" * 4300, "-" + "9" * 4300, "1" + "0" * 4299])
def test_numbers_of_4300_digits_are_values(literal):
    frame = decode_frame(raw_frame(call_text(literal)))
    assert frame.bad_value is None and frame.header["args"] == [int(literal)]
    assert decode_value(frame.header["args"][0], [], 3) == int(literal)


@pytest.mark.parametrize("literal", ["9" * 4301, "-" + "1" * 4301, "1" * 10_000])
def test_numbers_of_more_than_4300_digits_fail_their_call(literal):
    frame = decode_frame(raw_frame(call_text(literal, 12)))
    assert frame.header == {"kind": "call", "id": 12} and frame.buffers == []
    assert "4300 digits" in frame.bad_value


@pytest.mark.parametrize("limit", [0, 640, 5000])
def test_the_number_limit_does_not_follow_the_interpreters(limit):
    # A task may change int_max_str_digits; the protocol's limit stays 4300 both ways.
    if not hasattr(sys, "set_int_max_str_digits"):
        pytest.skip("no int_max_str_digits in this Python")
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(limit)
    try:
        ok = decode_frame(raw_frame(call_text("7" * 4300)))
        bad = decode_frame(raw_frame(call_text("7" * 4301)))
    finally:
        sys.set_int_max_str_digits(before)
    assert ok.bad_value is None and len(ok.header["args"]) == 1
    assert bad.header == {"kind": "call", "id": 7} and "4300 digits" in bad.bad_value


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "1E+309", "2e308", "1" * 400 + ".0",
                                     "0." + "0" * 4300 + "1"])
def test_floats_out_of_range_or_too_long_fail_their_call(literal):
    frame = decode_frame(raw_frame(call_text(literal, 3)))
    assert frame.header == {"kind": "call", "id": 3}
    assert "binary64" in frame.bad_value or "4300 digits" in frame.bad_value


@pytest.mark.parametrize("literal, value", [("1e308", 1e308), ("-1.7976931348623157e308", -1.7976931348623157e308),
                                            ("1e-400", 0.0), ("4.9e-324", 5e-324), ("0.5", 0.5)])
def test_finite_floats_are_values(literal, value):
    frame = decode_frame(raw_frame(call_text(literal)))
    assert frame.bad_value is None and frame.header["args"] == [value]


def test_encoders_refuse_integers_of_more_than_4300_digits():
    assert encode_value(10**4300 - 1)[0] == 10**4300 - 1
    assert encode_value(-(10**4300) + 1)[0] == -(10**4300) + 1
    for bad in (10**4300, -(10**4300), [1, {"x": 10**5000}]):
        with pytest.raises(ValueError, match="4300 digits"):
            encode_value(bad)


def test_decoders_refuse_values_no_json_parser_of_ours_would_produce():
    # Trees from elsewhere (another parser, or hand-built): the same limits apply.
    for bad in (float("inf"), [float("-inf")], {"a": float("nan")}, 10**4300):
        with pytest.raises(BadValue):
            decode_value(bad, [])


# ----------------------------------------------------------------------------- depth


def test_value_at_level_2_may_reach_level_512():
    ok = decode_frame(raw_frame('{"kind":"result","id":1,"value":%s}' % nested(MAX_DEPTH - 1)))
    assert ok.bad_value is None
    value = decode_value(ok.header["value"], ok.buffers)
    depth = 0
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    assert depth == MAX_DEPTH - 2  # and the innermost, empty list
    too_deep = decode_frame(raw_frame('{"kind":"result","id":1,"value":%s}' % nested(MAX_DEPTH)))
    assert too_deep.bad_value is None  # parsed: the value itself is what is too deep
    with pytest.raises(BadValue, match="512"):
        decode_value(too_deep.header["value"], too_deep.buffers)


def test_arguments_sit_at_level_3():
    frame = decode_frame(raw_frame(call_text(nested(MAX_DEPTH - 2))))
    assert decode_value(frame.header["args"][0], [], 3) is not None
    frame = decode_frame(raw_frame(call_text(nested(MAX_DEPTH - 1))))
    with pytest.raises(BadValue):
        decode_value(frame.header["args"][0], [], 3)


def test_tagged_objects_count_their_levels():
    nd = {"$nd": {"buffer": 0, "dtype": "|u1", "shape": [1]}}  # 3 levels
    by = {"$bytes": {"buffer": 0}}  # 2 levels
    mp = {"$map": {"$k": 1}}  # 2 levels
    for tagged, levels in ((nd, 3), (by, 2), (mp, 2)):
        fits = json.loads(nested(MAX_DEPTH - 1 - levels, json.dumps(tagged)))  # reaches 512
        decode_value(fits, [memoryview(b"\x01")])
        deeper = json.loads(nested(MAX_DEPTH - levels, json.dumps(tagged)))
        with pytest.raises(BadValue, match="512"):
            decode_value(deeper, [memoryview(b"\x01")])


def test_very_deep_headers_fail_their_call_not_the_parser():
    frame = decode_frame(raw_frame(call_text(nested(200_000), call_id=44)))
    assert frame.header == {"kind": "call", "id": 44} and "512" in frame.bad_value


def test_depth_of_other_header_fields_is_checked_too():
    frame = decode_frame(raw_frame('{"kind":"call","id":5,"function":"m:f","args":[],"trace":%s}'
                                   % nested(MAX_DEPTH)))
    assert frame.header["id"] == 5 and "'trace'" in frame.bad_value
    frame = decode_frame(raw_frame('{"kind":"call","id":5,"function":"m:f","args":[],"trace":%s}'
                                   % nested(MAX_DEPTH - 1)))
    assert frame.bad_value is None


@pytest.mark.parametrize("seed", range(4))
def test_encoder_depth_limit_matches_the_header_text(seed):
    """Random nestings of lists, tuples, maps, ``$map`` escapes and tagged leaves whose header
    nests 505 to 516 levels: the encoder accepts a value exactly when its header nests at most
    512 levels (measured on the JSON text by an independent count), and what it accepts
    decodes again at level 2 without complaint."""
    rng = random.Random(seed)
    leaves = [(0, 1), (0, "s"), (1, []), (2, b"x"), (2, {"$k": 2}),
              (3, NDArray("|u1", (1,), "C", memoryview(b"\x01")))]
    for _ in range(40):
        target = rng.randrange(MAX_DEPTH - 7, MAX_DEPTH + 5)
        levels, value = rng.choice(leaves)
        remaining = target - 1 - levels  # the header object is level 1
        while remaining > 0:
            if remaining >= 2 and rng.random() < 0.2:
                value, remaining = {"$k": value}, remaining - 2  # escaped as $map: 2 levels
            else:
                value, remaining = rng.choice([[value], {"k": value}, (value, 1)]), remaining - 1
        depth = text_depth(json.dumps({"kind": "result", "id": 1, "value": _unchecked_tree(value)}))
        assert depth == target
        encoder = Encoder()
        try:
            tree = encoder.encode(value)
            accepted = True
        except ValueError:  # refused: the header would nest too deep
            accepted = False
        assert accepted == (depth <= MAX_DEPTH), depth
        if accepted:
            data = b"".join(bytes(p) for p in encode_frame({"kind": "result", "id": 1, "value": tree},
                                                            encoder.buffers))
            frame = decode_frame(data)
            assert frame.bad_value is None
            decode_value(frame.header["value"], frame.buffers)


def _unchecked_tree(value):
    """The same JSON shapes as the Encoder, without limits (the test's own independent copy;
    loops, not comprehensions, to stay within the recursion limit at 512 levels)."""
    if isinstance(value, (list, tuple)):
        out_list = []
        for x in value:
            out_list.append(_unchecked_tree(x))
        return out_list
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out[k] = _unchecked_tree(v)
        return {"$map": out} if len(out) == 1 and next(iter(out)).startswith("$") else out
    if isinstance(value, bytes):
        return {"$bytes": {"buffer": 0}}
    if isinstance(value, NDArray):
        return {"$nd": {"buffer": 0, "dtype": value.dtype, "shape": list(value.shape), "order": "C"}}
    return value


def test_encoder_refuses_cycles_as_too_deep():
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="512"):
        encode_value(cycle)


# ----------------------------------------------------------------------------- |b1


@pytest.mark.parametrize("hide_numpy", [False, True])
def test_bool_arrays_hold_only_zeros_and_ones(monkeypatch, hide_numpy):
    if hide_numpy:
        monkeypatch.setattr(values, "_numpy", None)
        monkeypatch.setattr(values, "_numpy_tried", True)
    elif np is None:
        pytest.skip("NumPy is not installed")
    tree = {"$nd": {"buffer": 0, "dtype": "|b1", "shape": [4]}}
    assert decode_value(tree, [memoryview(bytearray(b"\x00\x01\x01\x00"))]) is not None
    for data in (b"\x00\x02\x01\x00", b"\xff\x00\x00\x00", b"\x00\x00\x00\x80"):
        with pytest.raises(BadValue, match="0 or 1"):
            decode_value(tree, [memoryview(bytearray(data))])
    empty = {"$nd": {"buffer": 0, "dtype": "|b1", "shape": [0]}}
    assert decode_value(empty, [memoryview(bytearray())]) is not None


# ----------------------------------------------------------------------------- recovery scan


def test_recovery_needs_a_kind_and_an_id():
    deep = nested(100_000)
    for text in [
        '{"kind":"shutdown","x":%s}' % deep,  # no id: a frame error
        '{"id":3,"x":%s}' % deep,  # no kind
        '{"kind":"call","id":3,"x":%s' % deep,  # never closed
        '{"kind":"call","id":3,"x":%s}}' % deep,  # closed twice
        '{"kind":"call","id":3,"x":%s} x' % deep,  # trailing bytes
        '{"kind":"call","id":3,"id":4,"x":%s}' % deep,  # id twice
        '{"kind":"call","id":3.5,"x":%s}' % deep,  # not an integer
        '{"kind":"call","id":"3","x":%s}' % deep,
        '{"kind":5,"id":3,"x":%s}' % deep,
        '["kind","call","id",3,%s]' % deep,
        '{"kind":"call","id":3,"x":"%s' % deep,  # a string never closed
        '{"kind":"call","id":' + "9" * 5000 + "}",  # the id itself is the problem
    ]:
        with pytest.raises(FrameError) as info:
            decode_frame(raw_frame(text))
        assert info.value.code == "bad_header", text[:60]


@pytest.mark.parametrize("text", [
    '{"kind":"ping","id":3,"x":1e400}',
    '{"kind":"cancel","id":3,"x":%s}' % nested(100_000),
    '{"kind":"call","id":0,"x":1e400}',
    '{"kind":"call","id":-2,"x":1e400}',
    '{"kind":"ping","id":3,"x":%s}' % nested(MAX_DEPTH),  # parsed, but too deep
    '{"kind":"call","id":true,"function":"m:f","args":[],"x":%s}' % nested(MAX_DEPTH),
])
def test_a_bad_value_outside_a_call_result_or_chunk_is_a_malformed_frame(text):
    with pytest.raises(FrameError) as info:
        decode_frame(raw_frame(text))
    assert info.value.code == "bad_header"


def test_recovered_unknown_kind_is_unknown_kind():
    with pytest.raises(FrameError) as info:
        decode_frame(raw_frame('{"kind":"bogus","id":3,"x":%s}' % nested(100_000)))
    assert info.value.code == "unknown_kind"


def test_recovery_looks_only_at_top_level_keys_and_skips_strings():
    text = ('{"x":{"kind":"shutdown","id":99},"s":"\\"kind\\":\\"ping\\",]}{[","id" : 8 ,'
            '"kind"\n:\t"call","n":%s}' % ("1" * 5000))
    frame = decode_frame(raw_frame(text))
    assert frame.header == {"kind": "call", "id": 8}


def _random_json(rng: random.Random, depth: int) -> str:
    """Random JSON text with awkward strings (brackets, quotes, escapes, non-ASCII)."""
    roll = rng.random()
    if depth <= 0 or roll < 0.3:
        return rng.choice([
            lambda: json.dumps(rng.choice(["", "]", "[{", '"', "\\", '\\"]', "kind", "id", "é€𝄞",
                                           '"kind":"ping"', "\u2028"]) + "x" * rng.randrange(3)),
            lambda: str(rng.randrange(-10**6, 10**6)),
            lambda: repr(rng.random()),
            lambda: rng.choice(["true", "false", "null"]),
        ])()
    if roll < 0.65:
        items = [_random_json(rng, depth - 1) for _ in range(rng.randrange(4))]
        return "[" + rng.choice([",", " , ", ",\n"]).join(items) + "]"
    keys = rng.sample(["kind", "id", "a", "b", "]", '\\"', "k\\u0069nd"], rng.randrange(4))
    if "kind" in keys and "k\\u0069nd" in keys:  # the same key twice: a bad header
        keys.remove("kind")
    items = [f'"{k}":{_random_json(rng, depth - 1)}' for k in keys]
    return "{" + ",".join(items) + "}"


@pytest.mark.parametrize("seed", range(8))
def test_recovery_scan_agrees_with_the_json_parser(seed):
    """Random headers: where JSON can parse them, the scan finds exactly the top-level kind and
    id; with a value limit broken anywhere, a call, result or chunk fails as that message, with
    that id, and any other message is a malformed frame."""
    rng = random.Random(seed)
    for _ in range(60):
        kind = rng.choice(["call", "result", "chunk", "ping", "cancel", "pong"])
        ident = rng.randrange(1, 10**12)
        fields = [f'"kind":"{kind}"', f'"id":{ident}']
        fields += [f'"f{i}":{_random_json(rng, rng.randrange(5))}' for i in range(rng.randrange(5))]
        rng.shuffle(fields)
        ws = rng.choice(["", " ", "\n "])
        text = "{" + ws + ("," + ws).join(fields) + ws + "}"
        header = json.loads(text)
        assert scan_kind_and_id(text) == (header["kind"], header["id"]), text
        # Break a limit somewhere in a random field: the frame is that message's bad value.
        breaker = rng.choice(["1" * 4301, "1e400", nested(5000)])
        broken = text[:-1] + f',"zz":[{_random_json(rng, 2)},{breaker}]' + "}"
        assert scan_kind_and_id(broken) == (kind, ident)
        if kind in ("call", "result", "chunk"):
            frame = decode_frame(raw_frame(broken))
            assert frame.header == {"kind": kind, "id": ident} and frame.bad_value, broken[:200]
        else:
            with pytest.raises(FrameError) as info:
                decode_frame(raw_frame(broken))
            assert info.value.code == "bad_header" and f"in a {kind} message" in str(info.value)
        # Cut it short anywhere: never recovered.
        cut = broken[: rng.randrange(1, len(broken) - 1)]
        assert scan_kind_and_id(cut) is None


def test_recovery_of_huge_headers_finds_kind_and_id():
    many = '{"kind":"call","id":5,"args":[' + '"a\\"]{",' * 200_000 + "1" * 5000 + "]}"
    deep = '{"kind":"call","id":6,"args":' + nested(2_000_000) + "}"
    assert scan_kind_and_id(many) == ("call", 5)
    assert scan_kind_and_id(deep) == ("call", 6)
