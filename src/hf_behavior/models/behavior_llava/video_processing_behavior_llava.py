"""Video processor for BehaviorLlava: decord decoding, fps sampling capped at `max_frames`, LLaVA pad-to-square.

LLaMA-VID samples videos at 1 fps; each frame is padded to a square with the mean colour (LLaVA's `expand2square`),
resized and CLIP-normalised exactly like an image. The frames of all videos in a call are concatenated
(`pixel_values_videos`) with `num_frames_per_video` saying how many belong to each video, so that batches can mix
videos of different lengths without padding frames.
"""


import io
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from huggingface_hub.utils import httpx
from transformers import BatchFeature
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD
from transformers.processing_utils import VideosKwargs
from transformers.video_processing_utils import BaseVideoProcessor


class BehaviorLlavaVideoProcessorKwargs(VideosKwargs, total=False):
    max_frames: int
    do_pad: bool
    decode_threads: int


def sample_frame_indices(
    total_frames: int, native_fps: float, fps: float | None, num_frames: int | None, max_frames: int
) -> np.ndarray:
    """Frame indices to decode: `num_frames` spread uniformly, else one every 1/`fps` s; at most `max_frames`."""
    if total_frames < 1:
        raise ValueError("the video has no frames")
    if num_frames is not None:
        count = min(num_frames, total_frames)
        indices = np.linspace(0, total_frames - 1, count)
    else:
        step = native_fps / fps if native_fps and native_fps > 0 else 1.0
        indices = np.arange(0, total_frames, max(step, 1e-6))
    if len(indices) > max_frames:  # uniform subsampling of the sampled frames
        indices = indices[np.linspace(0, len(indices) - 1, max_frames).round().astype(int)]
    return np.clip(np.round(indices).astype(int), 0, total_frames - 1)


def load_video_frames(
    path: str | os.PathLike,
    fps: float | None = 1.0,
    num_frames: int | None = None,
    max_frames: int = 300,
    num_threads: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode the sampled frames of a video file or http(s) URL with decord (else PyAV): (uint8 [T, H, W, 3],
    timestamps in s [T]). A URL is fetched into memory, as transformers' `load_video` does."""
    if isinstance(path, str) and path.startswith(("http://", "https://")):
        response = httpx.get(path, follow_redirects=True)
        response.raise_for_status()
        source = io.BytesIO(response.content)
    else:
        path = source = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"video file not found: {path}")
        if path.stat().st_size == 0:
            raise ValueError(f"video file is empty (0 bytes): {path}")
    try:
        frames, indices, native_fps = _decode_with_decord(source, fps, num_frames, max_frames, num_threads)
    except Exception as decord_error:  # noqa: BLE001  (decord's own DECORDError derives from Exception)
        # decord is missing where it has no wheel (e.g. ARM Linux), and it rejects some valid streams (a 72x48
        # MPEG-4 clip: "The size must exactly match"); PyAV (FFmpeg, as decord) decodes the same frames, so a file
        # fails only if both decoders fail.
        import av

        if isinstance(source, io.BytesIO):
            source.seek(0)
        try:
            frames, indices, native_fps = _decode_with_pyav(source, fps, num_frames, max_frames)
        except (av.error.FFmpegError, ValueError) as error:
            raise ValueError(f"cannot decode video {path}: {decord_error} (PyAV: {error})") from error
    timestamps = indices / native_fps if native_fps > 0 else indices.astype(float)
    return frames, timestamps.astype(np.float64)


def _decode_with_decord(source: Path | io.BytesIO, fps, num_frames, max_frames, num_threads) -> tuple[np.ndarray, np.ndarray, float]:
    from decord import VideoReader, cpu

    reader = VideoReader(source if isinstance(source, io.BytesIO) else str(source), ctx=cpu(0), num_threads=num_threads)
    native_fps = float(reader.get_avg_fps())
    indices = sample_frame_indices(len(reader), native_fps, fps, num_frames, max_frames)
    return reader.get_batch(indices.tolist()).asnumpy(), indices, native_fps


def _decode_with_pyav(source: Path | io.BytesIO, fps, num_frames, max_frames) -> tuple[np.ndarray, np.ndarray, float]:
    """The same sampled frames as the decord path, decoding the stream once from the start."""
    import av

    with av.open(source if isinstance(source, io.BytesIO) else str(source)) as container:
        stream = container.streams.video[0]
        total = stream.frames or sum(1 for packet in container.demux(stream) if packet.size)
        native_fps = float(stream.average_rate or 0)
        if total == 0:
            raise ValueError("no video frames")
        indices = sample_frame_indices(total, native_fps, fps, num_frames, max_frames)
        container.seek(0)
        wanted, frames = set(indices.tolist()), {}
        for index, frame in enumerate(container.decode(stream)):
            if index in wanted:
                frames[index] = frame.to_ndarray(format="rgb24")
            if index >= indices[-1]:
                break
    missing = [i for i in indices.tolist() if i not in frames]
    if missing:
        raise ValueError(f"stream ended before frame {missing[0]} of {total}")
    return np.stack([frames[i] for i in indices.tolist()]), indices, native_fps


