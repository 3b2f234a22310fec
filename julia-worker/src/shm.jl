# Shared-memory segments (protocol section 8, capability "shm"; python-worker:
# open_worker/shm.py). The host starts the worker with `--shm-dir DIR --shm-threshold BYTES`;
# `DIR` is a directory of the host's pool on a memory file system, and every segment is a file
# in it, named by whoever made it:
#
# - the host's segments (`h...`, `s...`) carry call arguments. The worker maps the part an
#   argument names READ-ONLY (libc `mmap`, PROT_READ, MAP_SHARED: what the Mmap stdlib does,
#   without loading it), so the array a task receives is a view of the host's bytes. Writing
#   into it is a fault that Julia's signal handler turns into a `ReadOnlyMemoryError` where it
#   can tell a write fault (Linux x86-64 and AArch64, macOS); elsewhere it would crash the
#   worker. A task that wants to change an argument copies it first (`copy(a)`, `Array(a)`).
# - the worker's own segments (`w<pid>-<n>`) carry large results: the result's bytes are
#   written into a new file (mode 0600, created exclusively) that the host takes over when it
#   reads the answer; the worker keeps no mapping or descriptor of it.
#
# A result that *is* (a contiguous part of) an argument mapped for the running call is not
# copied: the answer names that segment and offset.
#
# Files are opened with O_NOFOLLOW | O_NONBLOCK (no symbolic links, no waiting on a FIFO) and
# must be regular files long enough for what they are said to hold; otherwise the value is bad
# (an error of that call). A result whose write fails (ENOSPC: a small /dev/shm) goes inline.
# When the host dies (the frame input ends without a `shutdown` and the parent process is
# gone), the worker deletes `DIR` before it exits (runtime.jl: `end_of_input`).
#
# A mapping is unmapped by a finalizer once no array refers to it any more; after each call the
# worker drops its own references (`release!`), and a task that kept an argument keeps its
# mapping alive (the host never writes an argument's file again).
#
# Relies on `ProtocolError` (errors.jl).

const DEFAULT_SHM_THRESHOLD = 1 << 20
const SEGMENT_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z"   # no '/', no leading dot
const PROT_READ = Cint(1)               # <sys/mman.h>: the same values on Linux and macOS
const MAP_SHARED = Cint(1)
const EINTR = 4                         # <errno.h>: the same on Linux and macOS
const SIGXFSZ = Cint(25)                # <signal.h>: the same on Linux and macOS
const SHM_GC_BYTES = 64 << 20           # mapped since the last collection: collect after a call

"The shared-memory side of one worker: maps argument segments, writes result segments."
mutable struct SharedMemory
    dir::String                         # absolute path of --shm-dir
    threshold::Int                      # results of at least this many bytes go to a segment
    host_pid::Int                       # the parent process when the worker started
    counter::Int                        # n of the next "w<pid>-<n>"
    mapped::Dict{String,Tuple{Vector{UInt8},Int}}  # the running call's: name => (bytes, length)
    written::Vector{String}             # segments written for the value being sent
    unswept::Int                        # bytes mapped since the last garbage collection
end

function SharedMemory(dir::AbstractString, threshold::Integer = DEFAULT_SHM_THRESHOLD)
    threshold >= 1 || throw(ArgumentError("--shm-threshold must be at least 1, got $threshold"))
    return SharedMemory(check_shm_dir(dir), Int(threshold), parent_pid(), 0,
                        Dict{String,Tuple{Vector{UInt8},Int}}(), String[], 0)
end

"`dir` as an absolute path if it is a directory this worker can write, else an ArgumentError."
function check_shm_dir(dir::AbstractString)
    ok = !isempty(dir) && isdir(dir) &&
         ccall(:access, Cint, (Cstring, Cint), dir, 2 | 1) == 0      # W_OK | X_OK
    ok || throw(ArgumentError("--shm-dir $(repr(String(dir))) is not a directory this " *
                              "worker can write"))
    return abspath(dir)
end

parent_pid() = Int(ccall(:getppid, Cint, ()))

# The JL_O_* constants are read when used (not at load time): a Julia without one of them fails
# only when shared memory is used.
segment_open_flags() = Base.Filesystem.JL_O_NOFOLLOW | Base.Filesystem.JL_O_NONBLOCK |
                       Base.Filesystem.JL_O_CLOEXEC

