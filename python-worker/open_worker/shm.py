"""Shared-memory segments (protocol section 8, capability ``shm``).

The host starts the worker with ``--shm-dir DIR --shm-threshold BYTES``. ``DIR`` is a directory
of the host's pool on a memory file system (``/dev/shm/open-...``, mode 0700); every segment
is a file in it, named by whoever made it:

- the host's segments (``h...``, ``s...``) carry call arguments. The worker maps the part an
  argument names **read-only** (``mmap.ACCESS_READ``), so the array a task receives is a view
  of the host's bytes that NumPy refuses to write to (``ValueError: assignment destination is
  read-only``); a task that wants to change it copies it first (``a = a.copy()``). A task that
  keeps a reference after returning keeps a view of a segment the host never writes again
  (the host deletes or adopts it when the call ends), so nothing it does can reach the
  caller's data, and nothing the caller does later reaches it -- unless the call *returned*
  the argument: then the host's result is that same memory (see below).
- the worker's own segments (``w<pid>-<n>``) carry large results: the result's bytes are
  written into a new file (one copy; NumPy computed them in the worker's private memory) and
  the host takes the file over when it reads the answer. The worker keeps no mapping or
  descriptor of it, so it cannot change the host's result afterwards.

A result that *is* (a contiguous part of) an argument mapped from a segment is not copied: the
answer names that segment and offset, and the host hands out a view of the same bytes -- what
``return a`` means in NumPy.

Files are opened with ``O_NOFOLLOW | O_NONBLOCK`` (no symbolic links, no waiting on a FIFO) and
must be regular files long enough for what they are said to hold; otherwise the value is bad
(an error of that call). Writing a result that does not fit (``ENOSPC``: a small ``/dev/shm``,
as Docker's default 64 MiB) falls back to an inline buffer.

When the host dies (its end of the frame pipe closes without a ``shutdown``), the worker
deletes the pool's directory before it exits: the host cannot any more.
"""

from __future__ import annotations

import itertools
import mmap
import os
import re
import shutil
import stat
import time
from typing import Any

from .values import BadValue

