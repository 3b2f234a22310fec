"""End-to-end: the worker as a real subprocess, spoken to in frames.

No test asserts on timing: long calls are cancelled once the worker reports itself busy, and
every wait has a generous timeout so a loaded machine slows the suite down but does not fail it.
"""

from __future__ import annotations

import math
import signal
import struct
import time

import pytest

from client import TIMEOUT, RemoteError
from conftest import needs_numpy
from conftest import numpy as np
from neutral import canon, meaning
from open_worker.frames import FrameError, frame_bytes
from open_worker.runtime import TICK
from open_worker.values import NDArray


def expect_error(worker, call_id, type_=None):
    frame = worker.recv()
    header = frame.header
    assert header["kind"] == "error" and header["id"] == call_id, header
    if type_ is not None:
        assert header["type"] == type_, header
    return header


def expect_fatal(worker, code):
    header = worker.recv().header
    assert header["kind"] == "error" and header["id"] == 0 and header["fatal"] is True, header
    assert header["type"] == "ProtocolError" and code in header["message"], header
    assert worker.wait() == 3


# ----------------------------------------------------------------------------- basics


def test_hello(worker):
    hello = worker.hello
    assert hello["kind"] == "hello" and hello["protocol"] == 1 and hello["language"] == "python"
    assert hello["pid"] == worker.proc.pid and hello["worker"].startswith("open-python-worker/")
    assert {"stream", "cancel"} <= set(hello["capabilities"])
    assert ("numpy" in hello["capabilities"]) == (np is not None)
    assert hello["version"].count(".") == 2


def test_call_args_and_kwargs(worker):
    assert worker.run("open_test_tasks:add", 2, 3) == 5
    assert worker.run("open_test_tasks:add", a="x", b="y") == "xy"
    assert worker.run("open_test_tasks:add", [1], b=[2]) == [1, 2]
    assert worker.run("open_test_tasks:pid") == worker.proc.pid
    assert [worker.run("open_test_tasks:calls_so_far") for _ in range(3)] == [1, 2, 3]


def test_pipelined_calls_answer_in_order(worker):
    ids = [worker.call("open_test_tasks:echo", i) for i in range(50)]
    for i, call_id in enumerate(ids):
        frame = worker.recv()
        assert frame.header["id"] == call_id and worker.value(frame) == i


def test_json_values_round_trip(worker):
    value = {
        "none": None, "bools": [True, False], "ints": [0, -1, 2**70, -(2**64)], "floats": [1.5, -0.0, 1e308],
        "nonfinite": [math.nan, math.inf, -math.inf], "str": "héllo 𝄞 😀", "empty": "",
        "bytes": b"\x00\xff", "nobytes": b"", "tuple": (1, (2, "3")), "nested": {"a": [{"b": {}}]},
        "$escaped": {"$nd": "not an array"}, "single": {"$only": 1}, "list": [{"$float": "x"}],
    }
    out = worker.run("open_test_tasks:echo", value)
    assert canon(meaning(out)) == canon(meaning(value))
    assert out["tuple"] == [1, [2, "3"]] and out["$escaped"] == {"$nd": "not an array"}


@needs_numpy
def test_every_value_kind_round_trips(worker):
    value = {
        "none": None, "bools": [True, False], "ints": [0, -1, 2**70, -(2**64)], "floats": [1.5, -0.0, 1e308],
        "nonfinite": [math.nan, math.inf, -math.inf], "str": "héllo 𝄞 😀", "empty": "",
        "bytes": b"\x00\xff", "nobytes": b"", "tuple": (1, (2, "3")), "nested": {"a": [{"b": {}}]},
        "$escaped": {"$nd": "not an array"},
        "arrays": [
            np.arange(6, dtype="<f8").reshape(2, 3),
            np.asfortranarray(np.arange(6, dtype="<i4").reshape(2, 3)),
            np.array([1.0, 2.0], dtype=">f8"), np.array(7.5), np.zeros(0), np.zeros((0, 3), "<i2"),
            np.array([0, 255], dtype="|u1"), np.array([[True, False]]), np.array([-128], dtype="|i1"),
            np.array([2**63 - 1], dtype="<i8"), np.array([65535], "<u2"), np.array([1], "<u4"),
            np.array([2**64 - 1], "<u8"), np.array([0.5], "<f4"),
        ],
    }
    out = worker.run("open_test_tasks:echo", value)
    assert canon(meaning(out)) == canon(meaning(value))
    assert out["arrays"][1].flags.f_contiguous and out["arrays"][2].dtype.str == ">f8"


