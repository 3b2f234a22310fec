"""
Descriptive statistics and a simple linear regression, in plain Base Julia.

Inputs may be JSON lists of numbers or received arrays (`\$nd`) of any shape (all elements
are used). Quantiles use linear interpolation between order statistics (type 7, the default of
NumPy and R).
"""
module StatsTasks

export mean, variance, stddev, quantile, quantiles, median, linear_regression, describe

values_of(x) = Float64[Float64(v) for v in x]

function nonempty(v::Vector{Float64}, what::String)
    isempty(v) && throw(ArgumentError("$what of an empty collection"))
    return v
end

"Arithmetic mean."
function mean(x)
    v = nonempty(values_of(x), "mean")
    return sum(v) / length(v)
end

"Variance; `corrected = true` divides by `n - 1` (sample variance), `false` by `n`."
function variance(x; corrected::Bool = true)
    v = nonempty(values_of(x), "variance")
    n = length(v)
    (corrected && n < 2) && throw(ArgumentError("the sample variance needs at least 2 values"))
    m = sum(v) / n
    return sum(abs2(t - m) for t in v) / (corrected ? n - 1 : n)
end

"Standard deviation, the square root of [`variance`](@ref)."
stddev(x; corrected::Bool = true) = sqrt(variance(x; corrected = corrected))

"""
    quantiles(x, ps) -> Vector{Float64}

The quantiles of `x` at the probabilities `ps` (each in [0, 1]), by linear interpolation:
with the sorted values `v` and `h = (n - 1) p + 1`, `v[floor(h)] + (h - floor(h)) *
(v[floor(h) + 1] - v[floor(h)])`.
"""
function quantiles(x, ps)
    v = sort!(nonempty(values_of(x), "quantile"))
    n = length(v)
    out = Float64[]
    for p in ps
        q = Float64(p)
        0.0 <= q <= 1.0 || throw(DomainError(q, "quantile probabilities must lie in [0, 1]"))
        h = (n - 1) * q + 1
        lo = floor(Int, h)
        hi = min(lo + 1, n)
        push!(out, v[lo] + (h - lo) * (v[hi] - v[lo]))
    end
    return out
end

"The quantile of `x` at probability `p`."
quantile(x, p::Real) = quantiles(x, (p,))[1]

"The median (the 0.5 quantile)."
median(x) = quantile(x, 0.5)

"""
    linear_regression(x, y) -> Dict

Ordinary least squares fit of `y = intercept + slope * x`:
`{"slope", "intercept", "r2", "n"}`.
"""
function linear_regression(x, y)
    xv = values_of(x)
    yv = values_of(y)
    n = length(xv)
    n == length(yv) || throw(DimensionMismatch("x has $n values but y has $(length(yv))"))
    n >= 2 || throw(ArgumentError("a regression needs at least 2 points"))
    mx = sum(xv) / n
    my = sum(yv) / n
    sxx = sum(abs2(a - mx) for a in xv)
    sxx > 0 || throw(ArgumentError("all x values are equal"))
    sxy = sum((xv[i] - mx) * (yv[i] - my) for i in 1:n)
    slope = sxy / sxx
    intercept = my - slope * mx
    ss_res = sum(abs2(yv[i] - (intercept + slope * xv[i])) for i in 1:n)
    ss_tot = sum(abs2(b - my) for b in yv)
    r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0
    return Dict{String,Any}("slope" => slope, "intercept" => intercept, "r2" => r2, "n" => n)
end

"Count, mean, standard deviation, minimum, quartiles and maximum of `x`."
function describe(x)
    v = nonempty(values_of(x), "describe")
    q = quantiles(v, (0.0, 0.25, 0.5, 0.75, 1.0))
    return Dict{String,Any}(
        "count" => length(v),
        "mean" => mean(v),
        "std" => length(v) >= 2 ? stddev(v) : 0.0,
        "min" => q[1], "q25" => q[2], "median" => q[3], "q75" => q[4], "max" => q[5],
    )
end

end # module StatsTasks
