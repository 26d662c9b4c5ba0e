"""Bytes to pixels, and any pixel layout to the grey image the reader works on."""
from __future__ import annotations

import cv2
import numpy as np

from omr.failures import FailureReason, failure
from omr.reading import PageFailure


def decode_image(data: bytes) -> np.ndarray | PageFailure:
    """Decode one encoded image (PNG, JPEG, TIFF, BMP, WebP...) to a grey uint8
    array; a `PageFailure("not_an_image")` when the bytes are not an image.

    Decoding straight to grey is the cheapest path (libjpeg skips colour
    conversion), which matters: decoding is the floor of the reading speed.
    """
    if not data:
        return failure(FailureReason.NOT_AN_IMAGE, "0 bytes")
    buf = np.frombuffer(data, np.uint8)
    image = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    if image is None or image.size == 0:
        return failure(FailureReason.NOT_AN_IMAGE, f"{len(data)} bytes not decodable")
    return image


def to_grey(image: np.ndarray) -> np.ndarray:
    """`image` as 2-D uint8 grey: accepts grey, BGR, BGRA, and 16-bit or float
    (0..1) pixels. Raises ValueError for any other shape."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3:
        if image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
        elif image.shape[2] == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        else:
            raise ValueError(f"image has {image.shape[2]} channels; expected 1, 3 or 4")
    if image.ndim != 2:
        raise ValueError(f"image has shape {image.shape}; expected 2-D or 3-D")
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    if image.dtype == np.bool_:
        return np.where(image, 255, 0).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.clip(image, 0, 255).astype(np.uint8)
