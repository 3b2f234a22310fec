"""
    OpenWorker

The Julia worker of the OPEN worker protocol, version 1 (`docs/protocol.md`): a child process
that reads framed calls on stdin, runs them one at a time and writes framed answers on a
private copy of the original stdout.

Base only: no packages, no stdlib that needs loading. Entry point: [`main`](@ref), started by
`julia open_worker.jl --allow MODULE [--allow MODULE ...] [--max-frame BYTES]
[--allow-attribute-paths]`.

The rules this file implements (streaming, cancellation, arrays, stdio) are listed in
`julia-worker/README.md`.
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
              "[--max-frame BYTES] [--allow-attribute-paths]"

# Limits every implementation enforces (issue 8). A header deeper or with longer numbers than
# this is a *bad value*: an error of that message only (see `parse_body`).
const MAX_BUFFERS = 65_536          # buffers in one frame (more: bad_buffers, a frame error)
const MAX_JSON_DEPTH = 512          # nesting of a header's JSON; the header object is level 1
const MAX_NUMBER_DIGITS = 4300      # digits of one JSON number literal (the sign not counted)
const BODY_CHUNK = 64 * 1024        # a body is read into max(this, 2 x bytes received) at most

# Arrays are mapped onto the frame's bytes as they are: that needs a little-endian machine
# (every platform Julia runs on today is one).
ENDIAN_BOM == 0x04030201 || error("OpenWorker needs a little-endian machine")

# ------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------

"""
    ProtocolError(code, msg[, call_id])

A malformed frame (fatal for the worker) or a malformed value inside a call (an error of that
call only). `code` is one of the conformance codes of protocol section 7 (`"too_large"`,
`"truncated"`, `"bad_header_length"`, `"bad_header"`, `"missing_kind"`, `"unknown_kind"`,
`"bad_buffers"`, `"bad_value"`) or `"bad_call"` for a call whose fields are malformed.

`call_id` is set (> 0) only by [`parse_body`](@ref) for a `call` whose header could not be
parsed because a value broke a limit (code `"bad_value"`): the id was recovered from the header
text, and the error belongs to that call, not to the stream. A `result` or `chunk` whose header
broke a value limit is a bad value too (code `"bad_value"`, protocol section 6: an error of that
message for a host), but with `call_id` 0: a worker never accepts those kinds, so for a worker
it is a fatal error like any other.
"""
struct ProtocolError <: Exception
    code::String
    msg::String
    call_id::Int64
end
ProtocolError(code::AbstractString, msg::AbstractString) =
    ProtocolError(String(code), String(msg), Int64(0))
Base.showerror(io::IO, e::ProtocolError) = print(io, e.code, ": ", e.msg)

"A call to a module or attribute outside the allow list (protocol type `NotAllowed`)."
struct NotAllowed <: Exception
    msg::String
end
Base.showerror(io::IO, e::NotAllowed) = print(io, e.msg)

"The host cancelled the call (protocol type `Cancelled`)."
struct Cancelled <: Exception
    msg::String
end
Base.showerror(io::IO, e::Cancelled) = print(io, e.msg)

"Invalid JSON text (including a duplicate key in an object)."
struct JSONError <: Exception
    msg::String
end
Base.showerror(io::IO, e::JSONError) = print(io, "invalid JSON: ", e.msg)

"""
JSON text that is well formed as far as it was read, but holds a value beyond the protocol's
limits (a *bad value*, issue 8): nesting deeper than `MAX_JSON_DEPTH` levels, a number literal of
more than `MAX_NUMBER_DIGITS` digits, or a float literal outside the finite range of Float64
(`1e400`). Parsing stops at the first one, so the rest of the text is not checked.
"""
struct JSONLimitError <: Exception
    msg::String
end
Base.showerror(io::IO, e::JSONLimitError) = print(io, e.msg)

# A well-framed message the worker cannot act on (a call without a valid id, a `result` sent
# to the worker, ...): like a malformed frame, it ends the worker with a fatal error.
struct FatalError <: Exception
    msg::String
end
Base.showerror(io::IO, e::FatalError) = print(io, e.msg)

# ------------------------------------------------------------------------------------------
# JSON reader: objects -> Dict{String,Any}, arrays -> Vector{Any}, integers -> Int64 (Int128,
# BigInt when larger), other numbers -> Float64, strings -> String, null -> nothing.
# ------------------------------------------------------------------------------------------

mutable struct JSONReader
    bytes::Vector{UInt8}
    pos::Int
end

@inline isdigit_byte(c::UInt8) = 0x30 <= c <= 0x39

json_fail(r::JSONReader, msg::AbstractString) = throw(JSONError(string(msg, " at byte ", r.pos)))
json_limit(r::JSONReader, msg::AbstractString) =
    throw(JSONLimitError(string(msg, " at byte ", r.pos)))

# A string for an error message, cut to its first 40 characters.
short_repr(s::AbstractString) = length(s) <= 40 ? repr(s) : repr(first(s, 40)) * "..."

"""
    json_parse(text) -> Any

Parse one JSON value from a `String` or from UTF-8 bytes. Strict RFC 8259: no NaN/Infinity
literals, no trailing commas, no leading zeros, no byte order mark, no duplicate keys in an
object; strings must be valid UTF-8 and `\\u` escapes must pair surrogates. Throws
[`JSONError`](@ref).

