"""Small statistics the reader takes many times a page on small arrays, computed
as numpy computes them, without the cost of its general machinery."""
from __future__ import annotations

import numpy as np


def median(values: np.ndarray) -> float:
    """`float(np.median(values))` of a non-empty 1-D float array without NaN, by the
    same arithmetic: the middle value, or the mean of the two middle values
    (their sum in the array's type, halved: `np.mean` of two, exactly), found
    by one partition. `np.median`'s checks and reductions cost several times
    the partition on the few hundred values it is given here. Integer arrays
    are not for it: the two middle values' sum would wrap in their type."""
    n = len(values)
    half = n // 2
    if n % 2:
        return float(np.partition(values, half)[half])
    part = np.partition(values, (half - 1, half))
    return float((part[half - 1] + part[half]) / 2)
