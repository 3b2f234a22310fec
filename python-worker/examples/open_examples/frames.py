"""pandas examples: tables arrive as a dict of columns or a list of records, and leave as a
dict of lists (one list per column), which every host language can read."""

from __future__ import annotations

from typing import Any

import pandas as pd

_AGGREGATES = {"sum", "mean", "min", "max", "count", "median"}


def _to_columns(frame: pd.DataFrame) -> dict[str, list]:
    """DataFrame -> {column: [values]} with plain Python values (no NumPy scalars)."""
    return {str(name): frame[name].tolist() for name in frame.columns}


def group_aggregate(columns: dict[str, list], by: str, value: str, how: str = "sum") -> dict[str, list]:
    """Group a table given as ``{column: [values]}`` by ``by`` and aggregate ``value``.

    Returns ``{by: [keys...], value: [aggregates...]}`` sorted by key.
    """
    if how not in _AGGREGATES:
        raise ValueError(f"how must be one of {sorted(_AGGREGATES)}, not {how!r}")
    frame = pd.DataFrame(columns)
    grouped = frame.groupby(by, sort=True)[value].agg(how).reset_index()
    return _to_columns(grouped)


def summarize_records(records: list[dict[str, Any]], by: str, value: str) -> dict[str, list]:
    """Group records (a list of ``{column: value}``) by ``by``: count, sum and mean of ``value``."""
    frame = pd.DataFrame.from_records(records)
    summary = frame.groupby(by, sort=True)[value].agg(["count", "sum", "mean"]).reset_index()
    return _to_columns(summary)
