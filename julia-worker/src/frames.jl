# The frame codec (protocol section 2; python-worker: open_worker/frames.py): reading a frame
# with a bounded body allocation, splitting a body into its header and zero-copy buffer views,
# recovering `kind` and `id` from a header that broke a value limit, and encoding frames with
# the header limits checked before anything is written.
#
# Relies on the constants DEFAULT_MAX_FRAME, MAX_U32, KINDS, MAX_BUFFERS, MAX_JSON_DEPTH,
# MAX_NUMBER_DIGITS and BODY_CHUNK (OpenWorker.jl), on `ProtocolError` (errors.jl) and on
# json.jl (`json_parse`, `json_write`, `JSONError`, `JSONLimitError`, and `JSONReader`,
# `read_string!`, `isdigit_byte` for the recovery scan). values.jl uses
# `check_integer_digits` from here.

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