@needs_numpy
def test_large_array_is_bit_exact(worker):
    rng = np.random.default_rng(20240901)
    a = rng.integers(0, 2**64, size=8_000_000, dtype=np.uint64).view("<f8")  # incl. NaN payloads
    out = worker.run("open_test_tasks:identity", a)
    assert out.dtype == a.dtype and out.shape == a.shape
    assert np.array_equal(out.view(np.uint64), a.view(np.uint64))
    doubled = worker.run("open_test_tasks:array_double", np.arange(1000.0))
    assert np.array_equal(doubled, np.arange(1000.0) * 2)
    assert worker.run("open_test_tasks:array_sum", np.arange(10, dtype="<i4")) == 45


@needs_numpy
def test_large_argument_memory_is_reused_only_once_released(worker):
    big = np.full(1 << 20, 1.0)  # 8 MiB: above the recycling threshold
    first = worker.run("open_test_tasks:array_address", big)
    assert worker.run("open_test_tasks:array_address", big * 2) == first  # released, reused
    assert worker.run("open_test_tasks:keep", big * 3) == 1  # now held by the task module
    worker.run("open_test_tasks:identity", big * 5)
    worker.run("open_test_tasks:array_address", big * 7)
    assert worker.run("open_test_tasks:kept_checksum") == [3.0 * (1 << 20)]


@needs_numpy
def test_received_arrays_are_aligned_writable_and_keep_order(worker):
    info = worker.run("open_test_tasks:array_info", np.asfortranarray(np.ones((3, 2), "<i2")))
    assert info == {"dtype": "<i2", "shape": [3, 2], "c_contiguous": False, "f_contiguous": True,
                    "aligned_8": True, "writeable": True, "owns_data": False}


@needs_numpy
def test_numpy_scalars_arrive_as_json_numbers(worker):
    out = worker.run("pyworker_tasks:numpy_scalars")
    assert out[:5] == [1.5, 0.25, -7, 2**64 - 1, True] and math.isnan(out[5]) and out[6] == 3
    assert type(out[4]) is bool and type(out[6]) is int


def test_streaming(worker):
    call_id = worker.call("open_test_tasks:count", 5)
    chunks, end = worker.collect(call_id)
    assert chunks == [0, 1, 2, 3, 4] and end == {"kind": "end", "id": call_id, "count": 5}
    chunks, end = worker.collect(worker.call("open_test_tasks:count", 0))
    assert chunks == [] and end["count"] == 0
    chunks, end = worker.collect(worker.call("pyworker_tasks:map_iterator", 3))
    assert chunks == ["0", "1", "2"] and end["kind"] == "end"
    assert worker.run("pyworker_tasks:iterators") == {"range": [0, 1, 2], "tuple": [1, 2]}


def test_exception_in_the_middle_of_a_stream(worker):
    call_id = worker.call("pyworker_tasks:stream_then_fail", 3)
    chunks, error = worker.collect(call_id)
    assert chunks == [0, 1, 2]
    assert error["kind"] == "error" and error["type"] == "ValueError" and "after 3" in error["message"]
    assert "stream_then_fail" in error["traceback"]


