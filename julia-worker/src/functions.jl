# Resolution of a call's `"module:name"` against the allow list (protocol section 3;
# python-worker: open_worker/functions.py): whether a module may be loaded, what the name may
# reach, and that the callable reached is defined in an allowed module.
#
# Relies on `ProtocolError` and `NotAllowed` (errors.jl). runtime.jl checks a call's name with
# `split_function`, `is_allowed` and ATTRIBUTE_PATHS_REFUSED before loading anything, then
# calls `resolve_function`.

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
