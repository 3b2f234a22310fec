"""The example task modules, called directly and once through a worker."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("pandas")
pytest.importorskip("sklearn")

from open_examples import frames, learn, numeric  # noqa: E402


def test_numeric():
    a = np.array([[1.0, 10.0, 5.0], [3.0, 30.0, 5.0]])
    z = numeric.normalize(a)
    assert np.allclose(z.mean(axis=0), 0) and np.allclose(z[:, :2].std(axis=0), 1) and np.all(z[:, 2] == 0)
    d = numeric.pairwise_distances(np.array([[0.0, 0.0], [3.0, 4.0]]))
    assert np.allclose(d, [[0, 5], [5, 0]])
    s = numeric.stats(a)
    assert s["count"] == 6 and s["min"] == 1.0 and s["max"] == 30.0 and s["shape"] == [2, 3]
    assert np.allclose(s["column_means"], [2.0, 20.0, 5.0])


def test_frames():
    columns = {"city": ["b", "a", "b", "a"], "sales": [1, 2, 3, 4]}
    assert frames.group_aggregate(columns, "city", "sales") == {"city": ["a", "b"], "sales": [6, 4]}
    assert frames.group_aggregate(columns, "city", "sales", "mean") == {"city": ["a", "b"], "sales": [3.0, 2.0]}
    records = [{"k": "x", "v": 1.0}, {"k": "y", "v": 2.0}, {"k": "x", "v": 3.0}]
    assert frames.summarize_records(records, "k", "v") == {
        "k": ["x", "y"], "count": [2, 1], "sum": [4.0, 2.0], "mean": [2.0, 2.0]}
    with pytest.raises(ValueError):
        frames.group_aggregate(columns, "city", "sales", "eval")


def _blobs():
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(0, 0.3, (20, 2)), rng.normal(5, 0.3, (20, 2))])
    y = np.repeat(np.array([0, 1], dtype=np.int64), 20)
    return x, y


def test_learn():
    x, y = _blobs()
    out = learn.fit_predict(x, y, np.array([[0.0, 0.0], [5.0, 5.0]]))
    assert out["predictions"].tolist() == [0, 1] and out["train_score"] == 1.0
    labels = learn.kmeans(x, 2, 0)
    assert labels.dtype == np.int32 and len(set(labels[:20])) == 1 and labels[0] != labels[-1]


def test_examples_through_a_worker(start_worker):
    worker = start_worker(allow=["open_examples.*"])
    x, y = _blobs()
    out = worker.run("open_examples.learn:fit_predict", x, y, x[:3])
    assert out["predictions"].tolist() == [0, 0, 0]
    grouped = worker.run("open_examples.frames:group_aggregate", {"g": ["a", "b", "a"], "v": [1, 2, 3]}, "g", "v")
    assert grouped == {"g": ["a", "b"], "v": [4, 2]}
    assert worker.run("open_examples.numeric:pairwise_distances", np.zeros((3, 2))).shape == (3, 3)
