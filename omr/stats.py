"""Small statistics the reader takes many times a page on small arrays, computed
as numpy computes them, without the cost of its general machinery."""
from __future__ import annotations

import math

import cv2
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


def percentile(values: np.ndarray, q: float) -> float:
    """`float(np.percentile(values, q))` (its default, linear method) of a 1-D
    float array without NaN, by the same arithmetic: the value at the virtual
    index `(n - 1) q/100` computed as numpy computes it, between the two
    values either side of it (one partition, and the least value above the
    lower), interpolated as numpy's `_lerp` does (from the lower value when
    the weight is under 0.5, back from the upper one otherwise).
    `np.percentile` partitions for four k-th values at once (its first and
    last too, to check for NaN), which cost ~5 times this on a page's four
    markers (28k values). Equal to numpy's, so bit for bit but for a zero's
    sign where the array holds both 0.0 and -0.0 (they tie in a partition;
    the markers' darkness `1 - grey / paper` is never -0.0)."""
    n = len(values)
    quantile = q / 100  # np.true_divide(q, 100): the same double
    virtual = (n - 1) * quantile
    below = math.floor(virtual)
    if below >= n - 1:  # at or past the last value: numpy takes the last
        return float(values.max())
    below = max(below, 0)
    gamma = max(virtual - below, 0.0)
    # One k-th value, the next the least of those above it: numpy's partition
    # for several k-th values at once cost ~8 times one here.
    part = np.partition(values, below)
    low, high = part[below], part[below + 1 :].min()
    diff = high - low
    return float(high - diff * (1 - gamma) if gamma >= 0.5 else low + diff * gamma)


def block_sums(image: np.ndarray, n: int) -> np.ndarray:
    """The sums (uint16) of the whole n x n blocks of a uint8 `image` (its last
    rows and columns short of a block left out), n at most 16 (the sum of a
    block then fits). Integer sums are exact in any order: what
    `cv2.resize(..., INTER_AREA)` by a whole factor averages (its sum times
    1/n², in float32) is these sums times the same factor. Summing the rows of
    a block band first, then (transposed: numpy sums along a short last axis
    slowly) its columns, costs half the resize on a uint8 page and a third of
    converting it to float32 for the resize."""
    if image.dtype != np.uint8 or not 1 <= n <= 16:
        raise ValueError("block_sums: a uint8 image and blocks of 1 to 16 px")
    h, w = image.shape[0] // n * n, image.shape[1] // n * n
    rows = np.add.reduce(image[:h, :w].reshape(h // n, n, w), axis=1, dtype=np.uint16)
    columns = np.add.reduce(cv2.transpose(rows).reshape(w // n, n, h // n), axis=1, dtype=np.uint16)
    return cv2.transpose(columns)
