"""Shared-memory segments (protocol section 8), end to end with a real worker process.

The test plays the host: it makes the pool directory, writes argument segments, and reads the
worker's result segments as the Java host does. Everything random is drawn from a seed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from client import LAUNCHER, PYTHONPATH, RemoteError
from conftest import VECTORS
from open_worker.frames import encode_frame, read_frame
from open_worker.values import DTYPES

THRESHOLD = 4096


@pytest.fixture
def pool_dir(tmp_path):
    root = "/dev/shm" if os.path.isdir("/dev/shm") else str(tmp_path)
    path = os.path.join(root, f"open-test-{os.getpid()}-{random.randrange(1 << 30)}")
    os.mkdir(path, 0o700)
    yield path
    for name in os.listdir(path) if os.path.isdir(path) else ():
        os.unlink(os.path.join(path, name))
    if os.path.isdir(path):
        os.rmdir(path)


@pytest.fixture
def shm_worker(start_worker, pool_dir):
    return start_worker(extra_args=["--shm-dir", pool_dir, "--shm-threshold", str(THRESHOLD)])


def put_segment(pool_dir: str, name: str, data: bytes) -> None:
    fd = os.open(os.path.join(pool_dir, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def seg_arg(name: str, array: np.ndarray, offset: int = 0) -> dict:
    order = "F" if array.flags.f_contiguous and not array.flags.c_contiguous else "C"
    return {"$nd": {"segment": {"name": name, "offset": offset}, "dtype": array.dtype.str,
                    "shape": list(array.shape), "order": order}}


def call_raw(worker, function: str, args: list, call_id: int) -> dict:
    worker.send({"kind": "call", "id": call_id, "function": function, "args": args})
    frame = worker.recv()
    assert frame.header["id"] == call_id
    return frame


def result_array(pool_dir: str, frame) -> np.ndarray:
    """The host's side: a result in a segment is read from the file the worker wrote."""
    nd = frame.header["value"]["$nd"]
    dtype, shape, order = np.dtype(nd["dtype"]), nd["shape"], nd.get("order", "C")
    count = int(np.prod(shape))
    if "segment" in nd:
        seg = nd["segment"]
        with open(os.path.join(pool_dir, seg["name"]), "rb") as f:
            f.seek(seg["offset"])
            data = f.read(count * dtype.itemsize)
    else:
        data = bytes(frame.buffers[nd["buffer"]])
    return np.frombuffer(data, dtype=dtype, count=count).reshape(shape, order=order)


def test_hello_announces_shm(shm_worker, worker):
    assert "shm" in shm_worker.hello["capabilities"]
    assert "shm" not in worker.hello["capabilities"]


def test_arguments_of_every_dtype_and_order_round_trip_bit_for_bit(shm_worker, pool_dir):
    rng = random.Random(1301)
    for i, dtype in enumerate(sorted(DTYPES)):
        shape = [rng.randrange(1, 40), rng.randrange(1, 40), rng.randrange(1, 5)]
        raw = bytes(rng.getrandbits(8) for _ in range(int(np.prod(shape)) * DTYPES[dtype]))
        array = np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(shape)
        if dtype == "|b1":
            array = array.view(np.uint8) % 2 == 1
        if rng.random() < 0.5:
            array = np.asfortranarray(array)
        order = "F" if not array.flags.c_contiguous else "C"
        data = array.tobytes(order="A" if order == "F" else "C")
        put_segment(pool_dir, f"h{i}", data)
        for k, task in enumerate(["open_test_tasks:echo", "open_test_tasks:copy"]):
            frame = call_raw(shm_worker, task, [seg_arg(f"h{i}", array)], 2 * i + k + 1)
            assert frame.header["kind"] == "result", frame.header
            back = result_array(pool_dir, frame)
            assert back.dtype == array.dtype and back.shape == array.shape, (task, dtype)
            assert back.tobytes() == array.tobytes(), (task, dtype)  # bit for bit, NaNs too


