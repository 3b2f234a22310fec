"""End-to-end: the limits, the allow rules and the module search path with the worker as a real
subprocess. As in test_worker.py, waits are bounded by timeouts and never used to synchronise."""

from __future__ import annotations

import array
import fcntl
import json
import os
import resource
import struct
import termios
import time

import pytest

from client import PYTHONPATH, TIMEOUT, RemoteError
from open_worker.frames import MAX_BUFFERS, MAX_DEPTH
from test_limits import nested, raw_frame
from test_worker import expect_error, expect_fatal


def call_text_frame(call_id: int, function: str, arg_text: str) -> bytes:
    """A call frame whose one argument is given as JSON text (which an encoder would refuse)."""
    return raw_frame('{"kind":"call","id":%d,"function":"%s","args":[%s]}' % (call_id, function, arg_text))


def proc_status(pid: int) -> dict[str, int]:
    """VmSize, VmRSS, ... of a process, in bytes."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                out[key] = int(rest.split()[0]) * 1024
    return out


def unread_bytes(fd: int) -> int:
    """Bytes written to a pipe and not yet read by the other end (FIONREAD)."""
    count = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, count, True)
    return count[0]


def wait_until_read(worker) -> None:
    """Until the worker has read everything sent so far (bounded by TIMEOUT)."""
    deadline = time.monotonic() + TIMEOUT
    while unread_bytes(worker.proc.stdin.fileno()):
        assert worker.proc.poll() is None, worker.stderr()
        assert time.monotonic() < deadline, "the worker stopped reading"
        time.sleep(0.005)


# ----------------------------------------------------------------------------- bounded reads


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_a_stalled_1_gib_frame_costs_no_memory(worker):
    pid = worker.proc.pid
    limit = proc_status(pid)["VmSize"] + (256 << 20)
    # From here on an allocation of anywhere near 1 GiB fails loudly (MemoryError).
    resource.prlimit(pid, resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    with pytest.raises(RemoteError) as info:  # the limit does bite: the test means something
        worker.run("open_test_tasks:memory_hog", 512)
    assert info.value.header["type"] == "MemoryError"
    before = proc_status(pid)

    worker.send_raw(struct.pack(">I", 1 << 30) + b"0123456789")  # a 1 GiB frame begins
    wait_until_read(worker)
    worker.send_raw(bytes(1 << 20))  # read only into memory already taken for the body
    wait_until_read(worker)
    during = proc_status(pid)
    assert worker.proc.poll() is None
    # Address space, which would show an allocated gigabyte even untouched, grows at most by an
    # allocator arena (64 MiB) and the body so far; resident memory by the body so far.
    assert during["VmSize"] - before["VmSize"] < 96 << 20, (before, during)
    assert during["VmRSS"] - before["VmRSS"] < 16 << 20, (before, during)

    worker.proc.stdin.close()  # the frame never completes
    header = worker.recv().header
    assert header["kind"] == "error" and header["fatal"] is True, header
    assert "truncated" in header["message"] and f"of {1 << 30} body bytes" in header["message"], header
    assert worker.wait() == 3


# ----------------------------------------------------------------------------- frame errors


def test_a_duplicate_kind_never_shuts_the_worker_down(worker):
    worker.send_raw(raw_frame('{"kind":"call","id":1,"function":"open_test_tasks:echo","args":[],'
                              '"kind":"shutdown"}'))
    expect_fatal(worker, "bad_header")  # exit status 3, not the 0 of a shutdown


def test_a_duplicate_key_inside_an_argument_is_fatal(worker):
    worker.send_raw(call_text_frame(1, "open_test_tasks:echo", '{"a":1,"a":2}'))
    expect_fatal(worker, "duplicate key")


def test_more_than_65536_buffers_is_fatal(worker):
    worker.send_raw(raw_frame(json.dumps({"kind": "call", "id": 1, "function": "open_test_tasks:echo",
                                          "args": [], "buffers": [0] * (MAX_BUFFERS + 1)})))
    expect_fatal(worker, "bad_buffers")


@pytest.mark.parametrize("text", [
    '{"kind":"ping","id":3,"x":1e400}',  # a bad value in a message that is not a call
    '{"kind":"cancel","id":3,"x":%s}' % ("1" * 5000),
    '{"kind":"shutdown","x":%s}' % nested(100_000),  # no id to answer
    '{"id":9,"x":%s}' % ("1" * 5000),  # no kind
    '{"kind":"call","id":0,"function":"open_test_tasks:echo","args":[1e400]}',  # no valid id
], ids=["ping", "cancel", "shutdown", "no-kind", "id-0"])
def test_a_bad_value_outside_a_call_is_fatal(worker, text):
    worker.send_raw(raw_frame(text))
    header = worker.recv().header
    assert header["kind"] == "error" and header["id"] == 0 and header["fatal"] is True, header
    assert worker.wait() == 3


# ----------------------------------------------------------------------------- bad values


@pytest.mark.parametrize("arg_text, what", [
    ("1" * 4301, "4300 digits"),
    ("-" + "9" * 6000, "4300 digits"),
    ("1e400", "binary64"),
    ("[1,2,-1e999]", "binary64"),
    (nested(MAX_DEPTH - 1), "512"),  # the argument at level 3: the header reaches 513
    (nested(100_000), "512"),  # too deep for the JSON parser itself
    ('{"$nd":{"buffer":0,"dtype":"|b1","shape":[2]}}', "0 or 1"),
])
def test_a_bad_value_fails_only_its_call(worker, arg_text, what):
    before = worker.run("open_test_tasks:calls_so_far")
    if "$nd" in arg_text:  # with its buffer: [1, 2]
        head = '{"kind":"call","id":77,"function":"open_test_tasks:echo","args":[%s],"buffers":[2]}' % arg_text
        worker.send_raw(raw_frame(head, bytes(-(4 + len(head)) % 8) + b"\x01\x02"))
    else:
        worker.send_raw(call_text_frame(77, "open_test_tasks:echo", arg_text))
    error = expect_error(worker, 77, "ProtocolError")
    assert what in error["message"], error
    assert worker.run("open_test_tasks:calls_so_far") == before + 1  # same process, carries on
    assert worker.run("open_test_tasks:pid") == worker.proc.pid


def test_values_at_the_limits_are_accepted(worker):
    big = int("9" * 4300)
    assert worker.run("open_test_tasks:echo", big) == big
    assert worker.run("open_test_tasks:echo", -big) == -big
    assert worker.run("open_test_tasks:echo", 1.7976931348623157e308) == 1.7976931348623157e308
    deepest = worker.run("pyworker_tasks:nested_list", MAX_DEPTH - 1)  # a result value at level 2
    depth = 1
    while deepest:
        deepest, depth = deepest[0], depth + 1
    assert depth == MAX_DEPTH - 1
    worker.send_raw(call_text_frame(5, "open_test_tasks:echo", nested(MAX_DEPTH - 2)))  # at level 3
    assert worker.recv().header["kind"] == "result"


def test_bad_values_answer_in_call_order(worker):
    worker.send_raw(call_text_frame(1, "open_test_tasks:sleep", "0.2") + call_text_frame(2, "open_test_tasks:echo", "1e400")
                    + call_text_frame(3, "open_test_tasks:echo", "3"))
    assert [worker.recv().header["id"] for _ in range(3)] == [1, 2, 3]



@pytest.mark.parametrize("function, arg, what", [
    ("pyworker_tasks:nested_list", MAX_DEPTH, "512"),  # a value that would reach level 513
    ("pyworker_tasks:empty_bytes", MAX_BUFFERS + 1, "65536 buffers"),
    ("pyworker_tasks:integer_of_digits", 4301, "4300 digits"),
])
def test_a_result_past_a_limit_is_an_error_of_its_call(worker, function, arg, what):
    with pytest.raises(RemoteError) as info:
        worker.run(function, arg)
    assert info.value.header["type"] == "ValueError" and what in info.value.header["message"]
    assert worker.run("open_test_tasks:pid") == worker.proc.pid
    assert len(worker.run("pyworker_tasks:empty_bytes", MAX_BUFFERS)) == MAX_BUFFERS
    assert worker.run("pyworker_tasks:integer_of_digits", 4300) == 10**4299


# ----------------------------------------------------------------------------- allow rules


def test_the_allow_rules_end_to_end(start_worker):
    worker = start_worker(allow=["allow_rules_tasks"])
    assert worker.run("allow_rules_tasks:decorated", 2) == ["wrapped", 4]
    assert worker.run("allow_rules_tasks:Record", a=1) == {"a": 1}
    for name in ("allow_rules_tasks:rmtree", "allow_rules_tasks:OrderedDict", "allow_rules_tasks:Record.add"):
        with pytest.raises(RemoteError) as info:
            worker.run(name)
        assert info.value.header["type"] == "NotAllowed", name
    paths = start_worker(allow=["allow_rules_tasks"], extra_args=["--allow-attribute-paths"])
    assert paths.run("allow_rules_tasks:Record.add", 2, 5) == 7
    assert paths.run("allow_rules_tasks:RECORD.describe") == "record of 1"
    with pytest.raises(RemoteError) as info:
        paths.run("allow_rules_tasks:CONFIG.update", {"mode": "changed"})
    assert info.value.header["type"] == "NotAllowed"


# ----------------------------------------------------------------------------- module search path

# Modules the worker imports from the standard library, and a task module's name: planted in the
# working directory, each would leave a marker file if it were ever imported.
PLANTED = ["select", "json", "argparse", "signal", "typing", "re", "struct", "threading",
           "__future__", "open_test_tasks"]


def plant(directory, markers, names) -> None:
    for name in names:
        (directory / f"{name}.py").write_text(
            f"open({str(markers / name)!r}, 'w').close()\n"
            "def pid():\n    return -1\n"
        )


@pytest.mark.parametrize("launch", ["script", "module", "hide-numpy"])
def test_the_working_directory_shadows_nothing(start_worker, tmp_path, launch):
    cwd, markers = tmp_path / "cwd", tmp_path / "markers"
    cwd.mkdir()
    markers.mkdir()
    plant(cwd, markers, PLANTED)
    if launch == "script":  # only the launcher keeps even a planted open_worker away
        (cwd / "open_worker").mkdir()
        plant(cwd / "open_worker", markers, ["__init__"])
    try:
        worker = start_worker(cwd=cwd, launch="module" if launch == "module" else "script",
                              hide_numpy=launch == "hide-numpy")
        assert worker.run("open_test_tasks:pid") == worker.proc.pid  # the real task module
        assert worker.run("pyworker_tasks:sys_path_has", str(cwd)) is False
    finally:
        imported = sorted(p.name for p in markers.iterdir())
        assert imported == [], f"planted modules were imported: {imported}"


def test_pythonpath_entries_stay(start_worker, tmp_path):
    # A PYTHONPATH entry that is the working directory is configuration, not an accident.
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "configured_here.py").write_text("def where():\n    return 'here'\n")
    env = {"PYTHONPATH": os.pathsep.join([str(cwd)] + [str(p) for p in PYTHONPATH])}
    for launch in ("script", "module"):
        worker = start_worker(allow=["configured_here", "pyworker_tasks"], cwd=cwd, env=env, launch=launch)
        assert worker.run("configured_here:where") == "here"
        assert worker.run("pyworker_tasks:sys_path_has", str(cwd)) is True
