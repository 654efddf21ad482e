"""Make the README's galleries: presets side by side, with a full-resolution crop under each.

python docs/make_gallery.py                      # docs/gallery.jpg: the capture presets
python docs/make_gallery.py --styles             # docs/styles.jpg: the device styles, 3 a row
python docs/make_gallery.py [--record 0] [--variant 0] [--columns N] [--out FILE]

Every image is made by ecgkit from a built-in record; never put a real scan here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from ecgkit.generate import make_sample
from ecgkit.generate.presets import list_presets
from ecgkit.generate.render import get_font
from ecgkit.generate.synth import builtin_record

ORDER = ("clean", "challenge2024", "scan", "photo", "archive")  # the capture presets
THUMB_W = 640
CROP = 420  # px of the full-resolution image shown under each thumbnail


def tile(image: np.ndarray, title: str) -> np.ndarray:
    h, w = image.shape[:2]
    thumb = cv2.resize(image, (THUMB_W, round(h * THUMB_W / w)), interpolation=cv2.INTER_AREA)
    cy, cx = int(h * 0.30), int(w * 0.20)  # lead II/aVL region of a 3x4 page
    crop = image[cy : cy + CROP, cx : cx + int(CROP * THUMB_W / CROP)]
    crop = cv2.resize(crop, (THUMB_W, round(crop.shape[0] * THUMB_W / crop.shape[1])))
    head = np.full((56, THUMB_W, 3), 255, np.uint8)
    from PIL import Image, ImageDraw

    pil = Image.fromarray(head)
    ImageDraw.Draw(pil).text((10, 12), title, fill=(0, 0, 0), font=get_font("sans", 28))
    gap = np.full((8, THUMB_W, 3), 255, np.uint8)
    return np.vstack([np.asarray(pil), thumb, gap, crop])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", type=int, default=0)
    ap.add_argument("--variant", type=int, default=0)
    ap.add_argument("--styles", action="store_true", help="the device styles, not the captures")
    ap.add_argument("--columns", type=int, default=0, help="tiles per row (default: all / 3)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    record = builtin_record(args.record)
    if args.styles:
        names = [p for p in list_presets() if p not in ORDER]
        out, columns = args.out or "docs/styles.jpg", args.columns or 3
    else:
        names = [p for p in ORDER if p in list_presets()]
        out, columns = args.out or "docs/gallery.jpg", args.columns or len(names)
    tiles = [tile(make_sample(record, preset=p, index=args.variant).image, p) for p in names]
    height = max(t.shape[0] for t in tiles)
    blank = np.full((height, THUMB_W, 3), 255, np.uint8)
    tiles = [np.vstack([t, blank[: height - t.shape[0]]]) for t in tiles]
    tiles += [blank] * (-len(tiles) % columns)
    sep = np.full((height, 12, 3), 255, np.uint8)
    rows = [
        np.hstack([x for t in tiles[i : i + columns] for x in (t, sep)][:-1])
        for i in range(0, len(tiles), columns)
    ]
    gap = np.full((16, rows[0].shape[1], 3), 255, np.uint8)
    sheet = np.vstack([x for r in rows for x in (r, gap)][:-1])
    cv2.imwrite(out, sheet[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    args.out = out
    print(f"wrote {args.out} ({Path(args.out).stat().st_size // 1024} KiB): {', '.join(names)}")


if __name__ == "__main__":
    main()
