#!/usr/bin/env python3
"""Generate ``docs/protocol-vectors.json``, the conformance vectors of protocol section 7.

Standard library only, deterministic (same bytes on every run), and independent of the
``open_worker`` package: frames are assembled here by hand with ``struct`` so that the
worker's codec is checked against something it did not produce.

    python python-worker/tools/make_vectors.py            # rewrite docs/protocol-vectors.json
    python python-worker/tools/make_vectors.py --check    # exit 1 if the file is out of date
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path
from typing import Any

DEFAULT_OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "protocol-vectors.json"
# The limits of protocol section 2 (stated here again, not imported: see the module docstring).
MAX_DEPTH = 512
MAX_NUMBER_DIGITS = 4300

# ----------------------------------------------------------------------------- frames


def compact(header: Any) -> bytes:
    return json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def body(header_bytes: bytes, buffers: list[bytes] = ()) -> bytes:
    """Header length, header, then each buffer at the next multiple of 8."""
    out = bytearray(struct.pack(">I", len(header_bytes)) + header_bytes)
    for buf in buffers:
        out += bytes(-len(out) % 8)
        out += buf
    return bytes(out)


def frame(body_bytes: bytes, length: int | None = None) -> bytes:
    return struct.pack(">I", len(body_bytes) if length is None else length) + body_bytes


def valid(name: str, header: dict, buffers: list[bytes] = (), limit: int | None = None) -> dict:
    if buffers:
        header = {**header, "buffers": [len(b) for b in buffers]}
    vector: dict[str, Any] = {"name": name, "hex": frame(body(compact(header), buffers)).hex()}
    if limit is not None:
        vector["limit"] = limit
    vector["expect"] = {"header": header, "buffers": [b.hex() for b in buffers]}
    return vector


def invalid(name: str, data: bytes, code: str, limit: int | None = None) -> dict:
    vector: dict[str, Any] = {"name": name, "hex": data.hex()}
    if limit is not None:
        vector["limit"] = limit
    vector["expect"] = {"error": code}
    return vector


def f64(*xs: float) -> bytes:
    return struct.pack(f"<{len(xs)}d", *xs)


def frame_vectors() -> list[dict]:
    nd = {"$nd": {"buffer": 1, "dtype": "<f8", "shape": [2], "order": "C"}}
    padded_call = {"kind": "call", "id": 2, "function": "tasks:f", "args": [{"$bytes": {"buffer": 0}}, nd]}
    padded_buffers = [b"\x01\x02\x03\x04\x05", f64(1.5, -2.0)]
    # The layout this vector exists for: padding before both buffers.
    header_end = 4 + len(compact({**padded_call, "buffers": [5, 16]}))
    assert header_end % 8 and (header_end + -header_end % 8 + 5) % 8

    ok_header = {"kind": "ping", "id": 1}
    ok = body(compact(ok_header))
    vectors = [
        valid("hello", {
            "kind": "hello", "protocol": 1, "language": "python", "version": "3.11.7", "pid": 4242,
            "worker": "open-python-worker/0.1.0", "capabilities": ["numpy", "stream", "cancel"],
        }),
        valid("call without buffers", {
            "kind": "call", "id": 1, "function": "tasks.stats:describe",
            "args": [1, "two", [3.5, None, True]], "kwargs": {"scale": 2},
        }),
        valid("call with two buffers needing padding", padded_call, padded_buffers),
        valid("call with an empty last buffer (padding still precedes it)", {
            "kind": "call", "id": 3, "function": "m:f",
            "args": [{"$bytes": {"buffer": 0}}, {"$bytes": {"buffer": 1}}],
        }, [b"abc", b""]),
        valid("result", {"kind": "result", "id": 1, "value": {"mean": 2.5, "n": 4}}),
        valid("result with an array buffer", {
            "kind": "result", "id": 4,
            "value": {"$nd": {"buffer": 0, "dtype": "<i4", "shape": [3], "order": "C"}},
        }, [struct.pack("<3i", 1, -2, 3)]),
        valid("chunk", {"kind": "chunk", "id": 7, "seq": 0, "value": "first"}),
        valid("end", {"kind": "end", "id": 7, "count": 3}),
        valid("error of a call", {
            "kind": "error", "id": 5, "type": "ValueError", "message": "bad input",
            "traceback": "Traceback (most recent call last):\n  File \"tasks.py\", line 3, in f\nValueError: bad input\n",
        }),
        valid("fatal protocol error", {
            "kind": "error", "id": 0, "type": "ProtocolError", "message": "too_large: frame of 2147483648 bytes",
            "traceback": "", "fatal": True,
        }),
        valid("cancel", {"kind": "cancel", "id": 2}),
        valid("ping", {"kind": "ping", "id": 9}),
        valid("pong", {"kind": "pong", "id": 9, "rss": 31457280, "busy": True}),
        valid("pong without rss", {"kind": "pong", "id": -3, "busy": False}),
        valid("shutdown", {"kind": "shutdown"}),
        valid("unknown fields are ignored", {"kind": "ping", "id": 1, "trace": {"span": "a1"}}),
        valid("explicit empty buffers list", {"kind": "end", "id": 1, "count": 0, "buffers": []}),
        valid("frame exactly at the limit", ok_header, limit=len(ok)),
        {
            "name": "header with insignificant whitespace",
            "hex": frame(body(b' { "kind" : "ping" ,\n "id" : 5 } ')).hex(),
            "expect": {"header": {"kind": "ping", "id": 5}, "buffers": []},
        },
    ]

    def raw(header_bytes: bytes) -> bytes:
        return frame(body(header_bytes))

    def with_sizes(sizes: Any, payload: bytes) -> bytes:
        head = compact({"kind": "result", "id": 1, "value": None, "buffers": sizes})
        return frame(body(head) + payload)

    # The unpadded-buffer vector needs a header that does not end on a multiple of 8.
    assert (4 + len(compact({"kind": "result", "id": 1, "value": None, "buffers": [8]}))) % 8
    good_buffered = body(compact({"kind": "result", "id": 1, "value": None, "buffers": [8]}), [f64(1.0)])
    vectors += [
        invalid("too large for the limit", frame(ok), "too_large", limit=len(ok) - 1),
        invalid("length over the default 1 GiB limit, no body sent", struct.pack(">I", (1 << 30) + 1), "too_large"),
        invalid("length prefix cut short", b"\x00\x00\x00", "truncated"),
        invalid("body cut short", frame(ok)[:-3], "truncated"),
        invalid("buffer bytes missing at the end", frame(good_buffered)[:-4], "truncated"),
        invalid("header length past the end of the body", frame(struct.pack(">I", 100) + b'{"kind":"ping"}'), "bad_header_length"),
        invalid("body too short for a header length", frame(b"\x00\x00"), "bad_header_length"),
        invalid("empty body", frame(b""), "bad_header_length"),
        invalid("header is not JSON", raw(b"kind=ping"), "bad_header"),
        invalid("header is empty", raw(b""), "bad_header"),
        invalid("header is a JSON array", raw(b'["ping"]'), "bad_header"),
        invalid("header is a JSON string", raw(b'"ping"'), "bad_header"),
        invalid("header is not UTF-8", raw(b'{"kind":"ping","id":1,"x":"\xff\xfe"}'), "bad_header"),
        invalid("header has a NaN literal", raw(b'{"kind":"ping","id":NaN}'), "bad_header"),
        invalid("header has trailing bytes after the object", raw(b'{"kind":"ping","id":1}x'), "bad_header"),
        invalid("header without kind", raw(b'{"id":1}'), "missing_kind"),
        invalid("kind is not a string", raw(b'{"kind":5,"id":1}'), "missing_kind"),
        invalid("unknown kind", raw(b'{"kind":"bogus","id":1}'), "unknown_kind"),
        invalid("kinds are case-sensitive", raw(b'{"kind":"Ping","id":1}'), "unknown_kind"),
        invalid("trailing bytes without buffers", frame(ok + b"\x00" * 4), "bad_buffers"),
        invalid("buffers larger than the body", with_sizes([16], f64(1.0)), "bad_buffers"),
        invalid("body longer than header and buffers", frame(good_buffered + f64(2.0)), "bad_buffers"),
        invalid("buffer not padded to a multiple of 8", with_sizes([8], f64(1.0)), "bad_buffers"),
        invalid("buffers is not a list", raw(compact({"kind": "result", "id": 1, "value": None, "buffers": 8})), "bad_buffers"),
        invalid("negative buffer size", raw(compact({"kind": "result", "id": 1, "value": None, "buffers": [-4]})), "bad_buffers"),
        invalid("fractional buffer size", raw(compact({"kind": "result", "id": 1, "value": None, "buffers": [1.5]})), "bad_buffers"),
        # Limits (section 2). Duplicate keys are malformed wherever they are, so that no two
        # parsers can read one header two ways.
        invalid("duplicate key at the top level (a call that also says shutdown)",
                raw(b'{"kind":"call","id":1,"function":"tasks:f","args":[],"kind":"shutdown"}'), "bad_header"),
        invalid("duplicate key in a nested object",
                raw(b'{"kind":"call","id":1,"function":"tasks:f","args":[{"a":1,"b":2,"a":3}]}'), "bad_header"),
        invalid("duplicate key spelled with an escape",
                raw(b'{"kind":"ping","id":1,"k\\u0069nd":"shutdown"}'), "bad_header"),
        # A value limit broken where the kind and id cannot be recovered is a frame error.
        invalid("value limit broken in a message without an id",
                raw(b'{"kind":"shutdown","x":1e400}'), "bad_header"),
        invalid("value limit broken in a ping (only a call, result or chunk may carry a bad value)",
                raw(b'{"kind":"ping","id":3,"x":1e400}'), "bad_header"),
        invalid("value limit broken in a header without a kind",
                raw(b'{"id":1,"x":' + b"1" * (MAX_NUMBER_DIGITS + 1) + b"}"), "bad_header"),
    ]
    return vectors


# ----------------------------------------------------------------------------- values

_STRUCT = {"f8": "d", "f4": "f", "i8": "q", "i4": "i", "i2": "h", "i1": "b",
           "u8": "Q", "u4": "I", "u2": "H", "u1": "B", "b1": "?"}


def fmt_float(x: float) -> str:
    return "nan" if x != x else ("inf" if x == float("inf") else ("-inf" if x == float("-inf") else repr(x)))


def element(kind: str, x: Any) -> str:
    if kind == "b1":
        return "1" if x else "0"
    return fmt_float(float(x)) if kind[0] == "f" else str(int(x))


def nd(name: str, dtype: str, shape: list[int], data: list, order: str | None = "C") -> dict:
    """An ``$nd`` vector; ``data`` is in buffer order."""
    endian = ">" if dtype[0] == ">" else "<"
    kind = dtype[1:]
    buf = struct.pack(f"{endian}{len(data)}{_STRUCT[kind]}", *data)
    spec: dict[str, Any] = {"buffer": 0, "dtype": dtype, "shape": shape}
    if order is not None:
        spec["order"] = order
    expect = {"dtype": dtype, "shape": shape, "order": order or "C", "data": [element(kind, x) for x in data]}
    return {"name": name, "header_value": {"$nd": spec}, "buffers": [buf.hex()], "expect": {"ndarray": expect}}


def value(name: str, header_value: Any, expect: Any, buffers: list[bytes] = ()) -> dict:
    return {"name": name, "header_value": header_value, "buffers": [b.hex() for b in buffers], "expect": expect}


def value_json(name: str, text: str, expect: Any, buffers: list[bytes] = ()) -> dict:
    """A value given as JSON text (``header_value_json``): for the limit vectors, whose values
    a JSON parser at its default settings could not load as part of this file."""
    return {"name": name, "header_value_json": text, "buffers": [b.hex() for b in buffers], "expect": expect}


def lists(depth: int, inner: str = "") -> str:
    """JSON text of ``depth`` lists, each the only element of the one around it."""
    return "[" * depth + inner + "]" * depth


def bad(name: str, header_value: Any, buffers: list[bytes] = ()) -> dict:
    return value(name, header_value, {"error": "bad_value"}, buffers)


def i(n: int) -> dict:
    return {"int": str(n)}


def fl(x: float) -> dict:
    return {"float": fmt_float(x)}


def s(text: str) -> dict:
    return {"str": text}


def value_vectors() -> list[dict]:
    f8 = {"$nd": {"buffer": 0, "dtype": "<f8", "shape": [2, 3], "order": "C"}}
    return [
        value("integer", 42, i(42)),
        value("negative integer", -7, i(-7)),
        value("big integer 2**70", 2**70, i(2**70)),
        value("big negative integer -(2**70)", -(2**70), i(-(2**70))),
        value("float", 1.5, fl(1.5)),
        value("float with integral value", 2.0, fl(2.0)),
        value("small float", 1e-300, fl(1e-300)),
        value("negative zero", -0.0, fl(-0.0)),
        value("$float nan", {"$float": "nan"}, fl(float("nan"))),
        value("$float inf", {"$float": "inf"}, fl(float("inf"))),
        value("$float -inf", {"$float": "-inf"}, fl(float("-inf"))),
        value("true", True, {"bool": True}),
        value("false", False, {"bool": False}),
        value("null", None, {"null": True}),
        value("empty string", "", s("")),
        value("ascii string", "hello", s("hello")),
        value("unicode string (BMP)", "héllo wörld ✓ Ωμέγα 日本", s("héllo wörld ✓ Ωμέγα 日本")),
        value("unicode string (non-BMP)", "clef 𝄞 smile 😀", s("clef 𝄞 smile 😀")),
        value("string starting with $", "$nd", s("$nd")),
        value("empty list", [], {"list": []}),
        value("empty map", {}, {"map": []}),
        value("nested lists and maps", {"a": [1, [2.5, "x"], {"b": None}], "c": {"d": [True]}}, {"map": [
            ["a", {"list": [i(1), {"list": [fl(2.5), s("x")]}, {"map": [["b", {"null": True}]]}]}],
            ["c", {"map": [["d", {"list": [{"bool": True}]}]]}],
        ]}),
        value("$map escapes a single $-key", {"$map": {"$nd": 1}}, {"map": [["$nd", i(1)]]}),
        value("$map with tagged values inside", {"$map": {"$x": {"$float": "inf"}}}, {"map": [["$x", fl(float("inf"))]]}),
        value("two keys, one starting with $, is an ordinary map", {"$a": 1, "b": 2}, {"map": [["$a", i(1)], ["b", i(2)]]}),
        value("tagged values inside a list", [{"$float": "nan"}, {"$bytes": {"buffer": 0}}],
              {"list": [fl(float("nan")), {"bytes": "cafe"}]}, [b"\xca\xfe"]),
        value("$bytes", {"$bytes": {"buffer": 0}}, {"bytes": "00ff10"}, [b"\x00\xff\x10"]),
        value("$bytes empty", {"$bytes": {"buffer": 0}}, {"bytes": ""}, [b""]),
        value("$bytes refers to the second buffer", {"$bytes": {"buffer": 1}}, {"bytes": "02"}, [b"\x01", b"\x02"]),
        nd("$nd float64 2x3 C order", "<f8", [2, 3], [1.0, 2.0, 3.0, 4.5, -5.0, 6.25]),
        nd("$nd int32 2x3 F order", "<i4", [2, 3], [1, 4, 2, 5, 3, 6], order="F"),
        nd("$nd big-endian float64", ">f8", [3], [1.0, -2.5, 1e100]),
        nd("$nd big-endian int32", ">i4", [2], [1, -2]),
        nd("$nd 0-d array", "<f8", [], [3.25]),
        nd("$nd empty array", "<f8", [0], []),
        nd("$nd empty 2-d array", "<i4", [0, 3], []),
        nd("$nd uint8", "|u1", [4], [0, 1, 128, 255]),
        nd("$nd bool", "|b1", [2, 2], [True, False, False, True]),
        nd("$nd int8", "|i1", [3], [-128, 0, 127]),
        nd("$nd int16", "<i2", [2], [-32768, 32767]),
        nd("$nd int64", "<i8", [2], [-(2**63), 2**63 - 1]),
        nd("$nd uint16", "<u2", [1], [65535]),
        nd("$nd uint32", "<u4", [1], [4294967295]),
        nd("$nd uint64", "<u8", [2], [0, 2**64 - 1]),
        nd("$nd float32", "<f4", [2, 2], [0.5, -1.25, 3.0, 1024.0], order="F"),
        nd("$nd float64 non-finite elements", "<f8", [3], [float("nan"), float("inf"), float("-inf")]),
        nd("$nd order omitted means C", "<i2", [2, 2], [1, 2, 3, 4], order=None),
        {**value("$nd inside a map", {"a": f8}, {"map": [["a", {"ndarray": {
            "dtype": "<f8", "shape": [2, 3], "order": "C",
            "data": ["1.0", "2.0", "3.0", "4.0", "5.0", "6.0"]}}]]},
            [f64(1, 2, 3, 4, 5, 6)])},
        bad("$nd refers to a missing buffer", {"$nd": {"buffer": 1, "dtype": "<f8", "shape": [1], "order": "C"}}, [f64(1.0)]),
        bad("$nd with no buffers at all", {"$nd": {"buffer": 0, "dtype": "<f8", "shape": [1]}}),
        bad("$nd buffer size does not match the shape", f8, [f64(1, 2, 3, 4, 5)]),
        bad("$nd buffer one byte too long", {"$nd": {"buffer": 0, "dtype": "|u1", "shape": [2]}}, [b"\x01\x02\x03"]),
        bad("$nd unknown dtype", {"$nd": {"buffer": 0, "dtype": "<c16", "shape": [1], "order": "C"}}, [bytes(16)]),
        bad("$nd float16 is not a protocol dtype", {"$nd": {"buffer": 0, "dtype": "<f2", "shape": [1]}}, [bytes(2)]),
        bad("$nd unknown order", {"$nd": {"buffer": 0, "dtype": "|u1", "shape": [1], "order": "K"}}, [b"\x01"]),
        bad("$nd negative dimension", {"$nd": {"buffer": 0, "dtype": "|u1", "shape": [-1]}}, [b""]),
        bad("$nd shape is not a list", {"$nd": {"buffer": 0, "dtype": "|u1", "shape": 1}}, [b"\x01"]),
        bad("$nd buffer index is not an integer", {"$nd": {"buffer": "0", "dtype": "|u1", "shape": [1]}}, [b"\x01"]),
        bad("$bytes refers to a missing buffer", {"$bytes": {"buffer": 0}}),
        bad("unknown $tag", {"$foo": 1}),
        bad("bare $ key", {"$": 1}),
        bad("$float with an unknown name", {"$float": "NaN"}),
        bad("$float holding a number", {"$float": 1.5}),
        bad("$map holding a non-object", {"$map": [1]}),
        bad("bad value nested in a list", [1, {"$foo": 2}]),
        # Limits (section 2). The value sits at level 2 of its header, as a result's value does.
        value_json("integer of 4300 digits", "9" * MAX_NUMBER_DIGITS, i(int("9" * MAX_NUMBER_DIGITS))),
        value_json("negative integer of 4300 digits (the sign is no digit)", "-" + "1" * MAX_NUMBER_DIGITS,
                   i(-int("1" * MAX_NUMBER_DIGITS))),
        value_json("integer of 4301 digits", "1" + "0" * MAX_NUMBER_DIGITS, {"error": "bad_value"}),
        value("largest float literal", 1.7976931348623157e308, fl(1.7976931348623157e308)),
        value_json("float literal 1e400 (out of binary64 range, not infinity)", "1e400", {"error": "bad_value"}),
        value_json("negative float literal out of range inside a list", "[1.5,-2e308]", {"error": "bad_value"}),
        bad("$nd bool with a byte 2", {"$nd": {"buffer": 0, "dtype": "|b1", "shape": [3]}}, [b"\x00\x02\x01"]),
        value_json("lists nested to level 512 of the header", lists(MAX_DEPTH - 1), {"nested_lists": MAX_DEPTH - 1}),
        value_json("lists nested to level 513 of the header", lists(MAX_DEPTH), {"error": "bad_value"}),
        value_json("$nd whose shape list is at level 513 (a tagged value counts its objects)",
                   lists(MAX_DEPTH - 3, '{"$nd":{"buffer":0,"dtype":"|u1","shape":[1]}}'),
                   {"error": "bad_value"}, [b"\x01"]),
    ]


DESCRIPTION = [
    "Conformance vectors of the OPEN worker protocol (docs/protocol.md section 7), generated by "
    "python-worker/tools/make_vectors.py.",
    "frames: {name, hex, limit?, expect}; expect is {header, buffers} or {error: CODE}.",
    "values: {name, header_value or header_value_json, buffers, expect}. A value sits at level 2 "
    "of its header, as the value of a result does: {\"kind\":\"result\",\"id\":1,\"value\":V} "
    "(the header object is level 1); the depth limit of 512 levels counts from there.",
    "header_value_json is the value as JSON text, used where a JSON parser at its default settings "
    "could not load the value as part of this file (numbers of thousands of digits, 1e400, deep "
    "nesting): place the text in a header as above and parse that header as a frame's header is "
    "parsed, with the protocol's limits.",
    "segments: {name, files, header_value, expect}: files (name -> hex bytes) are written to a "
    "fresh directory and header_value is decoded as a call argument with it as --shm-dir "
    "(docs/protocol.md section 8).",
    "expect is a neutral meaning, {error: bad_value}, or {nested_lists: N}: N lists, each the only "
    "element of the one around it, the innermost empty.",
]


def vectors() -> dict:
    return {
        "description": DESCRIPTION,
        "frames": frame_vectors(),
        "values": value_vectors(),
        "segments": segment_vectors(),
    }


def segment_vectors() -> list[dict]:
    """Arrays in shared-memory segments (protocol section 8): ``files`` are written to a fresh
    directory, and ``header_value`` is decoded as a call argument with it as ``--shm-dir``."""

    def f64(*xs: float) -> str:
        return struct.pack("<" + "d" * len(xs), *xs).hex()

    def seg(name, files, segment, dtype, shape, expect, **extra):
        nd = {**extra, "segment": segment, "dtype": dtype, "shape": shape}
        return {"name": name, "files": files, "header_value": {"$nd": nd}, "expect": expect}

    def nd(dtype, shape, order, data):
        return {"ndarray": {"dtype": dtype, "shape": shape, "order": order, "data": data}}

    bad = {"error": "bad_value"}
    return [
        seg("segment_whole_file", {"h1": f64(1.5, -2.0, 3.25)}, {"name": "h1", "offset": 0},
            "<f8", [3], nd("<f8", [3], "C", ["1.5", "-2.0", "3.25"]), order="C"),
        seg("segment_at_offset", {"h2": f64(9, 1, 2, 3, 4)}, {"name": "h2", "offset": 8}, "<f8",
            [2, 2], nd("<f8", [2, 2], "F", ["1.0", "2.0", "3.0", "4.0"]), order="F"),
        seg("segment_offset_omitted", {"h3": "0102"}, {"name": "h3"}, "|u1", [2],
            nd("|u1", [2], "C", ["1", "2"])),
        seg("segment_and_buffer", {"h4": f64(1)}, {"name": "h4", "offset": 0}, "<f8", [1], bad,
            buffer=0),
        seg("segment_name_with_slash", {}, {"name": "../h5", "offset": 0}, "<f8", [1], bad),
        seg("segment_name_leading_dot", {".h6": f64(1)}, {"name": ".h6", "offset": 0}, "<f8",
            [1], bad),
        seg("segment_offset_unaligned", {"h7": f64(1, 2)}, {"name": "h7", "offset": 4}, "<f8",
            [1], bad),
        seg("segment_file_too_short", {"h8": f64(1)}, {"name": "h8", "offset": 0}, "<f8", [2],
            bad),
        seg("segment_missing", {}, {"name": "h9", "offset": 0}, "<f8", [1], bad),
        seg("segment_negative_offset", {"h10": f64(1)}, {"name": "h10", "offset": -8}, "<f8",
            [1], bad),
        seg("segment_bool_not_0_or_1", {"h11": "0102"}, {"name": "h11", "offset": 0}, "|b1",
            [2], bad),
    ]


def render() -> str:
    return json.dumps(vectors(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="only check that the file is up to date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        if current != text:
            print(f"{args.output} is out of date; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