def test_an_argument_is_read_only_and_returning_it_names_the_same_segment(shm_worker, pool_dir):
    a = np.arange(4096, dtype="<f8")
    put_segment(pool_dir, "h1", a.tobytes())
    info = call_raw(shm_worker, "open_test_tasks:array_info", [seg_arg("h1", a)], 1)
    assert shm_worker.value(info)["writeable"] is False
    echoed = call_raw(shm_worker, "open_test_tasks:echo", [seg_arg("h1", a)], 2)
    assert echoed.header["value"]["$nd"]["segment"] == {"name": "h1", "offset": 0}
    # A task writing into its argument fails; the host's bytes are unchanged.
    frame = call_raw(shm_worker, "open_test_tasks:scale_in_place", [seg_arg("h1", a)], 3)
    assert frame.header["kind"] == "error" and "read-only" in frame.header["message"]
    with open(os.path.join(pool_dir, "h1"), "rb") as f:
        assert f.read() == a.tobytes()


def test_a_slice_of_an_argument_is_named_at_its_offset(shm_worker, pool_dir):
    a = np.arange(8192, dtype="<i8")
    put_segment(pool_dir, "h1", a.tobytes())
    frame = call_raw(shm_worker, "open_test_tasks:tail_half", [seg_arg("h1", a)], 1)
    seg = frame.header["value"]["$nd"]["segment"]
    assert seg == {"name": "h1", "offset": 4096 * 8}
    assert np.array_equal(result_array(pool_dir, frame), a[4096:])


def test_a_new_large_result_goes_to_a_worker_segment_a_small_one_inline(shm_worker, pool_dir):
    a = np.arange(1024, dtype="<f8")  # 8 KiB: over the threshold
    put_segment(pool_dir, "h1", a.tobytes())
    big = call_raw(shm_worker, "open_test_tasks:array_double", [seg_arg("h1", a)], 1)
    name = big.header["value"]["$nd"]["segment"]["name"]
    assert name.startswith(f"w{shm_worker.proc.pid}-")
    assert oct(os.stat(os.path.join(pool_dir, name)).st_mode & 0o777) == oct(0o600)
    assert np.array_equal(result_array(pool_dir, big), a * 2)
    small = shm_worker.run("open_test_tasks:array_double", np.arange(8, dtype="<f8"))
    assert np.array_equal(small, np.arange(8) * 2.0)


@pytest.mark.parametrize("segment, problem", [
    ({"name": "../etc", "offset": 0}, "plain file name"),
    ({"name": "missing", "offset": 0}, "cannot open"),
    ({"name": "short", "offset": 0}, "bytes, the value needs"),
    ({"name": "short", "offset": 3}, "multiple of the item size"),
    ({"name": "fifo", "offset": 0}, "not a regular file"),
    ({"name": "link", "offset": 0}, "cannot open"),
    ({"name": "short", "offset": -8}, "non-negative"),
])
def test_a_bad_segment_is_an_error_of_that_call_only(shm_worker, pool_dir, segment, problem):
    put_segment(pool_dir, "short", bytes(16))
    os.mkfifo(os.path.join(pool_dir, "fifo"), 0o600)
    os.symlink(os.path.join(pool_dir, "short"), os.path.join(pool_dir, "link"))
    arg = {"$nd": {"segment": segment, "dtype": "<f8", "shape": [1024]}}
    frame = call_raw(shm_worker, "open_test_tasks:echo", [arg], 1)
    assert frame.header["kind"] == "error" and frame.header["type"] == "ProtocolError"
    assert problem in frame.header["message"], frame.header["message"]
    assert shm_worker.run("open_test_tasks:add", 1, 2) == 3  # the worker carries on


