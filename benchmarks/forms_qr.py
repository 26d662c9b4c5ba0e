"""Which QR reader to use on our pages: OpenCV's QRCodeDetector or zxing-cpp.

Prints every page of the shipped forms, rasterises it, applies the damage a
scanner or a phone does (blur, JPEG, noise, low contrast, rotation, a tilted
phone view, low resolution), and counts how often each reader returns the exact
payload, on the whole page and on a crop around the QR code (what a reader that
has registered the page would pass). Deterministic (fixed seed).

    .venv/bin/python benchmarks/forms_qr.py [--serials 3]
"""
from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
import zxingcpp

from forms.identity import PageIdentity, encode_payload
from forms.layout import QR_BBOX
from forms.library import list_forms
from forms.render import render_page_images


def degradations(rng: np.random.Generator):
    """name -> function(image, dpi) -> damaged image."""

    def blur(sigma):
        return lambda im, dpi: cv2.GaussianBlur(im, (0, 0), sigma * dpi / 150)

    def jpeg(quality):
        def f(im, dpi):
            ok, data = cv2.imencode(".jpg", im, [cv2.IMWRITE_JPEG_QUALITY, quality])
            return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
        return f

    def noise(sigma):
        return lambda im, dpi: np.clip(im + rng.normal(0, sigma, im.shape), 0, 255).astype(np.uint8)

    def contrast(im, dpi):  # grey recycled paper, worn toner
        return (90 + im.astype(np.float32) * (190 - 90) / 255).astype(np.uint8)

    def rotate(deg):
        def f(im, dpi):
            h, w = im.shape
            m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 1.0)
            return cv2.warpAffine(im, m, (w, h), borderValue=255)
        return f

    def phone(im, dpi):  # a tilted phone photo: perspective + blur + uneven light
        h, w = im.shape
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32([[0.06 * w, 0.03 * h], [0.95 * w, 0], [w, h], [0.02 * w, 0.96 * h]])
        warped = cv2.warpPerspective(im, cv2.getPerspectiveTransform(src, dst), (w, h),
                                     borderValue=200)
        light = np.linspace(0.75, 1.0, w, dtype=np.float32)[None, :]
        return cv2.GaussianBlur((warped * light).astype(np.uint8), (0, 0), 1.2 * dpi / 150)

    def downscale(factor):
        def f(im, dpi):
            h, w = im.shape
            return cv2.resize(im, (int(w * factor), int(h * factor)), interpolation=cv2.INTER_AREA)
        return f

    return {
        "clean": lambda im, dpi: im,
        "blur σ1": blur(1.0), "blur σ2": blur(2.0), "blur σ3": blur(3.0),
        "jpeg q20": jpeg(20), "noise σ25": noise(25), "noise σ50": noise(50),
        "low contrast": contrast, "rotate 2°": rotate(2),
        "rotate 90°": lambda im, dpi: cv2.rotate(im, cv2.ROTATE_90_CLOCKWISE),
        "rotate 180°": lambda im, dpi: cv2.rotate(im, cv2.ROTATE_180), "phone": phone,
        "downscale ½": downscale(0.5), "downscale ⅓": downscale(1 / 3),
    }


def read_opencv(image: np.ndarray) -> str:
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return text or ""


def read_zxing(image: np.ndarray) -> str:
    found = zxingcpp.read_barcodes(image)
    return found[0].text if found else ""


def qr_crop(image: np.ndarray, dpi: int) -> np.ndarray:
    """The QR code with 6 mm around it (undamaged geometry: the crop a reader
    would take after registering the page)."""
    x, y, w, h = QR_BBOX
    s = dpi / 25.4
    return image[int((y - 6) * s):int((y + h + 6) * s), int((x - 6) * s):int((x + w + 6) * s)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serials", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(20251123)
    damage = degradations(rng)
    readers = {"opencv": read_opencv, "zxing": read_zxing}
    counts = {(d, r, where): [0, 0] for d in damage for r in readers for where in ("page", "crop")}
    times = {r: [] for r in readers}
    for form in list_forms():
        for dpi in (150, 300):
            for serial in range(1, args.serials + 1):
                pages = render_page_images(form, dpi, serial=serial * 7919)
                for number, page in enumerate(pages, start=1):
                    expected = encode_payload(PageIdentity(form.id, form.version, number,
                                                           serial * 7919))
                    for dname, fn in damage.items():
                        image = fn(page, dpi)
                        crop = qr_crop(image, dpi) if dname in (
                            "clean", "blur σ1", "blur σ2", "blur σ3", "jpeg q20", "noise σ25",
                            "noise σ50", "low contrast") else None
                        for rname, reader in readers.items():
                            t = time.perf_counter()
                            ok = reader(image) == expected
                            times[rname].append(time.perf_counter() - t)
                            counts[(dname, rname, "page")][0] += ok
                            counts[(dname, rname, "page")][1] += 1
                            if crop is not None:
                                counts[(dname, rname, "crop")][0] += reader(crop) == expected
                                counts[(dname, rname, "crop")][1] += 1
    print(f"{'damage':<14} {'opencv page':>12} {'zxing page':>12} {'opencv crop':>12} "
          f"{'zxing crop':>12}")
    for dname in damage:
        cells = []
        for where in ("page", "crop"):
            for rname in readers:
                ok, n = counts[(dname, rname, where)]
                cells.append(f"{ok}/{n}" if n else "-")
        print(f"{dname:<14} {cells[0]:>12} {cells[1]:>12} {cells[2]:>12} {cells[3]:>12}")
    for rname, ts in times.items():
        print(f"{rname}: median {np.median(ts) * 1000:.0f} ms per whole page "
              f"({len(ts)} reads)")


if __name__ == "__main__":
    main()
