"""NumPy examples: arrays in, arrays or plain values out."""

from __future__ import annotations

import numpy as np


def normalize(a: np.ndarray) -> np.ndarray:
    """Scale each column of a 2-d array (or a 1-d array) to mean 0 and standard deviation 1.

    Columns with zero spread are centred only, so constant columns do not become NaN.
    """
    a = np.asarray(a, dtype=np.float64)
    std = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(std == 0, 1.0, std)


def pairwise_distances(a: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of an ``(n, d)`` array, as an ``(n, n)`` array."""
    a = np.asarray(a, dtype=np.float64)
    diff = a[:, None, :] - a[None, :, :]
    return np.sqrt((diff * diff).sum(axis=-1))


def stats(a: np.ndarray) -> dict:
    """Summary statistics of all elements: plain numbers plus per-column means for 2-d input."""
    a = np.asarray(a, dtype=np.float64)
    summary = {
        "count": int(a.size),
        "mean": float(a.mean()),
        "std": float(a.std()),
        "min": float(a.min()),
        "max": float(a.max()),
        "shape": list(a.shape),
    }
    if a.ndim == 2:
        summary["column_means"] = a.mean(axis=0)
    return summary
