# The entry point (python-worker: open_worker/__main__.py): the command line, removing the
# working directory from the load path, taking over stdout/stdin, and `main`, which
# open_worker.jl calls as `OpenWorker.main`.
#
# Relies on DEFAULT_MAX_FRAME, MAX_U32, FRAME_FD_ENV and USAGE (OpenWorker.jl), on shm.jl
# (DEFAULT_SHM_THRESHOLD, `check_shm_dir`, `SharedMemory`, `ignore_file_size_signal`) and on
# runtime.jl: `Worker`, CURRENT_WORKER, KEEP_ALIVE (which `take_over_stdio!` fills),
# `log_line`, `start_executor!`, `send_frame`, `hello_header`, `serve` and `finish!`.

# --- command line -------------------------------------------------------------------------

function valid_module_pattern(p::AbstractString)
    base = endswith(p, ".*") ? chop(p; tail = 2) : p
    return !isempty(base) && all(Base.isidentifier, split(base, '.'))
end

const VALUE_OPTIONS = ("--allow", "--max-frame", "--shm-dir", "--shm-threshold")

function parse_args(args::Vector{String})
    allow = String[]
    max_frame = DEFAULT_MAX_FRAME
    attribute_paths = false
    shm_dir = nothing
    shm_threshold = DEFAULT_SHM_THRESHOLD
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
        if a in VALUE_OPTIONS
            i < length(args) || throw(ArgumentError("$a needs a value"))
            name = a
            value = args[i + 1]
            i += 2
        else
            eq = findfirst('=', a)                          # --option=value
            (eq !== nothing && a[1:prevind(a, eq)] in VALUE_OPTIONS) ||
                throw(ArgumentError("unknown argument $(repr(a))"))
            name = a[1:prevind(a, eq)]
            value = a[nextind(a, eq):end]
            i += 1
        end
        if name == "--allow"
            valid_module_pattern(value) ||
                throw(ArgumentError("not a module name or 'pkg.*' pattern: $(repr(value))"))
            push!(allow, value)
        elseif name == "--max-frame"
            n = tryparse(Int, value)
            (n !== nothing && 4 <= n <= MAX_U32) ||
                throw(ArgumentError("--max-frame must be between 4 and $MAX_U32, got $(repr(value))"))
            max_frame = n
        elseif name == "--shm-dir"
            shm_dir = check_shm_dir(value)
        else
            n = tryparse(Int, value)
            (n !== nothing && n >= 1) || throw(ArgumentError(
                "--shm-threshold must be an integer of at least 1, got $(repr(value))"))
            shm_threshold = n
        end
    end
    isempty(allow) && throw(ArgumentError("at least one --allow MODULE is required"))
    return (allow = allow, max_frame = max_frame, attribute_paths = attribute_paths,
            shm_dir = shm_dir, shm_threshold = shm_threshold)
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

"""
    main(args = ARGS) -> Int

Run the worker: parse `--allow MODULE` (repeatable; `pkg.*` allows a package and its
submodules), `--max-frame BYTES`, `--allow-attribute-paths`, `--shm-dir DIR` and
`--shm-threshold BYTES` (shared memory: capability `shm`, [`SharedMemory`](@ref)), remove
working-directory entries from the load path ([`harden_load_path!`](@ref)), take over stdio,
send `hello`, serve frames. Exits the process: 0 on end-of-file or `shutdown`, 3 after a fatal
protocol error, 2 on a bad command line (also a `--shm-dir` that is not a directory the worker
can write).
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
    shm = nothing
    if opts.shm_dir !== nothing
        shm = SharedMemory(opts.shm_dir, opts.shm_threshold)
        ignore_file_size_signal()
    end
    out, inp = take_over_stdio!()
    w = Worker(out, inp, opts.max_frame, opts.allow, opts.attribute_paths, shm)
    CURRENT_WORKER[] = w
    start_executor!(w)
    status = 0
    try
        send_frame(w, hello_header(shm !== nothing), Any[])
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
