"""Scene cuts: PySceneDetect's ContentDetector score and cut rule on a ~256 px copy of every frame PyAV decodes.

Decoding 720p H.264 is most of the work. PySceneDetect's own pipeline decodes with OpenCV's FFmpeg reader,
converts every frame to a full-size BGR picture, shrinks that (cv2 INTER_LINEAR, ~256 px wide) and scores it.
We cut the video at its key frames into spans that decode independently and decode those on all cores at
once, one single-threaded decoder each (frame threads cost a sixth more CPU per frame in synchronisation); we
shrink the decoded Y, U and V planes the same way, colour-convert only the small picture, score it with
ContentDetector's arithmetic (bit-identical, see :func:`content_score`; its per-frame score also serves
keyframe selection) and put the scores in order through ContentDetector's own FlashFilter. A video that
cannot be split (one key frame, no timestamps, or a seek that does not land on its key frame) is decoded
from start to end with frame threads instead. Each frame's detail (how far from a single flat colour it is)
is measured on the same small picture, so that keyframe selection can pass over black frames and white
flashes. A packet the decoder refuses (corrupt data) is skipped and counted, not fatal: its frame is missing.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import av
import cv2
import numpy as np
from scenedetect import FrameTimecode
from scenedetect.detector import FlashFilter
from scenedetect.scene_manager import get_scenes_from_cuts

from ..decoding import decode_frames

VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".flv", ".mpg", ".mpeg", ".3gp"}
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


@dataclass
class VideoInfo:
    width: int
    height: int
    fps: float
    has_audio: bool


@dataclass
class FrameIndex:
    """Every frame's timestamp in display order and the key frames, from the container's packets (no decoding)."""

    frame_pts: list[int | None]
    key_frames: list[int]

    @cached_property
    def position(self) -> dict[int | None, int]:
        """Each timestamp's frame number."""
        return {pts: number for number, pts in enumerate(self.frame_pts)}

    def spans(self, parts: int, min_frames: int) -> list[tuple[int, int]]:
        """About ``parts`` [start, end) spans of at least ``min_frames`` frames (the last may be shorter),
        each starting at a key frame so that it decodes on its own."""
        total = len(self.frame_pts)
        length = max(min_frames, -(-total // parts))
        starts = [0]
        for key in self.key_frames:
            if key - starts[-1] >= length:
                starts.append(key)
        return list(zip(starts, starts[1:] + [total]))


@dataclass
class SceneDetection:
    """Scenes as [start, end) frame ranges, each frame's change from the frame before it and its detail
    (:func:`picture_detail`), what :func:`read_frames` needs to find frames again by seeking (the frames'
    timestamps, the key frames), and the corrupt packets skipped."""

    scenes: list[tuple[int, int]]
    frame_change: np.ndarray
    fps: float
    index: FrameIndex
    frame_detail: np.ndarray | None = None
    bad_packets: int = 0

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
    """Aspect-preserving size at most ``target_width`` wide (never upscaled), both sides even (4:2:0 chroma)."""
    if width > target_width:
        return max(2, target_width // 2 * 2), max(2, round(height * target_width / width / 2) * 2)
    return max(2, width // 2 * 2), max(2, height // 2 * 2)


@contextmanager
def open_video_stream(
    path: str | Path, skip_deblocking: bool = False, threads: int = 0
) -> Iterator[tuple[av.container.InputContainer, av.VideoStream]]:
    """The first video stream, decoded with FFmpeg's frame and slice threads (``threads``: how many; 0: one
    per core, FFmpeg's default).

    ``skip_deblocking`` turns off the H.264/HEVC in-loop deblocking filter: a fifth less decoding work, for
    pictures off by ~1 grey level, an error that grows until the next key frame (on the benchmark clips it
    moves ContentDetector scores by ~0.2, threshold 27). Worth it for scene detection only.
    """
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path}: no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = threads
        if skip_deblocking:
            stream.codec_context.options = {"skip_loop_filter": "all"}
        yield container, stream


def shrink_to_i420(frame: av.VideoFrame, out: np.ndarray) -> np.ndarray:
    """Shrink the frame's Y, U, V planes (cv2 INTER_LINEAR, as PySceneDetect shrinks its BGR frames) into
    ``out``, an I420 picture of shape [height * 3 / 2, width]."""
    if frame.format.name != "yuv420p":  # 10-bit, 4:2:2, 4:4:4, full-range: swscale brings it to yuv420p first
        frame = frame.reformat(format="yuv420p")
    width, height = out.shape[1], out.shape[0] * 2 // 3
    flat = out.reshape(-1)
    luma, chroma = width * height, width * height // 4
    targets = (
        flat[:luma].reshape(height, width),
        flat[luma : luma + chroma].reshape(height // 2, width // 2),
        flat[luma + chroma :].reshape(height // 2, width // 2),
    )
    for plane, target in zip(frame.planes, targets):
        pixels = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
        cv2.resize(pixels, target.shape[::-1], dst=target, interpolation=cv2.INTER_LINEAR)
    return out


def picture_detail(i420: np.ndarray) -> float:
    """How far a small I420 picture is from one flat colour: the largest standard deviation of its Y, U and V
    planes (a black frame or a white flash: ~0; any picture with something in it: well above 10)."""
    height = i420.shape[0] * 2 // 3
    width = i420.shape[1]
    flat = i420.reshape(-1)
    luma, chroma = width * height, width * height // 4
    planes = (flat[:luma], flat[luma : luma + chroma], flat[luma + chroma :])
    return max(float(cv2.meanStdDev(plane)[1][0, 0]) for plane in planes)


def content_score(hsv: np.ndarray, previous_hsv: np.ndarray | None) -> float:
    """ContentDetector's frame score with its default weights: the mean absolute change of hue, saturation
    and value from the previous frame, averaged (0 for the first frame). Same arithmetic, so same floats."""
    if previous_hsv is None:
        return 0.0
    pixels = float(hsv.shape[0] * hsv.shape[1])
    hue, saturation, value, _ = cv2.sumElems(cv2.absdiff(hsv, previous_hsv))
    return (hue / pixels + saturation / pixels + value / pixels) / 3.0


def index_frames(path: str | Path) -> FrameIndex | None:
    """The :class:`FrameIndex` of the first video stream; None when its packets lack unique timestamps."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            packets = [(packet.pts, packet.is_keyframe) for packet in container.demux(stream) if packet.size]
    except (av.FFmpegError, IndexError):
        return None  # the decoding pass reports what is wrong with the file
    frame_pts = sorted(pts for pts, _ in packets if pts is not None)
    if len(frame_pts) != len(packets) or len(set(frame_pts)) != len(frame_pts):
        return None
    keys = {pts for pts, key in packets if key}
    return FrameIndex(frame_pts, [number for number, pts in enumerate(frame_pts) if pts in keys])


def hsv_pictures(frames: Iterable[av.VideoFrame], width: int, height: int) -> Iterator[tuple[np.ndarray, float]]:
    """Each frame shrunk to (width, height) (:func:`shrink_to_i420`) and converted to HSV, as ContentDetector
    converts its BGR frames, with the shrunk picture's :func:`picture_detail`."""
    picture = np.empty((height * 3 // 2, width), np.uint8)
    for frame in frames:
        shrink_to_i420(frame, picture)
        hsv = cv2.cvtColor(cv2.cvtColor(picture, cv2.COLOR_YUV2BGR_I420), cv2.COLOR_BGR2HSV)
        yield hsv, picture_detail(picture)


@dataclass
class ScoredSpan:
    """One span's frame scores (the first frame's against nothing: 0), its frames' details, its first and last
    HSV pictures, and the corrupt packets skipped in it."""

    scores: list[float]
    first: np.ndarray
    last: np.ndarray
    details: list[float]
    bad_packets: list[str]


def score_span(
    path: str | Path,
    index: FrameIndex,
    span: tuple[int, int],
    width: int,
    height: int,
    skip_deblocking: bool,
    threads: int = 1,
) -> ScoredSpan | None:
    """Seek to the span's key frame and score its frames, decoded by ``threads`` threads; None unless the
    decoder gives exactly the span's frames in order (a seek by time can land elsewhere, as in MPEG-TS)."""
    start, end = span
    position = index.position
    with open_video_stream(path, skip_deblocking, threads) as (container, stream):
        if start:
            container.seek(index.frame_pts[start], stream=stream)

        bad_packets: list[str] = []

        def span_frames() -> Iterator[av.VideoFrame]:
            expected = start
            for frame in decode_frames(container, stream, bad_packets):
                number = position.get(frame.pts, -1)
                if 0 <= number < start and expected == start:
                    continue  # the seek landed on an earlier key frame, or open-GOP pictures shown before it
                if number != expected:
                    raise LookupError(number)
                yield frame
                expected += 1
                if expected == end:
                    return
            raise LookupError(expected)

        scores, details, first, previous = [], [], None, None
        try:
            for hsv, detail in hsv_pictures(span_frames(), width, height):
                scores.append(content_score(hsv, previous))
                details.append(detail)
                first = hsv if first is None else first
                previous = hsv
        except LookupError:
            return None
    return ScoredSpan(scores, first, previous, details, bad_packets)


def score_frames_in_spans(
    path: str | Path, index: FrameIndex, width: int, height: int, skip_deblocking: bool, workers: int
) -> ScoredSpan | None:
    """Every frame's :func:`content_score` (and detail), its spans decoded ``workers`` at a time; None when a span
    cannot be decoded on its own. When the spans do not fill the last round (5 spans, 2 workers), the spans
    of that round share the workers' threads, so that no core idles while the last span decodes."""
    spans = index.spans(parts=4 * workers, min_frames=30)
    if len(spans) < 2:
        return None
    last_round = len(spans) % workers
    threads = [1] * (len(spans) - last_round) + [workers // max(last_round, 1)] * last_round
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(
            lambda span, count: score_span(path, index, span, width, height, skip_deblocking, count), spans, threads
        ))
    if None in parts:
        return None
    for before, part in zip(parts, parts[1:]):  # the first frame of a span against the last one before it
        part.scores[0] = content_score(part.first, before.last)
    return ScoredSpan(
        scores=[score for part in parts for score in part.scores], first=parts[0].first, last=parts[-1].last,
        details=[detail for part in parts for detail in part.details],
        bad_packets=[packet for part in parts for packet in part.bad_packets],
    )


def score_frames_in_order(
    path: str | Path, width: int, height: int, skip_deblocking: bool
) -> tuple[ScoredSpan, FrameIndex]:
    """Every frame's :func:`content_score` (and detail) from one frame-threaded decode, with the timestamps and
    key frames the decoder reports."""
    scores: list[float] = []
    details: list[float] = []
    bad_packets: list[str] = []
    index = FrameIndex(frame_pts=[], key_frames=[])
    first = previous = None

    def frames(stream_frames: Iterable[av.VideoFrame]) -> Iterator[av.VideoFrame]:
        for frame in stream_frames:
            if frame.key_frame:
                index.key_frames.append(len(index.frame_pts))
            index.frame_pts.append(frame.pts)
            yield frame

    with open_video_stream(path, skip_deblocking) as (container, stream):
        for hsv, detail in hsv_pictures(frames(decode_frames(container, stream, bad_packets)), width, height):
            scores.append(content_score(hsv, previous))
            details.append(detail)
            first = hsv if first is None else first
            previous = hsv
    return ScoredSpan(scores, first, previous, details, bad_packets), index


def detect_scenes(
    path: str | Path,
    width: int,
    height: int,
    fps: float,
    threshold: float = 27.0,
    min_scene_len: int = 15,
    skip_deblocking: bool = False,
    workers: int | None = None,
) -> SceneDetection:
    """Decode every frame at (width, height) (even sizes, see :func:`scaled_size`) and find the cuts as
    ``ContentDetector(threshold, min_scene_len)`` does: its score (:func:`content_score`, which also serves
    as each frame's change for keyframe selection) against the threshold, through its FlashFilter.
    ``workers`` decoders run at once (default: one per core this process may use)."""
    fps = float(fps)
    workers = workers or len(os.sched_getaffinity(0))
    index = index_frames(path) if workers > 1 else None
    scored = score_frames_in_spans(path, index, width, height, skip_deblocking, workers) if index else None
    if scored is None:
        scored, index = score_frames_in_order(path, width, height, skip_deblocking)
    scores = scored.scores
    if not scores:
        bad = f" ({len(scored.bad_packets)} corrupt packets, first {scored.bad_packets[0]})" if scored.bad_packets else ""
        raise ValueError(f"{path}: no frame could be decoded{bad}")
    flash_filter = FlashFilter(FlashFilter.Mode.MERGE, length=min_scene_len)  # ContentDetector's default mode
    cuts = [
        cut
        for number, score in enumerate(scores)
        for cut in flash_filter.filter(FrameTimecode(number, fps), above_threshold=score >= threshold)
    ]
    spans = get_scenes_from_cuts(
        sorted(set(cuts)), start_pos=FrameTimecode(0, fps), end_pos=FrameTimecode(len(scores), fps)
    )
    return SceneDetection(
        scenes=[(start.frame_num, end.frame_num) for start, end in spans],
        frame_change=np.array(scores, dtype=np.float32),
        fps=fps,
        index=index,
        frame_detail=np.array(scored.details, dtype=np.float32),
        bad_packets=len(scored.bad_packets),
    )


def read_frames(
    path: str | Path, detection: SceneDetection, indices: Sequence[int], width: int, height: int
) -> tuple[dict[int, np.ndarray], int]:
    """RGB frames [height, width, 3] at the given indices, and how many frames had to be decoded for them.

    Each frame is decoded from the last key frame before it (a seek), unless the decoder is already between
    the two. Without unique timestamps to seek by, or once a seek lands past its frame (MPEG-TS seeks by
    time, not by an index of key frames), the video is decoded from the start instead.
    """
    timestamps, index_of, key_frames = detection.index.frame_pts, detection.index.position, detection.index.key_frames
    by_timestamp = None not in timestamps and len(set(timestamps)) == len(timestamps)
    seeking = by_timestamp
    found: dict[int, np.ndarray] = {}
    decoded = 0
    with open_video_stream(path) as (container, stream):
        frames, position = decode_frames(container, stream), 0  # position: index of the next frame `frames` yields

        def decode_to(target: int) -> av.VideoFrame | None:
            """The target frame, or None when decoding ends or passes it without meeting it."""
            nonlocal decoded, position
            for frame in frames:
                decoded += 1
                index = index_of.get(frame.pts, -1) if by_timestamp else position
                position = index + 1
                if index >= target:
                    return frame if index == target else None
            return None

        for target in sorted(set(indices)):
            before = bisect.bisect_right(key_frames, target)
            key = key_frames[before - 1] if before else 0
            if seeking and (position > target or key > position):
                container.seek(timestamps[key], stream=stream)
                frames = decode_frames(container, stream)
            frame = decode_to(target)
            if frame is None and seeking:
                seeking = False
                container.seek(0)
                frames, position = decode_frames(container, stream), 0
                frame = decode_to(target)
            if frame is None:
                raise ValueError(f"{path}: frame {target} could not be decoded again")
            found[target] = frame.reformat(width, height, "rgb24").to_ndarray()
    return found, decoded
