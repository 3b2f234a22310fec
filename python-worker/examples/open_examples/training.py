"""scikit-learn example: choose an RBF support vector machine's C and gamma by cross-validation.

The data is scikit-learn's bundled breast cancer set (569 tumours, 30 measurements, labels
0 = malignant, 1 = benign), read from the package itself: no network. The host holds the
prepared arrays and sends them to each grid point's call, so the grid runs on as many workers
as there are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

#: Features whose training skew is above this are replaced by log(1 + x).
SKEW_LIMIT = 1.0
#: A feature correlated above this (in absolute value) with an earlier kept one is dropped.
CORRELATION_LIMIT = 0.95


def prepare(test_fraction: float = 0.25, seed: int = 0) -> dict:
    """Split the data (stratified) and prepare features with pandas.

    Every decision is taken on the training rows only, then applied to both parts: features
    skewed above :data:`SKEW_LIMIT` are log-transformed (they are all non-negative), and a
    feature correlated above :data:`CORRELATION_LIMIT` with an earlier feature that was kept
    is dropped (radius, perimeter and area say nearly the same thing). Scaling is left to the
    model's pipeline, so that cross-validation fits it on each fold's training part.

    Returns ``{"x_train", "x_test"}`` float64 arrays, ``{"y_train", "y_test"}`` int64 arrays,
    and the lists ``features`` (kept, in column order), ``log_transformed``, ``dropped``.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    frame = load_breast_cancer(as_frame=True).frame
    train, test = train_test_split(frame, test_size=test_fraction, stratify=frame["target"],
                                   random_state=seed)
    features = [c for c in frame.columns if c != "target"]

    skew = train[features].skew()
    log_transformed = [c for c in features if skew[c] > SKEW_LIMIT]
    train = train.assign(**{c: np.log1p(train[c]) for c in log_transformed})
    test = test.assign(**{c: np.log1p(test[c]) for c in log_transformed})

    correlation = train[features].corr().abs()
    dropped: list[str] = []
    for i, later in enumerate(features):
        if any(correlation.loc[earlier, later] > CORRELATION_LIMIT
               for earlier in features[:i] if earlier not in dropped):
            dropped.append(later)
    kept = [c for c in features if c not in dropped]

    return {
        "x_train": _matrix(train[kept]),
        "y_train": train["target"].to_numpy(dtype=np.int64),
        "x_test": _matrix(test[kept]),
        "y_test": test["target"].to_numpy(dtype=np.int64),
        "features": kept,
        "log_transformed": log_transformed,
        "dropped": dropped,
    }


def _matrix(frame: pd.DataFrame) -> np.ndarray:
    return np.ascontiguousarray(frame.to_numpy(dtype=np.float64))


def _model(params: dict):
    return make_pipeline(StandardScaler(),
                         SVC(C=float(params["C"]), gamma=float(params["gamma"]), kernel="rbf"))


def cross_validate(x, y, params: dict, folds: int = 5, seed: int = 0,
                   inject_failure: bool = False) -> dict:
    """Accuracy of ``StandardScaler + SVC(C, gamma)`` over stratified, shuffled k folds.

    ``params`` is ``{"C": float, "gamma": float}``. ``inject_failure`` raises a
    ``ConnectionError`` instead, standing in for a transient fault (a lost connection to a data
    store, say), so that an example can show its retry policy at work deterministically.

    Returns ``{"C", "gamma", "mean", "std", "scores"}`` (``scores``: one per fold).
    """
    if inject_failure:
        raise ConnectionError("simulated transient failure (injected by the caller)")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    splitter = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=int(seed))
    scores = cross_val_score(_model(params), x, y, cv=splitter, scoring="accuracy")
    return {
        "C": float(params["C"]),
        "gamma": float(params["gamma"]),
        "mean": float(scores.mean()),
        "std": float(scores.std()),
        "scores": scores.astype(np.float64),
    }


def fit_predict(data: dict, params: dict) -> dict:
    """Fit the model on all training rows of ``data`` (as :func:`prepare` returns it) and
    predict the held-out rows in one batch.

    Returns ``{"predictions": int64 array, "accuracy": float}`` (accuracy on ``y_test``).
    """
    model = _model(params)
    model.fit(np.asarray(data["x_train"], dtype=np.float64), np.asarray(data["y_train"]))
    predictions = model.predict(np.asarray(data["x_test"], dtype=np.float64)).astype(np.int64)
    return {
        "predictions": predictions,
        "accuracy": float((predictions == np.asarray(data["y_test"])).mean()),
    }