def test_remote_exceptions(worker):
    with pytest.raises(RemoteError) as info:
        worker.run("open_test_tasks:fail", "ValueError", "boom")
    header = info.value.header
    assert header["type"] == "ValueError" and header["message"] == "boom"
    assert "open_test_tasks.py" in header["traceback"] and header["traceback"].rstrip().endswith("ValueError: boom")
    assert "open_worker" not in header["traceback"]
    with pytest.raises(RemoteError) as info:
        worker.run("pyworker_tasks:raise_custom", "mine")
    assert info.value.header["type"] == "pyworker_tasks.CustomError"
    with pytest.raises(RemoteError) as info:
        worker.run("open_test_tasks:fail", "KeyError", "k")
    assert info.value.header["type"] == "KeyError"
    assert worker.run("open_test_tasks:echo", "still alive") == "still alive"


@needs_numpy
def test_qualified_type_of_a_library_exception(worker):
    with pytest.raises(RemoteError) as info:
        worker.run("pyworker_tasks:singular_inverse")
    assert info.value.header["type"] == "numpy.linalg.LinAlgError"


def test_call_errors_do_not_stop_the_worker(worker):
    for function, type_ in [("open_test_tasks:missing", "AttributeError"), ("no_colon", "ProtocolError"),
                            ("nonexistent_module:f", "NotAllowed"), ("pyworker_tasks:unsendable", "TypeError"),
                            ("pyworker_tasks:returns_range", "TypeError")]:
        with pytest.raises(RemoteError) as info:
            worker.run(function, *([3] if function.endswith("range") else []))
        assert info.value.header["type"] == type_, info.value.header
    # A bad value inside a well-formed call is an error of that call only.
    worker.send({"kind": "call", "id": 900, "function": "open_test_tasks:echo",
                 "args": [{"$nd": {"buffer": 0, "dtype": "<f8", "shape": [2]}}]}, [bytes(8)])
    assert "bad value" in expect_error(worker, 900, "ProtocolError")["message"]
    worker.send({"kind": "call", "id": 901, "function": "open_test_tasks:echo", "args": "nope"})
    expect_error(worker, 901, "ProtocolError")
    assert worker.run("open_test_tasks:echo", 1) == 1


def test_not_allowed_module_is_never_imported(start_worker, tmp_path):
    marker = tmp_path / "imported.txt"
    env = {"SIDE_EFFECT_MARKER": str(marker)}
    worker = start_worker(allow=["open_test_tasks"], env=env)
    with pytest.raises(RemoteError) as info:
        worker.run("side_effect_task:touch")
    assert info.value.header["type"] == "NotAllowed"
    with pytest.raises(RemoteError) as info:
        worker.run("open_test_tasks:os.system", "true")
    assert info.value.header["type"] == "NotAllowed"
    assert not marker.exists()
    # The same module, allowed, does have the side effect: the check above is meaningful.
    allowed = start_worker(allow=["side_effect_task"], env=env)
    assert allowed.run("side_effect_task:touch") == "called" and marker.exists()


