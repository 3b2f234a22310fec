# The worker's own exceptions that reach the host under a fixed protocol `type`
# (`ProtocolError`, `NotAllowed`, `Cancelled`), and `error_type_name`, the protocol `type` of
# any exception (python-worker: open_worker/errors.py). The JSON errors are in json.jl,
# `FatalError` (which never reaches the host as a type) is in runtime.jl.
#
# Relies on THIS_MODULE (OpenWorker.jl) to recognize the worker's own exception types.

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
