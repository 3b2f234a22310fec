"""pandas example: summaries of scikit-learn's bundled diabetes data, as CSV bytes.

The data (Efron et al., 2004) is 442 patients: age, sex (coded 1 and 2), body mass index,
mean blood pressure, six blood serum measurements (s1..s6) and ``target``, a measure of the
disease's progression one year later. It ships inside scikit-learn (no network); it is read
unscaled, in its original units.

A table travels as ``{column: float64 array}``; each summary returns UTF-8 CSV bytes (full
float precision, ``\\n`` line ends), which the host compresses, fingerprints and stores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes

#: Age bands of :func:`by_age_and_sex`: [lower, upper) years.
AGE_BINS = [0, 30, 40, 50, 60, 70, 200]
AGE_LABELS = ["<30", "30-39", "40-49", "50-59", "60-69", "70+"]

#: The quantiles of ``target`` reported per BMI quartile.
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def load_diabetes_table() -> dict[str, np.ndarray]:
    """The diabetes data, unscaled: ``{column: float64 array}``, 442 rows, ``target`` last."""
    frame = load_diabetes(as_frame=True, scaled=False).frame
    return {str(c): np.ascontiguousarray(frame[c].to_numpy(dtype=np.float64))
            for c in frame.columns}


def _frame(columns: dict) -> pd.DataFrame:
    frame = pd.DataFrame({name: np.asarray(values, dtype=np.float64)
                          for name, values in columns.items()})
    missing = {"age", "sex", "bmi", "bp", "target"} - set(frame.columns)
    if missing:
        raise ValueError(f"the table lacks columns {sorted(missing)}")
    return frame


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def by_age_and_sex(columns: dict) -> bytes:
    """Patients, mean progression, BMI and blood pressure per age band and sex.

    CSV columns: ``age_band, sex, patients, mean_target, mean_bmi, mean_bp``; rows by age band,
    then sex; empty groups left out.
    """
    frame = _frame(columns)
    frame["age_band"] = pd.cut(frame["age"], AGE_BINS, right=False, labels=AGE_LABELS)
    frame["sex"] = frame["sex"].astype(np.int64)
    summary = (frame.groupby(["age_band", "sex"], observed=True, sort=True)
               .agg(patients=("target", "size"), mean_target=("target", "mean"),
                    mean_bmi=("bmi", "mean"), mean_bp=("bp", "mean"))
               .reset_index())
    return _csv(summary)


def target_by_bmi_quartile(columns: dict) -> bytes:
    """Quantiles of progression per BMI quartile (``pandas.qcut``).

    CSV columns: ``bmi_quartile`` (Q1..Q4), ``patients``, ``bmi_min``, ``bmi_max`` and
    ``target_p10, target_p25, target_p50, target_p75, target_p90``.
    """
    frame = _frame(columns)
    frame["bmi_quartile"] = pd.qcut(frame["bmi"], 4, labels=["Q1", "Q2", "Q3", "Q4"])
    grouped = frame.groupby("bmi_quartile", observed=True, sort=True)
    summary = grouped.agg(patients=("target", "size"), bmi_min=("bmi", "min"),
                          bmi_max=("bmi", "max"))
    quantiles = grouped["target"].quantile(list(QUANTILES)).unstack()
    quantiles.columns = [f"target_p{round(q * 100)}" for q in quantiles.columns]
    return _csv(summary.join(quantiles).reset_index())


def correlations(columns: dict) -> bytes:
    """Pearson and Spearman correlation of every other column with ``target``.

    CSV columns: ``feature, pearson, spearman``; strongest Pearson correlation (in absolute
    value) first.
    """
    frame = _frame(columns)
    features = [c for c in frame.columns if c != "target"]
    table = pd.DataFrame({
        "feature": features,
        "pearson": [frame[c].corr(frame["target"]) for c in features],
        "spearman": [frame[c].corr(frame["target"], method="spearman") for c in features],
    })
    order = table["pearson"].abs().sort_values(ascending=False, kind="stable").index
    return _csv(table.loc[order])