def test_a_segment_without_the_capability_is_a_bad_value(worker):
    arg = {"$nd": {"segment": {"name": "h1", "offset": 0}, "dtype": "<f8", "shape": [1]}}
    frame = call_raw(worker, "open_test_tasks:echo", [arg], 1)
    assert frame.header["kind"] == "error" and "not enabled" in frame.header["message"]


def test_a_result_that_does_not_fit_is_sent_inline(shm_worker, pool_dir):
    """A segment write that fails (a file-size limit stands in for a full /dev/shm: both make
    write() fail) leaves no file behind, and the result arrives inline instead."""
    import resource

    resource.prlimit(shm_worker.proc.pid, resource.RLIMIT_FSIZE, (4096, 4096))
    value = shm_worker.run("open_test_tasks:array_double", np.arange(1024, dtype="<f8"))
    assert np.array_equal(value, np.arange(1024) * 2.0)
    assert os.listdir(pool_dir) == []


def test_a_bad_shm_dir_is_a_command_line_error(tmp_path):
    out = subprocess.run(
        [sys.executable, "-u", str(LAUNCHER), "--allow", "x", "--shm-dir", str(tmp_path / "no")],
        capture_output=True, timeout=60)
    assert out.returncode == 2 and b"--shm-dir" in out.stderr


