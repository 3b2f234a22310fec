"""
Ordinary differential equations solved with a hand-written classic Runge-Kutta scheme (RK4).

The right-hand sides live in this module and are chosen by name (the host sends data, never
code): `"lotka_volterra"`, `"damped_oscillator"`, `"exponential_decay"`. Their parameters are
keyword arguments, passed through the call's `kwargs`.

    call "OdeTasks:rk4" args ["damped_oscillator", [1.0, 0.0], 0.0, 10.0, 1000]
                        kwargs {"zeta": 0.05}
"""
module OdeTasks

export rk4, solve, rhs_names

"Predator-prey: `y = [prey, predators]`."
function lotka_volterra(t, y; alpha = 1.5, beta = 1.0, delta = 1.0, gamma = 3.0)
    return [alpha * y[1] - beta * y[1] * y[2], delta * y[1] * y[2] - gamma * y[2]]
end

"`x'' + 2 zeta omega x' + omega^2 x = 0` as a first-order system, `y = [x, x']`."
function damped_oscillator(t, y; omega = 1.0, zeta = 0.1)
    return [y[2], -2.0 * zeta * omega * y[2] - omega^2 * y[1]]
end

"`y' = -k y` (exact solution `y0 exp(-k t)`), for any number of components."
exponential_decay(t, y; k = 1.0) = -k .* y

const RHS = Dict{String,Function}(
    "lotka_volterra" => lotka_volterra,
    "damped_oscillator" => damped_oscillator,
    "exponential_decay" => exponential_decay,
)

"The names of the right-hand sides `rk4` accepts."
rhs_names() = sort!(collect(keys(RHS)))

function lookup_rhs(name::AbstractString)
    f = get(RHS, String(name), nothing)
    f === nothing && throw(ArgumentError(
        "unknown right-hand side $(repr(name)); known: $(join(rhs_names(), ", "))"))
    return f
end

"""
    rk4(f_name, y0, t0, t1, steps; params...) -> Matrix{Float64}

Integrate `y' = f(t, y; params...)` from `t0` to `t1` with `steps` RK4 steps of equal size.
Returns the states as a `(steps + 1) x length(y0)` matrix: row `k` is the state at
`t0 + (k - 1) h`, `h = (t1 - t0) / steps` (row 1 is `y0`).
"""
function rk4(f_name::AbstractString, y0, t0::Real, t1::Real, steps::Integer; params...)
    f = lookup_rhs(f_name)
    steps >= 1 || throw(ArgumentError("steps must be at least 1, got $steps"))
    y = Float64[Float64(v) for v in y0]
    isempty(y) && throw(ArgumentError("y0 must not be empty"))
    n = length(y)
    a = Float64(t0)
    h = (Float64(t1) - a) / steps
    states = Matrix{Float64}(undef, steps + 1, n)
    states[1, :] = y
    for k in 1:steps
        t = a + (k - 1) * h
        k1 = f(t, y; params...)
        k2 = f(t + h / 2, y .+ (h / 2) .* k1; params...)
        k3 = f(t + h / 2, y .+ (h / 2) .* k2; params...)
        k4 = f(t + h, y .+ h .* k3; params...)
        y = y .+ (h / 6) .* (k1 .+ 2 .* k2 .+ 2 .* k3 .+ k4)
        states[k + 1, :] = y
    end
    return states
end

"""
    solve(f_name, y0, t0, t1, steps; params...) -> Dict

`rk4` with the time grid: `{"t": [t0, ..., t1], "y": states}`.
"""
function solve(f_name::AbstractString, y0, t0::Real, t1::Real, steps::Integer; params...)
    states = rk4(f_name, y0, t0, t1, steps; params...)
    times = collect(range(Float64(t0), Float64(t1); length = steps + 1))
    return Dict{String,Any}("t" => times, "y" => states)
end

end # module OdeTasks
