# The worker runtime (python-worker: open_worker/runtime.py): the call queue and the executor
# pinned to thread 2, executing calls and streaming results, sending answers and errors,
# cancellation, the reader loop on thread 1, `hello` and leaving the process.
#
# Relies on PROTOCOL_VERSION, WORKER_NAME, MAX_U32 and MAX_ERROR_TEXT (OpenWorker.jl), and on
# every file included before it: errors.jl (`error_type_name` and the exception types),
# frames.jl (`Frame`, `read_frame`, `frame_parts`), shm.jl (`SharedMemory`, `release!`,
# `finish_written!`, `host_gone`, `remove_directory`), values.jl (`decode_value`,
# `encode_value`) and functions.jl. `is_worker_frame` recognizes the worker's own stack frames
# by their file: OpenWorker.jl or any file in this directory. main.jl sets CURRENT_WORKER and
# fills KEEP_ALIVE.

# ------------------------------------------------------------------------------------------
# The worker runtime
# ------------------------------------------------------------------------------------------

# A well-framed message the worker cannot act on (a call without a valid id, a `result` sent
# to the worker, ...): like a malformed frame, it ends the worker with a fatal error.
struct FatalError <: Exception
    msg::String
end
Base.showerror(io::IO, e::FatalError) = print(io, e.msg)

const PHASE_IDLE = 0            # the executor runs worker code (decoding, writing frames, ...)
const PHASE_USER = 1            # the executor runs task code: it may be interrupted
const PHASE_INTERRUPTING = 2    # the reader is delivering an interrupt right now

struct CallRequest
    id::Int64
    header::Dict{String,Any}
    buffers::Vector{Any}
    failure::Union{Nothing,ProtocolError}   # set: answered with this error (a bad header value)
end
CallRequest(id::Int64, header::Dict{String,Any}, buffers::Vector{Any}) =
    CallRequest(id, header, buffers, nothing)

mutable struct Worker
    out::IO                         # the private frame stream (original stdout)
    inp::IO                         # the original stdin
    max_frame::Int
    allow::Vector{String}
    attribute_paths::Bool           # --allow-attribute-paths: "Module:obj.field" may be called
    write_lock::ReentrantLock       # one frame at a time
    state_lock::ReentrantLock       # guards `pending`, and the writes of the ids below
    pending::Set{Int64}             # queued calls that have not started
    queue::Channel{Any}             # CallRequests in arrival order
    @atomic running_id::Int64       # the running call, 0 when idle
    @atomic cancel_id::Int64        # the running call's id once the host cancelled it
    @atomic phase::Int
    exec_task::Union{Task,Nothing}
    exec_tid::Int                   # the thread the executor is pinned to
    shm::Union{Nothing,SharedMemory}  # --shm-dir: shared memory (used by the executor only)

    function Worker(out::IO, inp::IO, max_frame::Int, allow::Vector{String},
                    attribute_paths::Bool = false, shm::Union{Nothing,SharedMemory} = nothing)
        return new(out, inp, max_frame, allow, attribute_paths, ReentrantLock(), ReentrantLock(),
                   Set{Int64}(), Channel{Any}(Inf), 0, 0, PHASE_IDLE, nothing, 1, shm)
    end
end

const CURRENT_WORKER = Ref{Any}(nothing)
const KEEP_ALIVE = Ref{Any}(nothing)    # Julia's original stdio objects, never finalized

log_line(parts...) = (println(stderr, "open-julia-worker: ", parts...); nothing)

"""
    cancel_requested() -> Bool

Whether the host has cancelled the call running in this worker process. Task code that
computes for long without waiting on anything (a tight loop cannot be interrupted) may poll
it, e.g. `isdefined(Main, :OpenWorker) && Main.OpenWorker.cancel_requested()`.
"""
function cancel_requested()
    w = CURRENT_WORKER[]
    w isa Worker || return false
    id = @atomic w.running_id
    return id != 0 && (@atomic w.cancel_id) == id
end

