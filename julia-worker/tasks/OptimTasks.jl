"""
Derivative-free minimisation with a hand-written Nelder-Mead simplex method.

The objectives live in this module and are chosen by name: `"rosenbrock"`, `"sphere"`,
`"booth"`. Extra keyword arguments of `nelder_mead` are passed to the objective.

    call "OptimTasks:nelder_mead" args ["rosenbrock", [-1.2, 1.0]]
    -> {"x": [1.0, 1.0] (approximately), "value": ~0, "iterations": ..., "converged": true}
"""
module OptimTasks

export nelder_mead, objective_names, rosenbrock, sphere, booth

"Rosenbrock's banana function, minimum 0 at `(a, a^2, ...)`; `a = 1` gives all ones."
function rosenbrock(x; a = 1.0, b = 100.0)
    length(x) >= 2 || throw(ArgumentError("rosenbrock needs at least 2 variables"))
    return sum(b * (x[i + 1] - x[i]^2)^2 + (a - x[i])^2 for i in 1:(length(x) - 1))
end

"Sum of squares, minimum 0 at the origin."
sphere(x) = sum(abs2, x)

"Booth's function, minimum 0 at `(1, 3)`."
function booth(x)
    length(x) == 2 || throw(ArgumentError("booth takes 2 variables"))
    return (x[1] + 2 * x[2] - 7)^2 + (2 * x[1] + x[2] - 5)^2
end

const OBJECTIVES = Dict{String,Function}(
    "rosenbrock" => rosenbrock,
    "sphere" => sphere,
    "booth" => booth,
)

"The names of the objectives `nelder_mead` accepts."
objective_names() = sort!(collect(keys(OBJECTIVES)))

function lookup_objective(name::AbstractString)
    f = get(OBJECTIVES, String(name), nothing)
    f === nothing && throw(ArgumentError(
        "unknown objective $(repr(name)); known: $(join(objective_names(), ", "))"))
    return f
end

"""
    nelder_mead(f_name, x0; ftol = 1e-12, xtol = 1e-9, max_iter = 20000, params...) -> Dict

Minimise the objective `f_name` from `x0` with the Nelder-Mead method (reflection 1,
expansion 2, contraction 1/2, shrink 1/2; initial simplex: `x0` and `x0` with one coordinate
scaled by 1.05, or set to 0.00025 where it is 0). Stops when the simplex's values differ by at
most `ftol` and its vertices by at most `xtol`, or after `max_iter` iterations.

Returns `{"x": best point, "value": f(x), "iterations": n, "converged": Bool}`.
"""
function nelder_mead(f_name::AbstractString, x0; ftol::Real = 1e-12, xtol::Real = 1e-9,
                     max_iter::Integer = 20_000, params...)
    objective = lookup_objective(f_name)
    f(p) = Float64(objective(p; params...))
    x = Float64[Float64(v) for v in x0]
    n = length(x)
    n >= 1 || throw(ArgumentError("x0 must not be empty"))
    simplex = Vector{Vector{Float64}}(undef, n + 1)
    simplex[1] = copy(x)
    for i in 1:n
        p = copy(x)
        p[i] = p[i] != 0.0 ? 1.05 * p[i] : 0.00025
        simplex[i + 1] = p
    end
    fvals = Float64[f(p) for p in simplex]
    iterations = 0
    converged = false
    while true
        order = sortperm(fvals)
        simplex = simplex[order]
        fvals = fvals[order]
        spread = maximum(maximum(abs.(p .- simplex[1])) for p in simplex)
        if fvals[end] - fvals[1] <= ftol && spread <= xtol
            converged = true
            break
        end
        iterations >= max_iter && break
        iterations += 1
        centroid = sum(simplex[1:n]) ./ n
        worst = simplex[n + 1]
        xr = centroid .+ (centroid .- worst)                    # reflection
        fr = f(xr)
        if fr < fvals[1]
            xe = centroid .+ 2.0 .* (xr .- centroid)            # expansion
            fe = f(xe)
            if fe < fr
                simplex[n + 1] = xe
                fvals[n + 1] = fe
            else
                simplex[n + 1] = xr
                fvals[n + 1] = fr
            end
        elseif fr < fvals[n]
            simplex[n + 1] = xr
            fvals[n + 1] = fr
        else
            xc = if fr < fvals[n + 1]
                centroid .+ 0.5 .* (xr .- centroid)             # outside contraction
            else
                centroid .+ 0.5 .* (worst .- centroid)          # inside contraction
            end
            fc = f(xc)
            if fc < min(fr, fvals[n + 1])
                simplex[n + 1] = xc
                fvals[n + 1] = fc
            else
                for i in 2:(n + 1)                              # shrink towards the best
                    simplex[i] = simplex[1] .+ 0.5 .* (simplex[i] .- simplex[1])
                    fvals[i] = f(simplex[i])
                end
            end
        end
    end
    best = argmin(fvals)
    return Dict{String,Any}("x" => simplex[best], "value" => fvals[best],
                            "iterations" => iterations, "converged" => converged)
end

end # module OptimTasks
