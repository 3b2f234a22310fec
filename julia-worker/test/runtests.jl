# Tests of the OPEN Julia worker (Base + the Test stdlib only).
#
#     julia --project=julia-worker julia-worker/test/runtests.jl
#
# - JSON reader/writer, frame codec and value codec, in process;
# - every conformance vector of docs/protocol-vectors.json (protocol sections 7 and 8);
# - shared-memory segments (protocol section 8), in process;
# - the example task modules, in process;
# - end to end: real worker processes (`open_worker.jl`) spoken to over pipes.

using Test

const WORKER_DIR = normpath(joinpath(@__DIR__, ".."))
const TASKS_DIR = joinpath(WORKER_DIR, "tasks")
const WORKER_SCRIPT = joinpath(WORKER_DIR, "open_worker.jl")
const VECTORS_PATH = joinpath(@__DIR__, "..", "..", "docs", "protocol-vectors.json")

include(joinpath(WORKER_DIR, "src", "OpenWorker.jl"))
include(joinpath(TASKS_DIR, "OdeTasks.jl"))
include(joinpath(TASKS_DIR, "OptimTasks.jl"))
include(joinpath(TASKS_DIR, "StatsTasks.jl"))
include(joinpath(TASKS_DIR, "TestTasks.jl"))

const OW = OpenWorker

struct MyTestError <: Exception end

# A package with a submodule that defines `solve`, re-exported by its root and by `Api`.
module AllowPkg
module Impl
solve(x) = x + 1
end
using .Impl: solve
module Api
using ..Impl: solve
end
end

# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------

"Strict equality of parsed JSON: integers and floats are different kinds."
function json_equal(a, b)
    if a isa AbstractDict
        b isa AbstractDict || return false
        length(a) == length(b) || return false
        for (k, v) in a
            haskey(b, k) || return false
            json_equal(v, b[k]) || return false
        end
        return true
    elseif a isa AbstractVector
        b isa AbstractVector || return false
        length(a) == length(b) || return false
        for (x, y) in zip(a, b)
            json_equal(x, y) || return false
        end
        return true
    elseif a isa Bool || b isa Bool
        return a isa Bool && b isa Bool && a == b
    elseif a isa Integer || b isa Integer
        return a isa Integer && b isa Integer && a == b
    elseif a isa AbstractFloat || b isa AbstractFloat
        return a isa AbstractFloat && b isa AbstractFloat && isequal(a, b)
    end
    return isequal(a, b)
end

function float_from(s::AbstractString, ::Type{T} = Float64) where {T<:AbstractFloat}
    s == "nan" && return T(NaN)
    s == "inf" && return T(Inf)
    s == "-inf" && return T(-Inf)
    return parse(T, s)
end

function element_from(::Type{T}, s::AbstractString) where {T}
    T === Bool && return s == "1" || lowercase(s) == "true"
    T <: AbstractFloat && return float_from(s, T)
    return parse(T, s)
end

"Whether a decoded array matches a neutral `ndarray` meaning (logically, whatever its order)."
function ndarray_matches(x, spec)
    x isa AbstractArray || return false
    x isa Vector{UInt8} && return false         # that is $bytes, not an array
    T = OW.DTYPE_KINDS[spec["dtype"][2:3]]
    eltype(x) === T || return false
    shape = Int[d for d in spec["shape"]]
    size(x) == Tuple(shape) || return false
    data = T[element_from(T, s) for s in spec["data"]]
    order = get(spec, "order", "C")
    expected = if isempty(shape)
        fill(data[1])
    elseif order == "F" || length(shape) == 1
        reshape(data, Tuple(shape))
    else
        permutedims(reshape(data, Tuple(reverse(shape))), Tuple(length(shape):-1:1))
    end
    for (a, b) in zip(x, expected)
        isequal(a, b) || return false
    end
    return true
end

"""
How many lists `x` is, each the only element of the one around it and the innermost empty
(a loop, not a recursion); -1 when `x` is not of that shape.
"""
function nested_depth(x)
    n = 0
    while x isa Vector{Any}
        n += 1
        isempty(x) && return n
        length(x) == 1 || return -1
        x = x[1]
    end
    return -1
end

"Whether a decoded value has the neutral meaning of protocol section 7."
function meaning_matches(x, m)
    k = only(keys(m))
    v = m[k]
    if k == "nested_lists"
        return nested_depth(x) == v
    elseif k == "int"
        return x isa Integer && !(x isa Bool) && string(x) == v
    elseif k == "float"
        return x isa AbstractFloat && isequal(Float64(x), float_from(v))
    elseif k == "str"
        return x isa AbstractString && x == v
    elseif k == "bool"
        return x isa Bool && x == v
    elseif k == "null"
        return x === nothing
    elseif k == "list"
        x isa Vector{Any} || return false
        length(x) == length(v) || return false
        for (a, b) in zip(x, v)
            meaning_matches(a, b) || return false
        end
        return true
    elseif k == "map"
        x isa AbstractDict || return false
        length(x) == length(v) || return false
        for pair in v
            key = pair[1]
            (haskey(x, key) && meaning_matches(x[key], pair[2])) || return false
        end
        return true
    elseif k == "bytes"
        return x isa Vector{UInt8} && bytes2hex(x) == lowercase(v)
    elseif k == "ndarray"
        return ndarray_matches(x, v)
    end
    return false
end

"Encode a value, frame it, decode the frame and the value again."
function roundtrip(x)
    bufs = Any[]
    wire = OW.encode_value(x, bufs)
    bytes = OW.encode_frame(Dict{String,Any}("kind" => "result", "id" => 1, "value" => wire), bufs)
    frame = OW.decode_frame(bytes)
    return OW.decode_value(frame.header["value"], frame.buffers)
end

without_buffers(h::AbstractDict) = filter(p -> p.first != "buffers", h)

nd(buffer, dtype, shape, order) = Dict{String,Any}("\$nd" => Dict{String,Any}(
    "buffer" => buffer, "dtype" => dtype, "shape" => Any[shape...], "order" => order))

"A whole frame (length prefix included) whose header is exactly `header` (any text) + `tail`."
function raw_frame(header::AbstractString, tail::Vector{UInt8} = UInt8[])
    h = Vector{UInt8}(codeunits(String(header)))
    io = IOBuffer()
    write(io, hton(UInt32(4 + length(h) + length(tail))))
    write(io, hton(UInt32(length(h))))
    write(io, h)
    write(io, tail)
    return take!(io)
end

"The exception `decode_frame(bytes)` throws, or `nothing`."
function decode_error(bytes::Vector{UInt8})
    try
        OW.decode_frame(bytes)
    catch e
        return e
    end
    return nothing
end

"The exception `f()` throws, or `nothing`."
function error_of(f)
    try
        f()
    catch e
        return e
    end
    return nothing
end

"""
A whole frame whose header holds `text` (JSON text, spelled as is) as the value of a result, at
level 2: `{"kind":"result","id":1,"value":TEXT}`, plus `"buffers":[sizes]` and the buffers, each
at a body offset that is a multiple of 8, when there are any.
"""
function value_frame(text::AbstractString, bufs::Vector{Vector{UInt8}})
    header = "{\"kind\":\"result\",\"id\":1,\"value\":" * text
    if !isempty(bufs)
        header *= ",\"buffers\":[" * join([string(length(b)) for b in bufs], ",") * "]"
    end
    header *= "}"
    tail = UInt8[]
    for b in bufs
        append!(tail, zeros(UInt8, OW.pad_to(4 + ncodeunits(header) + length(tail))))
        append!(tail, b)
    end
    return raw_frame(header, tail)
end

"""
A value vector's value as it travels: its JSON text (`header_value_json` as is, or
`header_value` written back as JSON) placed in a result header by [`value_frame`](@ref), the
frame decoded by the worker's own parser (`decode_frame` -> `parse_body`, so the protocol's
limits apply), then its value decoded. A bad value throws a `ProtocolError` with code
`"bad_value"`, whether `parse_body` recovered it from a header it could not read or
`decode_value` refused the value.
"""
function decode_in_header(v::AbstractDict)
    bufs = Vector{UInt8}[hex2bytes(h) for h in v["buffers"]]
    if haskey(v, "header_value_json")
        text = String(v["header_value_json"])
    else
        text = OW.json_string(v["header_value"])
    end
    frame = OW.decode_frame(value_frame(text, bufs))
    return OW.decode_value(frame.header["value"], frame.buffers)
end

"`n` nested lists (levels 2 .. n + 1 as a result's value); the innermost holds `leaf`, if any."
function deep_list(n::Int, leaf = nothing)
    x = leaf === nothing ? Any[] : Any[leaf]
    for _ in 2:n
        x = Any[x]
    end
    return x
end

"A call header (JSON text) whose args list is `args_text`, spelled as is."
call_text(id, args_text) =
    "{\"kind\":\"call\",\"id\":$id,\"function\":\"TestTasks:echo\",\"args\":[$args_text]}"

"An `\$nd` held in shared-memory segment `name` at `offset` (protocol section 8)."
seg_arg(name, dtype, shape, order = "C"; offset = 0) =
    Dict{String,Any}("\$nd" => Dict{String,Any}(
        "segment" => Dict{String,Any}("name" => name, "offset" => offset),
        "dtype" => dtype, "shape" => Any[shape...], "order" => order))

"The message of the `bad_value` ProtocolError that `f()` throws, or \"\" if it throws none."
function bad_value_message(f)
    err = error_of(f)
    return err isa OW.ProtocolError && err.code == "bad_value" ? err.msg : ""
end

"An element's bits as an unsigned integer (NaN payloads and -0.0 included)."
bits_of(x) = reinterpret(sizeof(x) == 8 ? UInt64 : sizeof(x) == 4 ? UInt32 :
                         sizeof(x) == 2 ? UInt16 : UInt8, x)

"Whether two arrays have the same element type, size and elements, bit for bit."
same_bits(a, b) = eltype(a) === eltype(b) && size(a) == size(b) &&
                  all(bits_of(x) == bits_of(y) for (x, y) in zip(a, b))

# Whether writing into a read-only mapping is an error Julia can throw (`ReadOnlyMemoryError`:
# its signal handler tells write faults apart on these platforms) rather than a crash.
const WRITE_FAULT_IS_ERROR = (Sys.islinux() && Sys.ARCH in (:x86_64, :aarch64)) || Sys.isapple()

# ------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------