is_cancelled(w::Worker, id::Int64) = (@atomic w.cancel_id) == id

# --- sending ------------------------------------------------------------------------------

# Encoding and size checks happen before the lock, so a failure there writes nothing.
# `--max-frame` limits the answers that carry values (result, chunk); the worker's own small
# frames (hello, pong, error, end) are never refused.
function send_frame(w::Worker, header::Dict{String,Any}, bufs::Vector{Any};
                    limit::Integer = MAX_U32)
    parts = frame_parts(header, bufs; limit = limit)
    lock(w.write_lock)
    try
        for p in parts
            write(w.out, p)
        end
        flush(w.out)
    finally
        unlock(w.write_lock)
    end
    return nothing
end

# With shared memory, large arrays go to segments; the segments written for a value that could
# not be sent are deleted.
function send_value(w::Worker, header::Dict{String,Any}, value)
    bufs = Any[]
    shm = w.shm
    if shm === nothing
        header["value"] = encode_value(value, bufs)
        send_frame(w, header, bufs; limit = w.max_frame)
        return nothing
    end
    sent = false
    try
        header["value"] = encode_value(value, bufs, shm)
        send_frame(w, header, bufs; limit = w.max_frame)
        sent = true
    finally
        finish_written!(shm, sent)
    end
    return nothing
end

function clean_text(s::AbstractString)
    str = String(s)
    if !isvalid(str)
        str = map(c -> isvalid(c) ? c : '\ufffd', str)
    end
    if ncodeunits(str) > MAX_ERROR_TEXT
        str = str[1:prevind(str, MAX_ERROR_TEXT + 1)] * "... (truncated)"
    end
    return str
end

function send_error(w::Worker, id::Integer, etype::AbstractString, message::AbstractString,
                    traceback::AbstractString; fatal::Bool = false)
    h = Dict{String,Any}("kind" => "error", "id" => id, "type" => clean_text(etype),
                         "message" => clean_text(message), "traceback" => clean_text(traceback))
    fatal && (h["fatal"] = true)
    send_frame(w, h, Any[])
    return nothing
end

# A failure inside a Channel's producer reaches the consumer as TaskFailedException: report
# the producer's own exception and stack.
function unwrap_task_failure(err, bt)
    for _ in 1:16
        err isa TaskFailedException || break
        t = err.task
        inner = try
            t.exception
        catch
            nothing
        end
        inner === nothing && break
        inner_bt = try
            t.backtrace
        catch
            nothing
        end
        err = inner
        inner_bt isa AbstractVector && (bt = inner_bt)
    end
    return err, bt
end

# The worker's own code is in OpenWorker.jl and the files it includes from this directory
# (`@__DIR__()`, the same absolute path `include` records as each frame's file).
is_worker_frame(fr) = endswith(string(fr.file), "OpenWorker.jl") ||
                      dirname(string(fr.file)) == @__DIR__() ||
                      occursin("invokelatest", string(fr.func))

"The task's stack, innermost first, without the worker's own frames below it."
function format_traceback(bt)
    bt === nothing && return ""
    try
        frames = stacktrace(bt)
        stop = findfirst(is_worker_frame, frames)
        if stop !== nothing && stop > 1
            frames = frames[1:(stop - 1)]
        end
        io = IOBuffer()
        for (i, fr) in enumerate(frames)
            if i > 100
                print(io, "\n ...")
                break
            end
            i > 1 && print(io, "\n")
            print(io, " [", i, "] ", fr)
        end
        return String(take!(io))
    catch
        return ""
    end
end

function send_call_error(w::Worker, id::Int64, err, bt)
    err, bt = unwrap_task_failure(err, bt)
    etype = error_type_name(err)
    message = try
        sprint(showerror, err)
    catch
        "<$(etype) with an unprintable message>"
    end
    # `showerror` often starts with the type ("ArgumentError: bad n"): the type is a field.
    prefix = string(nameof(typeof(err)), ": ")
    if startswith(message, prefix)
        message = message[(ncodeunits(prefix) + 1):end]
    end
    own = err isa Union{Cancelled,NotAllowed,ProtocolError}
    send_error(w, id, etype, message, own ? "" : format_traceback(bt))
    return nothing
