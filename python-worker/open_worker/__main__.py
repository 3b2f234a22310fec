"""Command line: ``python -m open_worker --allow MODULE [--allow MODULE ...] [--max-frame BYTES]``.

Before anything else is imported or run, the process's standard streams are rearranged so
that nothing but frames can reach the host's frame stream (protocol section 1):

- the original stdout is duplicated to a private, non-inheritable descriptor used for frames
  only (its number is exported as ``OPEN_WORKER_FRAME_FD``); descriptor 1 then points at
  stderr and ``sys.stdout`` is ``sys.stderr``, so ``print()`` and C-level writes to stdout
  become log lines;
- the original stdin is likewise moved to a private descriptor for frame input and
  descriptor 0 is ``/dev/null``, so task code (or a child process) reading stdin cannot steal
  frames.

SIGINT is ignored: the host owns the worker's life time (a terminal's Ctrl-C reaches the whole
process group, and the host shuts its workers down itself).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Sequence

from .frames import DEFAULT_MAX_FRAME, MAX_LENGTH, FdReader, FrameWriter
from .functions import AllowList, Functions
from .runtime import Worker

FRAME_FD_ENV = "OPEN_WORKER_FRAME_FD"


def _frame_size(text: str) -> int:
    value = int(text)
    if not 4 <= value <= MAX_LENGTH:
        raise argparse.ArgumentTypeError(f"must be between 4 and {MAX_LENGTH}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m open_worker",
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
        "--spin-us", type=int, default=100, metavar="MICROS",
        help="poll this long for the next frame before a blocking read (default 100; 0: never)",
    )
    args = parser.parse_args(argv)
    if args.spin_us < 0:
        parser.error("--spin-us must not be negative")
    try:
        args.allow_list = AllowList(args.allow)
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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    frame_fd, frames_in = redirect_stdio(args.spin_us * 1000)
    writer = FrameWriter(frame_fd, args.max_frame)
    return Worker(frames_in, writer, Functions(args.allow_list), args.max_frame).run()


if __name__ == "__main__":
    sys.exit(main())
