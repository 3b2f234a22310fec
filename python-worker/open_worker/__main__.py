"""Command line: ``python -u open_worker_main.py --allow MODULE [--allow MODULE ...]
[--max-frame BYTES] [--spin-us MICROS] [--allow-attribute-paths] [--shm-dir DIR
[--shm-threshold BYTES]]`` (or ``python -m open_worker``).

Before anything else is imported or run, two things are set straight:

- The module search path. ``python -m`` and ``python -c`` put the working directory first on
  ``sys.path`` (``os.getcwd()`` or ``''``), so a ``select.py``, ``json.py`` or a module named
  like a task module that happens to lie in the working directory would shadow the real one,
  for the worker's own imports and for task modules alike. That entry is removed here, at the
  very top of this module, before the imports below (this is why the module has no
  ``from __future__`` import, which would be an import too), and again by :func:`main`. What
  remains is the runtime directory of the launcher script, the ``PYTHONPATH`` entries that
  the host configured and the interpreter's own library directories. Only the launcher,
  ``open_worker_main.py`` in the directory holding ``open_worker/``, also keeps the working
  directory away from the import of ``open_worker`` itself, which ``-m`` looks up there first;
  the host uses it.
- The standard streams, so that nothing but frames can reach the host's frame stream
  (protocol section 1):

  * the original stdout is duplicated to a private, non-inheritable descriptor used for frames
    only (its number is exported as ``OPEN_WORKER_FRAME_FD``); descriptor 1 then points at
    stderr and ``sys.stdout`` is ``sys.stderr``, so ``print()`` and C-level writes to stdout
    become log lines;
  * the original stdin is likewise moved to a private descriptor for frame input and
    descriptor 0 is ``/dev/null``, so task code (or a child process) reading stdin cannot steal
    frames.

SIGINT is ignored: the host owns the worker's life time (a terminal's Ctrl-C reaches the whole
process group, and the host shuts its workers down itself).
"""

import os
import sys

_path_checked = False


def drop_implicit_working_directory() -> None:
    """Remove the working directory that ``-m``/``-c`` put at ``sys.path[0]`` (once).

    Left alone: a ``sys.path[0]`` that is a script's own directory (the launcher's runtime
    directory), and everything under ``-P``/``PYTHONSAFEPATH``, where Python adds no such entry
    and ``sys.path[0]`` is the first ``PYTHONPATH`` entry. An empty ``PYTHONPATH`` entry does
    not look like ``''`` here: Python turns it into the absolute working directory, after
    ``sys.path[0]``, and it stays, as the host configured it.
    """
    global _path_checked
    if _path_checked:
        return
    _path_checked = True
    if getattr(sys.flags, "safe_path", False) or not sys.path:
        return
    first = sys.path[0]
    if first == "":
        del sys.path[0]
        return
    script = sys.argv[0] if sys.argv else ""
    try:
        implicit = os.path.samefile(first, os.getcwd()) and not (
            script not in ("", "-c", "-m")
            and os.path.samefile(first, os.path.dirname(os.path.realpath(script)))
        )
    except OSError:  # a directory that is gone, or no working directory: nothing to compare
        implicit = False
    if implicit:
        del sys.path[0]


if __name__ == "__main__":
    drop_implicit_working_directory()

import argparse  # noqa: E402 - after the sys.path repair above
import signal  # noqa: E402
from typing import Optional, Sequence  # noqa: E402

from .frames import DEFAULT_MAX_FRAME, MAX_LENGTH, FdReader, FrameWriter  # noqa: E402
from .functions import AllowList, Functions  # noqa: E402
from .runtime import Worker  # noqa: E402
from .shm import SharedMemory  # noqa: E402

FRAME_FD_ENV = "OPEN_WORKER_FRAME_FD"


def _frame_size(text: str) -> int:
    value = int(text)
    if not 4 <= value <= MAX_LENGTH:
        raise argparse.ArgumentTypeError(f"must be between 4 and {MAX_LENGTH}")
    return value


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="open_worker_main.py",
        description="Run OPEN task functions for a host speaking the OPEN worker protocol on stdin/stdout.",
    )
    parser.add_argument(
        "--allow", action="append", required=True, metavar="MODULE",
        help="module whose functions may be called; 'pkg.*' allows a package and its submodules",
    )
    parser.add_argument(
        "--max-frame", type=_frame_size, default=DEFAULT_MAX_FRAME, metavar="BYTES",
        help=f"largest frame accepted or sent (default {DEFAULT_MAX_FRAME})",
    )
    parser.add_argument(
        "--allow-attribute-paths", action="store_true",
        help="also allow 'module:Class.method' and 'module:obj.method' names (default: only "
        "'module:name'); the callable reached must still be defined in an allowed module",
    )
    parser.add_argument(
        "--spin-us", type=int, default=100, metavar="MICROS",
        help="poll this long for the next frame before a blocking read (default 100; 0: never)",
    )
    parser.add_argument(
        "--shm-dir", metavar="DIR",
        help="directory of shared-memory segments (protocol section 8); enables capability 'shm'",
    )
    parser.add_argument(
        "--shm-threshold", type=int, default=1 << 20, metavar="BYTES",
        help="send result arrays of at least this many bytes through --shm-dir (default 1 MiB)",
    )
    args = parser.parse_args(argv)
    if args.spin_us < 0:
        parser.error("--spin-us must not be negative")
    try:
        args.allow_list = AllowList(args.allow)
        args.shm = None if args.shm_dir is None else SharedMemory(args.shm_dir, args.shm_threshold)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def redirect_stdio(spin_ns: int = 0) -> tuple[int, FdReader]:
    """Move stdout/stdin to private descriptors; returns (frame fd, frame input stream)."""
    sys.stdout.flush()
    frame_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    input_fd = os.dup(0)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.close(null_fd)
    os.environ[FRAME_FD_ENV] = str(frame_fd)
    for fd in (frame_fd, input_fd):
        _widen_pipe(fd)
    return frame_fd, FdReader(input_fd, spin_ns=spin_ns)


PIPE_SIZE = 256 << 10
F_SETPIPE_SZ = 1031  # Linux; fcntl exports it from Python 3.10 on


def _widen_pipe(fd: int) -> None:
    """Give a frame pipe 256 KiB instead of 64 KiB, where Linux allows it.

    A large array crosses a pipe in pieces of its capacity, the reader waking for each, and a
    wake-up on a virtual machine costs tens of microseconds: a 64 MiB round trip measured 55 ms
    with 64 KiB pipes, 44 ms with 256 KiB and no better with 1 MiB. Not larger, because Linux
    counts pipe memory per user (``/proc/sys/fs/pipe-user-pages-soft``, 64 MiB by default) and
    past that budget gives every new pipe of the user a single page: at 256 KiB a user can run
    about 128 workers before nearing it. Not a pipe, another system, or over a limit: left as
    it is.
    """
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", F_SETPIPE_SZ), PIPE_SIZE)
    except (ImportError, OSError):
        pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    drop_implicit_working_directory()  # before any task module is imported
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    frame_fd, frames_in = redirect_stdio(args.spin_us * 1000)
    writer = FrameWriter(frame_fd, args.max_frame)
    functions = Functions(args.allow_list, args.allow_attribute_paths)
    return Worker(frames_in, writer, functions, args.max_frame, args.shm).run()


if __name__ == "__main__":
    sys.exit(main())