end

# --- executing calls ----------------------------------------------------------------------

"""
The stream rule: a result is streamed (`chunk`* then `end`) when it is an `AbstractChannel`,
a `Base.Generator` (`(f(x) for x in xs)`, `Iterators.map`), or a lazy iterator from
`Base.Iterators` (`Iterators.filter`, `take`, `flatten`, `zip`, `enumerate`, ...). Every other
value is a single `result`: arrays, ranges, strings, tuples, dicts, sets, numbers.
"""
is_stream(x) = x isa AbstractChannel || x isa Base.Generator ||
               parentmodule(typeof(x)) === Base.Iterators

function close_quietly(x)
    if x isa AbstractChannel
        try
            close(x)
        catch
        end
    end
    return nothing
end

function enter_user!(w::Worker)
    @atomic w.phase = PHASE_USER
    return nothing
end

# Leave task code. Waits (without yielding) while the reader is in the middle of delivering an
# interrupt, so that no interrupt can ever be delivered once the worker writes frames.
function leave_user!(w::Worker)
    while true
        r = @atomicreplace w.phase PHASE_USER => PHASE_IDLE
        r.success && return nothing
        if r.old != PHASE_INTERRUPTING
            @atomic w.phase = PHASE_IDLE
            return nothing
        end
        ccall(:jl_cpu_pause, Cvoid, ())
        GC.safepoint()
    end
end

# One step of a stream. A Channel is drained with take! rather than iterate: iterate ends
# quietly on a closed channel, take! throws the producer's failure.
function next_item(it, state, started::Bool)
    if it isa Channel
        try
            return (take!(it), nothing)
        catch err
            (err isa InvalidStateException && err.state === :closed) && return nothing
            rethrow()
        end
    end
    return started ? iterate(it, state) : iterate(it)
end

function stream_result(w::Worker, id::Int64, it)
    seq = 0
    state = nothing
    started = false
    try
        while true
            is_cancelled(w, id) && throw(Cancelled("cancelled by the host"))
            nxt = nothing
            failure = nothing
            enter_user!(w)
            try
                nxt = next_item(it, state, started)
            catch err
                failure = (err, catch_backtrace())
            end
            leave_user!(w)
            started = true
            is_cancelled(w, id) && throw(Cancelled("cancelled by the host"))
            if failure !== nothing
                close_quietly(it)
                send_call_error(w, id, failure[1], failure[2])
                return nothing
            end
            nxt === nothing && break
            item, state = nxt
            send_value(w, Dict{String,Any}("kind" => "chunk", "id" => id, "seq" => seq), item)
            seq += 1
        end
    catch
        close_quietly(it)
        rethrow()
    end
    send_frame(w, Dict{String,Any}("kind" => "end", "id" => id, "count" => seq), Any[])
    return nothing
end

# Runs through invokelatest, after the module was loaded, so that the task's functions (and
# the iterate methods of what they return) are visible.
function execute_call(w::Worker, id::Int64, prep)
    f = resolve_function(prep.root, prep.modname, prep.attrs;
                         allow = w.allow, attribute_paths = w.attribute_paths)
    is_cancelled(w, id) && throw(Cancelled("cancelled by the host"))
    result = nothing
    failure = nothing
    enter_user!(w)
    try
        result = f(prep.args...; prep.kwargs...)
    catch err
        failure = (err, catch_backtrace())
    end
    leave_user!(w)
    if is_cancelled(w, id)
        close_quietly(result)
        throw(Cancelled("cancelled by the host"))
    end
    if failure !== nothing
        send_call_error(w, id, failure[1], failure[2])
        return nothing
    end
    if is_stream(result)
        stream_result(w, id, result)
    else
        send_value(w, Dict{String,Any}("kind" => "result", "id" => id), result)
    end
    return nothing
end