"""
Ignore SIGXFSZ (as Python does), so that a file-size limit (`ulimit -f`) makes writing a
result segment fail with EFBIG, and the result go inline, instead of killing the worker.
"""
function ignore_file_size_signal()
    (Sys.islinux() || Sys.isapple()) || return nothing
    ccall(:signal, Ptr{Cvoid}, (Cint, Ptr{Cvoid}), SIGXFSZ, Ptr{Cvoid}(1))      # SIG_IGN
    return nothing
end

shm_bad_value(msg::AbstractString) = throw(ProtocolError("bad_value", msg))

# ------------------------------------------------------------------------------------------
# Arguments
# ------------------------------------------------------------------------------------------

"""
    segment_view(shm, name, offset, nbytes) -> AbstractVector{UInt8}

A read-only view of `nbytes` at `offset` of segment `name` (a mapping of the running call);
a `bad_value` ProtocolError if it cannot be one.
"""
function segment_view(shm::SharedMemory, name, offset, nbytes::Int)
    (name isa String && occursin(SEGMENT_NAME, name)) ||
        shm_bad_value("segment name $(repr(name)) is not a plain file name")
    (offset isa Int64 && offset >= 0) ||
        shm_bad_value("segment offset must be a non-negative integer, not $(repr(offset))")
    nbytes == 0 && return UInt8[]
    offset > typemax(Int) - nbytes && shm_bad_value("segment offset $offset is too large")
    need = offset + nbytes
    entry = get(shm.mapped, name, nothing)
    if entry === nothing || entry[2] < need
        entry = map_segment(shm, name, need)     # a longer part: the old mapping lives on in
        shm.mapped[name] = entry                 # the arrays made from it
    end
    return view(entry[1], (offset + 1):need)
end

function map_segment(shm::SharedMemory, name::String, len::Int)
    path = joinpath(shm.dir, name)
    flags = Base.Filesystem.JL_O_RDONLY | segment_open_flags()
    fd = @ccall open(path::Cstring, flags::Cint; 0::Cint)::Cint
    if fd < 0
        problem = Libc.strerror(Libc.errno())
        shm_bad_value("cannot open segment $(repr(name)): $problem")
    end
    local ptr::Ptr{Cvoid}
    try
        st = stat(RawFD(fd))
        isfile(st) || shm_bad_value("segment $(repr(name)) is not a regular file")
        have = filesize(st)
        have < len && shm_bad_value("segment $(repr(name)) has $have bytes, the value needs $len")
        ptr = @ccall mmap(C_NULL::Ptr{Cvoid}, len::Csize_t, PROT_READ::Cint, MAP_SHARED::Cint,
                          fd::Cint, 0::Int)::Ptr{Cvoid}                 # offset: off_t
        reinterpret(Int, ptr) == -1 && systemerror("mmap of segment $(repr(name))")
    finally
        ccall(:close, Cint, (Cint,), fd)
    end
    addr = ptr
    bytes = unsafe_wrap(Array, Ptr{UInt8}(addr), len; own = false)
    finalizer(bytes) do _
        ccall(:munmap, Cint, (Ptr{Cvoid}, Csize_t), addr, len)
    end
    shm.unswept += len
    return (bytes, len)
end

"""
    release!(shm)

Let go of the running call's mappings (after its answer). A mapping is unmapped by a
finalizer, at a garbage collection after no array refers to it any more; never while a task
keeps an array made from it. Julia's collector does not count mapped memory, so a full
collection runs once $(SHM_GC_BYTES >> 20) MiB were mapped since the last one: the host deletes
an argument's file when its call ends, and its pages stay in memory (and count against a small
/dev/shm) until they are unmapped.
"""
function release!(shm::SharedMemory)
    empty!(shm.mapped)
    if shm.unswept >= SHM_GC_BYTES
        shm.unswept = 0
        GC.gc()
    end
    return nothing
end

# ------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------

# "F" or "C" if an array of size `dims` with strides `st` is dense in that order (dimensions
# of length 1 have any stride), else `nothing`.
function dense_order(dims::Tuple, st::Tuple)
    f = true
    expect = 1
    for k in 1:length(dims)
        (dims[k] == 1 || st[k] == expect) || (f = false)
        expect *= dims[k]
    end
    f && return "F"
    expect = 1
    for k in length(dims):-1:1
        (dims[k] == 1 || st[k] == expect) || return nothing
        expect *= dims[k]
    end
    return "C"
end