@testset "JSON reader" begin
    @test json_equal(OW.json_parse("{\"a\":1,\"b\":[true,false,null],\"c\":\"x\",\"d\":{}}"),
                     Dict{String,Any}("a" => 1, "b" => Any[true, false, nothing], "c" => "x",
                                      "d" => Dict{String,Any}()))
    @test OW.json_parse(" \t\n\r[ ] \n") == Any[]
    @test OW.json_parse("1") === 1
    @test OW.json_parse("-0") === 0
    @test OW.json_parse("9223372036854775807") === typemax(Int64)
    @test OW.json_parse("-9223372036854775808") === typemin(Int64)
    @test OW.json_parse("9223372036854775808") === Int128(2)^63
    @test OW.json_parse("-9223372036854775809") === -Int128(2)^63 - Int128(1)
    big_text = "1" * "0"^40
    @test OW.json_parse(big_text) isa BigInt
    @test OW.json_parse(big_text) == big(10)^40
    @test OW.json_parse("1.5") === 1.5
    @test OW.json_parse("2.0") === 2.0
    @test OW.json_parse("1E2") === 100.0
    @test OW.json_parse("1e-300") === 1.0e-300
    @test OW.json_parse("-0.0") === -0.0
    @test OW.json_parse("1e-400") === 0.0                 # an underflow is zero, not an error
    # escapes: \" \\ \/ \b \f \n \r \t
    @test OW.json_parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"") == "\"\\/\b\f\n\r\t"
    @test OW.json_parse("\"\\u00e9\\u2713\"") == "\u00e9\u2713"
    @test OW.json_parse("\"\\ud83d\\ude00 \\uD834\\uDD1E\"") == "\U1F600 \U1D11E"
    @test OW.json_parse("\"\\u0000\"") == "\0"
    @test OW.json_parse("\"h\u00e9llo \U1F600\"") == "h\u00e9llo \U1F600"   # raw UTF-8
    deep = "["^500 * "]"^500
    @test OW.json_parse(deep) isa Vector{Any}
    bad = ["", " ", "{", "}", "[", "[1,]", "[1 2]", "{\"a\":1,}", "{\"a\" 1}", "{1:2}",
           "{\"a\":}", "01", "-01", "1.", ".5", "+1", "-", "1e", "1e+", "NaN", "Infinity",
           "-Infinity", "tru", "nul", "True", "[1] x", "\"\\x\"", "\"\\ud800\"",
           "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\u12\"", "\"\\u12g4\"", "\"a\nb\"",
           "\"a\tb\"", "\"abc", "\ufeff{}"]
    for text in bad
        @test_throws OW.JSONError OW.json_parse(text)
    end
    @test_throws OW.JSONError OW.json_parse(UInt8[0x22, 0xff, 0x22])        # not UTF-8
    @test_throws OW.JSONError OW.json_parse(UInt8[0x22, 0xc3, 0x22])        # cut sequence
    @test_throws OW.JSONError OW.json_parse(UInt8[0x5b, 0x31, 0x5d, 0x00])  # NUL after value
end

@testset "JSON limits (issue 8)" begin
    # duplicate keys, at any depth, are invalid JSON (a frame's bad_header)
    for text in ("{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1,\"b\":1}}", "[{\"x\":1,\"x\":null}]",
                 "{\"\\u0061\":1,\"a\":2}", "{\"kind\":\"call\",\"kind\":\"shutdown\"}")
        @test_throws OW.JSONError OW.json_parse(text)
    end
    @test OW.json_parse("{\"a\":{\"a\":1}}")["a"]["a"] == 1   # the same key in two objects
    # nesting: the outermost container is level 1, 512 levels are allowed
    @test OW.json_parse("["^512 * "]"^512) isa Vector{Any}
    @test OW.json_parse("{\"a\":"^511 * "[]" * "}"^511) isa Dict{String,Any}
    @test_throws OW.JSONLimitError OW.json_parse("["^513 * "]"^513)
    @test_throws OW.JSONLimitError OW.json_parse("{\"a\":"^512 * "[]" * "}"^512)
    @test_throws OW.JSONLimitError OW.json_parse("["^100_000 * "]"^100_000)  # no stack overflow
    @test_throws OW.JSONLimitError OW.json_parse("["^100_000)                # (nor unterminated)
    # number literals: at most 4300 digits, the sign not counted
    d4300 = "9"^4300
    @test OW.json_parse(d4300) == parse(BigInt, d4300)
    @test OW.json_parse("-" * d4300) == -parse(BigInt, d4300)
    @test_throws OW.JSONLimitError OW.json_parse("1" * "0"^4300)
    @test_throws OW.JSONLimitError OW.json_parse("[-" * "9"^4301 * "]")
    @test OW.json_parse("0." * "1"^4299) isa Float64
    @test_throws OW.JSONLimitError OW.json_parse("0." * "1"^4300)            # 4301 digits
    # floats must be finite as Float64; an underflow is zero
    for text in ("1e400", "-1e400", "1.8e308", "[1E+999999]", "{\"x\":-2e308}")
        @test_throws OW.JSONLimitError OW.json_parse(text)
    end
    @test OW.json_parse("1.7976931348623157e308") === floatmax(Float64)
    @test OW.json_parse("-1e-400") === -0.0
    @test OW.json_parse("5e-324") === nextfloat(0.0)
end

@testset "JSON writer" begin
    @test OW.json_string(Dict{String,Any}("a" => 1)) == "{\"a\":1}"
    @test OW.json_string(Any[1, 2.5, nothing, true, false, "x"]) ==
          "[1,2.5,null,true,false,\"x\"]"
    @test OW.json_string((1, "a")) == "[1,\"a\"]"
    @test OW.json_string(:sym) == "\"sym\""
    @test OW.json_string("a\u0001b\u007f\"\\\n\r\t\b\f/") ==
          "\"a\\u0001b\\u007f\\\"\\\\\\n\\r\\t\\b\\f/\""
    @test OW.json_string("\u00e9\U1F600") == "\"\u00e9\U1F600\""          # UTF-8 as is
    @test OW.json_string(NaN) == "{\"\$float\":\"nan\"}"
    @test OW.json_string(Inf) == "{\"\$float\":\"inf\"}"
    @test OW.json_string(-Inf) == "{\"\$float\":\"-inf\"}"
    @test OW.json_string(big(2)^80) == "1208925819614629174706176"
    @test OW.json_string(UInt8(255)) == "255"
    @test_throws ArgumentError OW.json_string(String(UInt8[0xff]))
    @test_throws ArgumentError OW.json_string(1 + 2im)
    for x in (1.0e20, 5.0e-324, -0.0, 0.1, 1 / 3, 123456789.0, 1.0e-300, floatmax(Float64),
              typemax(Int64), typemin(Int64), big(2)^100, -big(2)^70,
              "h\u00e9llo \U1F600 \u2028 \0", "", Any[], Dict{String,Any}(),
              Any[Any[1, Any[2.5]], Dict{String,Any}("k" => nothing)])
        @test json_equal(OW.json_parse(OW.json_string(x)), x)
    end
    @test OW.json_parse(OW.json_string(0.1f0)) === Float64(0.1f0)
    # every finite float is written with '.' or 'e', so it reads back as a float
    for f in (1.0, -2.0, 1.0e16, 3.0e-5)
        @test OW.json_parse(OW.json_string(f)) === f
    end
end

# ------------------------------------------------------------------------------------------
# Frames
# ------------------------------------------------------------------------------------------

@testset "frame codec" begin
    header = Dict{String,Any}("kind" => "result", "id" => 7, "value" => nothing)
    bufs = Any[UInt8[1, 2, 3], Float64[1.5, -2.0], UInt8[]]
    bytes = OW.encode_frame(header, bufs)
    len = Int(OW.be32(bytes, 1))
    @test len == length(bytes) - 4
    hlen = Int(OW.be32(bytes, 5))
    h = OW.json_parse(bytes[9:(8 + hlen)])
    @test h["buffers"] == Any[3, 16, 0]
    @test !haskey(header, "buffers")                # the caller's header is not changed
    offset = 4 + hlen                               # offsets within the body
    for n in h["buffers"]
        pad = OW.pad_to(offset)
        @test all(==(0x00), bytes[(4 + offset + 1):(4 + offset + pad)])
        offset += pad
        @test offset % 8 == 0
        offset += n
    end
    @test offset == len                             # no padding after the last buffer
    frame = OW.decode_frame(bytes)
    @test frame.header["kind"] == "result" && frame.header["id"] == 7
    @test Vector{UInt8}(frame.buffers[1]) == UInt8[1, 2, 3]
    @test reinterpret(Float64, Vector{UInt8}(frame.buffers[2])) == [1.5, -2.0]
    @test isempty(frame.buffers[3])
    for b in frame.buffers[1:2]
        @test UInt(pointer(b)) % 8 == 0             # zero-copy views, 8-byte aligned
    end

    plain = OW.encode_frame(Dict{String,Any}("kind" => "ping", "id" => 1))
    pf = OW.decode_frame(plain)
    @test !haskey(pf.header, "buffers") && isempty(pf.buffers)
    @test length(plain) == 8 + length("{\"kind\":\"ping\",\"id\":1}") ||
          length(plain) == 8 + length("{\"id\":1,\"kind\":\"ping\"}")

    @test_throws ArgumentError OW.encode_frame(header, bufs; limit = 16)
    err = try
        OW.decode_frame(bytes; limit = length(bytes) - 5)
        nothing
    catch e
        e
    end
    @test err isa OW.ProtocolError && err.code == "too_large"

    io = IOBuffer(vcat(bytes, plain))
    @test OW.read_frame(io) isa OW.Frame
    @test OW.read_frame(io).header["kind"] == "ping"
    @test OW.read_frame(io) === nothing            # end-of-file between frames

    m = reshape(Int32.(1:6), 2, 3)                  # arrays are written as their memory
    fm = OW.decode_frame(OW.encode_frame(Dict{String,Any}("kind" => "result", "id" => 1), Any[m]))
    @test reinterpret(Int32, Vector{UInt8}(fm.buffers[1])) == Int32.(1:6)
end