function prepare_call(w::Worker, req::CallRequest)
    req.failure === nothing || throw(req.failure)
    h = req.header
    fname = get(h, "function", nothing)
    fname isa String || throw(ProtocolError("bad_call", "call needs a string \"function\""))
    args_raw = get(h, "args", Any[])
    kwargs_raw = get(h, "kwargs", nothing)
    args_raw isa Vector{Any} || throw(ProtocolError("bad_call", "call \"args\" must be a list"))
    (kwargs_raw === nothing || kwargs_raw isa Dict{String,Any}) ||
        throw(ProtocolError("bad_call", "call \"kwargs\" must be an object"))
    modname, attrs = split_function(fname)
    # The allow list is checked on the name, before anything is loaded.
    is_allowed(w.allow, modname) ||
        throw(NotAllowed("module $(modname) is not allowed in this worker (see --allow)"))
    (length(attrs) == 1 || w.attribute_paths) || throw(NotAllowed(ATTRIBUTE_PATHS_REFUSED))
    args = Any[decode_value(v, req.buffers, w.shm) for v in args_raw]
    kwargs = Pair{Symbol,Any}[]
    if kwargs_raw !== nothing
        for (k, v) in kwargs_raw
            push!(kwargs, Symbol(k) => decode_value(v, req.buffers, w.shm))
        end
    end
    root = Base.require(Main, Symbol(first(split(modname, '.'))))
    return (root = root, modname = modname, attrs = attrs, args = args, kwargs = kwargs)
end

function run_call(w::Worker, req::CallRequest)
    id = req.id
    try
        prep = prepare_call(w, req)
        is_cancelled(w, id) && throw(Cancelled("cancelled by the host"))
        Base.invokelatest(execute_call, w, id, prep)
    catch err
        # In the latest world too, so that a task module's own `showerror` methods are used.
        Base.invokelatest(send_call_error, w, id, err, catch_backtrace())
    end
    return nothing
end

function begin_call!(w::Worker, id::Int64)
    lock(w.state_lock)
    try
        id in w.pending || return false         # cancelled while queued: already answered
        delete!(w.pending, id)
        @atomic w.cancel_id = 0
        @atomic w.running_id = id
        return true
    finally
        unlock(w.state_lock)
    end
end

function end_call!(w::Worker)
    lock(w.state_lock)
    try
        @atomic w.phase = PHASE_IDLE
        @atomic w.running_id = 0
        @atomic w.cancel_id = 0
    finally
        unlock(w.state_lock)
    end
    return nothing
end

function executor_loop(w::Worker)
    while true
        local req
        try
            req = take!(w.queue)
        catch err
            err isa InvalidStateException && return nothing
            err isa InterruptException ||
                log_line("executor: cannot take the next call: ", sprint(showerror, err))
            continue
        end
        req isa CallRequest || continue
        begin_call!(w, req.id) || continue
        try
            run_call(w, req)
        catch err
            # Only a failure to write the answer gets here (the host is gone, most likely).
            log_line("executor: call ", req.id, " could not be answered: ",
                     sprint(showerror, err))
        finally
            w.shm === nothing || release!(w.shm)    # the call's mappings, after its answer
            end_call!(w)
        end
    end
end

# The executor must not run on thread 1: only thread 1 runs libuv's event loop (outside
# threaded regions), so a call computing there would stop stdin from being read and pings
# from being answered. Prefer a thread of the default pool.
function pick_executor_thread()
    n = try
        Threads.maxthreadid()
    catch
        Threads.nthreads()
    end
    for tid in 2:n
        pool = try
            Threads.threadpool(tid)
        catch
            :default
        end
        pool === :default && return tid
    end
    return n >= 2 ? 2 : 1
end

