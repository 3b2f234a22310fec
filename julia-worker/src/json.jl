# The strict JSON reader and compact writer that frame headers are made of (the Python worker
# takes its `json` from the standard library), with the protocol's value limits built into the
# reader (`JSONLimitError`), and the JSON errors.
#
# Relies on MAX_JSON_DEPTH and MAX_NUMBER_DIGITS (OpenWorker.jl). frames.jl's header scan
# reuses `JSONReader`, `read_string!` and `isdigit_byte` from here.

# ------------------------------------------------------------------------------------------
# JSON reader: objects -> Dict{String,Any}, arrays -> Vector{Any}, integers -> Int64 (Int128,
# BigInt when larger), other numbers -> Float64, strings -> String, null -> nothing.
# ------------------------------------------------------------------------------------------

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
