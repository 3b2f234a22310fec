"""open_examples.analysis: each summary against a recomputation with NumPy."""

from __future__ import annotations

import csv
import io

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("pandas")
pytest.importorskip("sklearn")

from open_examples import analysis  # noqa: E402


@pytest.fixture(scope="module")
def table():
    return analysis.load_diabetes_table()


def _rows(data: bytes) -> list[dict]:
    text = data.decode("utf-8")
    assert "\r" not in text and text.endswith("\n")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_table_is_the_raw_data(table):
    assert list(table) == ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6", "target"]
    assert all(v.dtype == np.float64 and v.shape == (442,) for v in table.values())
    assert set(np.unique(table["sex"])) == {1.0, 2.0}          # unscaled: sex is coded 1, 2
    assert table["age"].min() == 19 and table["age"].max() == 79
    assert table["target"].min() == 25 and table["target"].max() == 346


def test_by_age_and_sex(table):
    rows = _rows(analysis.by_age_and_sex(table))
    assert list(rows[0]) == ["age_band", "sex", "patients", "mean_target", "mean_bmi", "mean_bp"]
    assert sum(int(r["patients"]) for r in rows) == 442
    assert [r["age_band"] for r in rows[:2]] == ["<30", "<30"] and rows[-1]["age_band"] == "70+"
    row = next(r for r in rows if r["age_band"] == "50-59" and r["sex"] == "2")
    mask = (table["age"] >= 50) & (table["age"] < 60) & (table["sex"] == 2)
    assert int(row["patients"]) == mask.sum()
    assert float(row["mean_target"]) == pytest.approx(table["target"][mask].mean(), rel=1e-12)
    assert float(row["mean_bp"]) == pytest.approx(table["bp"][mask].mean(), rel=1e-12)


def test_target_by_bmi_quartile(table):
    rows = _rows(analysis.target_by_bmi_quartile(table))
    assert [r["bmi_quartile"] for r in rows] == ["Q1", "Q2", "Q3", "Q4"]
    assert sum(int(r["patients"]) for r in rows) == 442
    medians = [float(r["target_p50"]) for r in rows]
    assert medians == sorted(medians)                # heavier patients progress further
    for r in rows:
        mask = (table["bmi"] >= float(r["bmi_min"])) & (table["bmi"] <= float(r["bmi_max"]))
        assert int(r["patients"]) == mask.sum()
        expected = np.quantile(table["target"][mask], analysis.QUANTILES)
        got = [float(r[f"target_p{p}"]) for p in (10, 25, 50, 75, 90)]
        assert got == pytest.approx(expected, rel=1e-12)


def test_correlations(table):
    rows = _rows(analysis.correlations(table))
    assert [r["feature"] for r in rows][:2] == ["bmi", "s5"] and len(rows) == 10
    pearson = [abs(float(r["pearson"])) for r in rows]
    assert pearson == sorted(pearson, reverse=True)
    bmi = float(rows[0]["pearson"])
    assert bmi == pytest.approx(np.corrcoef(table["bmi"], table["target"])[0, 1], rel=1e-12)


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="target"):
        analysis.by_age_and_sex({"age": [50.0], "sex": [1.0], "bmi": [20.0], "bp": [90.0]})


def test_through_a_worker(start_worker, table):
    worker = start_worker(allow=["open_examples.*"])
    remote = worker.run("open_examples.analysis:load_diabetes_table")
    assert list(remote) == list(table)
    assert worker.run("open_examples.analysis:by_age_and_sex", remote) == \
        analysis.by_age_and_sex(table)