function start_executor!(w::Worker)
    t = Task(() -> begin
        try
            executor_loop(w)
        catch err
            log_line("executor stopped: ", sprint(showerror, err))
        end
    end)
    tid = pick_executor_thread()
    if tid > 1
        t.sticky = true
        ok = try
            ccall(:jl_set_task_tid, Cint, (Any, Cint), t, tid - 1)
        catch
            Cint(0)
        end
        ok == 1 || (tid = 1)
    end
    w.exec_task = t
    w.exec_tid = tid
    if tid == 1
        log_line("only one thread: calls run on the thread that reads stdin, so a ping is ",
                 "answered only when a call yields; start julia with --threads=2 ",
                 "(or JULIA_NUM_THREADS=2)")
    end
    schedule(t)
    return t
end

# --- cancellation -------------------------------------------------------------------------

# Whether the task is parked in a wait (a Condition, a Timer, I/O, a lock): only then may an
# exception be thrown into it (doing so to a running task would deliver it later, anywhere).
function task_is_waiting(t::Task)
    t.queue !== nothing && return true
    if hasfield(Task, :waiting_on)              # newer Julia versions
        return getfield(t, :waiting_on, :monotonic) !== nothing
    end
    return false
end

# Called by the reader only. Never yields while the phase is INTERRUPTING.
function try_interrupt!(w::Worker)
    t = w.exec_task
    t === nothing && return false
    exc = InterruptException()
    r = @atomicreplace w.phase PHASE_USER => PHASE_INTERRUPTING
    r.success || return false
    delivered = false
    failure = nothing
    try
        if !istaskdone(t) && task_is_waiting(t)
            schedule(t, exc; error = true)
            delivered = true
        end
    catch err
        failure = err
    finally
        @atomic w.phase = PHASE_USER
    end
    failure === nothing ||
        log_line("could not interrupt the running call: ", sprint(showerror, failure))
    return delivered
end

# A call that computes without waiting cannot be interrupted; keep trying for a while in case
# it waits later (sleep, I/O, a lock, a Channel).
function start_interrupt_retries(w::Worker, id::Int64)
    @async begin
        try
            for _ in 1:600
                sleep(0.05)
                (@atomic w.running_id) == id || break
                try_interrupt!(w) && break
            end
        catch err
            log_line("interrupt retries stopped: ", sprint(showerror, err))
        end
    end
    return nothing
end

function handle_cancel(w::Worker, id::Int64)
    dropped = false
    running = false
    lock(w.state_lock)
    try
        if id in w.pending
            delete!(w.pending, id)
            dropped = true
        elseif (@atomic w.running_id) == id
            @atomic w.cancel_id = id
            running = true
        end
    finally
        unlock(w.state_lock)
    end
    if dropped
        send_error(w, id, "Cancelled", "cancelled before it started", "")
    elseif running
        try_interrupt!(w) || start_interrupt_retries(w, id)
    end
    return nothing
end

# --- the reader ---------------------------------------------------------------------------

function message_id(h::Dict{String,Any}, kind::String)
    v = get(h, "id", nothing)
    (v isa Int64 && v > 0) ||
        throw(FatalError("$kind needs a positive integer \"id\", got $(repr(v))"))
    return v
end

function handle_call(w::Worker, frame::Frame)
    id = message_id(frame.header, "call")
    enqueue_call!(w, CallRequest(id, frame.header, frame.buffers))
    return nothing
end

function enqueue_call!(w::Worker, req::CallRequest)
    id = req.id
    duplicate = false
    lock(w.state_lock)
    try
        if id in w.pending
            duplicate = true
        else
            push!(w.pending, id)
        end
    finally
        unlock(w.state_lock)
    end
    duplicate && throw(FatalError("call id $id is already queued"))
    put!(w.queue, req)
    return nothing
end

"Current resident memory in bytes (VmRSS); peak RSS (`Sys.maxrss`) where /proc is missing."
function current_rss()
    try
        for line in split(read("/proc/self/status", String), '\n')
            if startswith(line, "VmRSS:")
                fields = split(line)
                kb = length(fields) >= 2 ? tryparse(Int, fields[2]) : nothing
                kb === nothing || return kb * 1024
                break
            end
        end
    catch
    end
    try
        return Int(Sys.maxrss())
    catch
        return nothing
    end
