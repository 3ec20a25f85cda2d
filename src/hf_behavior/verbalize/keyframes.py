"""Keyframes: the steadiest frame of each scene, and of each window of a long scene.

The paper samples frames by the "30-degree rule": a shot's representative frame is one where the camera
and subject hold still, so the frame with the least change into and out of it stands for the scene.
Scenes longer than ``max_scene_seconds`` are split into equal windows, each contributing its own
steadiest frame, so long shots are sampled uniformly over time. A near-uniform frame (a black frame, a white
flash, a fade's end) is the steadiest of all but shows nothing, so it is passed over whenever its window has a
frame with some detail.
"""

from __future__ import annotations

import math

import numpy as np

MIN_KEYFRAME_DETAIL = 4.0  # scenes.picture_detail below this: one flat colour (black, a white flash), no keyframe


def steadiest_frame(frame_change: np.ndarray, start: int, end: int, usable: np.ndarray | None = None) -> int:
    """Frame in [start, end) with the least mean change in and out; ties go to the frame nearest the middle.
    ``usable`` (a mask over all frames) limits the choice to its frames when the range has any.

    The first and last frames have one neighbour inside the range (the change across a cut does not count),
    so they are scored by that one change alone rather than favoured for missing the other.
    """
    inside = frame_change[start + 1 : end]  # change into frames start+1 .. end-1 (start itself is the cut)
    change_in = np.concatenate([[0.0], inside])
    change_out = np.concatenate([inside, [0.0]])
    neighbours = np.full(end - start, 2.0)
    neighbours[[0, -1]] -= 1
    score = (change_in + change_out) / np.maximum(neighbours, 1.0)
    if usable is not None and usable[start:end].any():
        score = np.where(usable[start:end], score, np.inf)
    middle = (end - start - 1) / 2
    distance = np.abs(np.arange(end - start) - middle)
    return start + int(np.lexsort((distance, score))[0])


def select_keyframes(
    scenes: list[tuple[int, int]],
    frame_change: np.ndarray,
    fps: float,
    max_scene_seconds: float = 10.0,
    frame_detail: np.ndarray | None = None,
) -> list[list[int]]:
    """Keyframe indices per scene: one per scene, one per ``max_scene_seconds`` window for long scenes; with
    ``frame_detail`` (:func:`hf_behavior.verbalize.scenes.picture_detail` per frame), never a near-uniform frame
    unless its whole window is."""
    usable = None if frame_detail is None else frame_detail >= MIN_KEYFRAME_DETAIL
    keyframes = []
    for start, end in scenes:
        windows = max(1, math.ceil((end - start) / fps / max_scene_seconds))
        bounds = np.linspace(start, end, windows + 1).round().astype(int)
        keyframes.append([steadiest_frame(frame_change, a, b, usable) for a, b in zip(bounds[:-1], bounds[1:]) if b > a])
    return keyframes
