"""The worker runtime: one execution thread, a reading baton, and cancellation.

Threads and why:

- The **main thread executes calls**, one at a time in arrival order, so task code that needs
  the main thread (``signal.signal``, some native libraries) works.
- Frames are read from stdin by whichever thread holds the **reading baton**, a flag in the
  shared state. Only the holder touches the input; it reads whole frames and acts on each at
  once in :meth:`Worker._dispatch` (a call is queued, ``ping`` answered, ``cancel`` handled;
  ``shutdown``, end-of-file or a malformed frame end the process), so frames are handled in the
  order they arrived, and the baton only moves between frames.

  * The **main thread** has the baton by default and reads when it has nothing to run, so a
    call reaching an idle worker starts without a hand-off between threads: waking another
    thread costs about as much as the rest of a small call (measured round trip of a small
    call: 16 µs, against 29 µs when a reader thread handed every call over).
  * A **reader thread** takes the baton once the running call is :data:`TICK` old, and then
    reads (answering pings, queuing calls, cancelling) while the main thread works.
  * The main thread asks for the baton back, through the reader's control pipe, when it
    starts sending a call's answer with no other call queued (the host's next frame often
    waits for that answer), or else when it runs out of calls; the reader, which polls the
    control pipe together with stdin, gives it back as soon as it is between frames with
    nothing read ahead. Meanwhile the main thread sleeps on its wake-up pipe, which also
    wakes it for a call the reader queued.
  * To find long calls, the reader looks at the state at least once a tick while calls keep
    starting, and sleeps without a timeout (*parked*) after a tick in which none started;
    the main thread pokes a parked reader when it starts a call. An idle worker never wakes.

  The baton changes hands under the state lock, and only while a call runs (to the reader)
  or after the main thread asked for it (back), so exactly one thread reads at a time. A
  ``ping`` or ``cancel`` that arrives during a call younger than a tick is read when the call
  ends or turns a tick old, whichever is first. Since the reader may read ahead, input goes
  through an :class:`~open_worker.frames.FdReader`, whose ``buffered()`` tells what ``poll``
  on the descriptor cannot: that input already waits in memory.
- Every frame goes through one :class:`~open_worker.frames.FrameWriter`, whose lock keeps
  frames from interleaving.

Cancellation of the running call sets ``call.cancelled`` (checked between chunks) and, while
the call is inside task code, raises :class:`Cancelled` in the main thread with
``PyThreadState_SetAsyncExc``. An asynchronous exception only fires when the thread runs
Python bytecode, so a no-op ``SIGUSR1`` handler is also signalled to the main thread (and
re-signalled with back-off until the call leaves task code, since a signal that lands just
before a blocking system call is lost): it wakes blocking calls such as ``time.sleep``, which
run signal handlers on ``EINTR``, and the pending exception fires inside the handler.
Injection happens at most once per call and only while ``_interruptible`` is set, and every
exit from task code clears any pending injection, so the exception can never land in the
middle of writing a frame.

Stream rule: a result is streamed (``chunk``* then ``end``) when it is an *iterator* -- a
generator or any object with both ``__iter__`` and ``__next__`` -- and not a ``str``,
``bytes``, ``bytearray``, ``memoryview``, ``list``, ``tuple``, ``dict`` or NumPy array.
Iterables that are not iterators (lists, tuples, dicts, sets, ranges, arrays) are values.

Limits: a call whose frame broke a value limit (nesting, number length, ``1e400``; see
:mod:`open_worker.frames`) or whose arguments hold a bad value is queued like any call and
answered in its turn with an ``error`` of type ``ProtocolError``; the worker carries on. A bad
value in any other message is a malformed frame, and fatal. A result or chunk the encoder
refuses (past a limit, or too large for ``--max-frame``) is a ``ValueError`` of its call:
nothing of it is sent.

Ending: on ``shutdown`` or end-of-file the worker exits with status 0, dropping queued calls
and abandoning a running one without an answer; after a malformed frame it sends a fatal
``ProtocolError`` (id 0) and exits with status 3. Like any frame, these are read when the
running call ends or turns a tick old, so a call younger than a tick may still answer first.
"""

from __future__ import annotations

import atexit
import collections
import functools
import math
import os
import platform
import select
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from . import __version__
from .errors import Cancelled, ProtocolError, type_name
from .frames import BodyRecycler, FdReader, FrameError, FrameTooLarge, FrameWriter, read_frame
from .functions import Functions
from .shm import SharedMemory
from .values import BadValue, Encoder, decode_value, numpy_module