end

function handle_ping(w::Worker, h::Dict{String,Any})
    v = get(h, "id", nothing)
    (v isa Integer && !(v isa Bool)) ||
        throw(FatalError("ping needs an integer \"id\", got $(repr(v))"))
    pong = Dict{String,Any}("kind" => "pong", "id" => v, "busy" => (@atomic w.running_id) != 0)
    rss = current_rss()
    rss === nothing || (pong["rss"] = rss)
    send_frame(w, pong, Any[])
    return nothing
end

function fatal!(w::Worker, message::AbstractString)
    try
        send_error(w, 0, "ProtocolError", message, ""; fatal = true)
    catch err
        log_line("could not send the fatal error: ", sprint(showerror, err))
    end
    log_line("fatal protocol error: ", message)
    return 3
end

"Read and dispatch frames until end-of-file, `shutdown` or a fatal error; returns the status."
function serve(w::Worker)
    while true
        local frame
        bad_call = nothing
        try
            frame = read_frame(w.inp, w.max_frame)
        catch err
            if err isa ProtocolError && err.code == "bad_value" && err.call_id > 0
                bad_call = err      # a call whose header breaks a value limit (issue 8)
            elseif err isa ProtocolError
                return fatal!(w, sprint(showerror, err))
            else
                return fatal!(w, "cannot read frames: " * sprint(showerror, err))
            end
        end
        if bad_call !== nothing
            # Queued like any call (in order, duplicate ids refused, cancel works); the
            # executor answers it with this error, type ProtocolError.
            try
                req = CallRequest(bad_call.call_id, Dict{String,Any}(), Any[], bad_call)
                enqueue_call!(w, req)
            catch err
                err isa FatalError && return fatal!(w, err.msg)
                return fatal!(w, "internal error in the reader: " * sprint(showerror, err))
            end
            continue
        end
        frame === nothing && return end_of_input(w)
        kind = frame.header["kind"]::String
        try
            if kind == "call"
                handle_call(w, frame)
            elseif kind == "cancel"
                handle_cancel(w, message_id(frame.header, "cancel"))
            elseif kind == "ping"
                handle_ping(w, frame.header)
            elseif kind == "shutdown"
                return 0
            else
                throw(FatalError("a worker does not accept \"$kind\" messages"))
            end
        catch err
            err isa FatalError && return fatal!(w, err.msg)
            # The frame stream is gone (EPIPE): so is the host, as at end-of-file.
            (err isa Base.IOError || err isa SystemError) && return 0
            return fatal!(w, "internal error in the reader: " * sprint(showerror, err))
        end
    end
end

# End of the frame input without a `shutdown`: if the host died (it could not send one), the
# worker deletes the shared-memory directory, which nobody else will (protocol section 8).
function end_of_input(w::Worker)
    shm = w.shm
    if shm !== nothing && host_gone(shm)
        try
            remove_directory(shm)
        catch err
            log_line("could not remove ", shm.dir, ": ", sprint(showerror, err))
        end
    end
    return 0
end

function hello_header(shm::Bool = false)
    capabilities = Any["stream", "cancel"]
    shm && push!(capabilities, "shm")
    return Dict{String,Any}(
        "kind" => "hello", "protocol" => PROTOCOL_VERSION, "language" => "julia",
        "version" => string(VERSION), "pid" => Int(getpid()), "worker" => WORKER_NAME,
        "capabilities" => capabilities)
end

# Leave without cutting a frame in half (bounded wait for the frame lock, which is then kept).
# A running call is abandoned: `_exit` then, because `exit` may wait on the busy thread.
function finish!(w::Worker, status::Int)
    busy = (@atomic w.running_id) != 0
    deadline = time() + 5.0
    while !trylock(w.write_lock)
        time() > deadline && break
        sleep(0.01)
    end
    try
        flush(w.out)
    catch
    end
    try
        flush(stderr)
    catch
    end
    busy && ccall(:_exit, Cvoid, (Cint,), status)
    exit(status)
end