The protocol's value limits throw [`JSONLimitError`](@ref) instead: more than
`MAX_JSON_DEPTH` (512) nested arrays/objects (the outermost is level 1; checked before the
parser recurses, so any nesting is safe), a number literal of more than `MAX_NUMBER_DIGITS`
(4300) digits, a float literal that is not finite as a Float64 (`1e400`; `1e-400` is 0.0).
"""
json_parse(text::AbstractString) = json_parse(Vector{UInt8}(codeunits(String(text))))

function json_parse(bytes::AbstractVector{UInt8})
    data = bytes isa Vector{UInt8} ? bytes : Vector{UInt8}(bytes)
    r = JSONReader(data, 1)
    skip_ws!(r)
    value = read_value!(r, 0)
    skip_ws!(r)
    r.pos <= length(r.bytes) && json_fail(r, "unexpected data after the value")
    return value
end

function skip_ws!(r::JSONReader)
    b = r.bytes
    n = length(b)
    i = r.pos
    while i <= n
        c = b[i]
        if c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d
            i += 1
        else
            break
        end
    end
    r.pos = i
    return nothing
end

# `depth` is the nesting level of the enclosing array/object (0 at the top); a container read
# here is at level depth + 1, and refuses to be deeper than MAX_JSON_DEPTH before it recurses.
function read_value!(r::JSONReader, depth::Int)
    r.pos > length(r.bytes) && json_fail(r, "unexpected end of input")
    c = r.bytes[r.pos]
    if c == UInt8('{')
        return read_object!(r, depth + 1)
    elseif c == UInt8('[')
        return read_array!(r, depth + 1)
    elseif c == UInt8('"')
        return read_string!(r)
    elseif c == UInt8('t')
        expect_word!(r, "true")
        return true
    elseif c == UInt8('f')
        expect_word!(r, "false")
        return false
    elseif c == UInt8('n')
        expect_word!(r, "null")
        return nothing
    elseif c == UInt8('-') || isdigit_byte(c)
        return read_number!(r)
    else
        json_fail(r, "unexpected character")
    end
end

function expect_word!(r::JSONReader, word::String)
    b = r.bytes
    k = 0
    for c in codeunits(word)
        i = r.pos + k
        (i <= length(b) && b[i] == c) || json_fail(r, "invalid literal")
        k += 1
    end
    r.pos += k
    return nothing
end

function read_object!(r::JSONReader, depth::Int)
    depth > MAX_JSON_DEPTH && json_limit(r, "nesting deeper than $(MAX_JSON_DEPTH) levels")
    b = r.bytes
    r.pos += 1                                  # '{'
    d = Dict{String,Any}()
    skip_ws!(r)
    if r.pos <= length(b) && b[r.pos] == UInt8('}')
        r.pos += 1
        return d
    end
    while true
        skip_ws!(r)
        (r.pos <= length(b) && b[r.pos] == UInt8('"')) || json_fail(r, "expected a string key")
        key = read_string!(r)
        haskey(d, key) && json_fail(r, "duplicate key $(short_repr(key))")
        skip_ws!(r)
        (r.pos <= length(b) && b[r.pos] == UInt8(':')) || json_fail(r, "expected ':'")
        r.pos += 1
        skip_ws!(r)
        d[key] = read_value!(r, depth)
        skip_ws!(r)
        r.pos <= length(b) || json_fail(r, "unterminated object")
        c = b[r.pos]
        if c == UInt8('}')
            r.pos += 1
            return d
        elseif c == UInt8(',')
            r.pos += 1
        else
            json_fail(r, "expected ',' or '}'")
        end
    end
end

function read_array!(r::JSONReader, depth::Int)
    depth > MAX_JSON_DEPTH && json_limit(r, "nesting deeper than $(MAX_JSON_DEPTH) levels")
    b = r.bytes
    r.pos += 1                                  # '['
    v = Any[]
    skip_ws!(r)
    if r.pos <= length(b) && b[r.pos] == UInt8(']')
        r.pos += 1
        return v
    end
    while true
        skip_ws!(r)
        push!(v, read_value!(r, depth))
        skip_ws!(r)
        r.pos <= length(b) || json_fail(r, "unterminated array")
        c = b[r.pos]
        if c == UInt8(']')
            r.pos += 1
            return v
        elseif c == UInt8(',')
            r.pos += 1
        else
            json_fail(r, "expected ',' or ']'")
        end
    end
end

function hex4(r::JSONReader, i::Int)
    b = r.bytes
    if i + 3 > length(b)
        r.pos = i
        json_fail(r, "truncated \\u escape")
    end
    v = UInt32(0)
    for k in i:(i + 3)
        c = b[k]
        local d::UInt32
        if 0x30 <= c <= 0x39
            d = UInt32(c - 0x30)
        elseif 0x61 <= c <= 0x66
            d = UInt32(c - 0x61) + UInt32(10)
        elseif 0x41 <= c <= 0x46
            d = UInt32(c - 0x41) + UInt32(10)
        else
            r.pos = k
            json_fail(r, "bad hex digit in a \\u escape")
        end
        v = (v << 4) | d
    end
    return v
end

function read_string!(r::JSONReader)
    b = r.bytes
    n = length(b)
    start = r.pos + 1                           # after the opening quote
    i = start
    # Fast path: no escapes.
    while i <= n
        c = b[i]
        if c == UInt8('"')
            s = String(b[start:(i - 1)])        # the slice is a copy; String takes it over
            isvalid(s) || json_fail(r, "string is not valid UTF-8")
            r.pos = i + 1
            return s
        elseif c == UInt8('\\')
            break
        elseif c < 0x20
            r.pos = i
            json_fail(r, "control character in a string")
        end
        i += 1
    end
    # Slow path: copy what was scanned, then decode escapes.
    io = IOBuffer()
    for k in start:(i - 1)
        write(io, b[k])
    end
    while true
        if i > n
            r.pos = i
            json_fail(r, "unterminated string")
        end
        c = b[i]
        if c == UInt8('"')
            i += 1
            break
        elseif c == UInt8('\\')
            if i + 1 > n
                r.pos = i
                json_fail(r, "unterminated escape")
            end
            e = b[i + 1]
            if e == UInt8('"')
                write(io, UInt8('"'))
                i += 2
            elseif e == UInt8('\\')
                write(io, UInt8('\\'))
                i += 2
            elseif e == UInt8('/')
                write(io, UInt8('/'))
                i += 2
            elseif e == UInt8('b')
                write(io, 0x08)
                i += 2
            elseif e == UInt8('f')
                write(io, 0x0c)
                i += 2
            elseif e == UInt8('n')
                write(io, 0x0a)
                i += 2
            elseif e == UInt8('r')
                write(io, 0x0d)
                i += 2
            elseif e == UInt8('t')
                write(io, 0x09)
                i += 2
            elseif e == UInt8('u')
                u = hex4(r, i + 2)
                i += 6
                if 0xd800 <= u <= 0xdbff
                    if !(i + 1 <= n && b[i] == UInt8('\\') && b[i + 1] == UInt8('u'))
                        r.pos = i
                        json_fail(r, "high surrogate without a low surrogate")
                    end
                    lo = hex4(r, i + 2)
                    if !(0xdc00 <= lo <= 0xdfff)
                        r.pos = i
                        json_fail(r, "high surrogate without a low surrogate")
                    end
                    i += 6
                    cp = UInt32(0x10000) + ((u - UInt32(0xd800)) << 10) + (lo - UInt32(0xdc00))
                    write(io, Char(cp))
                elseif 0xdc00 <= u <= 0xdfff
                    r.pos = i
                    json_fail(r, "low surrogate without a high surrogate")
                else
                    write(io, Char(u))
                end
            else
                r.pos = i
                json_fail(r, "invalid escape")
            end
        elseif c < 0x20
            r.pos = i
            json_fail(r, "control character in a string")
        else
            write(io, c)
            i += 1
        end
    end
    r.pos = i
    s = String(take!(io))
    isvalid(s) || json_fail(r, "string is not valid UTF-8")
    return s
end

function read_number!(r::JSONReader)
    b = r.bytes
    n = length(b)
    start = r.pos
    i = start
    if b[i] == UInt8('-')
        i += 1
    end
    if !(i <= n && isdigit_byte(b[i]))
        r.pos = i
        json_fail(r, "invalid number")
    end
    if b[i] == UInt8('0')
        i += 1                                  # no leading zeros: "01" stops after "0"
    else
        while i <= n && isdigit_byte(b[i])
            i += 1
        end
    end
    isfloat = false
    if i <= n && b[i] == UInt8('.')
        i += 1
        if !(i <= n && isdigit_byte(b[i]))
            r.pos = i
            json_fail(r, "digit expected after '.'")
        end
        while i <= n && isdigit_byte(b[i])
            i += 1
        end
        isfloat = true
    end
    if i <= n && (b[i] == UInt8('e') || b[i] == UInt8('E'))
        i += 1
        if i <= n && (b[i] == UInt8('+') || b[i] == UInt8('-'))
            i += 1
        end
        if !(i <= n && isdigit_byte(b[i]))
            r.pos = i
            json_fail(r, "digit expected in the exponent")
        end
        while i <= n && isdigit_byte(b[i])
            i += 1
        end
        isfloat = true
    end
    # The digit limit is checked before the literal is copied or converted.
    ndig = count(isdigit_byte, view(b, start:(i - 1)))
    if ndig > MAX_NUMBER_DIGITS
        r.pos = start
        json_limit(r, "number literal of $ndig digits (the limit is $(MAX_NUMBER_DIGITS))")
    end
    text = String(b[start:(i - 1)])
    r.pos = i
    if isfloat
        f = tryparse(Float64, text)
        if f === nothing
            # strtod reports a range error (underflow or overflow): parse exactly, then round.
            g = tryparse(BigFloat, text)
            f = g === nothing ? Inf : Float64(g)
        end
        if !isfinite(f)
            r.pos = start
            json_limit(r, "float literal outside the range of a 64-bit float")
        end
        return f
    end
    i64 = tryparse(Int64, text)
    i64 === nothing || return i64
    i128 = tryparse(Int128, text)
    i128 === nothing || return i128
    return parse(BigInt, text)
end

# ------------------------------------------------------------------------------------------
# JSON writer: compact; control characters escaped; non-finite floats as {"$float": ...}.
# ------------------------------------------------------------------------------------------

"""
    json_string(x) -> String

