"""SALICON perception data (Listings 6 and 7): saliency maps from mouse-fixation annotations, then objects
(COCO instance masks) and 3x3 tiles ranked by mean saliency.

SALICON fixation files are COCO-style: `images` (id, file_name, height, width) and `annotations` (image_id,
worker_id, `fixations`: 1-based `[row, col]` points). The saliency map is the fixation count map blurred with
a Gaussian of sigma 19 px, as in the SALICON toolkit.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import gaussian_filter

from .templates import REGION_NAMES

SIGMA = 19


def saliency_map(fixations: list, height: int, width: int, sigma: float = SIGMA) -> np.ndarray:
    """Gaussian-blurred fixation map in [0, 1]; points are 1-based (row, col), out-of-image points ignored."""
    points = np.asarray(fixations, dtype=np.int64).reshape(-1, 2) - 1
    inside = (points[:, 0] >= 0) & (points[:, 0] < height) & (points[:, 1] >= 0) & (points[:, 1] < width)
    counts = np.zeros((height, width), dtype=np.float64)
    np.add.at(counts, (points[inside, 0], points[inside, 1]), 1.0)
    blurred = gaussian_filter(counts, sigma)
    peak = blurred.max()
    return blurred / peak if peak > 0 else blurred


def _rle_counts(counts: str) -> list[int]:
    """COCO's compressed RLE string to run lengths (pycocotools `rleFrString`)."""
    runs, p = [], 0
    while p < len(counts):
        value, shift, more = 0, 0, True
        while more:
            c = ord(counts[p]) - 48
            value |= (c & 0x1F) << (5 * shift)
            more = bool(c & 0x20)
            p, shift = p + 1, shift + 1
            if not more and c & 0x10:
                value |= -1 << (5 * shift)
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    return runs


def instance_mask(segmentation, height: int, width: int) -> np.ndarray:
    """Boolean mask from COCO polygons or RLE (compressed or not)."""
    if isinstance(segmentation, dict):
        counts = segmentation["counts"]
        runs = _rle_counts(counts) if isinstance(counts, str) else list(counts)
        h, w = segmentation.get("size", (height, width))
        values = np.repeat(np.arange(len(runs)) % 2, runs).astype(bool)
        flat = np.zeros(h * w, dtype=bool)
        flat[: len(values)] = values[: h * w]
        return flat.reshape((h, w), order="F")
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for polygon in segmentation:
        if len(polygon) >= 6:
            draw.polygon([(polygon[i], polygon[i + 1]) for i in range(0, len(polygon), 2)], fill=1)
    return np.asarray(canvas, dtype=bool)


def rank_objects(saliency: np.ndarray, objects: list[tuple[str, np.ndarray]]) -> list[tuple[str, float]]:
    """Object names by mean saliency inside their (per-category, merged) masks, most salient first."""
    merged: dict[str, np.ndarray] = {}
    for name, mask in objects:
        merged[name] = merged[name] | mask if name in merged else mask
    scores = [(name, float(saliency[mask].mean())) for name, mask in merged.items() if mask.any()]
    return sorted(scores, key=lambda item: (-item[1], item[0]))


def rank_regions(saliency: np.ndarray) -> list[tuple[str, float]]:
    """The nine 3x3 tiles ("upper-left" ... "bottom-right") by mean saliency, most salient first."""
    rows = np.array_split(np.arange(saliency.shape[0]), 3)
    cols = np.array_split(np.arange(saliency.shape[1]), 3)
    scores = [
        (REGION_NAMES[3 * i + j], float(saliency[np.ix_(r, c)].mean())) for i, r in enumerate(rows) for j, c in enumerate(cols)
    ]
    return sorted(scores, key=lambda item: -item[1])


def iter_salicon(fixations_file: str | Path, instances_file: str | Path | None, image_dir: str | Path) -> Iterator[dict]:
    """One item per SALICON image: its path, ranked objects (when instance masks are given) and ranked tiles."""
    salicon = json.loads(Path(fixations_file).read_text())
    points = defaultdict(list)
    for annotation in salicon["annotations"]:
        points[annotation["image_id"]].extend(annotation["fixations"])
    instances = defaultdict(list)
    names = {}
    if instances_file:
        coco = json.loads(Path(instances_file).read_text())
        names = {c["id"]: c["name"] for c in coco["categories"]}
        for annotation in coco["annotations"]:
            instances[annotation["image_id"]].append(annotation)
    for image in salicon["images"]:
        height, width = image["height"], image["width"]
        saliency = saliency_map(points[image["id"]], height, width)
        objects = [(names[a["category_id"]], instance_mask(a["segmentation"], height, width)) for a in instances[image["id"]]]
        yield {
            "id": str(image["id"]),
            "file_name": image["file_name"],
            "media_kind": "image",
            "media_path": str(Path(image_dir) / image["file_name"]),
            "objects": rank_objects(saliency, objects),
            "regions": rank_regions(saliency),
            "num_fixations": len(points[image["id"]]),
        }