WAKE_SIGNAL = signal.SIGUSR1
# Seconds a call runs before the reader thread takes over reading; the interpreter's default
# switch interval, which a thread waiting for the GIL of a busy main thread waits anyway.
TICK = 0.005
_NOT_STREAMED = (str, bytes, bytearray, memoryview, list, tuple, dict)
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class FatalProtocolError(Exception):
    """A well-framed message the worker cannot act on (e.g. a call without a valid id)."""


@dataclass
class Call:
    id: int
    header: dict
    buffers: list
    bad_value: str | None = None  # the frame broke a value limit: answered with ProtocolError
    cancelled: bool = False


@dataclass
class _State:
    queue: collections.deque = field(default_factory=collections.deque)
    current: Call | None = None  # running and not yet answering
    started_at: float = -math.inf  # time.monotonic() when the latest call started
    interruptible: bool = False
    stopping: bool = False
    waiting: bool = False  # the execution thread is (about to be) blocked on the wake-up pipe
    reader_has_baton: bool = False  # otherwise the execution thread has it
    baton_wanted: bool = False  # the execution thread asked the reader for the baton back
    parked: bool = False  # the reader sleeps on its control pipe without a timeout


def is_stream(result: Any) -> bool:
    """Whether a call result is streamed as chunks (see the module docstring)."""
    if isinstance(result, _NOT_STREAMED):
        return False
    np = sys.modules.get("numpy")
    if np is not None and isinstance(result, np.ndarray):
        return False
    return hasattr(type(result), "__next__") and hasattr(type(result), "__iter__")


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    """Raise ``exc`` in thread ``thread_id`` (``None`` clears a pending one); no-op without ctypes."""
    try:
        import ctypes

        set_async = ctypes.pythonapi.PyThreadState_SetAsyncExc
    except (ImportError, AttributeError):  # pragma: no cover - PyPy and friends
        return
    set_async(ctypes.c_ulong(thread_id), None if exc is None else ctypes.py_object(exc))


def _wake(signum: int, frame: Any) -> None:
    """No-op: being run is what lets a pending async exception fire in a blocked call."""