Compact JSON for `x` built from `nothing`, `Bool`, integers, floats, strings, symbols,
dictionaries, vectors and tuples. NaN and infinities become `{"\$float": "nan"}` etc.
"""
function json_string(x)
    io = IOBuffer()
    json_write(io, x)
    return String(take!(io))
end

json_write(io::IO, ::Nothing) = (write(io, "null"); nothing)
json_write(io::IO, x::Bool) = (write(io, x ? "true" : "false"); nothing)
json_write(io::IO, x::Integer) = (print(io, x); nothing)          # decimal, any size

function json_write(io::IO, x::AbstractFloat)
    f = Float64(x)
    if isnan(f)
        write(io, "{\"\$float\":\"nan\"}")
    elseif isinf(f)
        write(io, f > 0 ? "{\"\$float\":\"inf\"}" : "{\"\$float\":\"-inf\"}")
    else
        print(io, f)        # shortest round-trip form, always with '.' or 'e' (e.g. 1.0e20)
    end
    return nothing
end

function json_write(io::IO, s::AbstractString)
    str = String(s)
    isvalid(str) || throw(ArgumentError("cannot encode a string that is not valid UTF-8"))
    write(io, UInt8('"'))
    for c in codeunits(str)
        if c == UInt8('"')
            write(io, "\\\"")
        elseif c == UInt8('\\')
            write(io, "\\\\")
        elseif c == 0x0a
            write(io, "\\n")
        elseif c == 0x0d
            write(io, "\\r")
        elseif c == 0x09
            write(io, "\\t")
        elseif c == 0x08
            write(io, "\\b")
        elseif c == 0x0c
            write(io, "\\f")
        elseif c < 0x20 || c == 0x7f
            write(io, "\\u")
            write(io, string(c; base = 16, pad = 4))
        else
            write(io, c)
        end
    end
    write(io, UInt8('"'))
    return nothing
end

json_write(io::IO, s::Symbol) = json_write(io, String(s))

function json_write(io::IO, d::AbstractDict)
    write(io, UInt8('{'))
    first_item = true
    for (k, v) in d
        first_item || write(io, UInt8(','))
        first_item = false
        json_write(io, k isa AbstractString ? k : string(k))
        write(io, UInt8(':'))
        json_write(io, v)
    end
    write(io, UInt8('}'))
    return nothing
end

function json_write(io::IO, v::Union{AbstractVector,Tuple})
    write(io, UInt8('['))
    first_item = true
    for x in v
        first_item || write(io, UInt8(','))
        first_item = false
        json_write(io, x)
    end
    write(io, UInt8(']'))
    return nothing
end

json_write(io::IO, x) = throw(ArgumentError("cannot write a value of type $(typeof(x)) as JSON"))

# ------------------------------------------------------------------------------------------
# Frames (protocol section 2)
# ------------------------------------------------------------------------------------------

"""
A decoded frame: its JSON `header`, the `body` it was read into, and its `buffers` as
zero-copy views (`SubArray`s) of `body`, each starting at a body offset that is a multiple of 8.
"""
struct Frame
    header::Dict{String,Any}
    body::Vector{UInt8}
    buffers::Vector{Any}
end

@inline be32(b::AbstractVector{UInt8}, i::Int) =
    (UInt32(b[i]) << 24) | (UInt32(b[i + 1]) << 16) | (UInt32(b[i + 2]) << 8) | UInt32(b[i + 3])

@inline pad_to(offset::Int) = (8 - offset % 8) % 8

# read! fills the whole vector or throws EOFError.
function read_exactly!(io::IO, buf::Vector{UInt8})
    isempty(buf) && return true
    try
        read!(io, buf)
    catch err
        err isa EOFError && return false
        rethrow()
    end
    return true
end

"""
    read_body(io, len) -> Vector{UInt8}

Read a body of `len` bytes without trusting `len`: the first read goes into `BODY_CHUNK`
(64 KiB) bytes at most, and each time what was allocated is full, a buffer of twice the bytes
received (never more than `len`) replaces it. So no allocation is ever larger than
max(64 KiB, 2 x bytes received), and a peer that declares 1 GiB and sends 10 bytes costs 64 KiB.
End-of-file first is a `ProtocolError` with code `"truncated"`.
"""
function read_body(io::IO, len::Int)
    body = Vector{UInt8}(undef, min(len, BODY_CHUNK))
    got = 0
    while got < len
        if got == length(body)
            grown = Vector{UInt8}(undef, min(len, 2 * got))
            copyto!(grown, 1, body, 1, got)
            body = grown
        end
        n = length(body) - got
        ok = try
            GC.@preserve body unsafe_read(io, pointer(body, got + 1), UInt(n))
            true
        catch err
            err isa EOFError || rethrow()
            false
        end
        ok || throw(ProtocolError("truncated", "stream ended inside a body of $len bytes"))
        got += n
    end
    return body
end

"""
    read_frame(io, limit = DEFAULT_MAX_FRAME) -> Union{Frame,Nothing}

Read one frame. Returns `nothing` at end-of-file between frames; end-of-file inside a frame
(even inside the length prefix) is a `ProtocolError` with code `"truncated"`. `length` is
checked against `limit` before anything is allocated for the body, which is then read
incrementally (see [`read_body`](@ref)).
"""
function read_frame(io::IO, limit::Integer = DEFAULT_MAX_FRAME)
    eof(io) && return nothing
    prefix = Vector{UInt8}(undef, 4)
    read_exactly!(io, prefix) ||
        throw(ProtocolError("truncated", "stream ended inside the 4 length bytes"))
    len = Int(be32(prefix, 1))                  # Int: arithmetic below cannot wrap
    len > limit &&
        throw(ProtocolError("too_large", "frame of $len bytes exceeds the limit of $limit bytes"))
    return parse_body(read_body(io, len))
end

"""
    decode_frame(bytes; limit = DEFAULT_MAX_FRAME) -> Frame

Decode the frame at the start of `bytes` (a whole frame held in memory).
"""
function decode_frame(bytes::AbstractVector{UInt8}; limit::Integer = DEFAULT_MAX_FRAME)
    frame = read_frame(IOBuffer(Vector{UInt8}(bytes)), limit)
    frame === nothing && throw(ProtocolError("truncated", "no bytes"))
    return frame
end

function json_type_name(x)
    x isa AbstractVector && return "array"
    x isa AbstractString && return "string"
    x isa Bool && return "boolean"
    x isa Number && return "number"
    x === nothing && return "null"
    return "value"
end

"""
    parse_body(body::Vector{UInt8}) -> Frame

Split a frame body into its header and buffer views, checking every layout rule. A header with
a duplicate key (in any object) is `bad_header`; one with more than `MAX_BUFFERS` buffers is
`bad_buffers`, refused before any buffer view is made.