#: What a segment name may be: no path separators, no leading dot.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class SharedMemory:
    """The shared-memory side of one worker: maps argument segments, writes result segments."""

    def __init__(self, directory: str, threshold: int) -> None:
        if not os.path.isdir(directory) or not os.access(directory, os.W_OK | os.X_OK):
            raise ValueError(f"--shm-dir {directory!r} is not a directory this worker can write")
        if threshold < 1:
            raise ValueError("--shm-threshold must be at least 1")
        self.directory = directory
        self.threshold = threshold
        self._host_pid = os.getppid()
        self._prefix = f"w{os.getpid()}-"
        self._counter = itertools.count()
        # Segments mapped for the running call: name -> (mmap, base address, mapped length).
        self._mapped: dict[str, tuple[mmap.mmap, int, int]] = {}
        self._touched = False  # whether the running call mapped any segment
        # Mappings of the running call replaced by longer ones of the same segment: a view of
        # one may still be alive, so they count for the ``kept`` list too.
        self._superseded: list[tuple[str, mmap.mmap]] = []
        # Files the host offered the running call for its results: [(name, size)].
        self._spares: list[tuple[str, int]] = []

    # ------------------------------------------------------------------ arguments

    def view(self, name: Any, offset: Any, nbytes: int) -> memoryview:
        """A read-only view of ``nbytes`` at ``offset`` of segment ``name``; BadValue if it
        cannot be one."""
        if not isinstance(name, str) or not NAME.match(name):
            raise BadValue(f"segment name {name!r} is not a plain file name")
        if type(offset) is not int or offset < 0:  # noqa: E721 - not bool
            raise BadValue(f"segment offset must be a non-negative integer, not {offset!r}")
        if nbytes == 0:
            return memoryview(b"")
        mapped = self._mapped.get(name)
        if mapped is None or offset + nbytes > mapped[2]:
            mapped = self._map(name, offset + nbytes)
        return memoryview(mapped[0])[offset : offset + nbytes]

    def _map(self, name: str, length: int) -> tuple[mmap.mmap, int, int]:
        self._touched = True
        try:
            fd = os.open(os.path.join(self.directory, name), os.O_RDONLY | _OPEN_FLAGS)
        except OSError as exc:
            raise BadValue(f"cannot open segment {name!r}: {exc.strerror}") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise BadValue(f"segment {name!r} is not a regular file")
            if info.st_size < length:
                raise BadValue(f"segment {name!r} has {info.st_size} bytes, the value needs {length}")
            mm = mmap.mmap(fd, length, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)
        old = self._mapped.get(name)
        if old is not None:  # a longer part of the same segment: the old map lives on in views
            self._superseded.append((name, old[0]))
        entry = (mm, _address(mm), length)
        self._mapped[name] = entry
        return entry

    def locate(self, array: Any) -> tuple[str, int] | None:
        """The segment and offset holding a contiguous array's bytes, if it is in one at an
        offset the protocol allows (a multiple of the item size)."""
        if not self._mapped:
            return None
        start = array.__array_interface__["data"][0]
        end = start + array.nbytes
        for name, (_, base, length) in self._mapped.items():
            if base <= start and end <= base + length and (start - base) % array.itemsize == 0:
                return name, start - base
        return None

    def offer(self, spares: Any) -> None:
        """Take the host's offer of files for the running call's results (``spare``)."""
        self._spares = []
        if not isinstance(spares, list):
            return
        for spare in spares:
            if isinstance(spare, dict):
                name, size = spare.get("name"), spare.get("size")
                if isinstance(name, str) and NAME.match(name) and type(size) is int:  # noqa: E721
                    self._spares.append((name, size))

    def release(self) -> list[str] | None:
        """Let go of the running call's mappings and spares; returns the names of the segments
        still mapped because a view of them lives on (a task kept it), or None when the call
        mapped no segment. The host never writes those segments again."""
        maps = [(name, mm) for name, (mm, _, _) in self._mapped.items()] + self._superseded
        kept = sorted({name for name, mm in maps if not self._forget(name, mm)})
        touched, self._touched = self._touched, False
        self._mapped.clear()
        self._superseded = []
        self._spares = []
        return kept if touched else None

    @staticmethod
    def _forget(name: str, mm: mmap.mmap) -> bool:
        """Unmap; False if a view of the mapping is alive (it lives on with that view)."""
        try:
            mm.close()
            return True
        except BufferError:
            return False

    # ------------------------------------------------------------------ results

    def discard(self, name: str) -> None:
        """Delete a segment this worker wrote for a value it then did not send."""
        if name.startswith(self._prefix):
            try:
                os.unlink(os.path.join(self.directory, name))
            except OSError:
                pass

    def write(self, data: memoryview) -> str | None:
        """Write ``data`` to a segment and return its name, or None when it does not fit: into
        the smallest spare the host offered that is large enough (its pages exist already, the
        write is a copy), else into a new file."""
        view = data.cast("B")
        fits = [s for s in self._spares if s[1] >= len(view)]
        if fits:
            spare = min(fits, key=lambda s: s[1])
            self._spares.remove(spare)
            if self._write_spare(spare[0], view):
                return spare[0]
        name = f"{self._prefix}{next(self._counter)}"
        path = os.path.join(self.directory, name)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS, 0o600)
        except OSError:
            return None
        try:
            done = 0
            while done < len(view):
                done += os.write(fd, view[done:])
            return name
        except OSError:  # no room (ENOSPC, EFBIG): the caller sends the bytes inline
            os.unlink(path)
            return None
        finally:
            os.close(fd)

    def _write_spare(self, name: str, view: memoryview) -> bool:
        try:
            fd = os.open(os.path.join(self.directory, name), os.O_WRONLY | _OPEN_FLAGS)
        except OSError:
            return False
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return False
            done = 0
            while done < len(view):
                done += os.pwrite(fd, view[done:], done)
            return True
        except OSError:
            return False
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ host death

    def host_gone(self, wait: float = 2.0) -> bool:
        """Whether the host process has died (waits up to ``wait`` seconds for it to be gone:
        its pipe closes while it exits, a moment before it is a zombie or reaped)."""
        deadline = time.monotonic() + wait
        while True:
            if os.getppid() != self._host_pid or _dead(self._host_pid):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def remove_directory(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def _address(mm: mmap.mmap) -> int:
    """The address of a mapping's first byte (for :meth:`SharedMemory.locate`)."""
    from .values import numpy_module

    np = numpy_module()
    if np is None:  # without NumPy arrays are stand-ins, never located
        return -1
    # ctypes cannot take the address of a read-only buffer; NumPy can read it.
    with memoryview(mm) as view:
        return int(np.frombuffer(view, dtype=np.uint8).__array_interface__["data"][0])


def _dead(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        return state in (b"Z", b"X")
    except (OSError, IndexError):
        return True
