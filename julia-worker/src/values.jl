# The value codec (protocol section 4; python-worker: open_worker/values.py): a parsed JSON
# tree with `$nd`/`$bytes`/`$float`/`$map` objects to Julia values (received arrays share the
# frame's memory, or a shared-memory segment's) and Julia values to such a tree plus buffers.
#
# Relies on MAX_BUFFERS and MAX_JSON_DEPTH (OpenWorker.jl, which also refuses to load on a
# big-endian machine: the zero-copy arrays below assume little-endian), on `ProtocolError`
# (errors.jl), on `check_integer_digits` (frames.jl) and on shm.jl (`SharedMemory`,
# `segment_view`, `locate`, `write_segment`, `segment_nd`, RESULT_SHM).

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
    decode_value(x, buffers[, shm::SharedMemory]) -> Any

Turn a value as parsed from a header into its Julia value: JSON as parsed, `\$float` to
NaN/Inf/-Inf, `\$bytes` to a `Vector{UInt8}` (a copy), `\$map` to a `Dict{String,Any}`, and
`\$nd` to an array that shares the buffer's memory (see [`decode_nd`](@ref)), or with `shm`
the memory of the segment it names. Malformed tagged values throw `ProtocolError` with code
`"bad_value"`.
"""
function decode_value(x, buffers, shm::Union{Nothing,SharedMemory} = nothing)
    if x isa Dict{String,Any}
        if length(x) == 1
            key = first(keys(x))
            startswith(key, "\$") && return decode_tagged(key, x[key], buffers, shm)
        end
        d = Dict{String,Any}()
        for (k, v) in x
            d[k] = decode_value(v, buffers, shm)
        end
        return d
    elseif x isa Vector{Any}
        return Any[decode_value(v, buffers, shm) for v in x]
    end
    return x
end

function decode_tagged(tag::String, payload, buffers, shm::Union{Nothing,SharedMemory})
    if tag == "\$nd"
        return decode_nd(payload, buffers, shm)
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
            d[k] = decode_value(v, buffers, shm)
        end
        return d
    end
    bad_value("unknown tag $(repr(tag))")
end

# The bytes of an `\$nd`: a buffer of the frame, or with `shm` a part of a segment.
function nd_bytes(spec::Dict{String,Any}, buffers, shm::Union{Nothing,SharedMemory},
                  nbytes::Int, itemsize::Int)
    haskey(spec, "segment") || return buffer_at(spec, buffers, "\$nd")
    haskey(spec, "buffer") && bad_value("\$nd has both a \"buffer\" and a \"segment\"")
    shm === nothing &&
        bad_value("\$nd names a shared-memory segment, but shared memory is not enabled")
    seg = spec["segment"]
    seg isa Dict{String,Any} || bad_value("\$nd: \"segment\" must be an object")
    offset = get(seg, "offset", 0)
    (offset isa Int64 && offset % itemsize != 0) &&
        bad_value("\$nd: segment offset $offset is not a multiple of the item size $itemsize")
    return segment_view(shm, get(seg, "name", nothing), offset, nbytes)
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
    decode_nd(spec, buffers[, shm]) -> AbstractArray

A `\$nd` value as a Julia array that indexes like the sender's array:

- the elements are the buffer's bytes, not a copy (`reinterpret` of a view of the frame
  body, which stays alive as long as the array does); with `"segment"` instead of `"buffer"`
  (and `shm`), a view of the segment mapped read-only ([`segment_view`](@ref)); big-endian
  dtypes are the exception: they are copied once and byte-swapped;
- `"F"` order (or 0-d/1-d): `reshape(flat, shape...)`, an `AbstractArray{T,N}` of size `shape`;
- `"C"` order, N >= 2: `PermutedDimsArray(reshape(flat, reverse(shape)...), (N, ..., 1))`, so
  `a[i, j, ...]` is the sender's `a[i, j, ...]` and `size(a) == shape`.

Call `Array(a)` (a copy) when code needs a dense `Array`.
"""
function decode_nd(spec, buffers, shm::Union{Nothing,SharedMemory} = nothing)
    spec isa Dict{String,Any} || bad_value("\$nd needs an object")
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
    buf = nd_bytes(spec, buffers, shm, nbytes, sizeof(T))
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

With `shm` (a [`SharedMemory`](@ref), the value of an answer at level 2): an array of at least
`shm.threshold` bytes is sent in a segment instead of a buffer, `{"\$nd": {"segment": {"name",
"offset"}, ...}}`: named where it lies when it is a dense part of a segment mapped for the
running call ([`locate`](@ref); in F or C order, as it lies), else written to a new segment
([`write_segment`](@ref)); inline as above when that write fails.
"""
encode_value(x, buffers::Vector{Any}) = encode_value(x, buffers, 2)
function encode_value(x, buffers::Vector{Any}, shm::SharedMemory)
    RESULT_SHM[] = shm
    try
        return encode_value(x, buffers, 2)
    finally
        RESULT_SHM[] = nothing
    end
end
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
    shm = RESULT_SHM[]
    dense = nothing
    if shm !== nothing && length(a) * sizeof(T) >= shm.threshold
        found = locate(shm, a)                  # (part of) an argument: named, not copied
        if found === nothing
            dense = a isa Array ? a : Array{T}(a)
            name = write_segment(shm, dense)
            found = name === nothing ? nothing : (name, 0, "F")
        end
        if found !== nothing
            name, offset, order = found
            return Dict{String,Any}("\$nd" => segment_nd(name, offset, dt, size(a), order))
        end
    end
    i = reserve_buffer(buffers)                 # before a non-dense array is copied
    dense === nothing && (dense = a isa Array ? a : Array{T}(a))
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