def test_the_worker_removes_the_pool_directory_when_its_host_dies(pool_dir, tmp_path):
    """The host is a middle process that is SIGKILLed; the worker (its child) sees its frame
    pipe close without a shutdown, finds its parent gone, and deletes the directory."""
    put_segment(pool_dir, "h1", bytes(64))  # an argument the dead host never deleted
    host = subprocess.Popen(
        [sys.executable, "-c", _MIDDLE_HOST, str(LAUNCHER), pool_dir],
        stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": os.pathsep.join(map(str, PYTHONPATH))})
    worker_pid = int(host.stdout.readline())
    os.kill(host.pid, signal.SIGKILL)
    host.wait()
    deadline = time.monotonic() + 30
    while os.path.exists(pool_dir) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not os.path.exists(pool_dir)
    deadline = time.monotonic() + 30
    while _alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(worker_pid)


def test_a_worker_stopped_by_its_living_host_leaves_the_directory(start_worker, pool_dir):
    worker = start_worker(extra_args=["--shm-dir", pool_dir])
    worker.proc.stdin.close()  # end of file, but the host (this process) lives
    assert worker.wait() == 0
    assert os.path.isdir(pool_dir)


_MIDDLE_HOST = """
import subprocess, sys
launcher, pool = sys.argv[1], sys.argv[2]
worker = subprocess.Popen([sys.executable, "-u", launcher, "--allow", "open_test_tasks",
                           "--shm-dir", pool], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
worker.stdout.read(4)  # the hello has started to arrive: the worker is up
print(worker.pid, flush=True)
worker.wait()
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


@pytest.mark.parametrize("vector", VECTORS["segments"], ids=lambda v: v["name"])
def test_segment_vector(vector, tmp_path):
    """The conformance vectors of section 8, decoded as a call argument."""
    from open_worker.shm import SharedMemory
    from open_worker.values import BadValue, decode_value
    from test_vectors import assert_meaning

    for name, data in vector["files"].items():
        (tmp_path / name).write_bytes(bytes.fromhex(data))
    shm = SharedMemory(str(tmp_path), 1)
    buffers = [memoryview(bytearray(8))]  # for the vector that names both a buffer and a segment
    if vector["expect"] == {"error": "bad_value"}:
        with pytest.raises(BadValue):
            decode_value(vector["header_value"], buffers, 3, shm)
    else:
        value = decode_value(vector["header_value"], buffers, 3, shm)
        assert value.flags.writeable is False
        assert_meaning(value, vector["expect"])
        del value
    shm.release()


def test_an_answer_lists_the_segments_the_task_kept(shm_worker, pool_dir):
    a = np.arange(1024, dtype="<f8")
    put_segment(pool_dir, "h1", a.tobytes())
    put_segment(pool_dir, "h2", a.tobytes())
    summed = call_raw(shm_worker, "open_test_tasks:array_sum", [seg_arg("h1", a)], 1)
    assert summed.header["kept"] == []  # mapped, and let go of: the host may reuse h1
    kept = call_raw(shm_worker, "open_test_tasks:keep", [seg_arg("h2", a)], 2)
    assert kept.header["kept"] == ["h2"]
    echoed = call_raw(shm_worker, "open_test_tasks:echo", [seg_arg("h1", a)], 3)
    assert echoed.header["kept"] == []  # the result names h1; the worker holds no view of it
    failed = call_raw(shm_worker, "open_test_tasks:scale_in_place", [seg_arg("h1", a)], 4)
    assert failed.header["kind"] == "error" and failed.header["kept"] == []
    inline = call_raw(shm_worker, "open_test_tasks:add", [1, 2], 5)
    assert "kept" not in inline.header  # no segment, nothing to say


def test_a_result_goes_into_the_spare_the_host_offered(shm_worker, pool_dir):
    a = np.arange(1024, dtype="<f8")
    put_segment(pool_dir, "h1", a.tobytes())
    put_segment(pool_dir, "h2", bytes(3 * a.nbytes))  # an idle file, larger than the result
    shm_worker.send({"kind": "call", "id": 1, "function": "open_test_tasks:array_double",
                     "args": [seg_arg("h1", a)], "spare": [{"name": "h2", "size": 3 * a.nbytes}]})
    frame = shm_worker.recv()
    assert frame.header["value"]["$nd"]["segment"] == {"name": "h2", "offset": 0}
    assert np.array_equal(result_array(pool_dir, frame), a * 2)
    too_small = [{"name": "h3", "size": 8}]
    put_segment(pool_dir, "h3", bytes(8))
    shm_worker.send({"kind": "call", "id": 2, "function": "open_test_tasks:array_double",
                     "args": [seg_arg("h1", a)], "spare": too_small})
    name = shm_worker.recv().header["value"]["$nd"]["segment"]["name"]
    assert name.startswith("w")  # no spare fits: a new file


def test_views_of_one_argument_all_name_it_and_chunks_are_copies(shm_worker, pool_dir):
    a = np.arange(2048, dtype="<f8")
    put_segment(pool_dir, "h1", a.tobytes())
    both = call_raw(shm_worker, "open_test_tasks:halves", [seg_arg("h1", a)], 1)
    refs = [v["$nd"]["segment"] for v in both.header["value"]]
    assert refs == [{"name": "h1", "offset": 0}, {"name": "h1", "offset": 1024 * 8}]
    shm_worker.send({"kind": "call", "id": 2, "function": "open_test_tasks:halves_streamed",
                     "args": [seg_arg("h1", a)]})
    names = [shm_worker.recv().header["value"]["$nd"]["segment"]["name"] for _ in range(2)]
    assert all(n.startswith("w") for n in names), names  # the host may write into a chunk
    assert shm_worker.recv().header["kind"] == "end"


def test_a_view_at_an_offset_not_of_its_item_size_is_copied(shm_worker, pool_dir):
    raw = np.arange(8 * 1024 + 1, dtype=np.uint8)
    put_segment(pool_dir, "h1", raw.tobytes())
    frame = call_raw(shm_worker, "open_test_tasks:misaligned", [seg_arg("h1", raw)], 1)
    assert frame.header["value"]["$nd"]["segment"]["name"].startswith("w")
    assert np.array_equal(result_array(pool_dir, frame), raw[1:].view(np.float64))


def test_a_value_that_cannot_be_sent_leaves_no_segment(shm_worker, pool_dir):
    frame = call_raw(shm_worker, "open_test_tasks:big_then_unsendable", [4096], 1)
    assert frame.header["kind"] == "error" and frame.header["type"] == "TypeError"
    assert os.listdir(pool_dir) == []
