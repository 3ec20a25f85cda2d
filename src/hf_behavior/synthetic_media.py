"""Small generated media (PyAV, numpy) for the quickstart, the tiny training data, the tests and the benchmarks: what
the real decoders, scene detection and collators read, made offline in milliseconds."""

from pathlib import Path

import av
import numpy as np

SCENE_COLOURS = [(220, 30, 30), (30, 60, 220), (40, 180, 60)]


def write_scene_video(
    path: Path, seconds_per_scene: int = 2, fps: int = 8, size: tuple[int, int] = (64, 48), colours=SCENE_COLOURS
) -> Path:
    """A small MPEG-4 clip of solid-colour scenes with hard cuts (one colour per scene)."""
    width, height = size
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for colour in colours:
            frame = np.empty((height, width, 3), dtype=np.uint8)
            frame[:] = colour
            for _ in range(seconds_per_scene * fps):
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path
