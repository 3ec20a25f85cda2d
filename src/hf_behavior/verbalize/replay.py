"""Replay graph per scene from yt-dlp's ``heatmap`` (the "most replayed" curve saved in ``<id>.info.json``)."""

from __future__ import annotations

import json
from pathlib import Path


def info_json_path(media_path: str | Path, info_dir: str | Path | None = None) -> Path:
    """yt-dlp writes ``<stem>.info.json`` beside the media; ``info_dir`` points elsewhere."""
    media_path = Path(media_path)
    folder = Path(info_dir) if info_dir is not None else media_path.parent
    return folder / f"{media_path.stem}.info.json"


def load_heatmap(media_path: str | Path, info_dir: str | Path | None = None) -> list[dict] | None:
    """The heatmap points, or None when there is no info.json or it has no heatmap."""
    path = info_json_path(media_path, info_dir)
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    heatmap = info.get("heatmap") if isinstance(info, dict) else None
    if not heatmap:
        return None
    for number, point in enumerate(heatmap):
        if not isinstance(point, dict) or not {"start_time", "end_time", "value"} <= point.keys():
            raise ValueError(f"{path}: heatmap point {number} lacks start_time/end_time/value: {point!r}")
    return heatmap


def replay_per_scene(heatmap: list[dict] | None, scenes: list[tuple[float, float]]) -> list[float | None]:
    """Max heatmap value over each scene's [start, end) span; None without a heatmap or any overlap."""
    if not heatmap:
        return [None] * len(scenes)
    values = []
    for start, end in scenes:
        overlapping = [
            float(point["value"])
            for point in heatmap
            if point["start_time"] < end and point["end_time"] > start
            or point["start_time"] <= start < point["end_time"]
        ]
        values.append(round(max(overlapping), 4) if overlapping else None)
    return values
