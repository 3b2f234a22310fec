"""
Task functions for the integration tests of the Java host (open-ports) and of this worker:
the names and behaviour of `python-worker/test_tasks/open_test_tasks.py`, plus the spellings
`sleep_for` and `fail(message)`.

Start a worker with `JULIA_LOAD_PATH=julia-worker/tasks: julia --threads=2
julia-worker/open_worker.jl --allow TestTasks`.
"""
module TestTasks

# These names shadow Base functions inside this module. They are defined first, before
# anything here could refer to (and so bind) the Base versions, and without docstrings (a
# docstring looks the binding up); the rest of this module calls `Base.sleep`, ... explicitly.

# count(n): stream 0 .. n-1 from a `Channel` (a streamed answer: `chunk`s then `end`).
function count(n)
    m = Int(n)
    return Channel{Int}(0) do ch
        for i in 0:(m - 1)
            put!(ch, i)
        end
    end
end

# sleep(seconds): sleep, then return `seconds` (long calls, timeouts, cancellation, ping
# while busy).
function sleep(seconds)
    Base.sleep(Float64(seconds))
    return seconds
end

# identity(x): same as `echo`; kept as a separate name for readability of host tests.
identity(x) = x

# ------------------------------------------------------------------------------------------

const CALLS = Ref(0)
const HOG = Vector{Vector{UInt8}}()

"Return the argument unchanged (round trip of any value)."
echo(x) = x

add(a, b) = a + b

"`sleep(seconds)` under the name the Julia worker's brief uses."
sleep_for(seconds) = sleep(seconds)

"Exit the worker process at once with `code`, without an answer (like Python's `os._exit`)."
function crash(code)
    try
        flush(stderr)
    catch
    end
    ccall(:_exit, Cvoid, (Cint,), Cint(code))
end

"Send signal `sig` to the worker process itself (e.g. 9 for SIGKILL)."
function kill_self(sig)
    ccall(:kill, Cint, (Cint, Cint), getpid(), Cint(sig))
    Base.sleep(60)      # a signal that does not kill lets the call hang like a stuck task
    return nothing
end

"Throw `ErrorException(message)`."
fail(message) = error(string(message))

"""
    fail(type_name, message)

Throw the Base exception type named `type_name` (e.g. `"ArgumentError"`, `"ErrorException"`,
`"KeyError"`) built from `message`.
"""
function fail(type_name::AbstractString, message)
    sym = Symbol(type_name)
    T = isdefined(Base, sym) ? getfield(Base, sym) : nothing
    if T isa Type && T <: Exception
        ex = try
            T(string(message))
        catch
            nothing
        end
        ex isa Exception && throw(ex)
    end
    throw(ArgumentError("not a Base exception type taking a message: $(repr(type_name))"))
end

"Stream 0 .. n-1 from a generator (the other streamed shape)."
count_gen(n) = (i for i in 0:(Int(n) - 1))

function delayed(i, delay)
    Base.sleep(Float64(delay))
    return i
end

"Stream 0 .. n-1, sleeping `delay` seconds before each item."
slow_count(n, delay) = (delayed(i, delay) for i in 0:(Int(n) - 1))

"Stream 0 .. n-1, then fail: the answer is `chunk`s followed by an `error`."
function stream_then_fail(n)
    m = Int(n)
    return Channel{Int}(0) do ch
        for i in 0:(m - 1)
            put!(ch, i)
        end
        error("failed after $m items")
    end
end

"Sum of all elements (of a received array or a list of numbers)."
array_sum(a) = sum(a)

"`a * 2` as a new array of the same shape (a list of numbers gives a vector)."
array_double(a) = a isa AbstractArray ? map(x -> x * 2, a) : a * 2

function dtype_of(T)
    T === Float64 && return "<f8"
    T === Float32 && return "<f4"
    T === Int64 && return "<i8"
    T === Int32 && return "<i4"
    T === Int16 && return "<i2"
    T === Int8 && return "|i1"
    T === UInt64 && return "<u8"
    T === UInt32 && return "<u4"
    T === UInt16 && return "<u2"
    T === UInt8 && return "|u1"
    T === Bool && return "|b1"
    return string(T)
end

"How a received array lies in memory (the Julia counterpart of the Python `array_info`)."
function array_info(a)
    info = Dict{String,Any}(
        "dtype" => dtype_of(eltype(a)),
        "shape" => Any[size(a)...],
        "julia_type" => string(typeof(a)),
        "owns_data" => a isa Array,
    )
    dims = size(a)
    n = length(dims)
    f_strides = ntuple(i -> prod(dims[1:(i - 1)]; init = 1), n)
    c_strides = ntuple(i -> prod(dims[(i + 1):n]; init = 1), n)
    try
        st = strides(a)
        info["f_contiguous"] = st == f_strides
        info["c_contiguous"] = st == c_strides
    catch
        info["f_contiguous"] = nothing
        info["c_contiguous"] = nothing
    end
    try
        info["aligned_8"] = UInt(pointer(a)) % 8 == 0
    catch
        info["aligned_8"] = nothing
    end
    return info
