"""open_examples.training: feature preparation, cross-validation, the injected failure."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("pandas")
pytest.importorskip("sklearn")

from client import RemoteError  # noqa: E402
from open_examples import training  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return training.prepare(0.25, 0)


def test_prepare_splits_stratified_and_prepares_features(data):
    x_train, x_test = data["x_train"], data["x_test"]
    y_train, y_test = data["y_train"], data["y_test"]
    assert x_train.shape == (426, len(data["features"])) and x_test.shape == (143, x_train.shape[1])
    assert x_train.dtype == np.float64 and x_train.flags.c_contiguous and y_train.dtype == np.int64
    assert set(np.unique(y_train)) == {0, 1}
    # stratified: both parts have the data set's share of benign tumours (357 of 569)
    assert abs(y_train.mean() - 357 / 569) < 0.01 and abs(y_test.mean() - 357 / 569) < 0.01
    # radius, perimeter and area are near duplicates: only radius is kept of each triple
    assert "mean radius" in data["features"] and "mean area" in data["dropped"]
    assert "worst perimeter" in data["dropped"]
    assert not set(data["features"]) & set(data["dropped"])
    assert len(data["features"]) + len(data["dropped"]) == 30
    # log-transformed features are log1p of non-negative values: still non-negative
    logged = [data["features"].index(c) for c in data["log_transformed"] if c in data["features"]]
    assert logged and (x_train[:, logged] >= 0).all()


def test_prepare_is_deterministic(data):
    again = training.prepare(0.25, 0)
    assert np.array_equal(again["x_train"], data["x_train"])
    assert np.array_equal(again["y_test"], data["y_test"])
    with pytest.raises(ValueError, match="test_fraction"):
        training.prepare(1.5)


def test_cross_validate_scores_each_fold(data):
    out = training.cross_validate(data["x_train"], data["y_train"], {"C": 10.0, "gamma": 0.01})
    assert out["C"] == 10.0 and out["gamma"] == 0.01 and len(out["scores"]) == 5
    assert out["mean"] == pytest.approx(out["scores"].mean()) and out["mean"] > 0.95
    # a far too narrow kernel memorises the training folds and predicts the majority class
    narrow = training.cross_validate(data["x_train"], data["y_train"], {"C": 1.0, "gamma": 10.0})
    assert narrow["mean"] < 0.7
    with pytest.raises(ConnectionError, match="simulated"):
        training.cross_validate(data["x_train"], data["y_train"], {"C": 1, "gamma": 0.1},
                                inject_failure=True)


def test_fit_predict_on_held_out_rows(data):
    out = training.fit_predict(data, {"C": 10.0, "gamma": 0.01})
    predictions = out["predictions"]
    assert predictions.dtype == np.int64 and predictions.shape == data["y_test"].shape
    assert out["accuracy"] == pytest.approx((predictions == data["y_test"]).mean())
    assert out["accuracy"] > 0.93


def test_through_a_worker(start_worker, data):
    worker = start_worker(allow=["open_examples.*"])
    params = {"C": 1.0, "gamma": 0.1}
    out = worker.run("open_examples.training:cross_validate", data["x_train"], data["y_train"],
                     params, folds=5, seed=0)
    direct = training.cross_validate(data["x_train"], data["y_train"], params)
    assert out["mean"] == direct["mean"]
    with pytest.raises(RemoteError) as failure:
        worker.run("open_examples.training:cross_validate", data["x_train"], data["y_train"],
                   params, inject_failure=True)
    assert failure.value.header["type"] == "ConnectionError"
