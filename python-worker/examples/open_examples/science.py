"""SciPy example: a stability sweep of the damped Mathieu equation.

    x'' + c x' + (delta + epsilon cos t) x = 0

is a pendulum (or a swing, an ion in a trap, a ship rolling in waves) whose stiffness is pumped
periodically. Whether its motion dies out or grows without bound depends on (delta, epsilon) in
a famous pattern of "tongues" of instability rooted at delta = n^2/4 (the Ince-Strutt chart).

Floquet theory decides it exactly: integrate the equation over one period (2 pi) from the two
unit initial states; the resulting 2x2 monodromy matrix M maps the state at t to the state at
t + 2 pi, and the motion is stable when the spectral radius of M is below 1. The sweep also
follows the response from x = 1, x' = 0 for a few periods and reports its amplitude over the
last one.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp

TWO_PI = 2.0 * math.pi

#: The columns of :func:`mathieu_batch`'s result, in order.
COLUMNS = ("delta", "epsilon", "radius", "amplitude", "x_end")


def _integrate(delta: np.ndarray, epsilon: np.ndarray, damping: float, periods: int,
               samples: int, rtol: float, atol: float) -> np.ndarray:
    """Both fundamental solutions of every (delta, epsilon) at once.

    Returns the states as an array ``(4, n, periods * samples + 1)``: rows x1, x1', x2, x2'
    (solution 1 starts at x = 1, x' = 0; solution 2 at x = 0, x' = 1), sampled ``samples``
    times per period.
    """
    n = delta.size

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        s = y.reshape(4, n)
        stiffness = delta + epsilon * math.cos(t)
        out = np.empty_like(s)
        out[0] = s[1]
        out[1] = -damping * s[1] - stiffness * s[0]
        out[2] = s[3]
        out[3] = -damping * s[3] - stiffness * s[2]
        return out.ravel()

    y0 = np.zeros((4, n))
    y0[0] = 1.0
    y0[3] = 1.0
    t_end = periods * TWO_PI
    t_eval = np.linspace(0.0, t_end, periods * samples + 1)
    solution = solve_ivp(rhs, (0.0, t_end), y0.ravel(), method="DOP853", t_eval=t_eval,
                         rtol=rtol, atol=atol)
    if not solution.success:
        raise RuntimeError(f"solve_ivp failed: {solution.message}")
    return solution.y.reshape(4, n, -1)


def mathieu_batch(delta, epsilon, damping: float = 0.1, periods: int = 4, samples: int = 100,
                  rtol: float = 1e-9, atol: float = 1e-11) -> np.ndarray:
    """Stability and response of the damped Mathieu equation for a batch of parameter sets.

    ``delta`` and ``epsilon`` are 1-d arrays of the same length, one parameter set per index.
    The batch is integrated as one vectorised system (4 equations per set) with SciPy's
    ``solve_ivp`` (DOP853), which costs about as much as a single set: the step size follows
    the batch's most demanding member, and the error norm is an average over the batch, so the
    tolerances are set tighter than one set alone would need.

    Returns a float64 array ``(n, 5)``, columns :data:`COLUMNS`:

    - ``radius``: the spectral radius of the monodromy matrix (the largest Floquet multiplier
      in absolute value); the motion decays when it is below 1;
    - ``amplitude``: max |x(t)| over the last period, starting from x = 1, x' = 0, sampled
      ``samples`` times per period (both ends included);
    - ``x_end``: x at the end, t = periods * 2 pi.
    """
    delta = np.asarray(delta, dtype=np.float64)
    epsilon = np.asarray(epsilon, dtype=np.float64)
    if delta.ndim != 1 or delta.shape != epsilon.shape or delta.size == 0:
        raise ValueError(f"delta and epsilon must be non-empty 1-d arrays of one length, "
                         f"got shapes {delta.shape} and {epsilon.shape}")
    if not (np.isfinite(delta).all() and np.isfinite(epsilon).all()):
        raise ValueError("delta and epsilon must be finite")
    if damping < 0 or periods < 1 or samples < 1:
        raise ValueError(f"need damping >= 0, periods >= 1, samples >= 1; got {damping}, "
                         f"{periods}, {samples}")
    states = _integrate(delta, epsilon, float(damping), int(periods), int(samples), rtol, atol)
    one_period = states[:, :, samples]
    monodromy = np.stack([np.stack([one_period[0], one_period[2]], axis=-1),
                          np.stack([one_period[1], one_period[3]], axis=-1)], axis=-2)
    radius = np.abs(np.linalg.eigvals(monodromy)).max(axis=-1)
    x = states[0]
    amplitude = np.abs(x[:, -(samples + 1):]).max(axis=-1)
    return np.ascontiguousarray(np.column_stack([delta, epsilon, radius, amplitude, x[:, -1]]))
