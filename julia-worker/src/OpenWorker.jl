"""
    OpenWorker

The Julia worker of the OPEN worker protocol, version 1 (`docs/protocol.md`): a child process
that reads framed calls on stdin, runs them one at a time and writes framed answers on a
private copy of the original stdout.

Base only: no packages, no stdlib that needs loading. Entry point: [`main`](@ref), started by
`julia open_worker.jl --allow MODULE [--allow MODULE ...] [--max-frame BYTES]
[--allow-attribute-paths] [--shm-dir DIR [--shm-threshold BYTES]]`.

The rules this module implements (streaming, cancellation, arrays, shared memory, stdio) are
listed in `julia-worker/README.md`.
"""
module OpenWorker

export main, json_parse, json_string, json_write, read_frame, decode_frame, parse_body,
       write_frame, encode_frame, frame_parts, decode_value, encode_value, cancel_requested,
       Frame, ProtocolError, NotAllowed, Cancelled, JSONError, JSONLimitError

const PROTOCOL_VERSION = 1
const WORKER_NAME = "open-julia-worker/0.1"
const DEFAULT_MAX_FRAME = 1 << 30
const MAX_U32 = 4294967295                     # the largest length a u32 prefix can say
const KINDS = ("hello", "call", "result", "chunk", "end", "error", "cancel", "ping", "pong",
               "shutdown")
const MAX_ERROR_TEXT = 1 << 20                 # error message/traceback are cut to 1 MiB
const FRAME_FD_ENV = "OPEN_WORKER_FRAME_FD"
const THIS_MODULE = @__MODULE__
const USAGE = "usage: julia [--threads=2] open_worker.jl --allow MODULE [--allow MODULE ...] " *
              "[--max-frame BYTES] [--allow-attribute-paths] " *
              "[--shm-dir DIR [--shm-threshold BYTES]]"

# Limits every implementation enforces (issue 8). A header deeper or with longer numbers than
# this is a *bad value*: an error of that message only (see `parse_body`).
const MAX_BUFFERS = 65_536          # buffers in one frame (more: bad_buffers, a frame error)
const MAX_JSON_DEPTH = 512          # nesting of a header's JSON; the header object is level 1
const MAX_NUMBER_DIGITS = 4300      # digits of one JSON number literal (the sign not counted)
const BODY_CHUNK = 64 * 1024        # a body is read into max(this, 2 x bytes received) at most

# Arrays are mapped onto the frame's bytes as they are: that needs a little-endian machine
# (every platform Julia runs on today is one).
ENDIAN_BOM == 0x04030201 || error("OpenWorker needs a little-endian machine")

# The constants above are shared by the files below; each file's opening comment names the
# ones it relies on. The files are included in dependency order: each uses only what the
# files before it (and the constants above) define.
include("errors.jl")     # the worker's exceptions and their protocol `type` names
include("json.jl")       # strict JSON reader (with the value limits) and compact writer
include("frames.jl")     # the frame codec: reading, splitting and writing frames
include("shm.jl")        # shared-memory segments: mapping arguments, writing results
include("values.jl")     # the value codec: $nd/$bytes/$float/$map <-> Julia values
include("functions.jl")  # "module:name" against the allow list
include("runtime.jl")    # the worker: queue, executor, answers, cancellation, reader
include("main.jl")       # entry point: command line, load path, stdio, `main`

end # module OpenWorker