A header that cannot be parsed because a value breaks a limit ([`JSONLimitError`](@ref)) is a
*bad value* when a scan of its top level ([`scan_kind_id`](@ref)) finds a positive integer
`"id"` and `"kind"` `"call"`, `"result"` or `"chunk"` (protocol section 6): the `ProtocolError`
has code `"bad_value"`, and for a call that `call_id` (an error of that call only; 0 for a
result or chunk); otherwise it is `bad_header`.
"""
function parse_body(body::Vector{UInt8})
    blen = length(body)
    blen < 4 && throw(ProtocolError("bad_header_length",
                                    "body of $blen bytes cannot hold a header length"))
    hlen = Int(be32(body, 1))
    hlen > blen - 4 && throw(ProtocolError("bad_header_length",
                                           "header length $hlen exceeds the body ($blen bytes)"))
    hbytes = body[5:(4 + hlen)]
    local header
    try
        header = json_parse(hbytes)
    catch err
        err isa InterruptException && rethrow()
        err isa JSONLimitError && throw(header_limit_error(hbytes, err.msg))
        detail = err isa JSONError ? err.msg : sprint(showerror, err)
        throw(ProtocolError("bad_header", "header is not UTF-8 JSON ($detail)"))
    end
    header isa Dict{String,Any} || throw(ProtocolError("bad_header",
        "header is a JSON $(json_type_name(header)), not an object"))
    kind = get(header, "kind", nothing)
    kind isa String || throw(ProtocolError("missing_kind", "header has no string \"kind\""))
    kind in KINDS || throw(ProtocolError("unknown_kind", "unknown kind $(repr(kind))"))
    sizes = get(header, "buffers", Any[])
    sizes isa Vector{Any} || throw(ProtocolError("bad_buffers", "\"buffers\" is not a list"))
    length(sizes) > MAX_BUFFERS && throw(ProtocolError("bad_buffers",
        "\"buffers\" lists $(length(sizes)) buffers (the limit is $(MAX_BUFFERS))"))
    buffers = Any[]
    offset = 4 + hlen
    for n in sizes
        (n isa Int64 && n >= 0) || throw(ProtocolError("bad_buffers",
            "\"buffers\" is not a list of non-negative integers"))
        offset += pad_to(offset)
        n > blen - offset && throw(ProtocolError("bad_buffers",
            "buffers need more than the $blen body bytes"))
        push!(buffers, view(body, (offset + 1):(offset + n)))
        offset += n
    end
    offset == blen || throw(ProtocolError("bad_buffers",
        "header and buffers take $offset bytes but the body has $blen"))
    return Frame(header, body, buffers)
end

# The error for a header whose parse stopped at a value limit (issue 8). Only the kinds that
# carry a value (protocol section 6) make it a bad value; the call_id is only a call's.
function header_limit_error(hbytes::Vector{UInt8}, detail::String)
    found = scan_kind_id(hbytes)
    if found !== nothing && found.id > 0
        kind = found.kind
        kind == "call" &&
            return ProtocolError("bad_value", "call $(found.id): $detail", found.id)
        (kind == "result" || kind == "chunk") &&
            return ProtocolError("bad_value", "$kind $(found.id): $detail")
    end
    return ProtocolError("bad_header", "header holds a value beyond the protocol's limits " *
                         "($detail) and is not a call, result or chunk whose id can be " *
                         "recovered")
end

# --- recovering kind and id from a header the parser refused (no recursion, no allocation
# --- proportional to the header) ----------------------------------------------------------

@inline is_ws_byte(c::UInt8) = c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d

function scan_ws(b::Vector{UInt8}, i::Int)
    while i <= length(b) && is_ws_byte(b[i])
        i += 1
    end
    return i
end

# `b[i]` is an opening quote: the index after the closing quote, or 0 if there is none. A
# backslash always escapes the byte after it (`\"` does not close the string).
function scan_string(b::Vector{UInt8}, i::Int)
    n = length(b)
    j = i + 1
    while j <= n
        c = b[j]
        c == UInt8('"') && return j + 1
        j += (c == UInt8('\\')) ? 2 : 1
    end
    return 0
end

# The index after the value starting at `b[i]`, or 0. Loose on purpose: strings are skipped
# as above, arrays/objects by counting brackets (not recursing), other values run to the next
# ',', '}', ']' or whitespace.
function scan_value(b::Vector{UInt8}, i::Int)
    n = length(b)
    i <= n || return 0
    c = b[i]
    c == UInt8('"') && return scan_string(b, i)
    if c == UInt8('{') || c == UInt8('[')
        depth = 0
        while i <= n
            c = b[i]
            if c == UInt8('"')
                i = scan_string(b, i)
                i == 0 && return 0
                continue
            elseif c == UInt8('{') || c == UInt8('[')
                depth += 1
            elseif c == UInt8('}') || c == UInt8(']')
                depth -= 1
                depth == 0 && return i + 1
            end
            i += 1
        end
        return 0
    end
    j = i
    while j <= n
        c = b[j]
        (c == UInt8(',') || c == UInt8('}') || c == UInt8(']') || is_ws_byte(c)) && break
        j += 1
    end
    return j == i ? 0 : j
end

# The string whose quotes are at b[i] and b[e - 1], decoded, if its raw text has at most
# `maxraw` bytes (a name like "kind" spelled with \u escapes takes at most 6 bytes a letter);
# `nothing` otherwise or if it is not a valid JSON string.
function scan_short_string(b::Vector{UInt8}, i::Int, e::Int, maxraw::Int)
    (i <= length(b) && b[i] == UInt8('"') && e - i - 2 <= maxraw) || return nothing
    try
        return read_string!(JSONReader(b, i))
    catch err
        err isa JSONError || rethrow()
        return nothing
    end
end

# A positive Int64 written as plain digits in b[i:e-1], else 0.
function scan_positive_id(b::Vector{UInt8}, i::Int, e::Int)
    (1 <= e - i <= 19 && b[i] != UInt8('0')) || return Int64(0)
    v = UInt64(0)
    for k in i:(e - 1)
        isdigit_byte(b[k]) || return Int64(0)
        v = v * 10 + (b[k] - 0x30)
    end
    return v <= typemax(Int64) ? Int64(v) : Int64(0)
end

"""
    scan_kind_id(header_bytes) -> Union{Nothing, NamedTuple{(:kind, :id)}}

Issue 8 recovery for a header the parser refused because of a value limit: one linear pass
over the top level of the object, without recursion and without parsing nested values.
`kind` is the top-level `"kind"` if it is a string of at most 48 bytes as written (enough for
every kind, even in `\\u` escapes; `nothing` else), `id` the top-level `"id"` if it is a
positive integer literal that fits an Int64 (0 else);
only top-level keys count, keys written with `\\u` escapes included. `nothing` when the text
is not an object whose top level can be walked to its end, or when `"kind"` or `"id"` occurs
twice.
"""
function scan_kind_id(b::Vector{UInt8})
    n = length(b)
    i = scan_ws(b, 1)
    (i <= n && b[i] == UInt8('{')) || return nothing
    i = scan_ws(b, i + 1)
    kind = nothing
    id = Int64(0)
    seen_kind = false
    seen_id = false
    if i <= n && b[i] == UInt8('}')
        i += 1
    else
        while true
            (i <= n && b[i] == UInt8('"')) || return nothing
            key_start = i
            i = scan_string(b, i)
            i == 0 && return nothing
            key = scan_short_string(b, key_start, i, 24)
            i = scan_ws(b, i)
            (i <= n && b[i] == UInt8(':')) || return nothing
            value_start = scan_ws(b, i + 1)
            i = scan_value(b, value_start)
            i == 0 && return nothing
            if key == "kind"
                seen_kind && return nothing
                seen_kind = true
                kind = scan_short_string(b, value_start, i, 48)
            elseif key == "id"
                seen_id && return nothing
                seen_id = true
                id = scan_positive_id(b, value_start, i)
            end
            i = scan_ws(b, i)
            i <= n || return nothing
            if b[i] == UInt8(',')
                i = scan_ws(b, i + 1)
            elseif b[i] == UInt8('}')
                i += 1
                break
            else
                return nothing
            end
        end
    end
    scan_ws(b, i) > n || return nothing         # nothing but whitespace after the object
    return (kind = kind, id = id)
end

# A buffer to write: a dense Array of plain bits (written as its memory) or bytes.
function as_buffer(b)
    if b isa Array && isbitstype(eltype(b))
        return b
    elseif b isa AbstractArray{UInt8}
        return Vector{UInt8}(b)
    elseif b isa AbstractArray && isbitstype(eltype(b))
        return Array(b)
    end
    throw(ArgumentError("a frame buffer must be an array of plain bits, got $(typeof(b))"))
end

# Issue 8 limits on a header about to be written: nesting (`level` is that of `x` if it is a
# container; a non-finite float is written as a {"$float": ...} object) and integer digits.
# Stops at the first level past the limit, so it never recurses deeper than that.
function check_header_limits(x, level::Int)
    if x isa AbstractDict || x isa AbstractVector || x isa Tuple ||
       (x isa AbstractFloat && !isfinite(x))
        level > MAX_JSON_DEPTH && throw(ArgumentError(
            "the header would nest deeper than $(MAX_JSON_DEPTH) levels (the protocol's limit)"))
        if !(x isa AbstractFloat)
            for v in (x isa AbstractDict ? values(x) : x)
                check_header_limits(v, level + 1)
            end
        end
    elseif x isa Integer && !(x isa Bool)
        check_integer_digits(x)
    end
    return nothing
end

function check_integer_digits(x::Integer)
    d = ndigits(x)
    d > MAX_NUMBER_DIGITS && throw(ArgumentError(
        "cannot send an integer of $d digits (the protocol's limit is $(MAX_NUMBER_DIGITS))"))
    return nothing
end

"""
    frame_parts(header, buffers; limit = DEFAULT_MAX_FRAME) -> Vector{Any}