@testset "frame limits (issue 8)" begin
    # Incremental body read: a peer that declares 1 GiB and sends 10 bytes costs ~64 KiB.
    liar = vcat(UInt8[0x40, 0x00, 0x00, 0x00], zeros(UInt8, 10))      # length 2^30
    function read_liar(bytes)
        try
            OW.read_frame(IOBuffer(bytes))
        catch err
            return err
        end
        return nothing
    end
    e = read_liar(liar)                             # (also compiles it before measuring)
    @test e isa OW.ProtocolError && e.code == "truncated"
    @test (@allocated read_liar(liar)) < 1 << 20
    liar2 = vcat(UInt8[0x40, 0x00, 0x00, 0x00], zeros(UInt8, 200_000))
    @test read_liar(liar2).code == "truncated"
    @test (@allocated read_liar(liar2)) < 1 << 20   # 64 + 128 + 256 KiB, not 1 GiB
    # a body larger than the first 64 KiB is read whole, its buffers still aligned
    data = rand(UInt8, 300_001)
    large = OW.encode_frame(Dict{String,Any}("kind" => "result", "id" => 1), Any[UInt8[7], data])
    lf = OW.decode_frame(large)
    @test Vector{UInt8}(lf.buffers[2]) == data
    @test UInt(pointer(lf.buffers[2])) % 8 == 0
    @test read_liar(large[1:200_000]).code == "truncated"

    # At most 65,536 buffers in a frame: more is bad_buffers (before any view is made).
    function zero_buffers_frame(n)
        hdr = "{\"kind\":\"ping\",\"id\":1,\"buffers\":[" * join(fill("0", n), ",") * "]}"
        return raw_frame(hdr, zeros(UInt8, OW.pad_to(4 + ncodeunits(hdr))))
    end
    ok = OW.decode_frame(zero_buffers_frame(65_536))
    @test length(ok.buffers) == 65_536
    e = decode_error(zero_buffers_frame(65_537))
    @test e isa OW.ProtocolError && e.code == "bad_buffers"

    # Duplicate keys anywhere: bad_header (a fatal frame error), never the last one winning.
    for h in ("{\"kind\":\"call\",\"id\":1,\"function\":\"A:f\",\"args\":[],\"kind\":\"shutdown\"}",
              "{\"kind\":\"shutdown\",\"kind\":\"shutdown\"}",
              "{\"kind\":\"ping\",\"id\":1,\"id\":2}",
              call_text(1, "{\"a\":1,\"a\":2}"))
        e = decode_error(raw_frame(h))
        @test e isa OW.ProtocolError && e.code == "bad_header"
    end

    # A value beyond a limit in a call: bad_value with the call's id, recovered by a scan.
    for args in ("9"^4301, "1e400", "-1e400", "["^511 * "]"^511, "["^100_000 * "]"^100_000,
                 "{\"a\":"^600 * "1" * "}"^600, "[1, {\"s\": \"]}\\\"\"}, 1e999]")
        e = decode_error(raw_frame(call_text(7, args)))
        @test e isa OW.ProtocolError && e.code == "bad_value" && e.call_id == 7
    end
    # (args is level 2, so 510 more lists reach level 512: allowed; 511 are one too many)
    @test OW.decode_frame(raw_frame(call_text(7, "["^510 * "]"^510))) isa OW.Frame
    function recovered(text)
        err = decode_error(raw_frame(text))
        return err isa OW.ProtocolError && err.code == "bad_value" ? err.call_id : err
    end
    @test recovered("{\"args\":[1e400],\"function\":\"A:f\",\"id\":9,\"kind\":\"call\"}") == 9
    @test recovered("{\"\\u006bind\":\"\\u0063all\",\"\\u0069d\":5,\"args\":[1e400]}") == 5
    @test recovered(" {\"kind\" : \"call\" , \"id\" : 6 , \"args\" : [1e400] } ") == 6
    # a string holding escaped quotes and brackets is skipped whole
    @test recovered("{\"kind\":\"call\",\"id\":8," *
                    "\"s\":\"\\\"kind\\\":\\\"x\\\"}\",\"a\":[1e400]}") == 8
    # a result or chunk is a bad value too (protocol section 6), but its id is no call_id: a
    # worker never accepts those kinds, so for a worker that error is fatal
    for h in ("{\"kind\":\"result\",\"id\":4,\"value\":1e400}",
              "{\"kind\":\"chunk\",\"id\":4,\"seq\":0,\"value\":[" * "9"^4301 * "]}",
              "{\"kind\":\"result\",\"id\":4,\"value\":" * "["^512 * "]"^512 * "}")
        e = decode_error(raw_frame(h))
        @test e isa OW.ProtocolError && e.code == "bad_value" && e.call_id == 0
    end
    @test OW.decode_frame(raw_frame("{\"kind\":\"result\",\"id\":4,\"value\":" *
                                    "["^511 * "]"^511 * "}")) isa OW.Frame
    # ... and when kind or id cannot be recovered, or the kind is not a call, result or chunk:
    # bad_header
    for h in ("{\"kind\":\"ping\",\"id\":3,\"x\":1e400}",
              "{\"kind\":\"shutdown\",\"x\":1e400}",
              "{\"kind\":\"end\",\"id\":3,\"x\":1e400}",
              "{\"id\":1,\"x\":1e400}",
              "{\"kind\":\"result\",\"id\":0,\"value\":1e400}",
              "{\"kind\":\"call\",\"args\":[1e400]}",
              "{\"kind\":\"call\",\"id\":0,\"args\":[1e400]}",
              "{\"kind\":\"call\",\"id\":-4,\"args\":[1e400]}",
              "{\"kind\":\"call\",\"id\":\"7\",\"args\":[1e400]}",
              "{\"kind\":\"call\",\"id\":7.0,\"args\":[1e400]}",
              "{\"kind\":\"call\",\"id\":99999999999999999999,\"args\":[1e400]}",
              "{\"kind\":\"call\",\"id\":7,\"args\":[1e400],\"kind\":\"shutdown\"}",
              "{\"kind\":\"call\",\"id\":7,\"args\":[1e400],\"id\":8}",
              "{\"kind\":\"call\",\"id\":7,\"args\":[1e400]} x",
              "{\"kind\":\"call\",\"id\":7,\"args\":[1e400]",
              "{\"a\":{\"kind\":\"call\",\"id\":7},\"b\":[1e400]}",   # nested keys do not count
              "[{\"kind\":\"call\",\"id\":7},1e400]")
        e = decode_error(raw_frame(h))
        @test e isa OW.ProtocolError && e.code == "bad_header"
    end
    @test OW.scan_kind_id(Vector{UInt8}("{\"id\":12,\"kind\":\"call\"}")) ==
          (kind = "call", id = 12)
    @test OW.scan_kind_id(Vector{UInt8}("{}")) == (kind = nothing, id = 0)
    deep_header = "{\"kind\":\"call\",\"a\":" * "["^100_000 * "]"^100_000 * ",\"id\":3}"
    @test OW.scan_kind_id(Vector{UInt8}(deep_header)) == (kind = "call", id = 3)
    @test OW.scan_kind_id(Vector{UInt8}("{\"kind\":\"call\",\"id\":3")) === nothing
end

# ------------------------------------------------------------------------------------------
# Conformance vectors (protocol section 7)
# ------------------------------------------------------------------------------------------

@testset "conformance vectors" begin
    if !isfile(VECTORS_PATH)
        @warn "no conformance vectors at $VECTORS_PATH"
        @test_broken isfile(VECTORS_PATH)
    else
        vectors = OW.json_parse(read(VECTORS_PATH))
        @test !isempty(vectors["frames"]) && !isempty(vectors["values"])
        for v in vectors["frames"]
            @testset "frame: $(v["name"])" begin
                bytes = hex2bytes(v["hex"])
                limit = get(v, "limit", OW.DEFAULT_MAX_FRAME)
                want = v["expect"]
                if haskey(want, "error")
                    err = try
                        OW.decode_frame(bytes; limit = limit)
                        nothing
                    catch e
                        e
                    end
                    @test err isa OW.ProtocolError
                    if err isa OW.ProtocolError
                        @test err.code == want["error"]
                    end
                else
                    frame = OW.decode_frame(bytes; limit = limit)
                    @test json_equal(frame.header, want["header"])
                    @test [bytes2hex(Vector{UInt8}(b)) for b in frame.buffers] ==
                          [lowercase(h) for h in want["buffers"]]
                    # re-encoding gives the same meaning (JSON key order is free; an empty
                    # "buffers" list is omitted)
                    again = OW.decode_frame(OW.encode_frame(frame.header, frame.buffers))
                    @test json_equal(without_buffers(again.header), without_buffers(frame.header))
                    @test [Vector{UInt8}(b) for b in again.buffers] ==
                          [Vector{UInt8}(b) for b in frame.buffers]
                end
            end
        end
        # A value vector holds its value as a tree (`header_value`) or, where a JSON parser at
        # its default settings could not load it as part of the file (thousands of digits,
        # 1e400, deep nesting), as JSON text (`header_value_json`). Either way the value is
        # also decoded as it travels: in a result header parsed by the worker's frame parser,
        # with the protocol's limits (`decode_in_header`).
        @test any(line -> occursin("header_value_json", line), vectors["description"])
        for v in vectors["values"]
            @testset "value: $(v["name"])" begin
                has_tree = haskey(v, "header_value")
                @test has_tree != haskey(v, "header_value_json")     # exactly one of the two
                bufs = Any[hex2bytes(h) for h in v["buffers"]]
                want = v["expect"]
                if haskey(want, "error")
                    err = error_of(() -> decode_in_header(v))
                    @test err isa OW.ProtocolError
                    if err isa OW.ProtocolError
                        @test err.code == want["error"]
                    end
                    if has_tree         # a tree from any parser: the decoder refuses it too
                        err = error_of(() -> OW.decode_value(v["header_value"], bufs))
                        @test err isa OW.ProtocolError
                        if err isa OW.ProtocolError
                            @test err.code == want["error"]
                        end
                    end
                else
                    x = decode_in_header(v)
                    @test meaning_matches(x, want)
                    if has_tree
                        @test meaning_matches(OW.decode_value(v["header_value"], bufs), want)
                    end
                    @test meaning_matches(roundtrip(x), want)
                end
            end
        end
        # Section 8: `segments` vectors, decoded as a call argument with a fresh directory
        # holding `files` as --shm-dir (and one 8-byte buffer, for the vector naming both).
        @test !isempty(get(vectors, "segments", Any[]))
        for v in (Sys.iswindows() ? Any[] : get(vectors, "segments", Any[]))
            @testset "segment: $(v["name"])" begin
                mktempdir() do dir
                    for (name, hex) in v["files"]
                        write(joinpath(dir, name), hex2bytes(hex))
                    end
                    shm = OW.SharedMemory(dir, 1)
                    want = v["expect"]
                    decode = () -> OW.decode_value(v["header_value"], Any[zeros(UInt8, 8)], shm)
                    if haskey(want, "error")
                        err = error_of(decode)
                        @test err isa OW.ProtocolError
                        if err isa OW.ProtocolError
                            @test err.code == want["error"]
                        end
                    else
                        x = decode()
                        @test meaning_matches(x, want)
                        @test OW.locate(shm, x) !== nothing     # a view of the mapped file
                    end
                    OW.release!(shm)
                end
            end
        end
    end
end

# ------------------------------------------------------------------------------------------
# Values
# ------------------------------------------------------------------------------------------

