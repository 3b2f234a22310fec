"""scikit-learn examples: feature matrices are 2-d float arrays, labels 1-d arrays."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression


def fit_predict(x: np.ndarray, y: np.ndarray, x_test: np.ndarray) -> dict:
    """Fit a logistic regression on ``(x, y)`` and predict labels for ``x_test``.

    Returns ``{"predictions": ndarray of y's dtype, "train_score": accuracy on (x, y)}``.
    """
    model = LogisticRegression(max_iter=1000)
    model.fit(np.asarray(x, dtype=np.float64), np.asarray(y))
    return {
        "predictions": model.predict(np.asarray(x_test, dtype=np.float64)),
        "train_score": float(model.score(x, y)),
    }


def kmeans(x: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Cluster the rows of ``x`` into ``k`` groups; returns the label of each row (int32)."""
    model = KMeans(n_clusters=k, n_init=10, random_state=seed)
    return model.fit_predict(np.asarray(x, dtype=np.float64)).astype(np.int32)