class BehaviorLlavaVideoProcessor(BaseVideoProcessor):
    valid_kwargs = BehaviorLlavaVideoProcessorKwargs
    model_input_names = ["pixel_values_videos", "num_frames_per_video"]

    size = {"height": 224, "width": 224}
    image_mean = OPENAI_CLIP_MEAN
    image_std = OPENAI_CLIP_STD
    do_resize = True
    do_rescale = True
    rescale_factor = 1 / 255
    do_normalize = True
    do_convert_rgb = True
    do_pad = True
    fps = 1.0
    num_frames = None
    max_frames = 300
    decode_threads = 0

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def preprocess(self, videos, **kwargs) -> BatchFeature:
        """`videos`: one or a list of file paths or frame arrays ([T, H, W, 3] uint8 or [T, 3, H, W])."""
        options = {key: kwargs.get(key, getattr(self, key)) for key in ("fps", "num_frames", "max_frames")}
        return_tensors = kwargs.get("return_tensors")
        frames, counts, timestamps = [], [], []
        for video in _flatten_videos(videos):
            if isinstance(video, (str, os.PathLike)):
                array, stamps = load_video_frames(
                    video, options["fps"], options["num_frames"], options["max_frames"], self.decode_threads
                )
                clip = torch.from_numpy(array).permute(0, 3, 1, 2)
            else:
                clip = _frames_to_tensor(video)
                clip, stamps = self._subsample_array(clip, options["num_frames"], options["max_frames"])
            frames.append(self.transform_frames(clip))
            counts.append(clip.shape[0])
            timestamps.append([float(t) for t in stamps])
        data = {
            "pixel_values_videos": torch.cat(frames, dim=0),
            "num_frames_per_video": torch.tensor(counts, dtype=torch.long),
            "video_timestamps": timestamps,
        }
        return BatchFeature(data, tensor_type=return_tensors, skip_tensor_conversion=["video_timestamps"])

    def _subsample_array(self, clip: torch.Tensor, num_frames: int | None, max_frames: int):
        """Frame arrays are taken as already sampled (at `fps`); only `num_frames`/`max_frames` thin them out."""
        limit = min(num_frames or max_frames, max_frames)
        indices = np.arange(clip.shape[0])
        if clip.shape[0] > limit:
            indices = np.linspace(0, clip.shape[0] - 1, limit).round().astype(int)
        return clip[torch.from_numpy(indices)], indices / (self.fps or 1.0)

    def transform_frames(self, clip: torch.Tensor) -> torch.Tensor:
        """uint8 [T, 3, H, W] -> normalised float [T, 3, size, size]: pad to square (mean colour), resize, scale.

        Runs in the training collator for every frame of every step, so it skips no-op steps and scales +
        normalises in one in-place pass.
        """
        clip = clip.float()
        mean = torch.tensor(self.image_mean).view(1, 3, 1, 1)
        std = torch.tensor(self.image_std).view(1, 3, 1, 1)
        height, width = clip.shape[-2:]
        if self.do_pad and height != width:
            side = max(height, width)
            canvas = (mean * 255).expand(clip.shape[0], 3, side, side).clone()
            top, left = (side - height) // 2, (side - width) // 2
            canvas[:, :, top : top + height, left : left + width] = clip
            clip = canvas
        target = (self.size["height"], self.size["width"])
        if self.do_resize and tuple(clip.shape[-2:]) != target:
            clip = F.interpolate(clip, size=target, mode="bicubic", antialias=True, align_corners=False).clamp_(0, 255)
        scale = self.rescale_factor if self.do_rescale else 1.0
        if self.do_normalize:  # (clip * scale - mean) / std
            return clip.mul_(scale / std).sub_(mean / std)
        return clip.mul_(scale) if scale != 1.0 else clip


def _flatten_videos(videos) -> list:
    """Accept one video, a list of videos, or per-sample nested lists (what `apply_chat_template` passes)."""
    if isinstance(videos, (str, os.PathLike)) or _is_frame_array(videos):
        return [videos]
    if videos and all(getattr(item, "ndim", None) == 3 or hasattr(item, "convert") for item in videos):
        return [videos]  # a list of frames (arrays or PIL images) is one video
    return [video for item in videos for video in _flatten_videos(item)]


def _is_frame_array(video) -> bool:
    return isinstance(video, (np.ndarray, torch.Tensor)) and video.ndim == 4


def _frames_to_tensor(video) -> torch.Tensor:
    clip = torch.as_tensor(np.asarray(video)) if not isinstance(video, torch.Tensor) else video
    if clip.ndim != 4:
        raise ValueError(f"a video array must have 4 dimensions [T, H, W, 3] or [T, 3, H, W], got shape {tuple(clip.shape)}")
    if clip.shape[-1] in (1, 3) and clip.shape[1] not in (1, 3):
        clip = clip.permute(0, 3, 1, 2)
    if clip.shape[1] == 1:
        clip = clip.expand(-1, 3, -1, -1)
    if clip.is_floating_point() and clip.max() <= 1.0:
        clip = clip * 255
    return clip


BehaviorLlavaVideoProcessor.register_for_auto_class("AutoVideoProcessor")

__all__ = ["BehaviorLlavaVideoProcessor", "load_video_frames", "sample_frame_indices"]