end

"Write to stdout (println and raw descriptor 1, as C code would) and stderr; return `x`."
function noisy(x)
    println("noisy stdout: ", repr(x))
    flush(stdout)
    msg = "noisy fd1\n"
    ccall(:write, Cssize_t, (Cint, Ptr{UInt8}, Csize_t), 1, msg, sizeof(msg))
    println(stderr, "noisy stderr: ", repr(x))
    return x
end

"Allocate `megabytes` MiB (touched, so resident) and keep it; returns the MiB held."
function memory_hog(megabytes)
    push!(HOG, fill(0xa5, Int(megabytes) << 20))
    return sum(length, HOG) >> 20
end

pid() = Int(getpid())

"`n` zero bytes (a result as large as you like, e.g. over `--max-frame`)."
big_bytes(n) = zeros(UInt8, Int(n))

"`n` one-byte strings: a result of `n` buffers (the protocol allows 65,536 in one frame)."
byte_strings(n) = [UInt8[0x01] for _ in 1:Int(n)]

"`n` nested lists `[[...[]...]]` (a result's value may nest 511 deep: 512 levels in all)."
function nested(n)
    x = Any[]
    for _ in 2:Int(n)
        x = Any[x]
    end
    return x
end

# For the allow-list tests: a name defined here whose value is Base's `uppercase` (never
# callable: it is not defined in an allowed module), and a namedtuple of functions reached only
# with --allow-attribute-paths (`TestTasks:TOOLS.double` is defined here, `TOOLS.upper` is not).
const upper = Base.uppercase
const TOOLS = (double = x -> 2 * x, upper = Base.uppercase)

"How many times this function has been called in this process (this call included)."
calls_so_far() = (CALLS[] += 1)

"""
    emit(kind)

Write a bad frame straight to the frame stream, then hang (never returns normally):
`"garbage"` (a 16-byte body whose header length 0xffffffff is past its end), `"truncated"`
(a length prefix of 100 followed by 10 bytes), `"oversized"` (a length prefix of 2^31).
"""
function emit(kind::AbstractString)
    payload = if kind == "garbage"
        vcat(UInt8[0x00, 0x00, 0x00, 0x10], fill(0xff, 16))
    elseif kind == "truncated"
        vcat(UInt8[0x00, 0x00, 0x00, 0x64], zeros(UInt8, 10))
    elseif kind == "oversized"
        UInt8[0x80, 0x00, 0x00, 0x00]
    else
        throw(ArgumentError("unknown kind $(repr(kind))"))
    end
    fd = parse(Cint, ENV["OPEN_WORKER_FRAME_FD"])
    ccall(:write, Cssize_t, (Cint, Ptr{UInt8}, Csize_t), fd, payload, length(payload))
    while true
        Base.sleep(3600)
    end
end

"Busy loop for `seconds` (never waits: a cancel cannot interrupt it); returns the loop count."
function spin_for(seconds)
    deadline = time() + Float64(seconds)
    n = 0
    while time() < deadline
        n += 1
        GC.safepoint()
    end
    return n
end

worker_cancel_requested() =
    isdefined(Main, :OpenWorker) && Main.OpenWorker.cancel_requested()

"Like [`spin_for`](@ref), but polls the worker's cancel flag and stops when cancelled."
function cooperative_spin(seconds)
    deadline = time() + Float64(seconds)
    n = 0
    while time() < deadline
        worker_cancel_requested() && throw(InterruptException())
        n += 1
    end
    return n
end

# For the shared-memory tests (protocol section 8; python-worker/test_tasks/open_test_tasks.py
# has the same functions, `copy_array` being its `copy`).

const KEPT = Any[]

"Double the argument in place: a `ReadOnlyMemoryError` on an argument from a segment."
function scale_in_place(a)
    a .*= 2
    return a
end

"The second half of a vector: a view of the argument, not a copy."
tail_half(a) = view(a, (length(a) ÷ 2 + 1):length(a))

"A new dense `Array` equal to the argument."
copy_array(a) = Array(a)

"Hold on to an argument beyond its call, as a cache in a task module would."
function keep(a)
    push!(KEPT, a)
    return length(KEPT)
end

"The sums of the arrays held by [`keep`](@ref), to prove nothing overwrote them."
kept_checksum() = Any[Float64(sum(a)) for a in KEPT]

end # module TestTasks