"""
    locate(shm, a) -> (name, offset, order) or nothing

The segment, offset and order ("F" or "C") of an array whose elements lie densely inside a
segment mapped for the running call (the task returned an argument, or a contiguous part of
it), or `nothing`.
"""
function locate(shm::SharedMemory, a::AbstractArray{T}) where {T}
    isempty(shm.mapped) && return nothing
    order = nothing
    start = UInt(0)
    try
        order = dense_order(size(a), strides(a))
        start = UInt(pointer(a))
    catch
        return nothing          # not a strided array: never in a segment
    end
    order === nothing && return nothing
    stop = start + UInt(length(a) * sizeof(T))
    for (name, (bytes, len)) in shm.mapped
        base = UInt(pointer(bytes))
        if base <= start && stop <= base + UInt(len)
            offset = Int(start - base)
            offset % sizeof(T) == 0 || return nothing   # the protocol needs aligned offsets
            return (name, offset, order)
        end
    end
    return nothing
end

"""
    write_segment(shm, dense::Array) -> name or nothing

Write a dense array's bytes to a new segment `w<pid>-<n>` (created exclusively, mode 0600) and
return its name; `nothing` (and no file left behind) when it cannot be created or written
(ENOSPC, EFBIG, ...): the caller sends the array inline.
"""
function write_segment(shm::SharedMemory, dense::Array)
    name = string("w", getpid(), "-", shm.counter)
    shm.counter += 1
    path = joinpath(shm.dir, name)
    flags = Base.Filesystem.JL_O_WRONLY | Base.Filesystem.JL_O_CREAT |
            Base.Filesystem.JL_O_EXCL | segment_open_flags()
    fd = @ccall open(path::Cstring, flags::Cint; 0o600::Cint)::Cint
    fd < 0 && return nothing
    ok = false
    try
        ok = GC.@preserve dense write_all(fd, Ptr{UInt8}(pointer(dense)), sizeof(dense))
    finally
        ccall(:close, Cint, (Cint,), fd)
        ok || rm(path; force = true)
    end
    ok || return nothing
    push!(shm.written, name)
    return name
end

function write_all(fd::Cint, p::Ptr{UInt8}, n::Int)
    done = 0
    while done < n
        r = ccall(:write, Cssize_t, (Cint, Ptr{UInt8}, Csize_t), fd, p + done, n - done)
        if r < 0
            Libc.errno() == EINTR && continue
            return false
        end
        done += r
    end
    return true
end

"The `\$nd` body of an array held in a segment."
segment_nd(name::String, offset::Int, dtype::String, dims::Tuple, order::String) =
    Dict{String,Any}("segment" => Dict{String,Any}("name" => name, "offset" => offset),
                     "dtype" => dtype, "shape" => Any[dims...], "order" => order)

"""
    finish_written!(shm, sent::Bool)

After an answer was sent (`sent`) the host owns the segments written for it; when encoding or
sending failed they are deleted (nobody will ever name them).
"""
function finish_written!(shm::SharedMemory, sent::Bool)
    if !sent
        for name in shm.written
            rm(joinpath(shm.dir, name); force = true)
        end
    end
    empty!(shm.written)
    return nothing
end

# The shared memory of the answer being encoded (set only by `encode_value(x, buffers, shm)`,
# which the executor calls; read by `encode_array`).
const RESULT_SHM = Ref{Union{Nothing,SharedMemory}}(nothing)

# ------------------------------------------------------------------------------------------
# Host death
# ------------------------------------------------------------------------------------------

"""
    host_gone(shm; timeout = 2.0) -> Bool

Whether the host process has died: the parent process changed (the worker was re-parented),
or `/proc/<pid>/stat` says it is a zombie (Z, X) or is missing. Waits up to `timeout` seconds
for it to be gone: the frame pipe closes while the host exits, a moment before it is a zombie
or reaped. Without /proc (macOS) only the change of parent counts.
"""
function host_gone(shm::SharedMemory; timeout::Real = 2.0)
    deadline = time() + timeout
    while true
        (parent_pid() != shm.host_pid || process_dead(shm.host_pid)) && return true
        time() >= deadline && return false
        sleep(0.01)
    end
end

function process_dead(pid::Int)
    isdir("/proc/self") || return false
    bytes = try
        read("/proc/$pid/stat")
    catch
        return true
    end
    close_paren = findlast(==(UInt8(')')), bytes)
    close_paren === nothing && return true
    fields = split(String(bytes[(close_paren + 1):end]))
    isempty(fields) && return true
    return fields[1] == "Z" || fields[1] == "X"
end

"Delete the pool's directory (the host died: nobody else will)."
remove_directory(shm::SharedMemory) = rm(shm.dir; recursive = true, force = true)