Encode a frame as the pieces to write in order: length prefix + header length + header, then
for each buffer its zero padding and the buffer itself (arrays are written as their memory,
not copied). Sets `"buffers"` in (a copy of) the header when there are any. Throws an
`ArgumentError` (nothing written yet) when the frame exceeds `limit` or 4 GiB - 1, has more
than `MAX_BUFFERS` buffers, or its header nests deeper than `MAX_JSON_DEPTH` levels or holds an
integer of more than `MAX_NUMBER_DIGITS` digits.
"""
function frame_parts(header::AbstractDict, buffers::AbstractVector = Any[];
                     limit::Integer = DEFAULT_MAX_FRAME)
    length(buffers) > MAX_BUFFERS && throw(ArgumentError(
        "cannot send $(length(buffers)) buffers in one frame (the protocol's limit is " *
        "$(MAX_BUFFERS))"))
    bufs = Any[as_buffer(b) for b in buffers]
    h = Dict{String,Any}(header)
    if isempty(bufs)
        delete!(h, "buffers")
    else
        h["buffers"] = Any[sizeof(b) for b in bufs]
    end
    check_header_limits(h, 1)
    hio = IOBuffer()
    json_write(hio, h)
    hbytes = take!(hio)
    offset = 4 + length(hbytes)
    pads = Int[]
    for b in bufs
        p = pad_to(offset)
        push!(pads, p)
        offset += p + sizeof(b)
    end
    total = offset
    if total > MAX_U32 || total > limit
        throw(ArgumentError("$(get(h, "kind", "frame")) frame of $total bytes exceeds the " *
                            "frame limit of $(min(limit, MAX_U32)) bytes"))
    end
    head = IOBuffer()
    write(head, hton(UInt32(total)))
    write(head, hton(UInt32(length(hbytes))))
    write(head, hbytes)
    parts = Any[take!(head)]
    for (i, b) in enumerate(bufs)
        pads[i] > 0 && push!(parts, zeros(UInt8, pads[i]))
        push!(parts, b)
    end
    return parts
end

"""
    write_frame(io, header, buffers = Any[]; limit = DEFAULT_MAX_FRAME)

Write one frame to `io` and flush it.
"""
function write_frame(io::IO, header::AbstractDict, buffers::AbstractVector = Any[];
                     limit::Integer = DEFAULT_MAX_FRAME)
    for p in frame_parts(header, buffers; limit = limit)
        write(io, p)
    end
    flush(io)
    return nothing
end

"""
    encode_frame(header, buffers = Any[]; limit = DEFAULT_MAX_FRAME) -> Vector{UInt8}

The bytes of one frame (length prefix included).
"""
function encode_frame(header::AbstractDict, buffers::AbstractVector = Any[];
                      limit::Integer = DEFAULT_MAX_FRAME)
    io = IOBuffer()
    write_frame(io, header, buffers; limit = limit)
    return take!(io)
end

# ------------------------------------------------------------------------------------------
# Values (protocol section 4)
# ------------------------------------------------------------------------------------------

const DTYPE_KINDS = Dict{String,DataType}(
    "f8" => Float64, "f4" => Float32,
    "i8" => Int64, "i4" => Int32, "i2" => Int16, "i1" => Int8,
    "u8" => UInt64, "u4" => UInt32, "u2" => UInt16, "u1" => UInt8,
    "b1" => Bool,
)

"The protocol dtype string of element type `T` as sent (little-endian), or `nothing`."
function dtype_string(T)
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
    return nothing
end

bad_value(msg::AbstractString) = throw(ProtocolError("bad_value", msg))

"""
    decode_value(x, buffers) -> Any

Turn a value as parsed from a header into its Julia value: JSON as parsed, `\$float` to
NaN/Inf/-Inf, `\$bytes` to a `Vector{UInt8}` (a copy), `\$map` to a `Dict{String,Any}`, and
`\$nd` to an array that shares the buffer's memory (see [`decode_nd`](@ref)). Malformed
tagged values throw `ProtocolError` with code `"bad_value"`.
"""
function decode_value(x, buffers)
    if x isa Dict{String,Any}
        if length(x) == 1
            key = first(keys(x))
            startswith(key, "\$") && return decode_tagged(key, x[key], buffers)
        end
        d = Dict{String,Any}()
        for (k, v) in x
            d[k] = decode_value(v, buffers)
        end
        return d
    elseif x isa Vector{Any}
        return Any[decode_value(v, buffers) for v in x]
    end
    return x
end

function decode_tagged(tag::String, payload, buffers)
    if tag == "\$nd"
        return decode_nd(payload, buffers)
    elseif tag == "\$bytes"
        payload isa Dict{String,Any} || bad_value("\$bytes needs an object")
        return Vector{UInt8}(buffer_at(payload, buffers, "\$bytes"))
    elseif tag == "\$float"
        payload isa String || bad_value("\$float needs a string")
        payload == "nan" && return NaN
        payload == "inf" && return Inf
        payload == "-inf" && return -Inf
        bad_value("\$float must be \"nan\", \"inf\" or \"-inf\", got $(repr(payload))")
    elseif tag == "\$map"
        payload isa Dict{String,Any} || bad_value("\$map needs an object")
        d = Dict{String,Any}()
        for (k, v) in payload
            d[k] = decode_value(v, buffers)
        end
        return d
    end
    bad_value("unknown tag $(repr(tag))")
end

function buffer_at(spec::Dict{String,Any}, buffers, what::String)
    i = get(spec, "buffer", nothing)
    i isa Int64 || bad_value("$what: \"buffer\" must be an integer")
    (0 <= i < length(buffers)) ||
        bad_value("$what: buffer $i does not exist (the frame has $(length(buffers)))")
    return buffers[i + 1]
end

function parse_dtype(dt::String)
    (ncodeunits(dt) == 3 && isascii(dt)) || bad_value("\$nd: unknown dtype $(repr(dt))")
    T = get(DTYPE_KINDS, dt[2:3], nothing)
    T === nothing && bad_value("\$nd: unknown dtype $(repr(dt))")
    order = dt[1]
    if sizeof(T) == 1
        order == '|' || bad_value("\$nd: a one-byte dtype is written with '|', got $(repr(dt))")
        return T, false
    end
    order == '<' && return T, false
    order == '>' && return T, true
    bad_value("\$nd: dtype $(repr(dt)) has no byte order '<' or '>'")
end

# Big-endian elements: copied once, byte-swapped.
function byteswapped(::Type{T}, raw::AbstractVector{UInt8}) where {T}
    U = sizeof(T) == 8 ? UInt64 : sizeof(T) == 4 ? UInt32 : UInt16
    words = reinterpret(U, raw)
    out = Vector{U}(undef, length(words))
    for k in 1:length(words)
        out[k] = bswap(words[k])
    end
    return reinterpret(T, out)
end

"""
    decode_nd(spec, buffers) -> AbstractArray

A `\$nd` value as a Julia array that indexes like the sender's array:

- the elements are the buffer's bytes, not a copy (`reinterpret` of a view of the frame
  body, which stays alive as long as the array does); big-endian dtypes are the exception:
  they are copied once and byte-swapped;
- `"F"` order (or 0-d/1-d): `reshape(flat, shape...)`, an `AbstractArray{T,N}` of size `shape`;
- `"C"` order, N >= 2: `PermutedDimsArray(reshape(flat, reverse(shape)...), (N, ..., 1))`, so
  `a[i, j, ...]` is the sender's `a[i, j, ...]` and `size(a) == shape`.

Call `Array(a)` (a copy) when code needs a dense `Array`.
"""
function decode_nd(spec, buffers)
    spec isa Dict{String,Any} || bad_value("\$nd needs an object")
    buf = buffer_at(spec, buffers, "\$nd")
    dt = get(spec, "dtype", nothing)
    dt isa String || bad_value("\$nd: \"dtype\" must be a string")
    T, swap = parse_dtype(dt)
    shp = get(spec, "shape", nothing)
    shp isa Vector{Any} || bad_value("\$nd: \"shape\" must be a list")
    dims = Int[]
    count = 1
    for d in shp
        (d isa Int64 && d >= 0) || bad_value("\$nd: dimensions must be non-negative integers")
        (d != 0 && count > div(typemax(Int), d)) && bad_value("\$nd: shape is too large")
        count *= d
        push!(dims, d)
    end
    order = get(spec, "order", "C")
    (order == "C" || order == "F") || bad_value("\$nd: \"order\" must be \"C\" or \"F\"")
    count > div(typemax(Int), sizeof(T)) && bad_value("\$nd: shape is too large")
    nbytes = count * sizeof(T)
    length(buf) == nbytes || bad_value("\$nd: buffer has $(length(buf)) bytes but dtype $dt " *
                                       "and shape $(dims) need $nbytes")
    if T === Bool
        for byte in buf
            byte <= 0x01 || bad_value("\$nd: a |b1 element is neither 0 nor 1")
        end
    end
    # A view, never a plain Vector{UInt8}: a received |u1 array must stay an array (a plain
    # Vector{UInt8} is sent back as $bytes).
    raw = view(buf, 1:length(buf))
    flat = swap ? byteswapped(T, raw) : (T === UInt8 ? raw : reinterpret(T, raw))
    n = length(dims)
    n == 0 && return reshape(flat, ())
    n == 1 && return flat
    order == "F" && return reshape(flat, Tuple(dims))
    return PermutedDimsArray(reshape(flat, Tuple(reverse(dims))), Tuple(n:-1:1))
end

"""
    encode_value(x, buffers::Vector{Any}[, level::Int = 2]) -> Any

The wire form of a Julia value (a JSON tree with tagged objects); arrays and bytes are pushed
onto `buffers`:

- `nothing`/`missing` -> null; `Bool`; any `Integer` (JSON integer of any size); other `Real`s
  -> Float64 (NaN and infinities as `\$float`); strings, `Symbol`s, `Char`s -> strings;
- tuples, `AbstractSet`s, `Pair`s -> lists; `AbstractDict`s with string or symbol keys and
  `NamedTuple`s -> objects (escaped with `\$map` when the only key starts with `\$`);
- a `Vector{UInt8}` -> `\$bytes`;
- any other `AbstractArray` whose element type is one of the protocol dtypes (Float64, Float32,
  Int8..Int64, UInt8..UInt64, Bool) -> `\$nd` in **F order** with `shape = size(a)` (non-dense
  arrays are copied to a dense `Array` first); Float16 arrays are sent as Float32; arrays of
  other element types -> nested lists, first index outermost (`x[i][j] == a[i, j]`);
- anything else throws an `ArgumentError` (reported as an error of the call).

Issue 8 limits, also `ArgumentError`s: an integer of more than `MAX_NUMBER_DIGITS` digits;
more than `MAX_BUFFERS` buffers; nesting deeper than `MAX_JSON_DEPTH`, where `level` is the
header level the value is at if it is a container (2, the default, for the `value` of a
`result` or `chunk`) and every container counts (`\$nd` takes 3 levels, `\$bytes` 2, a
non-finite float 1). The check comes before recursing, so a value nested 100,000 deep fails
fast instead of overflowing the stack. (The extra level of a `\$map` escape is left to the
frame's own check in [`frame_parts`](@ref).)
"""
encode_value(x, buffers::Vector{Any}) = encode_value(x, buffers, 2)
encode_value(x, buffers::Vector{Any}, level::Int) =
    throw(ArgumentError("cannot send a value of type $(typeof(x))"))
encode_value(::Nothing, buffers::Vector{Any}, level::Int) = nothing
encode_value(::Missing, buffers::Vector{Any}, level::Int) = nothing
encode_value(x::Bool, buffers::Vector{Any}, level::Int) = x
encode_value(x::Integer, buffers::Vector{Any}, level::Int) = (check_integer_digits(x); x)
encode_value(x::AbstractFloat, buffers::Vector{Any}, level::Int) = encode_float(Float64(x), level)
encode_value(x::Real, buffers::Vector{Any}, level::Int) = encode_float(Float64(x), level)
encode_value(x::AbstractString, buffers::Vector{Any}, level::Int) = String(x)
encode_value(x::Symbol, buffers::Vector{Any}, level::Int) = String(x)
encode_value(x::AbstractChar, buffers::Vector{Any}, level::Int) = string(x)
encode_value(x::Tuple, buffers::Vector{Any}, level::Int) = encode_list(x, buffers, level)
encode_value(x::AbstractSet, buffers::Vector{Any}, level::Int) = encode_list(x, buffers, level)
encode_value(x::Pair, buffers::Vector{Any}, level::Int) =
    encode_list((x.first, x.second), buffers, level)
encode_value(x::NamedTuple, buffers::Vector{Any}, level::Int) =
    encode_map(pairs(x), buffers, level)
encode_value(x::AbstractDict, buffers::Vector{Any}, level::Int) = encode_map(x, buffers, level)

function encode_value(x::Vector{UInt8}, buffers::Vector{Any}, level::Int)
    check_level(level + 1)                      # {"$bytes": {"buffer": i}}
    i = reserve_buffer(buffers)
    push!(buffers, x)
    return Dict{String,Any}("\$bytes" => Dict{String,Any}("buffer" => i))
end

encode_value(x::AbstractArray, buffers::Vector{Any}, level::Int) = encode_array(x, buffers, level)

# A container of the value is about to be made at header level `level`.
function check_level(level::Int)
    level > MAX_JSON_DEPTH && throw(ArgumentError(
        "cannot send a value nested deeper than $(MAX_JSON_DEPTH) levels (the protocol's " *
        "limit, counting the header object as level 1)"))
    return nothing
end

# The index the next buffer will get; refuses the one past MAX_BUFFERS before it is built.
function reserve_buffer(buffers::Vector{Any})
    length(buffers) < MAX_BUFFERS || throw(ArgumentError(
        "cannot send more than $(MAX_BUFFERS) buffers in one frame (the protocol's limit)"))
    return length(buffers)
end

function encode_float(f::Float64, level::Int)
    isfinite(f) || check_level(level)           # written as {"$float": "nan"}
    return f
end

function encode_list(xs, buffers::Vector{Any}, level::Int)
    check_level(level)
    return Any[encode_value(v, buffers, level + 1) for v in xs]
end

function encode_map(kv, buffers::Vector{Any}, level::Int)
    check_level(level)
    d = Dict{String,Any}()
    for (k, v) in kv
        key = k isa AbstractString ? String(k) : k isa Symbol ? String(k) :
              throw(ArgumentError("cannot send a dictionary key of type $(typeof(k))"))
        d[key] = encode_value(v, buffers, level + 1)
    end
    if length(d) == 1 && startswith(first(keys(d)), "\$")
        return Dict{String,Any}("\$map" => d)
    end
    return d
end

function encode_array(a::AbstractArray, buffers::Vector{Any}, level::Int)
    T = eltype(a)
    T === Float16 && return encode_array(Array{Float32}(a), buffers, level)
    dt = dtype_string(T)
    dt === nothing && return encode_nested(a, buffers, level)
    check_level(level + 2)                      # {"$nd": {..., "shape": [...]}}
    i = reserve_buffer(buffers)                 # before a non-dense array is copied
    dense = a isa Array ? a : Array{T}(a)
    push!(buffers, dense)
    return Dict{String,Any}("\$nd" => Dict{String,Any}(
        "buffer" => i, "dtype" => dt,
        "shape" => Any[size(dense)...], "order" => "F"))
end

function encode_nested(a::AbstractArray, buffers::Vector{Any}, level::Int)
    nd = ndims(a)
    nd == 0 && return encode_value(a[], buffers, level)
    check_level(level)
    nd == 1 && return Any[encode_value(x, buffers, level + 1) for x in a]
    return Any[encode_nested(selectdim(a, 1, i), buffers, level + 1) for i in axes(a, 1)]
end

# ------------------------------------------------------------------------------------------
# The worker runtime
# ------------------------------------------------------------------------------------------

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

    function Worker(out::IO, inp::IO, max_frame::Int, allow::Vector{String},
                    attribute_paths::Bool = false)
        return new(out, inp, max_frame, allow, attribute_paths, ReentrantLock(), ReentrantLock(),
                   Set{Int64}(), Channel{Any}(Inf), 0, 0, PHASE_IDLE, nothing, 1)
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

# --- command line -------------------------------------------------------------------------

function valid_module_pattern(p::AbstractString)
    base = endswith(p, ".*") ? chop(p; tail = 2) : p
    return !isempty(base) && all(Base.isidentifier, split(base, '.'))
end

function parse_args(args::Vector{String})
    allow = String[]
    max_frame = DEFAULT_MAX_FRAME
    attribute_paths = false
    i = 1
    while i <= length(args)
        a = args[i]
        if a == "--allow-attribute-paths"
            attribute_paths = true
            i += 1
            continue
        end
        local name::String
        local value::String
        if a == "--allow" || a == "--max-frame"
            i < length(args) || throw(ArgumentError("$a needs a value"))
            name = a
            value = args[i + 1]
            i += 2
        elseif startswith(a, "--allow=")
            name = "--allow"
            value = a[(ncodeunits("--allow=") + 1):end]
            i += 1
        elseif startswith(a, "--max-frame=")
            name = "--max-frame"
            value = a[(ncodeunits("--max-frame=") + 1):end]
            i += 1
        else
            throw(ArgumentError("unknown argument $(repr(a))"))
        end
        if name == "--allow"
            valid_module_pattern(value) ||
                throw(ArgumentError("not a module name or 'pkg.*' pattern: $(repr(value))"))
            push!(allow, value)
        else
            n = tryparse(Int, value)
            (n !== nothing && 4 <= n <= MAX_U32) ||
                throw(ArgumentError("--max-frame must be between 4 and $MAX_U32, got $(repr(value))"))
            max_frame = n
        end
    end
    isempty(allow) && throw(ArgumentError("at least one --allow MODULE is required"))
    return (allow = allow, max_frame = max_frame, attribute_paths = attribute_paths)
end

# --- load path ----------------------------------------------------------------------------

# The project file that "@." names when the working directory is `cwd` (a Project.toml or
# JuliaProject.toml in `cwd` or a directory above it), or `nothing`.
function working_dir_project(cwd::AbstractString)
    try
        p = Base.current_project(cwd)
        return p isa AbstractString ? normpath(p) : nothing
    catch
        return nothing
    end
end

"""
    harden_load_path!(paths = LOAD_PATH; cwd = pwd(), env = ENV["JULIA_LOAD_PATH"])

Returns the removed entries (a `Vector{String}`).

Task modules are loaded with `Base.require`, which looks only at Julia's `LOAD_PATH` (made at
startup from `JULIA_LOAD_PATH`, which the host sets to its module directories plus `@stdlib`)
and, for precompiled caches, `DEPOT_PATH`. This removes from `paths`, in place, every entry
through which the *working directory* would become a place code is loaded from:

- `"@."` (the project of the working directory) and relative paths (`"."`, `"tasks"`: Julia
  resolves them against the working directory at each load);
- `"@"` when the active project (`--project`, `JULIA_PROJECT`) is the working directory's;
- the project file Julia put in place of an `"@."` entry of `JULIA_LOAD_PATH` at startup.

Absolute directories and the other `@` entries (`"@stdlib"`, `"@v#.#"`, `"@name"`) stay, even
one that happens to be the working directory: the host listed it. The worker itself never adds
an entry.
"""
function harden_load_path!(paths::Vector{String} = LOAD_PATH; cwd::AbstractString = pwd(),
                           env = get(ENV, "JULIA_LOAD_PATH", nothing))
    here = working_dir_project(cwd)
    env_has_dot = env isa AbstractString && "@." in split(env, Sys.iswindows() ? ';' : ':')
    active = nothing
    if "@" in paths
        active = try
            Base.load_path_expand("@")
        catch
            nothing
        end
    end
    removed = String[]
    filter!(paths) do entry
        drop = entry == "@." ||
               (!startswith(entry, "@") && !isabspath(entry)) ||
               (entry == "@" && here !== nothing && active isa AbstractString &&
                normpath(active) == here) ||
               (env_has_dot && here !== nothing && isabspath(entry) && normpath(entry) == here)
        drop && push!(removed, entry)
        return !drop
    end
    return removed
end

# --- stdio --------------------------------------------------------------------------------

# Mark the frame descriptor close-on-exec (subprocesses of task code must not hold the frame
# pipe) and blocking (libuv made the original stdout non-blocking; a blocking descriptor lets
# a large frame stream at pipe speed instead of retrying every few milliseconds).
function make_private_fd(fd::Cint)
    try
        @ccall fcntl(fd::Cint, 2::Cint; 1::Cint)::Cint                 # F_SETFD, FD_CLOEXEC
        flags = @ccall fcntl(fd::Cint, 3::Cint)::Cint                   # F_GETFL
        nonblock = Sys.isbsd() ? Cint(0x0004) : Cint(0x0800)            # O_NONBLOCK
        if flags >= 0 && (flags & nonblock) != 0
            newflags = flags & ~nonblock
            @ccall fcntl(fd::Cint, 4::Cint; newflags::Cint)::Cint      # F_SETFL
        end
    catch err
        log_line("could not adjust the frame descriptor: ", sprint(showerror, err))
    end
    return nothing
end

"""
Protocol section 1: frames get a private duplicate of the original stdout; descriptor 1 and
Julia's `stdout` then point at stderr (so `println` and C code writing to descriptor 1 produce
log lines), and descriptor 0 and `stdin` at /dev/null (so task code cannot steal frames).
Julia's own `stdin` object keeps reading the original pipe: at startup Julia wraps a *dup* of
each standard descriptor, so `redirect_stdin` does not touch the stream captured here.
"""
function take_over_stdio!()
    flush(stdout)
    fd = ccall(:dup, Cint, (Cint,), 1)
    fd < 0 && error("cannot duplicate file descriptor 1 for the frame stream")
    make_private_fd(fd)
    out = fdio(fd, true)
    ENV[FRAME_FD_ENV] = string(fd)
    inp = stdin
    KEEP_ALIVE[] = (stdout, stdin)
    redirect_stdout(stderr)
    try
        redirect_stdin(devnull)
    catch err
        log_line("could not point stdin at /dev/null: ", sprint(showerror, err))
    end
    return out, inp
end

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

function send_value(w::Worker, header::Dict{String,Any}, value)
    bufs = Any[]
    header["value"] = encode_value(value, bufs)
    send_frame(w, header, bufs; limit = w.max_frame)
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

"""
The protocol `type` of an exception: the worker's own `Cancelled`, `NotAllowed` and
`ProtocolError`, and exceptions defined in Base or Core, by their bare name
(`ErrorException`, `DomainError`, ...); any other by its qualified name
(`MyTasks.SolverError`), as the Python worker qualifies non-builtin classes.
"""
function error_type_name(err)
    T = typeof(err)
    name = string(nameof(T))
    mod = parentmodule(T)
    root = Base.moduleroot(mod)
    (mod === THIS_MODULE || root === Base || root === Core) && return name
    return join(map(string, fullname(mod)), ".") * "." * name
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

is_worker_frame(fr) = endswith(string(fr.file), "OpenWorker.jl") ||
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

# --- resolving "module:attribute" ---------------------------------------------------------

"""
Whether `modname` is allowed: it equals an `--allow` entry, or an entry `pkg.*` has
`modname == "pkg"` or `startswith(modname, "pkg.")`.
"""
function is_allowed(allow::Vector{String}, modname::AbstractString)
    for pattern in allow
        if endswith(pattern, ".*")
            base = chop(pattern; tail = 2)
            (modname == base || startswith(modname, string(base, "."))) && return true
        elseif pattern == modname
            return true
        end
    end
    return false
end

function split_function(name::String)
    parts = split(name, ':')
    ok = length(parts) == 2 &&
         all(Base.isidentifier, split(parts[1], '.')) &&
         all(Base.isidentifier, split(parts[2], '.'))
    ok || throw(ProtocolError("bad_call",
                              "function $(repr(name)) is not of the form \"module:attribute\""))
    return String(parts[1]), String[String(a) for a in split(parts[2], '.')]
end

const ATTRIBUTE_PATHS_REFUSED = "attribute paths (\"Module:obj.field\") are not allowed in " *
                                "this worker (see --allow-attribute-paths)"

"""
The module that defines `obj`, as the allow list judges a callable: `parentmodule` of a
function's type (where the generic function was created; for a closure, where it was written),
of a type itself (a constructor), or of the type of any other callable object. `nothing` when
there is none (a `Union`, ...).
"""
function defining_module(obj)
    try
        (obj isa DataType || obj isa UnionAll) && return parentmodule(obj)
        obj isa Type && return nothing
        return parentmodule(typeof(obj))
    catch
        return nothing
    end
end

"""
The dotted name of module `mod` as the allow list sees it: its path below `root`, the loaded
top module of the call (named `rootname`), e.g. `"Pkg.Impl"`; for a module outside `root`'s
tree, its `fullname` (`"Base"`, `"Main.X"`, `"OtherPkg"`).
"""
function allow_name(mod::Module, root::Module, rootname::AbstractString)
    parts = String[]
    m = mod
    while true
        m === root && return join(pushfirst!(reverse!(parts), String(rootname)), '.')
        p = parentmodule(m)
        p === m && break
        push!(parts, String(nameof(m)))
        m = p
    end
    return join(map(string, fullname(mod)), '.')
end

"""
Resolve the function of a call in the (already loaded) module. Runs in the latest world (it is
called through `invokelatest`, after the module was loaded). Rules:

- every step of `modname` after the first must be a submodule defined in its parent;
- by default `attrs` is a single name; `Module:obj.field` paths only with
  `attribute_paths = true` (`--allow-attribute-paths`), and then each further step is a
  property (`getproperty`) of the value found so far;
- the name must be defined or visible in the module (else `UndefVarError`), must not be `eval`
  or `include` (which every module has); no step may start with `_` or be a module;
- the final callable must be **defined in an allowed module**: [`defining_module`](@ref) must
  be one that `allow` admits. A name merely imported or assigned from elsewhere (`rm` from Base
  in any module, `const upper = Base.uppercase`) is `NotAllowed`; a function re-exported from
  a submodule is allowed when that submodule is (`--allow 'pkg.*'`).

`allow` defaults to the called module alone. No host text is ever evaluated: names are only
turned into `Symbol`s and looked up.
"""
function resolve_function(root::Module, modname::String, attrs::Vector{String};
                          allow::Vector{String} = String[modname],
                          attribute_paths::Bool = false)
    (length(attrs) == 1 || attribute_paths) || throw(NotAllowed(ATTRIBUTE_PATHS_REFUSED))
    segs = split(modname, '.')
    m = root
    for k in 2:length(segs)
        sym = Symbol(segs[k])
        isdefined(m, sym) || throw(ArgumentError("module $(join(segs[1:k], '.')) not found"))
        sub = getfield(m, sym)
        (sub isa Module && sub !== m && parentmodule(sub) === m) ||
            throw(ArgumentError("$(join(segs[1:k], '.')) is not a submodule"))
        m = sub
    end
    obj = nothing
    for (k, a) in enumerate(attrs)
        startswith(a, "_") && throw(NotAllowed("$(modname):$(a) is private (leading underscore)"))
        sym = Symbol(a)
        if k == 1
            (sym === :eval || sym === :include) &&
                throw(NotAllowed("$(modname):$(a) may not be called"))
            isdefined(m, sym) || throw(UndefVarError(sym))
            obj = getfield(m, sym)
        else
            hasproperty(obj, sym) ||
                throw(ArgumentError("$(join(attrs[1:(k - 1)], '.')) has no property $(a)"))
            obj = getproperty(obj, sym)
        end
        obj isa Module && throw(NotAllowed(
            "$(modname):$(join(attrs[1:k], '.')) is a module; name modules before the ':'"))
    end
    owner = defining_module(obj)
    if owner === nothing || !is_allowed(allow, allow_name(owner, root, segs[1]))
        from = owner === nothing ? "" : " (it comes from $(owner))"
        throw(NotAllowed("$(modname):$(join(attrs, '.')) is not defined in an allowed " *
                         "module$(from)"))
    end
    return obj
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
    args = Any[decode_value(v, req.buffers) for v in args_raw]
    kwargs = Pair{Symbol,Any}[]
    if kwargs_raw !== nothing
        for (k, v) in kwargs_raw
            push!(kwargs, Symbol(k) => decode_value(v, req.buffers))
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
        frame === nothing && return 0
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

function hello_header()
    return Dict{String,Any}(
        "kind" => "hello", "protocol" => PROTOCOL_VERSION, "language" => "julia",
        "version" => string(VERSION), "pid" => Int(getpid()), "worker" => WORKER_NAME,
        "capabilities" => Any["stream", "cancel"])
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

"""
    main(args = ARGS) -> Int

Run the worker: parse `--allow MODULE` (repeatable; `pkg.*` allows a package and its
submodules), `--max-frame BYTES` and `--allow-attribute-paths`, remove working-directory
entries from the load path ([`harden_load_path!`](@ref)), take over stdio, send `hello`, serve
frames. Exits the process: 0 on end-of-file or `shutdown`, 3 after a fatal protocol error, 2
on a bad command line.
"""
function main(args::Vector{String} = copy(ARGS))
    if any(a -> a == "-h" || a == "--help", args)
        println(stderr, USAGE)
        return 0
    end
    opts = nothing
    try
        opts = parse_args(args)
    catch err
        err isa ArgumentError || rethrow()
        println(stderr, "open_worker.jl: ", err.msg)
        println(stderr, USAGE)
        return 2
    end
    removed = harden_load_path!()
    isempty(removed) || log_line("load path entries that depend on the working directory ",
                                 "are ignored: ", join(removed, ", "))
    out, inp = take_over_stdio!()
    w = Worker(out, inp, opts.max_frame, opts.allow, opts.attribute_paths)
    CURRENT_WORKER[] = w
    start_executor!(w)
    status = 0
    try
        send_frame(w, hello_header(), Any[])
        status = serve(w)
    catch err
        if err isa Base.IOError || err isa SystemError || err isa EOFError
            status = 0
        else
            log_line("fatal: ", sprint(showerror, err))
            status = 1
        end
    end
    finish!(w, status)
    return status
end

end # module OpenWorker
