"""Foreground / background colour names and the warm / neutral / cool tone of a keyframe.

Pixels are named by their nearest palette colour in CIE Lab (perceptually even distances). The
foreground comes from a transformers ``image-segmentation`` pipeline when one is given (everything but
the segment holding most of the image border), otherwise from a centre-weighted mask.
"""

from __future__ import annotations

from collections import Counter

import cv2
import numpy as np
from PIL import Image
from scipy.spatial import cKDTree

PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "dark gray": (64, 64, 64),
    "gray": (128, 128, 128),
    "light gray": (192, 192, 192),
    "white": (255, 255, 255),
    "dark red": (128, 0, 0),
    "red": (220, 20, 30),
    "pink": (255, 160, 190),
    "orange": (255, 140, 0),
    "brown": (150, 90, 40),
    "dark brown": (80, 50, 20),
    "beige": (225, 200, 160),
    "yellow": (255, 230, 0),
    "olive": (128, 128, 0),
    "mud green": (95, 105, 55),
    "green": (30, 170, 40),
    "dark green": (0, 90, 0),
    "light green": (150, 230, 120),
    "teal": (0, 128, 128),
    "cyan": (0, 220, 230),
    "light blue": (150, 200, 255),
    "blue": (20, 60, 220),
    "navy": (0, 0, 110),
    "purple": (130, 40, 160),
    "magenta": (230, 0, 200),
}
TONES = ("warm", "neutral", "cool")


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB [..., 3] -> float Lab [..., 3] (L in 0..100)."""
    flat = rgb.reshape(-1, 1, 3).astype(np.float32) / 255.0
    return cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(rgb.shape).astype(np.float32)


_PALETTE_NAMES = list(PALETTE)
_PALETTE_TREE = cKDTree(to_lab(np.array(list(PALETTE.values()), dtype=np.uint8)))


def name_colors(pixels: np.ndarray, top_k: int = 3, min_share: float = 0.05) -> list[str]:
    """Most frequent palette names among RGB pixels [N, 3], each covering at least ``min_share``."""
    if len(pixels) == 0:
        return []
    _, nearest = _PALETTE_TREE.query(to_lab(pixels.reshape(-1, 3)))
    counts = Counter(nearest.tolist())
    return [_PALETTE_NAMES[i] for i, n in counts.most_common(top_k) if n >= min_share * len(nearest)]


def tone(pixels: np.ndarray, neutral_chroma: float = 12.0, margin: float = 0.2) -> str:
    """Warm / cool by chroma-weighted Lab hue (reds-yellows vs greens-blues); neutral when greyish or mixed."""
    lab = to_lab(pixels.reshape(-1, 3))
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    if len(chroma) == 0 or chroma.mean() < neutral_chroma:
        return "neutral"
    hue = np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360
    warm = (hue >= 330) | (hue < 110)
    cool = (hue >= 130) & (hue < 310)
    balance = (chroma[warm].sum() - chroma[cool].sum()) / chroma.sum()
    return "warm" if balance > margin else "cool" if balance < -margin else "neutral"


def center_mask(height: int, width: int, sigma: float = 0.25) -> np.ndarray:
    """Centre-weighted foreground: pixels whose Gaussian weight from the centre exceeds one half."""
    ys = (np.arange(height) + 0.5) / height - 0.5
    xs = (np.arange(width) + 0.5) / width - 0.5
    weight = np.exp(-(ys[:, None] ** 2 + xs[None, :] ** 2) / (2 * sigma**2))
    return weight > 0.5


def segments_foreground_mask(segments: list[dict], height: int, width: int) -> np.ndarray | None:
    """Union of every segment except the one covering most of the image border (the background)."""
    masks = [np.asarray(s["mask"].resize((width, height), Image.NEAREST)) > 0 for s in segments]
    if len(masks) < 2:
        return None
    border = np.zeros((height, width), dtype=bool)
    border[[0, -1], :] = border[:, [0, -1]] = True
    background = int(np.argmax([(m & border).sum() for m in masks]))
    foreground = np.any([m for i, m in enumerate(masks) if i != background], axis=0)
    return foreground if foreground.any() and not foreground.all() else None


class Segmenter:
    """transformers ``image-segmentation`` pipeline giving foreground masks."""

    def __init__(self, model: str, device=None, batch_size: int = 8):
        from transformers import pipeline

        self.pipe = pipeline("image-segmentation", model=model, device=device)
        self.batch_size = batch_size

    def __call__(self, images: list[Image.Image]) -> list[list[dict]]:
        return self.pipe(images, batch_size=self.batch_size)


def describe_colors(images: list[Image.Image], segments: list[list[dict]] | None = None, side: int = 96) -> dict:
    """Foreground / background colour names and tone over a scene's keyframes (shrunk to ``side`` px)."""
    foreground, background = [], []
    for number, image in enumerate(images):
        small = image.convert("RGB")
        small.thumbnail((side, side), Image.BILINEAR)
        pixels = np.asarray(small)
        height, width = pixels.shape[:2]
        mask = segments_foreground_mask(segments[number], height, width) if segments else None
        if mask is None:
            mask = center_mask(height, width)
        foreground.append(pixels[mask])
        background.append(pixels[~mask])
    foreground_pixels, background_pixels = np.concatenate(foreground), np.concatenate(background)
    return {
        "foreground_colors": name_colors(foreground_pixels),
        "background_colors": name_colors(background_pixels),
        "tone": tone(np.concatenate([foreground_pixels, background_pixels])),
    }
