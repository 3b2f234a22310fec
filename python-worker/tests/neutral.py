"""The neutral meaning form of protocol section 7, computed from decoded Python values.

Used to compare the codec's output with the conformance vectors and to compare values
after a round trip. Floats are compared by value: :func:`canon` rewrites every float string
as Python's shortest repr so "1.50" and "1.5" are the same meaning.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from open_worker.values import DTYPES, NDArray

_STRUCT = {"f8": "d", "f4": "f", "i8": "q", "i4": "i", "i2": "h", "i1": "b",
           "u8": "Q", "u4": "I", "u2": "H", "u1": "B", "b1": "?"}


def fmt_float(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(float(x))


def _element(kind: str, x: Any) -> str:
    if kind == "b1":
        return "1" if x else "0"
    return fmt_float(float(x)) if kind[0] == "f" else str(int(x))


def meaning(v: Any) -> Any:
    if v is None:
        return {"null": True}
    if isinstance(v, bool):
        return {"bool": v}
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": fmt_float(v)}
    if isinstance(v, str):
        return {"str": v}
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"bytes": bytes(v).hex()}
    if isinstance(v, (list, tuple)):
        return {"list": [meaning(x) for x in v]}
    if isinstance(v, dict):
        return {"map": [[k, meaning(x)] for k, x in v.items()]}
    if isinstance(v, NDArray):
        kind = v.dtype[1:]
        n = len(v.data) // DTYPES[v.dtype]
        endian = ">" if v.dtype[0] == ">" else "<"
        data = struct.unpack(f"{endian}{n}{_STRUCT[kind]}", v.data)
        return {"ndarray": {"dtype": v.dtype, "shape": list(v.shape), "order": v.order,
                            "data": [_element(kind, x) for x in data]}}
    import numpy as np

    if isinstance(v, np.ndarray):
        order = "C" if v.flags.c_contiguous else "F"
        kind = v.dtype.str[1:]
        return {"ndarray": {"dtype": v.dtype.str, "shape": list(v.shape), "order": order,
                            "data": [_element(kind, x) for x in v.ravel(order=order).tolist()]}}
    raise TypeError(f"no neutral meaning for {type(v)}")


def canon(m: Any) -> Any:
    """Normalise float spellings in a neutral meaning so equal values compare equal."""
    if isinstance(m, list):
        return [canon(x) for x in m]
    if not isinstance(m, dict):
        return m
    if set(m) == {"float"}:
        return {"float": fmt_float(float(m["float"]))}
    if set(m) == {"ndarray"}:
        nd = dict(m["ndarray"])
        if nd["dtype"][1] == "f":
            nd["data"] = [fmt_float(float(x)) for x in nd["data"]]
        nd.setdefault("order", "C")
        return {"ndarray": nd}
    return {k: canon(x) for k, x in m.items()}