@testset "values" begin
    # C order: a 2x3 row-major matrix [1 2 3; 4 5 6], mapped without copying
    raw = collect(reinterpret(UInt8, Float64[1, 2, 3, 4, 5, 6]))
    c = OW.decode_value(nd(0, "<f8", (2, 3), "C"), Any[raw])
    @test size(c) == (2, 3)
    @test c[1, 2] == 2.0 && c[2, 1] == 4.0 && c[2, 3] == 6.0
    @test Array(c) == [1.0 2.0 3.0; 4.0 5.0 6.0]
    raw[1:8] .= reinterpret(UInt8, [42.0])
    @test c[1, 1] == 42.0                           # shares the buffer's memory
    # F order: the same logical matrix
    f = OW.decode_value(nd(0, "<i4", (2, 3), "F"),
                        Any[collect(reinterpret(UInt8, Int32[1, 4, 2, 5, 3, 6]))])
    @test f == Int32[1 2 3; 4 5 6]
    # 3-d C order
    c3 = OW.decode_value(nd(0, "<i2", (2, 3, 4), "C"),
                         Any[collect(reinterpret(UInt8, Int16.(0:23)))])
    @test c3[2, 3, 4] == 23 && c3[1, 1, 2] == 1 && c3[1, 2, 1] == 4 && c3[2, 1, 1] == 12
    # a received |u1 array stays an array (not $bytes) when sent back
    u = OW.decode_value(nd(0, "|u1", (3,), "C"), Any[UInt8[1, 2, 3]])
    @test !(u isa Vector{UInt8})
    bufs = Any[]
    @test haskey(OW.encode_value(u, bufs), "\$nd")
    # big-endian: converted (copied once)
    be = OW.decode_value(nd(0, ">f8", (1,), "C"), Any[hex2bytes("3ff0000000000000")])
    @test be == [1.0]
    @test_throws OW.ProtocolError OW.decode_value(nd(0, "|b1", (1,), "C"), Any[UInt8[2]])
    @test_throws OW.ProtocolError OW.decode_value(nd(0, "<u1", (1,), "C"), Any[UInt8[2]])

    # encoding
    bufs = Any[]
    w = OW.encode_value([1.0 2.0 3.0; 4.0 5.0 6.0], bufs)
    @test w["\$nd"]["order"] == "F" && w["\$nd"]["shape"] == Any[2, 3]
    @test w["\$nd"]["dtype"] == "<f8" && w["\$nd"]["buffer"] == 0
    @test bufs[1] == [1.0 2.0 3.0; 4.0 5.0 6.0]
    bufs = Any[]
    @test OW.encode_value(UInt8[1, 2], bufs) == Dict{String,Any}("\$bytes" => Dict{String,Any}("buffer" => 0))
    @test OW.encode_value(Dict("\$x" => 1), Any[]) ==
          Dict{String,Any}("\$map" => Dict{String,Any}("\$x" => 1))
    @test OW.encode_value(Dict("\$x" => 1, "y" => 2), Any[]) ==
          Dict{String,Any}("\$x" => 1, "y" => 2)
    @test OW.encode_value((a = 1, b = "x"), Any[]) == Dict{String,Any}("a" => 1, "b" => "x")
    @test OW.encode_value(Float16[1, 2], Any[])["\$nd"]["dtype"] == "<f4"
    @test OW.encode_value(BitVector([true, false]), Any[])["\$nd"]["dtype"] == "|b1"
    @test OW.encode_value(1:3, Any[])["\$nd"]["dtype"] == "<i8"
    @test OW.encode_value(fill(2.5), Any[])["\$nd"]["shape"] == Any[]
    @test OW.encode_value(["a" "b"; "c" "d"], Any[]) == Any[Any["a", "b"], Any["c", "d"]]
    @test OW.encode_value(Any[1, "x", nothing, missing, :s, 'c'], Any[]) ==
          Any[1, "x", nothing, nothing, "s", "c"]
    @test OW.encode_value(1 // 2, Any[]) === 0.5
    @test_throws ArgumentError OW.encode_value(1 + 2im, Any[])
    @test_throws ArgumentError OW.encode_value(Dict(1 => 2), Any[])

    # round trips through encoder, frame and decoder
    for x in (Any[1, "two", Any[3.5, nothing, true]], NaN, -Inf, big(2)^70, -(big(2)^70),
              Dict{String,Any}("\$nd" => 1), UInt8[0, 255], UInt8[], 1.0e-300)
        @test isequal(roundtrip(x), x)
    end
    for a in ([1.0 2.0; 3.0 4.0], Int32[1, 2, 3], reshape(collect(UInt16, 1:24), 2, 3, 4),
              Bool[true false; false true], fill(7.0), zeros(Int64, 0, 3), Float32[0.5, -1.25])
        b = roundtrip(a)
        @test size(b) == size(a) && eltype(b) === eltype(a) && b == a
    end
    c2 = roundtrip(c)                               # a C-order view goes back as F order
    @test size(c2) == (2, 3) && c2 == c

    @test OW.is_stream(Channel{Int}(1))
    @test OW.is_stream(i for i in 1:3)
    @test OW.is_stream(Iterators.filter(iseven, 1:4))
    @test OW.is_stream(Iterators.take(1:10, 3))
    @test OW.is_stream(zip(1:2, 3:4))
    @test !OW.is_stream(1:3)
    @test !OW.is_stream([1, 2])
    @test !OW.is_stream("abc")
    @test !OW.is_stream((1, 2))
    @test !OW.is_stream(Dict("a" => 1))
    @test !OW.is_stream(Set([1]))
    @test !OW.is_stream(42)
end

@testset "encoder limits (issue 8)" begin
    result(value, bufs = Any[]) =
        OW.encode_frame(Dict{String,Any}("kind" => "result", "id" => 1, "value" => value), bufs)
    # integers: at most 4300 digits
    @test OW.encode_value(9 * big(10)^4299, Any[]) == 9 * big(10)^4299
    @test OW.encode_value(-(big(10)^4300 - 1), Any[]) == -(big(10)^4300 - 1)
    @test_throws ArgumentError OW.encode_value(big(10)^4300, Any[])
    @test_throws ArgumentError result(big(10)^4300)              # the frame checks too
    # nesting: a result's value is level 2, so 511 nested lists reach level 512
    @test roundtrip(deep_list(511)) isa Vector{Any}
    @test_throws ArgumentError OW.encode_value(deep_list(512), Any[])
    @test_throws ArgumentError OW.encode_value(deep_list(100_000), Any[])   # no stack overflow
    @test_throws ArgumentError result(deep_list(512))
    @test length(result(deep_list(511))) > 0
    # tagged values count: a non-finite float is 1 level, $bytes 2, $nd 3
    @test isequal(roundtrip(deep_list(510, NaN)), deep_list(510, NaN))
    @test_throws ArgumentError OW.encode_value(deep_list(511, NaN), Any[])
    @test roundtrip(deep_list(509, UInt8[1])) isa Vector{Any}
    @test_throws ArgumentError OW.encode_value(deep_list(510, UInt8[1]), Any[])
    @test roundtrip(deep_list(508, [1.0, 2.0])) isa Vector{Any}
    @test_throws ArgumentError OW.encode_value(deep_list(509, [1.0, 2.0]), Any[])
    @test_throws ArgumentError OW.encode_value(Dict("a" => deep_list(511)), Any[])
    @test OW.encode_value(deep_list(511), Any[], 1) isa Vector{Any}  # `level` is the caller's
    # buffers: at most 65,536 in a frame
    bufs = Any[]
    w = OW.encode_value([UInt8[1] for _ in 1:65_536], bufs)
    @test length(bufs) == 65_536 && w[end]["\$bytes"]["buffer"] == 65_535
    @test length(OW.decode_frame(result(w, bufs)).buffers) == 65_536
    @test_throws ArgumentError OW.encode_value([UInt8[1] for _ in 1:65_537], Any[])
    @test_throws ArgumentError OW.encode_value([[1.0] for _ in 1:65_537], Any[])
    @test_throws ArgumentError OW.encode_frame(Dict{String,Any}("kind" => "result", "id" => 1),
                                               Any[UInt8[] for _ in 1:65_537])
end

# ------------------------------------------------------------------------------------------
# Shared memory (protocol section 8), in process
# ------------------------------------------------------------------------------------------

@testset "shared memory" begin
    if Sys.iswindows()
        @test_skip "shared memory is tested on Unix only"
    else
        mktempdir() do dir
            # the command line and hello
            o = OW.parse_args(["--allow", "A", "--shm-dir", dir, "--shm-threshold=4096"])
            @test o.shm_dir == abspath(dir) && o.shm_threshold == 4096
            @test OW.parse_args(["--allow", "A", "--shm-dir=$dir"]).shm_threshold == 1 << 20
            @test OW.parse_args(["--allow", "A"]).shm_dir === nothing
            write(joinpath(dir, "file"), "x")
            for bad in (["--allow", "A", "--shm-dir", joinpath(dir, "missing")],
                        ["--allow", "A", "--shm-dir", joinpath(dir, "file")],
                        ["--allow", "A", "--shm-dir"], ["--allow", "A", "--shm-dir="],
                        ["--allow", "A", "--shm-dir", dir, "--shm-threshold", "0"],
                        ["--allow", "A", "--shm-dir", dir, "--shm-threshold", "x"])
                err = error_of(() -> OW.parse_args(bad))
                @test err isa ArgumentError && occursin("--shm-", err.msg)
            end
            rm(joinpath(dir, "file"))
            @test_throws ArgumentError OW.SharedMemory(dir, 0)
            @test OW.hello_header(true)["capabilities"] == Any["stream", "cancel", "shm"]
            @test !("shm" in OW.hello_header()["capabilities"])

            shm = OW.SharedMemory(dir, 4096)
            # arguments: views of the mapped file, located where they lie
            a = collect(1.0:4096.0)
            write(joinpath(dir, "h1"), a)
            x = OW.decode_value(seg_arg("h1", "<f8", (4096,)), Any[], shm)
            @test x == a && !(x isa Array)
            @test OW.locate(shm, x) == ("h1", 0, "F")
            @test OW.locate(shm, view(x, 2049:4096)) == ("h1", 2048 * 8, "F")
            @test OW.locate(shm, view(x, 1:2:4096)) === nothing         # not dense
            @test OW.locate(shm, copy(x)) === nothing                   # not in a segment
            write(joinpath(dir, "h2"), Float64.(1:4096))
            c = OW.decode_value(seg_arg("h2", "<f8", (64, 64), "C"), Any[], shm)
            @test c[1, 2] == 2.0 && c[2, 1] == 65.0                    # row-major
            @test OW.locate(shm, c) == ("h2", 0, "C")
            f = OW.decode_value(seg_arg("h2", "<f8", (8, 8), "F"; offset = 8 * 64), Any[], shm)
            @test f[2, 1] == 66.0 && OW.locate(shm, f) == ("h2", 512, "F")
            # a longer part of a segment already mapped: both arrays stay readable
            write(joinpath(dir, "h3"), Float64.(1:1024))
            short = OW.decode_value(seg_arg("h3", "<f8", (4,)), Any[], shm)
            whole = OW.decode_value(seg_arg("h3", "<f8", (1024,)), Any[], shm)
            @test short == [1.0, 2.0, 3.0, 4.0] && whole == Float64.(1:1024)
            @test OW.locate(shm, whole) == ("h3", 0, "F")
            # |b1 elements must be 0 or 1, here too
            write(joinpath(dir, "b1"), UInt8[0, 1, 2])
            b1 = seg_arg("b1", "|b1", (3,))
            message = bad_value_message(() -> OW.decode_value(b1, Any[], shm))
            @test occursin("neither 0 nor 1", message)

            # bad segments: errors of the value, with the message naming the problem
            write(joinpath(dir, "short"), zeros(UInt8, 16))
            ccall(:mkfifo, Cint, (Cstring, Cuint), joinpath(dir, "fifo"), 0o600)
            symlink(joinpath(dir, "short"), joinpath(dir, "link"))
            for (name, offset, problem) in (
                    ("../etc", 0, "plain file name"), (".short", 0, "plain file name"),
                    ("short\n", 0, "plain file name"), ("x"^65, 0, "plain file name"),
                    (7, 0, "plain file name"), ("missing", 0, "cannot open"),
                    ("short", 0, "bytes, the value needs"),
                    ("short", 3, "multiple of the item size"),
                    ("fifo", 0, "not a regular file"), ("link", 0, "cannot open"),
                    ("short", -8, "non-negative"), ("short", "0", "non-negative"))
                arg = seg_arg(name, "<f8", (1024,); offset = offset)
                message = bad_value_message(() -> OW.decode_value(arg, Any[], shm))
                @test occursin(problem, message)
            end
            both = seg_arg("h1", "<f8", (4096,))
            both["\$nd"]["buffer"] = 0
            @test occursin("both", bad_value_message(() -> OW.decode_value(both, Any[a], shm)))
            h1 = seg_arg("h1", "<f8", (1,))
            @test occursin("not enabled", bad_value_message(() -> OW.decode_value(h1, Any[])))

            # results: an argument is named where it lies, a new array is written to a new file
            bufs = Any[]
            r = OW.encode_value(x, bufs, shm)
            @test r["\$nd"]["segment"] == Dict{String,Any}("name" => "h1", "offset" => 0)
            @test r["\$nd"]["order"] == "F" && r["\$nd"]["shape"] == Any[4096] && isempty(bufs)
            r = OW.encode_value(Dict("c" => c, "tail" => view(x, 2049:4096)), bufs, shm)
            @test r["c"]["\$nd"]["segment"]["name"] == "h2" && r["c"]["\$nd"]["order"] == "C"
            @test r["c"]["\$nd"]["shape"] == Any[64, 64]
            @test r["tail"]["\$nd"]["segment"] ==
                  Dict{String,Any}("name" => "h1", "offset" => 2048 * 8)
            @test isempty(bufs) && isempty(shm.written)
            y = 2 .* a
            r = OW.encode_value(Any[y, 1], bufs, shm)
            name = r[1]["\$nd"]["segment"]["name"]
            path = joinpath(dir, name)
            @test startswith(name, "w$(getpid())-") && r[1]["\$nd"]["segment"]["offset"] == 0
            @test r[1]["\$nd"]["order"] == "F" && isempty(bufs)
            @test filemode(path) & 0o777 == 0o600
            @test read(path) == collect(reinterpret(UInt8, y))
            @test shm.written == [name]
            OW.finish_written!(shm, true)               # sent: the host owns the file now
            @test isfile(path) && isempty(shm.written)
            r = OW.encode_value(3 .* a, Any[], shm)
            unsent = joinpath(dir, r["\$nd"]["segment"]["name"])
            @test isfile(unsent)
            OW.finish_written!(shm, false)              # not sent: deleted
            @test !ispath(unsent)
            # a file that cannot be created (the name is taken): inline, the file left alone
            taken = joinpath(dir, "w$(getpid())-$(shm.counter)")
            write(taken, "someone else's")
            bufs = Any[]
            r = OW.encode_value(4 .* a, bufs, shm)
            @test r["\$nd"]["buffer"] == 0 && bufs[1] == 4 .* a
            @test read(taken, String) == "someone else's" && isempty(shm.written)
            # below the threshold, and without shm: inline as always
            @test haskey(OW.encode_value([1.0, 2.0], Any[], shm)["\$nd"], "buffer")
            @test haskey(OW.encode_value(y, Any[])["\$nd"], "buffer")
            @test OW.RESULT_SHM[] === nothing

            # after the call: the mappings are let go; arrays still held keep theirs
            OW.release!(shm)
            @test isempty(shm.mapped) && OW.locate(shm, x) === nothing
            @test x == a && c[64, 64] == 4096.0
            shm.unswept = OW.SHM_GC_BYTES
            OW.release!(shm)                            # a full collection, then counted anew
            @test shm.unswept == 0

            # host death
            @test OW.host_gone(shm; timeout = 0.05) == false    # this process's parent lives
            @test !OW.process_dead(Int(getpid()))
            if isdir("/proc/self")
                p = run(`sleep 1`; wait = false)
                pid = Int(getpid(p))
                @test !OW.process_dead(pid)
                wait(p)
                @test OW.process_dead(pid)                         # exited and reaped
            end
            pool = joinpath(dir, "pool")
            mkdir(pool)
            write(joinpath(pool, "h1"), "x")
            OW.remove_directory(OW.SharedMemory(pool, 1))
            @test !ispath(pool)
        end
    end
end

# ------------------------------------------------------------------------------------------
# Worker pieces that need no process
# ------------------------------------------------------------------------------------------

@testset "names, allow list, command line" begin
    @test OW.is_allowed(["pkg.*"], "pkg")
    @test OW.is_allowed(["pkg.*"], "pkg.sub.deep")
    @test !OW.is_allowed(["pkg.*"], "pkgx")
    @test !OW.is_allowed(["A"], "A.B")
    @test OW.is_allowed(["A", "A.B"], "A.B")
    @test OW.split_function("a.b:c.d") == ("a.b", ["c", "d"])
    for bad in ("nocolon", "a:b:c", ":f", "m:", "m:1x", "m-x:f", "m:f.", "m..n:f")
        @test_throws OW.ProtocolError OW.split_function(bad)
    end
    @test OW.resolve_function(TestTasks, "TestTasks", ["echo"]) === TestTasks.echo
    @test OW.resolve_function(TestTasks, "TestTasks", ["count"]) === TestTasks.count
    @test_throws OW.NotAllowed OW.resolve_function(TestTasks, "TestTasks", ["include"])
    @test_throws OW.NotAllowed OW.resolve_function(TestTasks, "TestTasks", ["eval"])
    @test_throws OW.NotAllowed OW.resolve_function(TestTasks, "TestTasks", ["rm"])
    @test_throws OW.NotAllowed OW.resolve_function(TestTasks, "TestTasks", ["Base"])
    @test_throws OW.NotAllowed OW.resolve_function(TestTasks, "TestTasks", ["_private"])
    @test_throws UndefVarError OW.resolve_function(TestTasks, "TestTasks", ["nope"])
    # the callable must be defined in an allowed module, not merely named there
    @test_throws OW.NotAllowed OW.resolve_function(TestTasks, "TestTasks", ["upper"])
    @test_throws OW.NotAllowed OW.resolve_function(TestTasks, "TestTasks", ["TOOLS"])
    @test_throws OW.NotAllowed OW.resolve_function(TestTasks, "TestTasks", ["echo"];
                                                   allow = ["OtherTasks"])
    @test OW.defining_module(TestTasks.echo) === TestTasks
    @test OW.defining_module(Base.uppercase) === Base
    @test OW.defining_module(OW.Frame) === OW
    @test OW.defining_module(Union{Int,String}) === nothing
    @test OW.allow_name(TestTasks, TestTasks, "TestTasks") == "TestTasks"
    @test OW.allow_name(AllowPkg.Impl, AllowPkg, "AllowPkg") == "AllowPkg.Impl"
    @test OW.allow_name(Base, TestTasks, "TestTasks") == "Base"
    # a function re-exported from a submodule: allowed when that submodule is
    @test OW.resolve_function(AllowPkg, "AllowPkg", ["solve"]; allow = ["AllowPkg.*"]) ===
          AllowPkg.Impl.solve
    @test_throws OW.NotAllowed OW.resolve_function(AllowPkg, "AllowPkg", ["solve"];
                                                   allow = ["AllowPkg"])
    @test_throws OW.NotAllowed OW.resolve_function(AllowPkg, "AllowPkg.Api", ["solve"];
                                                   allow = ["AllowPkg.Api"])
    @test OW.resolve_function(AllowPkg, "AllowPkg.Impl", ["solve"]) === AllowPkg.Impl.solve
    # attribute paths: only with --allow-attribute-paths, and the callable still must be ours
    @test_throws OW.NotAllowed OW.resolve_function(TestTasks, "TestTasks", ["TOOLS", "double"])
    @test OW.resolve_function(TestTasks, "TestTasks", ["TOOLS", "double"];
                              attribute_paths = true) === TestTasks.TOOLS.double
    @test_throws OW.NotAllowed OW.resolve_function(TestTasks, "TestTasks", ["TOOLS", "upper"];
                                                   attribute_paths = true)
    @test_throws OW.NotAllowed OW.resolve_function(TestTasks, "TestTasks", ["TOOLS", "_x"];
                                                   attribute_paths = true)

    opts = OW.parse_args(["--allow", "A", "--allow=B.*", "--max-frame", "100"])
    @test opts.allow == ["A", "B.*"] && opts.max_frame == 100 && opts.attribute_paths == false
    @test OW.parse_args(["--allow", "A"]).max_frame == 1 << 30
    @test OW.parse_args(["--allow-attribute-paths", "--allow", "A"]).attribute_paths == true
    @test OW.parse_args(["--allow", "A", "--allow-attribute-paths"]).allow == ["A"]
    for bad in (String[], ["--allow"], ["--allow", "A", "--max-frame", "3"],
                ["--allow", "A", "--max-frame", "x"], ["--bogus"], ["--allow", "not a name"],
                ["--allow", "A", "--max-frame", "4294967296"], ["--allow-attribute-paths"],
                ["--allow", "A", "--allow-attribute-paths=yes"])
        @test_throws ArgumentError OW.parse_args(bad)
    end

    @test OW.error_type_name(ErrorException("x")) == "ErrorException"
    @test OW.error_type_name(DomainError(1.0)) == "DomainError"
    @test OW.error_type_name(OW.Cancelled("x")) == "Cancelled"
    @test OW.error_type_name(OW.NotAllowed("x")) == "NotAllowed"
    @test OW.error_type_name(OW.ProtocolError("bad_value", "x")) == "ProtocolError"
    @test OW.error_type_name(MyTestError()) == "Main.MyTestError"
    @test OW.clean_text(String(UInt8[0x61, 0xff])) == "a\ufffd"
    @test OW.clean_text("x"^(OW.MAX_ERROR_TEXT + 10)) == "x"^OW.MAX_ERROR_TEXT * "... (truncated)"
    @test OW.cancel_requested() == false
end

@testset "load path" begin
    mktempdir() do d
        d = realpath(d)
        paths = ["@.", ".", "tasks", "/abs/mods", "@stdlib", "@v#.#", d]
        removed = OW.harden_load_path!(paths; cwd = d, env = "/abs/mods:.:tasks:@.:@stdlib")
        @test paths == ["/abs/mods", "@stdlib", "@v#.#", d]     # d: listed by the host
        @test removed == ["@.", ".", "tasks"]
        # with a project in the working directory, what "@." became at startup goes too
        project = joinpath(d, "Project.toml")
        write(project, "name = \"Here\"\n")
        paths = [project, "/abs/mods", "@stdlib"]
        @test OW.harden_load_path!(paths; cwd = d, env = "@.:/abs/mods:@stdlib") == [project]
        @test paths == ["/abs/mods", "@stdlib"]
        paths = [project, "/abs/mods"]                        # listed explicitly: kept
        @test isempty(OW.harden_load_path!(paths; cwd = d, env = "$project:/abs/mods"))
        @test paths == [project, "/abs/mods"]
    end
end

# ------------------------------------------------------------------------------------------
# Example task modules
# ------------------------------------------------------------------------------------------

@testset "OdeTasks" begin
    s = OdeTasks.rk4("exponential_decay", [1.0, 2.0], 0.0, 1.0, 100)
    @test size(s) == (101, 2)
    @test s[1, :] == [1.0, 2.0]
    @test isapprox(s[end, 1], exp(-1); atol = 1e-9)
    @test isapprox(s[end, 2], 2 * exp(-1); atol = 1e-9)
    @test isapprox(OdeTasks.rk4("exponential_decay", Any[1], 0, 1, 50; k = 2.0)[end, 1],
                   exp(-2); atol = 1e-7)
    # undamped oscillator: back to the start after one period
    o = OdeTasks.rk4("damped_oscillator", [1.0, 0.0], 0.0, 2pi, 1000; zeta = 0.0)
    @test isapprox(o[end, :], [1.0, 0.0]; atol = 1e-8)
    # damped: the amplitude decays
    d = OdeTasks.rk4("damped_oscillator", [1.0, 0.0], 0.0, 20.0, 2000; zeta = 0.2)
    @test abs(d[end, 1]) < 0.05
    # Lotka-Volterra conserves V = delta x - gamma log x + beta y - alpha log y
    lv = OdeTasks.rk4("lotka_volterra", [10.0, 5.0], 0.0, 10.0, 20000)
    V(x, y) = 1.0 * x - 3.0 * log(x) + 1.0 * y - 1.5 * log(y)
    @test isapprox(V(lv[end, 1], lv[end, 2]), V(10.0, 5.0); rtol = 1e-6)
    sol = OdeTasks.solve("exponential_decay", [1.0], 0.0, 2.0, 4)
    @test sol["t"] == [0.0, 0.5, 1.0, 1.5, 2.0] && size(sol["y"]) == (5, 1)
    @test_throws ArgumentError OdeTasks.rk4("nope", [1.0], 0.0, 1.0, 10)
    @test_throws ArgumentError OdeTasks.rk4("exponential_decay", [1.0], 0.0, 1.0, 0)
    @test OdeTasks.rhs_names() == ["damped_oscillator", "exponential_decay", "lotka_volterra"]
end

@testset "OptimTasks" begin
    r = OptimTasks.nelder_mead("rosenbrock", [-1.2, 1.0])
    @test isapprox(r["x"], [1.0, 1.0]; atol = 1e-4)
    @test r["value"] < 1e-8
    @test r["iterations"] > 0
    b = OptimTasks.nelder_mead("booth", Any[0, 0])
    @test isapprox(b["x"], [1.0, 3.0]; atol = 1e-4)
    s = OptimTasks.nelder_mead("sphere", [1.0, 2.0, 3.0])
    @test s["value"] < 1e-10 && s["converged"]
    r2 = OptimTasks.nelder_mead("rosenbrock", [-1.2, 1.0]; a = 2.0)
    @test isapprox(r2["x"], [2.0, 4.0]; atol = 1e-3)
    @test OptimTasks.nelder_mead("rosenbrock", [-1.2, 1.0]; max_iter = 5)["converged"] == false
    @test_throws ArgumentError OptimTasks.nelder_mead("nope", [1.0])
end

@testset "StatsTasks" begin
    x = [1.0, 2.0, 3.0, 4.0]
    @test StatsTasks.mean(x) == 2.5
    @test StatsTasks.mean(Any[1, 2, 3]) == 2.0
    @test isapprox(StatsTasks.variance(x), 5 / 3)
    @test StatsTasks.variance(x; corrected = false) == 1.25
    @test isapprox(StatsTasks.stddev(x), sqrt(5 / 3))
    @test StatsTasks.quantiles(x, [0.0, 0.25, 0.5, 1.0]) == [1.0, 1.75, 2.5, 4.0]
    @test StatsTasks.median([3, 1, 2]) == 2.0
    @test StatsTasks.quantile([10, 20], 0.5) == 15.0
    fit = StatsTasks.linear_regression([1, 2, 3, 4], [3, 5, 7, 9])
    @test isapprox(fit["slope"], 2.0) && isapprox(fit["intercept"], 1.0) && isapprox(fit["r2"], 1.0)
    d = StatsTasks.describe(x)
    @test d["count"] == 4 && d["min"] == 1.0 && d["max"] == 4.0 && d["median"] == 2.5
    c = OW.decode_value(nd(0, "<f8", (2, 3), "C"),
                        Any[collect(reinterpret(UInt8, Float64[1, 2, 3, 4, 5, 6]))])
    @test StatsTasks.mean(c) == 3.5                 # works on received arrays too
    @test_throws ArgumentError StatsTasks.mean(Float64[])
    @test_throws DomainError StatsTasks.quantiles(x, [1.5])
    @test_throws DimensionMismatch StatsTasks.linear_regression([1, 2], [1])
end

@testset "TestTasks in process" begin
    @test TestTasks.echo(Any[1, "x"]) == Any[1, "x"]
    @test TestTasks.add(2, 3) == 5
    @test collect(TestTasks.count(3)) == [0, 1, 2]
    @test collect(TestTasks.count_gen(2)) == [0, 1]
    @test TestTasks.array_sum([1 2; 3 4]) == 10
    @test TestTasks.array_double([1 2; 3 4]) == [2 4; 6 8]
    @test TestTasks.array_double(Any[1, 2]) == [2, 4]
    @test TestTasks.sleep_for(0.01) == 0.01
    @test_throws ErrorException TestTasks.fail("boom")
    @test_throws ArgumentError TestTasks.fail("ArgumentError", "bad")
    @test_throws KeyError TestTasks.fail("KeyError", "k")
    @test_throws ArgumentError TestTasks.fail("NoSuchError", "x")
    @test TestTasks.calls_so_far() == 1 && TestTasks.calls_so_far() == 2
    @test TestTasks.array_info([1.0 2.0])["dtype"] == "<f8"
    @test TestTasks.tail_half([1, 2, 3, 4]) == [3, 4]
    @test TestTasks.scale_in_place([1.0, 2.0]) == [2.0, 4.0]
    @test TestTasks.copy_array(view([1, 2, 3], 2:3)) == [2, 3]
    @test TestTasks.keep([1.0, 2.0]) == 1 && TestTasks.kept_checksum() == Any[3.0]
end

# ------------------------------------------------------------------------------------------
# End to end: real worker processes
# ------------------------------------------------------------------------------------------

mutable struct WorkerProcess
    proc::Base.Process
    hello::Dict{String,Any}
    watchdog::Timer
end

# As the host starts it: JULIA_LOAD_PATH = the module directories plus "@stdlib".
function start_worker(allow::Vector{String}; threads::Int = 2, max_frame = nothing,
                      timeout::Real = 600, args::Vector{String} = String[], dir = nothing,
                      load_path::String = TASKS_DIR * (Sys.iswindows() ? ";" : ":") * "@stdlib")
    cmd = `$(Base.julia_cmd()) --startup-file=no --threads=$threads $WORKER_SCRIPT`
    for a in allow
        cmd = `$cmd --allow $a`
    end
    if max_frame !== nothing
        cmd = `$cmd --max-frame $max_frame`
    end
    for a in args
        cmd = `$cmd $a`
    end
    cmd = addenv(cmd, "JULIA_LOAD_PATH" => load_path)
    dir === nothing || (cmd = Cmd(cmd; dir = dir))
    proc = open(cmd; read = true, write = true)
    watchdog = Timer(_ -> kill(proc), timeout)     # a hung worker fails the test, not CI
    frame = OW.read_frame(proc.out)
    frame === nothing && error("the worker ended before sending hello")
    return WorkerProcess(proc, frame.header, watchdog)
end

send(w::WorkerProcess, header::Dict{String,Any}, bufs::Vector{Any} = Any[]) =
    OW.write_frame(w.proc.in, header, bufs)

"Send a frame whose header is exactly `header` (any text, even one our encoder refuses)."
function send_raw(w::WorkerProcess, header::AbstractString)
    write(w.proc.in, raw_frame(header))
    flush(w.proc.in)
end

function send_call(w::WorkerProcess, id::Integer, fname::String, args...; kwargs...)
    bufs = Any[]
    h = Dict{String,Any}("kind" => "call", "id" => id, "function" => fname,
                         "args" => Any[OW.encode_value(a, bufs) for a in args])
    if !isempty(kwargs)
        kw = Dict{String,Any}()
        for (k, v) in kwargs
            kw[String(k)] = OW.encode_value(v, bufs)
        end
        h["kwargs"] = kw
    end
    send(w, h, bufs)
end

function recv(w::WorkerProcess)
    frame = OW.read_frame(w.proc.out)
    frame === nothing && error("the worker closed its frame stream")
    return frame
end

value_of(frame) = OW.decode_value(frame.header["value"], frame.buffers)

"Send a call and return its single answer frame (a result or an error)."
function call(w::WorkerProcess, id::Integer, fname::String, args...; kwargs...)
    send_call(w, id, fname, args...; kwargs...)
    frame = recv(w)
    @test frame.header["id"] == id
    return frame
end

function is_error(frame, id, etype)
    h = frame.header
    return h["kind"] == "error" && h["id"] == id && h["type"] == etype
end

function finish(w::WorkerProcess)
    wait(w.proc)
    close(w.watchdog)
    return w.proc.exitcode
end

ping(w::WorkerProcess, id) = send(w, Dict{String,Any}("kind" => "ping", "id" => id))
cancel(w::WorkerProcess, id) = send(w, Dict{String,Any}("kind" => "cancel", "id" => id))

"Send a call whose args are wire values as they are (no buffers); return its answer frame."
function call_wire(w::WorkerProcess, id::Integer, fname::String, args::Vector{Any})
    send(w, Dict{String,Any}("kind" => "call", "id" => id, "function" => fname, "args" => args))
    frame = recv(w)
    @test frame.header["id"] == id
    return frame
end

"""
A result's array as the host sees it: read from the segment file in `dir` that the answer
names, or from the frame's buffer.
"""
function host_array(dir::AbstractString, frame)
    spec = frame.header["value"]["\$nd"]
    haskey(spec, "segment") || return value_of(frame)
    T, _ = OW.parse_dtype(spec["dtype"])
    nbytes = prod(Int[d for d in spec["shape"]]; init = 1) * sizeof(T)
    bytes = open(joinpath(dir, spec["segment"]["name"])) do io
        seek(io, spec["segment"]["offset"])
        read(io, nbytes)
    end
    return OW.decode_value(nd(0, spec["dtype"], spec["shape"], get(spec, "order", "C")),
                           Any[bytes])
end

"Whether process `pid` is running (a zombie is not)."
process_alive(pid::Integer) = isdir("/proc/self") ? !OW.process_dead(Int(pid)) :
                              ccall(:kill, Cint, (Cint, Cint), pid, 0) == 0

# A host that starts a worker with shared memory, prints its pid and waits for it (as
# python-worker/tests/test_shm.py's middle host): killed, it leaves the worker without a host.
const MIDDLE_HOST = """
script, pool = ARGS
cmd = `\$(Base.julia_cmd()) --startup-file=no \$script --allow TestTasks --shm-dir \$pool`
worker = open(cmd; read = true, write = true)
read(worker.out, 4)             # the hello has started to arrive: the worker is up
println(getpid(worker))
flush(stdout)
wait(worker)
"""

if Sys.iswindows()
    @testset "end to end" begin
        @test_skip "worker processes are tested on Unix only"
    end
else
    @testset "end to end" begin
        w = start_worker(["TestTasks", "StatsTasks", "OdeTasks", "OptimTasks", "MissingTasks"])
        try
            @testset "hello" begin
                h = w.hello
                @test h["kind"] == "hello" && h["protocol"] == 1 && h["language"] == "julia"
                @test h["version"] == string(VERSION)
                @test h["worker"] == "open-julia-worker/0.1"
                @test "stream" in h["capabilities"] && "cancel" in h["capabilities"]
                @test !("shm" in h["capabilities"])             # no --shm-dir
                @test h["pid"] isa Integer && h["pid"] > 0
            end

            @testset "results" begin
                r = call(w, 1, "TestTasks:add", 2, 3)
                @test r.header["kind"] == "result" && value_of(r) == 5
                v = Any[1, "h\u00e9llo \U1F600", nothing, true, 2.5, NaN, -Inf, big(2)^70,
                        UInt8[0, 1, 255], Dict{String,Any}("\$nd" => 1, "b" => Any[]),
                        Dict{String,Any}("\$only" => "escaped"), 1.0e-300]
                @test isequal(value_of(call(w, 2, "TestTasks:echo", v)), v)
                @test value_of(call(w, 3, "TestTasks:identity", "x")) == "x"
                @test value_of(call(w, 4, "TestTasks:pid")) == w.hello["pid"]
                @test value_of(call(w, 5, "TestTasks:noisy", "quiet?")) == "quiet?"
                @test value_of(call(w, 6, "TestTasks:calls_so_far")) == 1
                @test value_of(call(w, 7, "TestTasks:calls_so_far")) == 2
                d = value_of(call(w, 8, "StatsTasks:describe", [1.0, 2.0, 3.0, 4.0]))
                @test d["count"] == 4 && d["median"] == 2.5
                fit = value_of(call(w, 9, "StatsTasks:linear_regression", [1, 2, 3], [2, 4, 6]))
                @test isapprox(fit["slope"], 2.0)
                s = value_of(call(w, 10, "OdeTasks:rk4", "exponential_decay", [1.0], 0.0, 1.0,
                                  100; k = 1.0))
                @test size(s) == (101, 1) && isapprox(s[end, 1], exp(-1); atol = 1e-9)
                o = value_of(call(w, 11, "OptimTasks:nelder_mead", "rosenbrock", [-1.2, 1.0]))
                @test isapprox(o["x"], [1.0, 1.0]; atol = 1e-4)
            end

            @testset "arrays" begin
                data = Float64[1, 2, 3, 4, 5, 6]        # row-major [1 2 3; 4 5 6]
                arg = nd(0, "<f8", (2, 3), "C")
                for (id, fname) in ((20, "TestTasks:array_sum"), (21, "TestTasks:array_double"),
                                    (22, "TestTasks:array_info"))
                    send(w, Dict{String,Any}("kind" => "call", "id" => id, "function" => fname,
                                             "args" => Any[arg]), Any[data])
                end
                r = recv(w)
                @test r.header["id"] == 20 && value_of(r) == 21.0
                r = recv(w)
                @test r.header["id"] == 21
                spec = r.header["value"]["\$nd"]
                @test spec["order"] == "F" && spec["shape"] == Any[2, 3] && spec["dtype"] == "<f8"
                @test Array(value_of(r)) == [2.0 4.0 6.0; 8.0 10.0 12.0]
                r = recv(w)
                info = value_of(r)
                @test r.header["id"] == 22 && info["dtype"] == "<f8" && info["shape"] == Any[2, 3]
                @test info["owns_data"] == false    # zero copy: a view of the frame body
                big_matrix = rand(300, 400)
                r = call(w, 23, "TestTasks:echo", big_matrix)
                @test value_of(r) == big_matrix
            end

            @testset "streams" begin
                send_call(w, 30, "TestTasks:count", 3)
                frames = [recv(w) for _ in 1:4]
                @test [f.header["kind"] for f in frames] == ["chunk", "chunk", "chunk", "end"]
                @test [f.header["seq"] for f in frames[1:3]] == [0, 1, 2]
                @test [value_of(f) for f in frames[1:3]] == [0, 1, 2]
                @test frames[4].header["count"] == 3 && all(f -> f.header["id"] == 30, frames)
                send_call(w, 31, "TestTasks:count_gen", 2)
                @test [recv(w).header["kind"] for _ in 1:3] == ["chunk", "chunk", "end"]
                e = call(w, 32, "TestTasks:count", 0)
                @test e.header["kind"] == "end" && e.header["count"] == 0
                send_call(w, 33, "TestTasks:stream_then_fail", 2)
                frames = [recv(w) for _ in 1:3]
                @test [f.header["kind"] for f in frames] == ["chunk", "chunk", "error"]
                @test frames[3].header["type"] == "ErrorException"
                @test frames[3].header["message"] == "failed after 2 items"
            end

            @testset "errors" begin
                e = call(w, 40, "TestTasks:fail", "boom")
                @test is_error(e, 40, "ErrorException") && e.header["message"] == "boom"
                @test occursin("fail", e.header["traceback"])
                e = call(w, 41, "TestTasks:fail", "ArgumentError", "bad n")
                @test is_error(e, 41, "ArgumentError") && e.header["message"] == "bad n"
                @test is_error(call(w, 42, "TestTasks:nope"), 42, "UndefVarError")
                @test is_error(call(w, 43, "Secret:f"), 43, "NotAllowed")
                @test is_error(call(w, 44, "TestTasks:include", "/dev/null"), 44, "NotAllowed")
                @test is_error(call(w, 45, "TestTasks:rm", "/tmp/x"), 45, "NotAllowed")
                @test is_error(call(w, 46, "no colon"), 46, "ProtocolError")
                @test is_error(call(w, 47, "MissingTasks:f"), 47, "ArgumentError")
                @test is_error(call(w, 48, "TestTasks:echo", 1; bad = 1), 48, "MethodError")
                # a bad value is an error of that call only
                send(w, Dict{String,Any}("kind" => "call", "id" => 49, "function" => "TestTasks:echo",
                                         "args" => Any[nd(0, "<f8", (2, 3), "C")]),
                     Any[zeros(UInt8, 40)])
                e = recv(w)
                @test is_error(e, 49, "ProtocolError") && startswith(e.header["message"], "bad_value")
                ping(w, 50)
                @test recv(w).header["kind"] == "pong"
                # a segment sent to a worker without shared memory is a bad value too
                e = call_wire(w, 51, "TestTasks:echo", Any[seg_arg("h1", "<f8", (1,))])
                @test is_error(e, 51, "ProtocolError")
                @test occursin("not enabled", e.header["message"])
            end

            @testset "ping" begin
                ping(w, 60)
                p = recv(w)
                @test p.header["kind"] == "pong" && p.header["id"] == 60
                @test p.header["busy"] == false
                @test !haskey(p.header, "rss") || p.header["rss"] > 0
                ping(w, -3)
                @test recv(w).header["id"] == -3
                # while a call waits
                send_call(w, 61, "TestTasks:sleep_for", 1.5)
                sleep(0.5)
                ping(w, 62)
                p = recv(w)
                @test p.header["kind"] == "pong" && p.header["id"] == 62 && p.header["busy"] == true
                r = recv(w)
                @test r.header["kind"] == "result" && r.header["id"] == 61 && value_of(r) == 1.5
                # while a call computes without waiting (needs the second thread)
                send_call(w, 63, "TestTasks:spin_for", 3.0)
                sleep(0.5)
                t0 = time()
                ping(w, 64)
                p = recv(w)
                @test p.header["kind"] == "pong" && p.header["busy"] == true
                @test time() - t0 < 2.0
                r = recv(w)
                @test r.header["kind"] == "result" && r.header["id"] == 63
            end

            @testset "cancel" begin
                # running and waiting: interrupted
                send_call(w, 70, "TestTasks:sleep_for", 30.0)
                sleep(0.5)
                t0 = time()
                cancel(w, 70)
                e = recv(w)
                @test is_error(e, 70, "Cancelled")
                @test time() - t0 < 5.0
                @test value_of(call(w, 71, "TestTasks:add", 1, 1)) == 2
                # queued: dropped, answered at once
                send_call(w, 72, "TestTasks:sleep_for", 1.0)
                send_call(w, 73, "TestTasks:add", 1, 2)
                cancel(w, 73)
                e = recv(w)
                @test is_error(e, 73, "Cancelled")
                r = recv(w)
                @test r.header["kind"] == "result" && r.header["id"] == 72
                # running and polling cancel_requested()
                send_call(w, 74, "TestTasks:cooperative_spin", 30.0)
                sleep(0.5)
                t0 = time()
                cancel(w, 74)
                @test is_error(recv(w), 74, "Cancelled")
                @test time() - t0 < 5.0
                # a stream: stops between chunks
                send_call(w, 75, "TestTasks:slow_count", 1000, 0.05)
                first_two = [recv(w) for _ in 1:2]
                @test all(f -> f.header["kind"] == "chunk", first_two)
                cancel(w, 75)
                seq = 1
                local last_frame
                while true
                    last_frame = recv(w)
                    last_frame.header["kind"] == "chunk" || break
                    seq += 1
                    @test last_frame.header["seq"] == seq
                end
                @test is_error(last_frame, 75, "Cancelled")
                # a cancel for a finished call is ignored
                cancel(w, 71)
                ping(w, 76)
                @test recv(w).header["kind"] == "pong"
            end

            @testset "limits (issue 8)" begin
                # a value beyond a limit in a call: an error of that call, the worker carries on
                for (id, args) in ((90, "9"^4301), (91, "1e400"), (92, "["^511 * "]"^511),
                                   (93, "["^100_000 * "]"^100_000))
                    send_raw(w, call_text(id, args))
                    e = recv(w)
                    @test is_error(e, id, "ProtocolError")
                    @test startswith(e.header["message"], "bad_value")
                end
                send(w, Dict{String,Any}("kind" => "call", "id" => 94,
                                         "function" => "TestTasks:echo",
                                         "args" => Any[nd(0, "|b1", (2,), "C")]),
                     Any[UInt8[1, 2]])
                e = recv(w)
                @test is_error(e, 94, "ProtocolError") && startswith(e.header["message"], "bad_value")
                @test value_of(call(w, 95, "TestTasks:echo", deep_list(509))) == deep_list(509)
                # what the worker cannot send is an error of that call, too
                big_int = 9 * big(10)^4299                      # 4300 digits: allowed
                @test value_of(call(w, 96, "TestTasks:add", big_int, 0)) == big_int
                e = call(w, 97, "TestTasks:add", big_int, big_int)   # the sum has 4301 digits
                @test is_error(e, 97, "ArgumentError") && occursin("4300", e.header["message"])
                @test length(value_of(call(w, 98, "TestTasks:nested", 511))) == 1
                @test is_error(call(w, 99, "TestTasks:nested", 512), 99, "ArgumentError")
                @test is_error(call(w, 100, "TestTasks:nested", 100_000), 100, "ArgumentError")
                r = call(w, 101, "TestTasks:byte_strings", 65_536)
                @test r.header["kind"] == "result" && length(r.buffers) == 65_536
                @test is_error(call(w, 102, "TestTasks:byte_strings", 65_537), 102,
                               "ArgumentError")
                # allow list: the callable must be defined in the module; no attribute paths
                @test is_error(call(w, 103, "TestTasks:upper", "x"), 103, "NotAllowed")
                @test is_error(call(w, 104, "TestTasks:TOOLS.double", 2), 104, "NotAllowed")
                @test is_error(call(w, 105, "TestTasks:TOOLS", 2), 105, "NotAllowed")
                ping(w, 106)
                p = recv(w)
                @test p.header["kind"] == "pong" && p.header["id"] == 106
            end

            @testset "shutdown" begin
                send(w, Dict{String,Any}("kind" => "shutdown"))
                @test finish(w) == 0
            end
        finally
            process_running(w.proc) && kill(w.proc)
            close(w.watchdog)
        end

        @testset "end of input" begin
            w2 = start_worker(["TestTasks"])
            close(w2.proc.in)
            @test finish(w2) == 0
        end

        @testset "fatal protocol errors" begin
            w3 = start_worker(["TestTasks"])
            write(w3.proc.in, OW.encode_frame(Dict{String,Any}("kind" => "bogus")))
            flush(w3.proc.in)
            e = recv(w3)
            @test is_error(e, 0, "ProtocolError") && get(e.header, "fatal", false) == true
            @test startswith(e.header["message"], "unknown_kind")
            @test finish(w3) == 3

            w4 = start_worker(["TestTasks"])
            send(w4, Dict{String,Any}("kind" => "result", "id" => 1, "value" => 1))
            e = recv(w4)
            @test is_error(e, 0, "ProtocolError") && e.header["fatal"] == true
            @test finish(w4) == 3

            w5 = start_worker(["TestTasks"]; max_frame = 512)
            e = call(w5, 1, "TestTasks:big_bytes", 1000)     # an answer over the limit
            @test is_error(e, 1, "ArgumentError") && occursin("exceeds", e.header["message"])
            @test value_of(call(w5, 2, "TestTasks:big_bytes", 10)) == zeros(UInt8, 10)
            send_call(w5, 3, "TestTasks:echo", "x"^600)     # a frame over the limit
            e = recv(w5)
            @test is_error(e, 0, "ProtocolError") && startswith(e.header["message"], "too_large")
            @test finish(w5) == 3

            w6 = start_worker(["TestTasks"])
            send(w6, Dict{String,Any}("kind" => "call", "id" => 0, "function" => "TestTasks:pid",
                                      "args" => Any[]))
            @test is_error(recv(w6), 0, "ProtocolError")
            @test finish(w6) == 3
        end

        @testset "fatal limits (issue 8)" begin
            # a duplicate key must never let the last one win: no shutdown, a fatal bad_header
            wd = start_worker(["TestTasks"])
            send_raw(wd, "{\"kind\":\"call\",\"id\":1,\"function\":\"TestTasks:pid\"," *
                         "\"args\":[],\"kind\":\"shutdown\"}")
            e = recv(wd)
            @test is_error(e, 0, "ProtocolError") && get(e.header, "fatal", false) == true
            @test startswith(e.header["message"], "bad_header")
            @test finish(wd) == 3
            # more than 65,536 buffers
            wb = start_worker(["TestTasks"])
            h = "{\"kind\":\"ping\",\"id\":1,\"buffers\":[" * join(fill("0", 65_537), ",") * "]}"
            write(wb.proc.in, raw_frame(h, zeros(UInt8, OW.pad_to(4 + ncodeunits(h)))))
            flush(wb.proc.in)
            e = recv(wb)
            @test is_error(e, 0, "ProtocolError") && startswith(e.header["message"], "bad_buffers")
            @test finish(wb) == 3
            # a bad value whose call id cannot be recovered
            wv = start_worker(["TestTasks"])
            send_raw(wv, "{\"kind\":\"call\",\"function\":\"TestTasks:pid\",\"args\":[1e400]}")
            e = recv(wv)
            @test is_error(e, 0, "ProtocolError") && startswith(e.header["message"], "bad_header")
            @test finish(wv) == 3
            # a bad value in a result: a worker accepts no result, so it is fatal (never
            # answered as if it were a call of that id)
            wr = start_worker(["TestTasks"])
            send_raw(wr, "{\"kind\":\"result\",\"id\":1,\"value\":1e400}")
            e = recv(wr)
            @test is_error(e, 0, "ProtocolError") && get(e.header, "fatal", false) == true
            @test finish(wr) == 3
            # a bad value in a call whose id is already queued: fatal like any duplicate id
            wq = start_worker(["TestTasks"])
            send_call(wq, 5, "TestTasks:sleep_for", 2.0)
            send_call(wq, 6, "TestTasks:sleep_for", 2.0)
            send_raw(wq, call_text(6, "1e400"))
            e = recv(wq)
            @test is_error(e, 0, "ProtocolError") && e.header["fatal"] == true
            @test finish(wq) == 3
        end

        @testset "attribute paths" begin
            wa = start_worker(["TestTasks"]; args = ["--allow-attribute-paths"])
            try
                @test value_of(call(wa, 1, "TestTasks:TOOLS.double", 21)) == 42
                @test is_error(call(wa, 2, "TestTasks:TOOLS.upper", "x"), 2, "NotAllowed")
                @test is_error(call(wa, 3, "TestTasks:upper", "x"), 3, "NotAllowed")
                @test value_of(call(wa, 4, "TestTasks:add", 1, 2)) == 3
                send(wa, Dict{String,Any}("kind" => "shutdown"))
                @test finish(wa) == 0
            finally
                process_running(wa.proc) && kill(wa.proc)
                close(wa.watchdog)
            end
        end

        @testset "load path ignores the working directory" begin
            mktempdir() do d
                # a module file in the working directory, and the directory as a package project
                write(joinpath(d, "Evil.jl"), "module Evil\nf() = 1\nend\n")
                write(joinpath(d, "Project.toml"),
                      "name = \"Evil2\"\nuuid = \"6b8a4c1e-3f2d-4e5a-9b7c-0d1e2f3a4b5c\"\n")
                mkpath(joinpath(d, "src"))
                write(joinpath(d, "src", "Evil2.jl"), "module Evil2\nf() = 2\nend\n")
                sep = Sys.iswindows() ? ";" : ":"
                wl = start_worker(["TestTasks", "Evil", "Evil2"]; dir = d,
                                  load_path = join([TASKS_DIR, ".", "@.", "@stdlib"], sep))
                try
                    @test is_error(call(wl, 1, "Evil:f"), 1, "ArgumentError")
                    @test is_error(call(wl, 2, "Evil2:f"), 2, "ArgumentError")
                    @test value_of(call(wl, 3, "TestTasks:add", 1, 2)) == 3
                    send(wl, Dict{String,Any}("kind" => "shutdown"))
                    @test finish(wl) == 0
                finally
                    process_running(wl.proc) && kill(wl.proc)
                    close(wl.watchdog)
                end
            end
        end

        @testset "crash" begin
            w7 = start_worker(["TestTasks"])
            send_call(w7, 1, "TestTasks:crash", 7)
            @test OW.read_frame(w7.proc.out) === nothing
            @test finish(w7) == 7
        end

        @testset "bad frame from task code" begin
            w8 = start_worker(["TestTasks"])
            send_call(w8, 1, "TestTasks:emit", "garbage")
            err = try
                OW.read_frame(w8.proc.out)
                nothing
            catch e
                e
            end
            @test err isa OW.ProtocolError && err.code == "bad_header_length"
            kill(w8.proc)
            finish(w8)
        end

        @testset "one thread" begin
            w9 = start_worker(["TestTasks"]; threads = 1)
            try
                @test value_of(call(w9, 1, "TestTasks:add", 20, 22)) == 42
                send_call(w9, 2, "TestTasks:sleep_for", 1.0)
                sleep(0.3)
                ping(w9, 3)
                p = recv(w9)
                @test p.header["kind"] == "pong" && p.header["busy"] == true
                @test recv(w9).header["id"] == 2
                send_call(w9, 4, "TestTasks:sleep_for", 30.0)
                sleep(0.3)
                cancel(w9, 4)
                @test is_error(recv(w9), 4, "Cancelled")
                send(w9, Dict{String,Any}("kind" => "shutdown"))
                @test finish(w9) == 0
            finally
                process_running(w9.proc) && kill(w9.proc)
                close(w9.watchdog)
            end
        end

        @testset "shared memory" begin
            shm_root = isdir("/dev/shm") ? "/dev/shm" : tempdir()
            mktempdir() do tmp
                # a --shm-dir the worker cannot use is a command-line error
                errfile = joinpath(tmp, "stderr.txt")
                no_dir = joinpath(tmp, "no")
                cmd = `$(Base.julia_cmd()) --startup-file=no $WORKER_SCRIPT --allow TestTasks`
                cmd = `$cmd --shm-dir $no_dir`
                p = run(pipeline(ignorestatus(cmd); stdout = devnull, stderr = errfile))
                @test p.exitcode == 2 && occursin("--shm-dir", read(errfile, String))
            end
            mktempdir(shm_root) do dir
                ws = start_worker(["TestTasks"];
                                  args = ["--shm-dir", dir, "--shm-threshold", "4096"])
                try
                    @test "shm" in ws.hello["capabilities"]
                    # every dtype in both orders, bit for bit (NaN payloads too): `echo` names
                    # the argument's own segment, `copy_array` writes a new worker segment
                    shape = (17, 13, 20)                # at least 4096 bytes for every dtype
                    id = 0
                    for (k, code) in enumerate(sort(collect(keys(OW.DTYPE_KINDS))))
                        T = OW.DTYPE_KINDS[code]
                        dt = OW.dtype_string(T)
                        nbytes = prod(shape) * sizeof(T)
                        raw = T === Bool ? UInt8[(i * 7 + k) % 2 for i in 1:nbytes] :
                                           UInt8[(i * 131 + k * 17) % 256 for i in 1:nbytes]
                        for order in ("C", "F")
                            name = "h$k$order"
                            write(joinpath(dir, name), raw)
                            expected = OW.decode_value(nd(0, dt, shape, order), Any[raw])
                            for task in ("TestTasks:echo", "TestTasks:copy_array")
                                id += 1
                                r = call_wire(ws, id, task, Any[seg_arg(name, dt, shape, order)])
                                @test r.header["kind"] == "result"
                                r.header["kind"] == "result" || continue
                                spec = r.header["value"]["\$nd"]
                                @test haskey(spec, "segment")
                                @test same_bits(host_array(dir, r), expected)
                                if task == "TestTasks:echo"
                                    @test spec["segment"] == Dict{String,Any}("name" => name,
                                                                              "offset" => 0)
                                    @test spec["order"] == order
                                else
                                    @test startswith(spec["segment"]["name"],
                                                     "w$(ws.hello["pid"])-")
                                end
                            end
                        end
                    end
                    # an argument is read-only (writing into it is an error of the call) and
                    # the host's bytes stay as they were
                    a = Float64.(0:4095)
                    write(joinpath(dir, "r1"), a)
                    r1 = seg_arg("r1", "<f8", (4096,))
                    info = value_of(call_wire(ws, 101, "TestTasks:array_info", Any[r1]))
                    @test info["owns_data"] == false && info["dtype"] == "<f8"
                    if WRITE_FAULT_IS_ERROR
                        e = call_wire(ws, 102, "TestTasks:scale_in_place", Any[r1])
                        @test is_error(e, 102, "ReadOnlyMemoryError")
                    else
                        @test_skip "writing into a read-only mapping would crash the worker here"
                    end
                    @test read(joinpath(dir, "r1")) == collect(reinterpret(UInt8, a))
                    # a slice of an argument is named at its offset
                    b = collect(Int64, 0:8191)
                    write(joinpath(dir, "r2"), b)
                    r2 = seg_arg("r2", "<i8", (8192,))
                    r = call_wire(ws, 103, "TestTasks:tail_half", Any[r2])
                    @test r.header["value"]["\$nd"]["segment"] ==
                          Dict{String,Any}("name" => "r2", "offset" => 4096 * 8)
                    @test host_array(dir, r) == b[4097:end]
                    # a new large result goes to a new worker segment (mode 0600), a small one
                    # inline
                    r1_part = seg_arg("r1", "<f8", (1024,))           # its first 8 KiB
                    r = call_wire(ws, 104, "TestTasks:array_double", Any[r1_part])
                    name = r.header["value"]["\$nd"]["segment"]["name"]
                    @test startswith(name, "w$(ws.hello["pid"])-")
                    @test filemode(joinpath(dir, name)) & 0o777 == 0o600
                    @test host_array(dir, r) == 2 .* a[1:1024]
                    r = call(ws, 105, "TestTasks:array_double", collect(0.0:7.0))
                    @test haskey(r.header["value"]["\$nd"], "buffer")
                    @test value_of(r) == 2 .* collect(0.0:7.0)
                    # a kept argument stays as it was, even when the host reuses its name
                    write(joinpath(dir, "k1"), fill(7.0, 1024))
                    k1 = seg_arg("k1", "<f8", (1024,))
                    @test value_of(call_wire(ws, 106, "TestTasks:keep", Any[k1])) == 1
                    rm(joinpath(dir, "k1"))         # the host deletes it when the call ends
                    write(joinpath(dir, "k1"), fill(1.0, 1024))
                    @test value_of(call_wire(ws, 107, "TestTasks:kept_checksum", Any[])) ==
                          Any[7.0 * 1024]
                    # a bad segment is an error of that call only
                    write(joinpath(dir, "short"), zeros(UInt8, 16))
                    ccall(:mkfifo, Cint, (Cstring, Cuint), joinpath(dir, "fifo"), 0o600)
                    symlink(joinpath(dir, "short"), joinpath(dir, "link"))
                    for (i, (seg, offset, problem)) in enumerate((
                            ("../etc", 0, "plain file name"), ("missing", 0, "cannot open"),
                            ("short", 0, "bytes, the value needs"),
                            ("short", 3, "multiple of the item size"),
                            ("fifo", 0, "not a regular file"), ("link", 0, "cannot open"),
                            ("short", -8, "non-negative")))
                        arg = seg_arg(seg, "<f8", (1024,); offset = offset)
                        e = call_wire(ws, 110 + i, "TestTasks:echo", Any[arg])
                        @test is_error(e, 110 + i, "ProtocolError")
                        @test occursin(problem, e.header["message"])
                    end
                    @test value_of(call(ws, 120, "TestTasks:add", 1, 2)) == 3
                    # a result that does not fit (a file-size limit stands in for a full
                    # /dev/shm: both make write() fail) arrives inline, no file left behind
                    if Sys.islinux() && Sys.WORD_SIZE == 64
                        limit = UInt64[4096, 4096]              # RLIMIT_FSIZE is 1
                        @test ccall(:prlimit, Cint, (Cint, Cint, Ptr{UInt64}, Ptr{UInt64}),
                                    ws.hello["pid"], 1, limit, C_NULL) == 0
                        before = sort(readdir(dir))
                        r = call(ws, 121, "TestTasks:array_double", collect(0.0:1023.0))
                        @test haskey(r.header["value"]["\$nd"], "buffer")
                        @test value_of(r) == 2 .* collect(0.0:1023.0)
                        @test sort(readdir(dir)) == before
                    end
                    # end of input while the host (this process) lives: the directory stays
                    close(ws.proc.in)
                    @test finish(ws) == 0
                    @test isdir(dir)
                finally
                    process_running(ws.proc) && kill(ws.proc)
                    close(ws.watchdog)
                end
            end

            @testset "the host dies" begin
                # the host is a middle process that is SIGKILLed: the worker (its child) sees
                # its input end without a shutdown, finds its parent gone and deletes the
                # directory
                pool = mktempdir(shm_root)
                write(joinpath(pool, "h1"), zeros(UInt8, 64))   # never deleted by the dead host
                host_cmd = `$(Base.julia_cmd()) --startup-file=no -e $MIDDLE_HOST`
                host_cmd = `$host_cmd $WORKER_SCRIPT $pool`
                host = open(addenv(host_cmd, "JULIA_LOAD_PATH" => TASKS_DIR * ":@stdlib");
                            read = true)
                worker_pid = parse(Int, readline(host))
                kill(host, 9)
                wait(host)
                deadline = time() + 60
                while ispath(pool) && time() < deadline
                    sleep(0.05)
                end
                @test !ispath(pool)
                deadline = time() + 60
                while process_alive(worker_pid) && time() < deadline
                    sleep(0.05)
                end
                @test !process_alive(worker_pid)
            end
        end
    end
end