def _rss() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _format_traceback(exc: BaseException) -> str:
    """The formatted exception without the worker's own frames at the top."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


_MAX_ERROR_TEXT = 1 << 20


def _clean_text(text: str) -> str:
    """Error frame strings must be valid UTF-8 and small, whatever the exception carried."""
    if len(text) > _MAX_ERROR_TEXT:
        text = text[:_MAX_ERROR_TEXT] + "... (truncated)"
    return text.encode("utf-8", "replace").decode("utf-8")


def _describe(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:  # a broken __str__ must not lose the error
        return f"<{type(exc).__name__} with an unprintable message>"


def _message_id(header: dict, positive: bool) -> int:
    value = header.get("id")
    if type(value) is not int or (positive and value <= 0):  # noqa: E721 - bool is not an id
        kind = header.get("kind")
        need = "a positive integer" if positive else "an integer"
        raise FatalProtocolError(f"{kind} needs {need} 'id', got {value!r}")
    return value


class Worker:
    """One worker process's runtime; :meth:`run` must be called from the main thread."""

    def __init__(
        self,
        frames_in: FdReader,
        writer: FrameWriter,
        functions: Functions,
        max_frame: int,
        shm: SharedMemory | None = None,
    ) -> None:
        self.frames_in = frames_in
        self.shm = shm
        self.writer = writer
        self.functions = functions
        self.max_frame = max_frame
        self._bodies = BodyRecycler()
        # State is guarded by this lock. Threads sleep on pipes rather than Conditions: a byte
        # written to a pipe wakes a thread in about half the time a Condition takes (measured:
        # 10 µs against 20 µs per hand-off). The execution thread sleeps on the wake-up pipe;
        # the reader polls its control pipe (and stdin while it holds the baton).
        self._cond = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._control_r, self._control_w = os.pipe()
        self._state = _State()
        self._exec_thread = threading.get_ident()

    # ------------------------------------------------------------------ lifecycle

    def run(self) -> int:
        """Send ``hello``, start the reader and execute calls until told to stop; returns 0."""
        signal.signal(WAKE_SIGNAL, _wake)
        self._send(self._hello())
        threading.Thread(target=self._read_loop, name="open-worker-reader", daemon=True).start()
        self._exec_loop()
        return 0

    def _hello(self) -> dict:
        capabilities = ["stream", "cancel"]
        if numpy_module() is not None:
            capabilities.insert(0, "numpy")
        if self.shm is not None:
            capabilities.append("shm")
        return {
            "kind": "hello",
            "protocol": 1,
            "language": "python",
            "version": platform.python_version(),
            "pid": os.getpid(),
            "worker": f"open-python-worker/{__version__}",
            "capabilities": capabilities,
        }

    def _exit(self, status: int) -> None:
        """Leave now, from any thread, without cutting a frame in half (bounded wait).

        The writer lock is taken and never released: nothing may be written after this.
        """
        self.writer.lock.acquire(timeout=5)
        try:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
        except (OSError, ValueError):
            pass
        os._exit(status)

    def _send(self, header: dict, buffers: list | tuple = (), timeout: float = -1) -> None:
        try:
            self.writer.send(header, buffers, timeout=timeout)
        except (BrokenPipeError, ConnectionResetError):
            self._exit(0)  # the host is gone: the same as end-of-file

    # ------------------------------------------------------------------ reading (baton holder)

    def _pump(self) -> bool:
        """Read one whole frame and act on it; ``False`` once the worker stops.

        Only the baton holder calls this. After a malformed frame it ends the process.
        """
        try:
            frame = read_frame(self.frames_in, self.max_frame, self._bodies)
            if frame is None and self.shm is not None and self.shm.host_gone():
                self.shm.remove_directory()  # the host died: nobody else will
            if frame is None or frame.header["kind"] == "shutdown":
                self._stop()
                return False
            self._dispatch(frame.header, frame.buffers, frame.bad_value)
            return True
        except (FrameError, FatalProtocolError) as exc:
            self._fatal(str(exc))
        except OSError as exc:
            self._fatal(f"cannot read frames: {exc}")
        except BaseException as exc:  # a bug here must not leave a worker that never answers
            self._fatal(f"internal error while reading frames: {exc!r}")
        return False  # not reached: _fatal exits

    def _dispatch(self, header: dict, buffers: list, bad_value: str | None = None) -> None:
        """Act on one frame. A call with a bad value is failed on its own, in its turn (the
        frame codec lets a bad value through only in a call, result or chunk)."""
        kind = header["kind"]
        if kind == "call":
            call = Call(_message_id(header, positive=True), header, buffers, bad_value)
            with self._cond:
                self._state.queue.append(call)
                self._wake_locked()
        elif kind == "cancel":
            self._cancel(_message_id(header, positive=True))
        elif kind == "ping":
            pong: dict[str, Any] = {"kind": "pong", "id": _message_id(header, positive=False)}
            rss = _rss()
            if rss is not None:
                pong["rss"] = rss
            pong["busy"] = self._state.current is not None
            self._send(pong)
        else:
            raise FatalProtocolError(f"a worker does not accept {kind!r} messages")

    def _cancel(self, call_id: int) -> None:
        dropped = None
        with self._cond:
            state = self._state
            for queued in state.queue:
                if queued.id == call_id:
                    dropped = queued
                    state.queue.remove(queued)
                    break
            else:
                current = state.current
                if current is not None and current.id == call_id and not current.cancelled:
                    current.cancelled = True
                    if state.interruptible:
                        _set_async_exc(self._exec_thread, Cancelled)
                        signal.pthread_kill(self._exec_thread, WAKE_SIGNAL)
                        threading.Thread(target=self._nudge, args=(current,), daemon=True).start()
        if dropped is not None:
            self._send_error(call_id, "Cancelled", "cancelled before it started", "")

    def _nudge(self, call: Call) -> None:
        """Re-send the wake-up signal until the cancelled call leaves task code.

        One signal is not enough: it can arrive after ``time.sleep`` released the GIL but
        before it entered the system call, and then nothing interrupts the sleep.
        """
        delay = 0.01
        while True:
            time.sleep(delay)
            with self._cond:
                if self._state.current is not call or not self._state.interruptible:
                    return
                signal.pthread_kill(self._exec_thread, WAKE_SIGNAL)
            delay = min(delay * 2, 1.0)

    # ------------------------------------------------------------------ reader thread

    def _read_loop(self) -> None:
        """Take the baton from a call that is a tick old; park after a tick without new calls."""
        control = select.poll()
        control.register(self._control_r, select.POLLIN)
        last_look = -math.inf
        try:
            while True:
                with self._cond:
                    state = self._state
                    if state.stopping:
                        return
                    now = time.monotonic()
                    running = state.current is not None
                    take = running and now - state.started_at >= TICK
                    if take:
                        state.reader_has_baton = True
                    state.parked = not running and state.started_at < last_look
                    if state.parked:
                        timeout = None
                    else:  # in milliseconds, which poll rounds up
                        timeout = ((state.started_at if running else now) + TICK - now) * 1000
                    last_look = now
                if take:
                    if not self._hold_baton():
                        return
                elif control.poll(timeout):
                    os.read(self._control_r, 4096)
        except BaseException as exc:  # a bug here must not leave a worker that never answers
            self._fatal(f"internal error in the reader: {exc!r}")

    def _hold_baton(self) -> bool:
        """Read frames until the execution thread wants the baton back; ``False`` on stop."""
        frames_in = self.frames_in
        watch = select.poll()
        watch.register(frames_in.fd, select.POLLIN)
        watch.register(self._control_r, select.POLLIN)
        while True:
            if not frames_in.buffered():
                with self._cond:
                    state = self._state
                    if state.baton_wanted:
                        state.baton_wanted = state.reader_has_baton = False
                        self._wake_locked()
                        return True
                ready = {fd for fd, _ in watch.poll()}
                if self._control_r in ready:  # look at the state again before reading
                    os.read(self._control_r, 4096)
                    continue
            if not self._pump():
                return False

    def _poke_reader_locked(self) -> None:
        """Make the reader look at the state again; call with the lock held."""
        os.write(self._control_w, b".")

    def _stop(self) -> None:
        with self._cond:
            self._state.stopping = True
            self._state.queue.clear()
            busy = self._state.current is not None
            self._wake_locked()
        if busy:
            self._exit(0)

    def _fatal(self, message: str) -> None:
        error = {"id": 0, "type": "ProtocolError", "message": _clean_text(message)}
        try:
            self.writer.send({"kind": "error", **error, "traceback": "", "fatal": True}, timeout=5)
        except (OSError, ValueError):
            pass  # the host may be gone; the exit status still says what happened
        self._exit(3)

    # ------------------------------------------------------------------ execution thread

    def _wake_locked(self) -> None:
        """Wake the execution thread if it waits; call with the lock held."""
        if self._state.waiting:
            self._state.waiting = False
            os.write(self._wake_w, b".")

    def _exec_loop(self) -> None:
        while True:
            call = self._next_call()
            if call is None:
                break
            try:
                self._execute(call)
            finally:
                # Let go of the arguments before reading on: their memory can then be reused
                # for the next large frame (frames.BodyRecycler).
                call = None
                with self._cond:
                    self._state.current = None
        try:
            atexit._run_exitfuncs()  # os._exit below skips them; task modules may rely on them
        finally:
            self._exit(0)  # no waiting for non-daemon threads that task code left running

    def _next_call(self) -> Call | None:
        """The next call to run, reading frames while this thread has the baton; None: stop."""
        cond, state = self._cond, self._state
        while True:
            with cond:
                if state.stopping:
                    return None
                if state.queue:
                    call = state.current = state.queue.popleft()
                    state.started_at = time.monotonic()
                    if state.parked:  # the reader must look again to see how long it runs
                        state.parked = False
                        self._poke_reader_locked()
                    return call
                read = not state.reader_has_baton
                if not read:  # ask for the baton; the reader may queue a call first
                    state.waiting = True
                    if not state.baton_wanted:
                        state.baton_wanted = True
                        self._poke_reader_locked()
            if read:
                self._pump()
            else:
                os.read(self._wake_r, 1)  # one byte per wake-up: written only while waiting

    def _execute(self, call: Call) -> None:
        try:
            # The result is handed on in a list, so that only the encoder holds it and the
            # call's segments can be let go of before the answer (see _answer).
            box = [self._run(call)]  # the arguments are no longer referenced from here on
            if is_stream(box[0]):
                self._stream(call, box)
            else:
                self._check_cancelled(call)
                self._send_value({"kind": "result", "id": call.id}, box, answer=True)
        except Cancelled as exc:
            self._settle()
            traceback.clear_frames(exc.__traceback__)
            self._send_error(call.id, "Cancelled", "cancelled by the host", "", answer=True)
        except BaseException as exc:
            self._settle()
            tb = _format_traceback(exc)
            traceback.clear_frames(exc.__traceback__)  # the task's frames hold its arguments
            self._send_error(call.id, type_name(exc), _describe(exc), tb, answer=True)
        finally:
            if self.shm is not None:
                self.shm.release()

    def _run(self, call: Call) -> Any:
        fn, args, kwargs = self._prepare(call)
        return self._guarded(call, functools.partial(fn, *args, **kwargs))

    def _prepare(self, call: Call) -> tuple[Callable, list, dict]:
        if call.bad_value is not None:
            raise ProtocolError(f"bad value in call: {call.bad_value}")
        header = call.header
        name, args, kwargs = header.get("function"), header.get("args", []), header.get("kwargs")
        if not isinstance(name, str):
            raise ProtocolError("call needs a string 'function'")
        if not isinstance(args, list) or not isinstance(kwargs, (dict, type(None))):
            raise ProtocolError("call 'args' must be a list and 'kwargs' an object")
        fn = self.functions.resolve(name)
        if self.shm is not None:
            self.shm.offer(header.get("spare"))
        try:
            # Each argument sits at level 3 of the header: {"args": [arg, ...]}.
            args = [decode_value(v, call.buffers, 3, self.shm) for v in args]
            kwargs = {k: decode_value(v, call.buffers, 3, self.shm) for k, v in (kwargs or {}).items()}
        except BadValue as exc:
            raise ProtocolError(f"bad value in call: {exc}") from None
        return fn, args, kwargs

    def _stream(self, call: Call, box: list) -> None:
        """Stream the iterator in ``box`` (handed over in a list, so that only this frame
        holds it and it can be let go before the ``end``)."""
        iterator = box.pop()
        count = 0
        try:
            while True:
                self._check_cancelled(call)
                try:
                    item = self._guarded(call, functools.partial(next, iterator))
                except StopIteration:
                    break
                box = [item]
                item = None
                self._send_value({"kind": "chunk", "id": call.id, "seq": count}, box, chunk=True)
                count += 1
            self._check_cancelled(call)
        except BaseException:
            close = getattr(iterator, "close", None)
            if close is not None:
                try:
                    close()  # run the generator's finally blocks
                except BaseException:
                    pass
            raise
        iterator = None
        self._answer({"kind": "end", "id": call.id, "count": count})

    def _guarded(self, call: Call, thunk: Callable[[], Any]) -> Any:
        """Run task code with cancellation armed; disarmed (and cleared) on every way out."""
        try:
            with self._cond:
                if call.cancelled:
                    raise Cancelled()
                self._state.interruptible = True
            return thunk()
        finally:
            self._settle()

    def _settle(self) -> None:
        """Disarm cancellation and drop a pending async exception (idempotent)."""
        with self._cond:
            self._state.interruptible = False
        _set_async_exc(self._exec_thread, None)

    @staticmethod
    def _check_cancelled(call: Call) -> None:
        if call.cancelled:
            raise Cancelled()

    def _answer(self, header: dict, buffers: list | tuple = ()) -> None:
        """Send the frame that ends the running call (``result``, ``end`` or ``error``).

        The call counts as finished from here on (a ``cancel`` is ignored, a pong says not
        busy), and if the reader has the baton it is asked for it back now: the host's next
        frame often waits for this answer, and the main thread should be the one to read it.
        """
        if self.shm is not None:
            kept = self.shm.release()
            if kept is not None:  # the host may reuse the call's other segments
                header["kept"] = kept
        with self._cond:
            state = self._state
            state.current = None
            if state.reader_has_baton and not state.queue and not state.baton_wanted:
                state.baton_wanted = True
                self._poke_reader_locked()
        self._send(header, buffers)

    def _send_value(self, header: dict, box: list, answer: bool = False, chunk: bool = False) -> None:
        """Send the value in ``box`` (taken out of it: once encoded, only the encoder's buffers
        refer to it). Segments written for a value that is then not sent are deleted."""
        encoder = Encoder(self.shm, locate=not chunk)
        try:
            header["value"] = encoder.encode(box.pop())
            try:
                (self._answer if answer else self._send)(header, encoder.buffers)
            except FrameTooLarge as exc:
                raise ValueError(f"{header['kind']} too large to send: {exc}") from None
        except BaseException:
            for name in encoder.written:
                self.shm.discard(name)
            raise

    def _send_error(
        self, call_id: int, type_: str, message: str, tb: str, answer: bool = False
    ) -> None:
        error = {"kind": "error", "id": call_id, "type": _clean_text(type_)}
        error.update(message=_clean_text(message), traceback=_clean_text(tb))
        (self._answer if answer else self._send)(error)
