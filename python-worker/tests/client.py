"""A minimal host for end-to-end tests: starts the worker as the Java host does
(``python -u open_worker_main.py``) and talks frames.

Frames are read on a background thread into a queue so every wait has a timeout and a hung
worker fails a test instead of hanging the suite.
"""

from __future__ import annotations

import itertools
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from open_worker.frames import DEFAULT_MAX_FRAME, Frame, FrameError, encode_frame, read_frame
from open_worker.values import Encoder, decode_value

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHONPATH = [ROOT, ROOT / "test_tasks", HERE / "tasks", ROOT / "examples"]
TIMEOUT = 60.0  # generous: a loaded 2-core machine must not make tests flaky

LAUNCHER = ROOT / "open_worker_main.py"

HIDE_NUMPY = (
    "import sys, runpy; sys.modules['numpy'] = None; "
    "runpy.run_module('open_worker', run_name='__main__', alter_sys=True)"
)


class RemoteError(Exception):
    def __init__(self, header: dict) -> None:
        super().__init__(f"{header.get('type')}: {header.get('message')}")
        self.header = header


class WorkerClient:
    _ids = itertools.count(1)

    def __init__(self, allow: list[str], workdir: Path, *, extra_args: list[str] = (),
                 hide_numpy: bool = False, env: dict | None = None, launch: str = "script",
                 cwd: Path | None = None) -> None:
        """``launch``: ``"script"`` (the launcher, as the host does) or ``"module"``
        (``python -m open_worker``); ``hide_numpy`` starts it with ``-c`` instead."""
        if hide_numpy:
            cmd = [sys.executable, "-c", HIDE_NUMPY]
        elif launch == "module":
            cmd = [sys.executable, "-u", "-m", "open_worker"]
        else:
            assert launch == "script", launch
            cmd = [sys.executable, "-u", str(LAUNCHER)]
        for module in allow:
            cmd += ["--allow", module]
        cmd += list(extra_args)
        full_env = dict(os.environ)
        full_env["PYTHONPATH"] = os.pathsep.join(str(p) for p in PYTHONPATH)
        full_env.update(env or {})
        self.stderr_path = workdir / f"worker-{next(self._ids)}.stderr"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err, env=full_env, cwd=cwd or workdir)
        self._frames: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.hello = self.recv().header

    def _read(self) -> None:
        try:
            while True:
                frame = read_frame(self.proc.stdout, DEFAULT_MAX_FRAME)
                self._frames.put(frame)
                if frame is None:
                    return
        except (FrameError, OSError, ValueError) as exc:
            self._frames.put(exc)

    # ------------------------------------------------------------------ sending

    def send(self, header: dict, buffers: list = ()) -> None:
        for part in encode_frame(header, buffers):
            self.proc.stdin.write(part)
        self.proc.stdin.flush()

    def send_raw(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def call(self, function: str, *args: Any, call_id: int | None = None, **kwargs: Any) -> int:
        call_id = next(self._ids) if call_id is None else call_id
        enc = Encoder()
        header: dict[str, Any] = {"kind": "call", "id": call_id, "function": function,
                                  "args": [enc.encode(a, 3) for a in args]}
        if kwargs:
            header["kwargs"] = {k: enc.encode(v, 3) for k, v in kwargs.items()}
        self.send(header, enc.buffers)
        return call_id

    # ------------------------------------------------------------------ receiving

    def recv(self, timeout: float = TIMEOUT) -> Frame:
        item = self._frames.get(timeout=timeout)
        if isinstance(item, Exception):
            raise item
        if item is None:
            raise EOFError("worker closed its frame stream")
        return item

    def recv_eof(self, timeout: float = TIMEOUT) -> Any:
        """The next item of the frame stream: a frame, None (EOF) or a FrameError."""
        return self._frames.get(timeout=timeout)

    @staticmethod
    def value(frame: Frame) -> Any:
        return decode_value(frame.header.get("value"), frame.buffers)

    def run(self, function: str, *args: Any, **kwargs: Any) -> Any:
        """Call and wait for a ``result``; raises :class:`RemoteError` on ``error``."""
        call_id = self.call(function, *args, **kwargs)
        frame = self.recv()
        assert frame.header["id"] == call_id, frame.header
        if frame.header["kind"] == "error":
            raise RemoteError(frame.header)
        assert frame.header["kind"] == "result", frame.header
        return self.value(frame)

    def collect(self, call_id: int) -> tuple[list, dict]:
        """Frames answering a streamed call: (chunk values, final end/error header)."""
        chunks = []
        while True:
            frame = self.recv()
            assert frame.header["id"] == call_id, frame.header
            kind = frame.header["kind"]
            if kind == "chunk":
                assert frame.header["seq"] == len(chunks)
                chunks.append(self.value(frame))
            else:
                return chunks, frame.header

    def wait_busy(self) -> None:
        """Ping until the worker reports a running call (no timing assumptions)."""
        for ping_id in range(100000):
            self.send({"kind": "ping", "id": ping_id})
            pong = self.recv().header
            assert pong == {**pong, "kind": "pong", "id": ping_id}
            if pong["busy"]:
                return
        raise AssertionError("the worker never became busy")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait(self, timeout: float = TIMEOUT) -> int:
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