@needs_numpy
def test_package_wildcard(start_worker):
    worker = start_worker(allow=["open_examples.*"])
    stats = worker.run("open_examples.numeric:stats", np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert stats["count"] == 4
    with pytest.raises(RemoteError) as info:
        worker.run("open_test_tasks:echo", 1)
    assert info.value.header["type"] == "NotAllowed"


def test_print_goes_to_stderr_not_the_frame_stream(worker):
    assert worker.run("open_test_tasks:noisy", "hi") == "hi"
    assert worker.run("open_test_tasks:echo", 2) == 2  # the frame stream is intact
    err = worker.stderr()
    assert "noisy stdout: 'hi'" in err and "noisy fd1" in err and "noisy stderr: 'hi'" in err


def test_task_stdin_is_empty(worker):
    assert worker.run("pyworker_tasks:read_stdin") == ""
    assert worker.run("open_test_tasks:echo", 3) == 3


def test_frame_fd_is_exported_and_private(worker):
    assert worker.run("pyworker_tasks:frame_fd") not in (0, 1, 2)


# ----------------------------------------------------------------------------- ping and cancel


def test_ping_when_idle_and_during_a_long_call(worker):
    worker.send({"kind": "ping", "id": 42})
    pong = worker.recv().header
    assert pong["kind"] == "pong" and pong["id"] == 42 and pong["busy"] is False and pong["rss"] > 0
    call_id = worker.call("open_test_tasks:sleep", 600)
    worker.wait_busy()  # pongs arrive while the call runs
    worker.send({"kind": "cancel", "id": call_id})
    expect_error(worker, call_id, "Cancelled")


def test_cancel_queued_and_running_calls(worker):
    running = worker.call("open_test_tasks:sleep", 600)
    queued = worker.call("open_test_tasks:echo", "never")
    worker.wait_busy()
    worker.send({"kind": "cancel", "id": queued})
    expect_error(worker, queued, "Cancelled")
    worker.send({"kind": "cancel", "id": running})
    expect_error(worker, running, "Cancelled")
    assert worker.run("open_test_tasks:echo", "after") == "after"


def test_cancel_pure_python_loop(worker):
    call_id = worker.call("pyworker_tasks:busy_loop", 600)
    worker.wait_busy()
    worker.send({"kind": "cancel", "id": call_id})
    expect_error(worker, call_id, "Cancelled")
    assert worker.run("open_test_tasks:echo", 1) == 1


def test_cancel_stream_between_chunks(worker):
    call_id = worker.call("open_test_tasks:slow_count", 100000, 0.01)
    first = worker.recv()
    assert first.header["kind"] == "chunk" and first.header["seq"] == 0
    worker.send({"kind": "cancel", "id": call_id})
    seq = 0
    while True:
        header = worker.recv().header
        assert header["id"] == call_id
        if header["kind"] != "chunk":
            break
        seq += 1
        assert header["seq"] == seq
    assert header["kind"] == "error" and header["type"] == "Cancelled"
    assert worker.run("open_test_tasks:echo", 1) == 1


def test_cancel_of_finished_or_unknown_call_is_ignored(worker):
    call_id = worker.call("open_test_tasks:echo", 1)
    assert worker.recv().header["kind"] == "result"
    worker.send({"kind": "cancel", "id": call_id})
    worker.send({"kind": "cancel", "id": 123456})
    worker.send({"kind": "ping", "id": 1})
    assert worker.recv().header["kind"] == "pong"


def call_frame(call_id, function, *args):
    return frame_bytes({"kind": "call", "id": call_id, "function": function, "args": list(args)})


def test_frames_read_ahead_behind_a_long_call_are_handled(worker):
    # One write: the main thread reads all three frames into its buffer, starts the first call,
    # and the reader must find the other two there (poll on stdin cannot see them).
    worker.send_raw(call_frame(801, "open_test_tasks:sleep", 600)
                    + call_frame(802, "open_test_tasks:echo", "never")
                    + frame_bytes({"kind": "ping", "id": 5}))
    pong = worker.recv().header
    assert pong["kind"] == "pong" and pong["id"] == 5 and pong["busy"] is True
    worker.send({"kind": "cancel", "id": 802})
    expect_error(worker, 802, "Cancelled")
    worker.send({"kind": "cancel", "id": 801})
    expect_error(worker, 801, "Cancelled")
    assert worker.run("open_test_tasks:echo", "after") == "after"


def test_cancel_sent_with_the_call_interrupts_it(worker):
    worker.send_raw(call_frame(803, "open_test_tasks:sleep", 600) + frame_bytes({"kind": "cancel", "id": 803}))
    expect_error(worker, 803, "Cancelled")
    assert worker.run("open_test_tasks:echo", 1) == 1


def test_a_long_call_after_an_idle_spell_is_watched(worker):
    time.sleep(20 * TICK)  # the reader stops looking (parks) when no call starts for a tick
    call_id = worker.call("open_test_tasks:sleep", 600)
    worker.wait_busy()  # the main thread woke the reader, which took over reading
    worker.send({"kind": "cancel", "id": call_id})
    expect_error(worker, call_id, "Cancelled")


def test_calls_around_the_reader_tick_keep_their_order(worker):
    # Calls shorter and longer than the reader's tick, pipelined with pings, move the reading
    # baton back and forth; answers to calls keep the calls' order, and every ping is answered.
    delays = [0, 3 * TICK, 0, 0, 0.5 * TICK, 2 * TICK, 0, 6 * TICK, 0, 0]
    ids = []
    for i, delay in enumerate(delays):
        ids.append(worker.call("open_test_tasks:sleep", delay) if delay else worker.call("open_test_tasks:echo", i))
        worker.send({"kind": "ping", "id": i})
    results, pongs = [], set()
    while len(results) < len(ids) or len(pongs) < len(delays):
        header = worker.recv().header
        if header["kind"] == "pong":
            pongs.add(header["id"])
        else:
            assert header["kind"] == "result", header
            results.append(header["id"])
    assert results == ids and pongs == set(range(len(delays)))
    for i in range(20):  # one at a time again, pings in between
        assert worker.run("open_test_tasks:echo", i) == i
        worker.send({"kind": "ping", "id": 100 + i})
        pong = worker.recv().header
        assert pong["kind"] == "pong" and pong["id"] == 100 + i


# ----------------------------------------------------------------------------- ending


def test_stdin_eof_exits_0(worker):
    worker.proc.stdin.close()
    assert worker.wait() == 0
    assert worker.recv_eof() is None


def test_stdin_eof_right_after_a_call_starts_exits_0(worker):
    worker.send_raw(call_frame(804, "open_test_tasks:sleep", 600))
    worker.proc.stdin.close()  # read by the reader once the call is a tick old
    assert worker.wait() == 0


def test_stdin_eof_during_a_call_exits_0(worker):
    worker.call("open_test_tasks:sleep", 600)
    worker.wait_busy()
    worker.proc.stdin.close()
    assert worker.wait() == 0


def test_shutdown_exits_0(worker):
    worker.send({"kind": "shutdown"})
    assert worker.wait() == 0


def test_oversized_frame_is_fatal(worker):
    worker.send_raw(struct.pack(">I", 1 << 31))
    expect_fatal(worker, "too_large")


def test_max_frame_option(start_worker):
    worker = start_worker(extra_args=["--max-frame", "4096"])
    with pytest.raises(RemoteError) as info:  # a result over the limit is an error of the call
        worker.run("pyworker_tasks:big_bytes", 8000)
    assert info.value.header["type"] == "ValueError" and "too large" in info.value.header["message"]
    worker.send_raw(frame_bytes({"kind": "call", "id": 5, "function": "open_test_tasks:echo",
                                 "args": [{"$bytes": {"buffer": 0}}]}, [bytes(5000)]))
    expect_fatal(worker, "too_large")


def _with_trailing_bytes(header: bytes, extra: bytes) -> bytes:
    body = struct.pack(">I", len(header)) + header + extra
    return struct.pack(">I", len(body)) + body


@pytest.mark.parametrize("data, code", [
    (b"this is not a frame", "too_large"),
    (struct.pack(">I", 8) + struct.pack(">I", 99) + b"abcd", "bad_header_length"),
    (struct.pack(">II", 8, 4) + b"nope", "bad_header"),
    (frame_bytes({"kind": "bogus"}), "unknown_kind"),
    (frame_bytes({"id": 1}), "missing_kind"),
    (_with_trailing_bytes(b'{"kind":"ping","id":1}', b"\0\0\0"), "bad_buffers"),
    (frame_bytes({"kind": "result", "id": 1, "value": 1}), "result"),
    (frame_bytes({"kind": "call", "id": 0, "function": "open_test_tasks:echo", "args": []}), "positive integer"),
    (frame_bytes({"kind": "cancel"}), "positive integer"),
], ids=["garbage", "header-length", "header", "kind", "no-kind", "buffers", "wrong-direction", "id-0", "no-id"])
def test_malformed_frames_are_fatal(worker, data, code):
    worker.send_raw(data)
    expect_fatal(worker, code)


def test_truncated_frame_at_eof_is_fatal(worker):
    worker.send_raw(frame_bytes({"kind": "ping", "id": 1})[:-3])
    worker.proc.stdin.close()
    expect_fatal(worker, "truncated")


def test_fatal_error_while_a_call_runs(worker):
    worker.call("open_test_tasks:sleep", 600)
    worker.wait_busy()
    worker.send_raw(b"garbage!")
    expect_fatal(worker, "too_large")


# ----------------------------------------------------------------------------- test tasks for the host


@pytest.mark.parametrize("kind, code", [("garbage", "bad_header_length"), ("oversized", "too_large")])
def test_emit_writes_a_bad_frame(worker, kind, code):
    worker.call("open_test_tasks:emit", kind)
    item = worker.recv_eof()
    assert isinstance(item, FrameError) and item.code == code


def test_emit_truncated(worker):
    worker.call("open_test_tasks:emit", "truncated")
    deadline = time.monotonic() + TIMEOUT
    while "wrote a truncated frame" not in worker.stderr():
        assert time.monotonic() < deadline, worker.stderr()
        time.sleep(0.05)
    worker.proc.kill()
    item = worker.recv_eof()
    assert isinstance(item, FrameError) and item.code == "truncated"


def test_crash_and_kill_self(start_worker):
    worker = start_worker()
    worker.call("open_test_tasks:crash", 7)
    assert worker.wait() == 7 and worker.recv_eof() is None
    worker = start_worker()
    worker.call("open_test_tasks:kill_self", signal.SIGKILL)
    assert worker.wait() == -signal.SIGKILL


def test_memory_hog_shows_in_rss(worker):
    assert worker.run("open_test_tasks:memory_hog", 64) == 64
    assert worker.run("open_test_tasks:memory_hog", 16) == 80
    worker.send({"kind": "ping", "id": 7})
    assert worker.recv().header["rss"] > 80 << 20


# ----------------------------------------------------------------------------- without NumPy


def test_worker_without_numpy(start_worker):
    worker = start_worker(hide_numpy=True)
    assert "numpy" not in worker.hello["capabilities"]
    assert {"stream", "cancel"} <= set(worker.hello["capabilities"])
    arrays = [  # client-side stand-ins, so this test also runs where NumPy is missing
        NDArray("<i4", (2, 3), "F", memoryview(struct.pack("<6i", 1, 4, 2, 5, 3, 6))),
        NDArray(">f8", (1,), "C", memoryview(struct.pack(">d", 1.5))),
        NDArray("<f8", (), "C", memoryview(struct.pack("<d", 2.0))),
    ]
    value = {"a": arrays, "b": b"\x01", "f": math.inf, "big": 2**70}
    out = worker.run("open_test_tasks:echo", value)  # $nd passes through the stand-in unchanged
    assert canon(meaning(out)) == canon(meaning(value))
    chunks, end = worker.collect(worker.call("open_test_tasks:count", 3))
    assert chunks == [0, 1, 2] and end["count"] == 3
    with pytest.raises(RemoteError) as info:
        worker.run("open_test_tasks:array_sum", arrays[0])
    assert "numpy" in info.value.header["message"]
    call_id = worker.call("open_test_tasks:sleep", 600)
    worker.wait_busy()
    worker.send({"kind": "cancel", "id": call_id})
    expect_error(worker, call_id, "Cancelled")
