"""Scene cuts: decord decodes small frames in batches, PySceneDetect's ContentDetector finds the cuts.

PySceneDetect's own pipeline decodes every frame at full resolution with OpenCV and then shrinks it to
~256 px wide for detection. Asking decord for the small frames directly and handing them over in batches
skips most of that work while feeding the very same detector.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
from scenedetect import ContentDetector, FrameTimecode
from scenedetect.scene_manager import get_scenes_from_cuts

VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".flv", ".mpg", ".mpeg", ".3gp"}
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


@dataclass
class VideoInfo:
    width: int
    height: int
    fps: float
    has_audio: bool


@dataclass
class SceneDetection:
    """Scenes as [start, end) frame ranges, plus each frame's change from the frame before it."""

    scenes: list[tuple[int, int]]
    frame_change: np.ndarray
    fps: float

    @property
    def num_frames(self) -> int:
        return len(self.frame_change)


def probe_video(path: str | Path) -> VideoInfo:
    """Read the container header (no decoding): frame size, frame rate, whether there is an audio track."""
    if Path(path).stat().st_size == 0:
        raise ValueError(f"{path}: file is empty (0 bytes)")
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path}: no video stream")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        if not rate or not stream.codec_context.width:
            raise ValueError(f"{path}: video stream has no frame rate or frame size")
        return VideoInfo(
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=float(rate),
            has_audio=bool(container.streams.audio),
        )


def scaled_size(width: int, height: int, target_width: int) -> tuple[int, int]:
    """Aspect-preserving size with the given width (never upscaled), both sides even for the scaler."""
    if width <= target_width:
        return width, height
    scaled_height = max(2, round(height * target_width / width / 2) * 2)
    return target_width, scaled_height


def iter_frame_batches(
    path: str | Path, width: int, height: int, batch_size: int = 64, num_threads: int = 0
) -> Iterator[np.ndarray]:
    """Decode every frame at (width, height) with decord, yielding RGB uint8 batches [B, H, W, 3].

    The next batch is decoded in a background thread (decord releases the GIL) while the caller works
    on the current one.
    """
    import decord

    reader = decord.VideoReader(str(path), width=width, height=height, num_threads=num_threads)
    starts = range(0, len(reader), batch_size)

    def decode(start: int) -> np.ndarray:
        return reader.get_batch(list(range(start, min(start + batch_size, len(reader))))).asnumpy()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(decode, starts[0]) if starts else None
        for start in starts[1:]:
            batch, pending = pending.result(), pool.submit(decode, start)
            yield batch
        if pending is not None:
            yield pending.result()


def detect_scenes(
    frame_batches: Iterator[np.ndarray], fps: float, threshold: float = 27.0, min_scene_len: int = 15
) -> SceneDetection:
    """Run ContentDetector over RGB frame batches; also keep the mean luma change of every frame."""
    fps = float(fps)
    detector = ContentDetector(threshold=threshold, min_scene_len=min_scene_len)
    cuts: list[FrameTimecode] = []
    changes: list[float] = []
    previous_gray = None
    frame_index = 0
    for batch in frame_batches:
        for frame in batch:
            # ContentDetector expects OpenCV's BGR order
            cuts += detector.process_frame(FrameTimecode(frame_index, fps), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
            gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
            changes.append(0.0 if previous_gray is None else cv2.mean(cv2.absdiff(gray, previous_gray))[0])
            previous_gray = gray
            frame_index += 1
    if frame_index == 0:
        raise ValueError("no frame could be decoded")
    cuts += detector.post_process(FrameTimecode(frame_index - 1, fps))
    spans = get_scenes_from_cuts(
        sorted(set(cuts)), start_pos=FrameTimecode(0, fps), end_pos=FrameTimecode(frame_index, fps)
    )
    scenes = [(start.frame_num, end.frame_num) for start, end in spans]
    return SceneDetection(scenes=scenes, frame_change=np.array(changes, dtype=np.float32), fps=fps)
