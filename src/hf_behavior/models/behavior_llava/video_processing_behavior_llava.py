"""Video processor for BehaviorLlava: decord decoding, fps sampling, LLaVA pad-to-square or CLIP resize + crop.

LLaMA-VID samples videos at 1 fps (every round(avg_fps)-th frame, no cap) and runs CLIPImageProcessor on the frames
(shortest side resized with PIL bicubic, centre crop); converted LLaMA-VID checkpoints are configured that way
(`resize_backend="pil"`, `size={"shortest_edge": S}`, `do_center_crop`, `round_frame_step`, `max_frames=None`).
The class defaults are LLaVA's pad-to-square on float tensors, with at most `max_frames` frames. The frames of all
videos in a call are concatenated (`pixel_values_videos`) with `num_frames_per_video` saying how many belong to each
video, so that batches can mix videos of different lengths without padding frames.
"""


import io
import logging
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from huggingface_hub.utils import httpx
from transformers import BatchFeature
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling
from transformers.processing_utils import VideosKwargs
from transformers.video_processing_utils import BaseVideoProcessor


logger = logging.getLogger(__name__)


class BehaviorLlavaVideoProcessorKwargs(VideosKwargs, total=False):
    max_frames: int | None
    round_frame_step: bool
    resize_backend: str
    decode_threads: int


def sample_frame_indices(
    total_frames: int,
    native_fps: float,
    fps: float | None,
    num_frames: int | None,
    max_frames: int | None,
    round_frame_step: bool = False,
) -> np.ndarray:
    """Frame indices to decode: `num_frames` spread uniformly, else one every native_fps/`fps` frames (`fps` None:
    every frame); at most `max_frames` (None: no cap).

    `round_frame_step` takes every round(native_fps/fps)-th frame from frame 0, as LLaMA-VID's `load_video` does
    (llamavid/serve/cli.py, llamavid/eval/model_msvd_qa.py); otherwise the step is the exact float ratio.
    """
    if total_frames < 1:
        raise ValueError("the video has no frames")
    if num_frames is not None:
        count = min(num_frames, total_frames)
        indices = np.linspace(0, total_frames - 1, count)
    elif fps is None:
        indices = np.arange(total_frames)
    elif round_frame_step:
        ratio = native_fps / fps if native_fps and native_fps > 0 else 1.0
        indices = np.arange(0, total_frames, max(1, round(ratio)))  # Python's round, as the original
    else:
        step = native_fps / fps if native_fps and native_fps > 0 else 1.0
        indices = np.arange(0, total_frames, max(step, 1e-6))
    if max_frames is not None and len(indices) > max_frames:  # uniform subsampling of the sampled frames
        indices = indices[np.linspace(0, len(indices) - 1, max_frames).round().astype(int)]
    return np.clip(np.round(indices).astype(int), 0, total_frames - 1)


def load_video_frames(
    path: str | os.PathLike,
    fps: float | None = 1.0,
    num_frames: int | None = None,
    max_frames: int | None = 300,
    num_threads: int = 0,
    round_frame_step: bool = False,
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
    sampling = {"fps": fps, "num_frames": num_frames, "max_frames": max_frames, "round_frame_step": round_frame_step}
    try:
        frames, indices, native_fps = _decode_with_decord(source, sampling, num_threads)
    except Exception as decord_error:  # noqa: BLE001  (decord's own DECORDError derives from Exception)
        # decord (installed as the decord2 wheels) is missing where it has no wheel, and a decord may reject a valid
        # stream (decord 0.6 refused a 72x48 MPEG-4 clip: "The size must exactly match"); PyAV (FFmpeg, as decord)
        # decodes the same frames, so a file fails only if both decoders fail.
        import av

        if isinstance(source, io.BytesIO):
            source.seek(0)
        try:
            frames, indices, native_fps = _decode_with_pyav(source, sampling)
        except (av.error.FFmpegError, ValueError) as error:
            raise ValueError(f"cannot decode video {path}: {decord_error} (PyAV: {error})") from error
    timestamps = indices / native_fps if native_fps > 0 else indices.astype(float)
    return frames, timestamps.astype(np.float64)


def _decode_with_decord(
    source: Path | io.BytesIO, sampling: dict, num_threads: int
) -> tuple[np.ndarray, np.ndarray, float]:
    from decord import VideoReader, cpu

    reader = VideoReader(source if isinstance(source, io.BytesIO) else str(source), ctx=cpu(0), num_threads=num_threads)
    native_fps = float(reader.get_avg_fps())
    indices = sample_frame_indices(len(reader), native_fps, **sampling)
    return reader.get_batch(indices.tolist()).asnumpy(), indices, native_fps


def _decode_with_pyav(source: Path | io.BytesIO, sampling: dict) -> tuple[np.ndarray, np.ndarray, float]:
    """The same sampled frames as the decord path, decoding the stream once from the start.

    A packet the decoder rejects (a damaged stretch of a real download, on which decord gives up on the whole file)
    is skipped and its frame counted as lost; a sampled frame that was lost is replaced by the nearest decoded one,
    with a warning. More than half of the sampled frames lost is an error.
    """
    import av

    with av.open(source if isinstance(source, io.BytesIO) else str(source)) as container:
        stream = container.streams.video[0]
        total = stream.frames or sum(1 for packet in container.demux(stream) if packet.size)
        native_fps = float(stream.average_rate or 0)
        if total == 0:
            raise ValueError("no video frames")
        indices = sample_frame_indices(total, native_fps, **sampling)
        container.seek(0)
        wanted, frames, index, lost = set(indices.tolist()), {}, 0, 0
        # hf_behavior.decoding's loop, written out: this folder is also the model's remote code, which stands alone
        for packet in container.demux(stream):
            try:
                decoded = packet.decode()
            except av.error.InvalidDataError:
                lost, index = lost + 1, index + 1  # the frame it held
                continue
            for frame in decoded:
                if index in wanted:
                    frames[index] = frame.to_ndarray(format="rgb24")
                index += 1
            if index > indices[-1]:
                break
    missing = [i for i in indices.tolist() if i not in frames]
    if len(missing) * 2 > len(indices) or not frames:
        damage = f" ({lost} damaged packets skipped)" if lost else ""
        raise ValueError(f"{len(missing)} of {len(indices)} sampled frames could not be decoded{damage}; first: "
                         f"frame {missing[0]} of {total}")  # fmt: skip
    if missing:
        decoded_at = np.array(sorted(frames))
        nearest = {i: int(decoded_at[np.abs(decoded_at - i).argmin()]) for i in missing}
        frames.update({i: frames[j] for i, j in nearest.items()})
        logger.warning("%s: %d damaged packets skipped; %d of %d sampled frames replaced by the nearest decoded one",
                       source if isinstance(source, Path) else "video", lost, len(missing), len(indices))  # fmt: skip
    return np.stack([frames[i] for i in indices.tolist()]), indices, native_fps


class BehaviorLlavaVideoProcessor(BaseVideoProcessor):
    """Frames -> normalised pixels, with every option settable at init or per call (`processor(videos, size=...)`).

    Two geometries: LLaVA's (`do_pad`: pad to a square with the mean colour, resize to `size` height x width) and
    CLIP's (`size={"shortest_edge": S}`, `do_center_crop` to `crop_size`), each resized either on uint8 frames with
    PIL (`resize_backend="pil"`: what CLIPImageProcessor, hence LLaMA-VID, does) or on float tensors with
    antialiased bicubic interpolation (`resize_backend="torch"`).
    """

    valid_kwargs = BehaviorLlavaVideoProcessorKwargs
    model_input_names = ["pixel_values_videos", "num_frames_per_video"]

    size = {"height": 224, "width": 224}
    crop_size = None
    resample = PILImageResampling.BICUBIC
    image_mean = OPENAI_CLIP_MEAN
    image_std = OPENAI_CLIP_STD
    do_resize = True
    do_center_crop = False
    do_rescale = True
    rescale_factor = 1 / 255
    do_normalize = True
    do_convert_rgb = True
    do_pad = True
    resize_backend = "torch"
    fps = 1.0
    num_frames = None
    max_frames = 300
    round_frame_step = False
    decode_threads = 0

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def preprocess(self, videos, **kwargs) -> BatchFeature:
        """`videos`: one or a list of file paths or frame arrays ([T, H, W, 3] uint8 or [T, 3, H, W])."""
        return_tensors = kwargs.pop("return_tensors", None)
        options = self.call_options(**kwargs)
        # do_sample_frames=False (transformers' switch): every frame of a file, a frame array as given
        sampled = options["do_sample_frames"] is not False
        frames, counts, timestamps = [], [], []
        for video in _flatten_videos(videos):
            if isinstance(video, (str, os.PathLike)):
                array, stamps = load_video_frames(
                    video, options["fps"] if sampled else None, options["num_frames"] if sampled else None,
                    options["max_frames"] if sampled else None, options["decode_threads"], options["round_frame_step"],
                )
                clip = torch.from_numpy(array).permute(0, 3, 1, 2)
            else:
                clip = _frames_to_tensor(video)
                if sampled:
                    clip, stamps = self._subsample_array(clip, options)
                else:
                    stamps = np.arange(clip.shape[0]) / (options["fps"] or 1.0)
            frames.append(self.transform_frames(clip, **options))
            counts.append(clip.shape[0])
            timestamps.append([float(t) for t in stamps])
        data = {
            "pixel_values_videos": torch.cat(frames, dim=0),
            "num_frames_per_video": torch.tensor(counts, dtype=torch.long),
            "video_timestamps": timestamps,
        }
        return BatchFeature(data, tensor_type=return_tensors, skip_tensor_conversion=["video_timestamps"])

    def call_options(self, **kwargs) -> dict:
        """This call's settings: the processor's own, overridden by `kwargs`. A setting this processor cannot apply
        is an error, not silently ignored."""
        names = set(BehaviorLlavaVideoProcessorKwargs.__annotations__) | set(VideosKwargs.__annotations__)
        unknown = sorted(set(kwargs) - names)
        unsupported = sorted(key for key in kwargs if key in UNSUPPORTED_OPTIONS and kwargs[key] not in (None, False))
        if unknown or unsupported:
            raise ValueError(
                f"BehaviorLlavaVideoProcessor cannot apply {unknown + unsupported} (unknown: {unknown}, not "
                f"implemented: {unsupported}); it applies {sorted(names - UNSUPPORTED_OPTIONS)}."
            )
        options = {name: getattr(self, name, None) for name in names - UNSUPPORTED_OPTIONS}
        options.update({key: value for key, value in kwargs.items() if value is not None or key in NULLABLE_OPTIONS})
        options.pop("do_convert_rgb", None)  # decoded frames and frame arrays are RGB already
        if options["resize_backend"] not in ("pil", "torch"):
            raise ValueError(f"resize_backend must be 'pil' or 'torch', got {options['resize_backend']!r}.")
        if options["do_center_crop"] and not options["crop_size"]:
            raise ValueError("do_center_crop=True needs crop_size={'height': H, 'width': W}.")
        return options

    def _subsample_array(self, clip: torch.Tensor, options: dict):
        """Frame arrays are taken as already sampled (at `fps`); only `num_frames`/`max_frames` thin them out."""
        num_frames, max_frames = options["num_frames"], options["max_frames"]
        limit = min(num_frames or clip.shape[0], max_frames or clip.shape[0])
        indices = np.arange(clip.shape[0])
        if clip.shape[0] > limit:
            indices = np.linspace(0, clip.shape[0] - 1, limit).round().astype(int)
        return clip[torch.from_numpy(indices)], indices / (options["fps"] or 1.0)

    def transform_frames(self, clip: torch.Tensor, **kwargs) -> torch.Tensor:
        """[T, 3, H, W] frames (uint8, or float in 0..255) -> normalised float [T, 3, h, w].

        Runs in the training collator for every frame of every step, so it skips no-op steps; the torch backend
        scales and normalises in one in-place pass, the PIL backend as CLIPImageProcessor does (float32 rescale,
        then (x - mean) / std).
        """
        options = self.call_options(**kwargs)
        if options["resize_backend"] == "torch":
            clip = clip.float()
        mean = torch.tensor(options["image_mean"], dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(options["image_std"], dtype=torch.float32).view(1, 3, 1, 1)
        if options["do_pad"] and clip.shape[-2] != clip.shape[-1]:
            clip = _pad_to_square(clip, mean * 255)
        if options["do_resize"]:
            target = _resize_output_size(*clip.shape[-2:], options["size"])
            if options["resize_backend"] == "pil":
                clip = _resize_with_pil(clip, target, options["resample"])
            elif tuple(clip.shape[-2:]) != target:
                clip = F.interpolate(clip.float(), size=target, mode="bicubic", antialias=True, align_corners=False)
                clip = clip.clamp_(0, 255)
        if options["do_center_crop"]:
            clip = _center_crop(clip, options["crop_size"])
        scale = options["rescale_factor"] if options["do_rescale"] else 1.0
        if options["resize_backend"] == "pil":
            pixels = (clip.double() * scale).float()  # CLIPImageProcessor: uint8 * scale, cast to float32
            return (pixels - mean) / std if options["do_normalize"] else pixels
        if options["do_normalize"]:  # (clip * scale - mean) / std
            return clip.mul_(scale / std).sub_(mean / std)
        return clip.mul_(scale) if scale != 1.0 else clip


# Options of transformers' VideosKwargs this processor does not implement (frames are decoded here, always RGB).
UNSUPPORTED_OPTIONS = {
    "default_to_square", "video_metadata", "data_format", "input_data_format", "device",
    "return_metadata",
}
NULLABLE_OPTIONS = {"num_frames", "max_frames", "fps", "do_sample_frames"}


def _resize_output_size(height: int, width: int, size: dict) -> tuple[int, int]:
    """(height, width) after resizing: `{"shortest_edge": s}` keeps the aspect ratio as transformers'
    `get_resize_output_image_size(default_to_square=False)` (the long side truncated), else `{"height", "width"}`."""
    if "shortest_edge" in size:
        short, long = sorted((height, width))
        new_short, new_long = size["shortest_edge"], int(size["shortest_edge"] * long / short)
        return (new_long, new_short) if width <= height else (new_short, new_long)
    return size["height"], size["width"]


def _resize_with_pil(clip: torch.Tensor, target: tuple[int, int], resample) -> torch.Tensor:
    """Resize each uint8 frame with PIL, as CLIPImageProcessor does; float frames are rounded to uint8 first."""
    if clip.dtype != torch.uint8:
        clip = clip.round().clamp(0, 255).to(torch.uint8)
    if tuple(clip.shape[-2:]) == target:
        return clip
    height, width = target
    frames = [
        np.asarray(Image.fromarray(frame).resize((width, height), resample=PILImageResampling(resample)))
        for frame in clip.permute(0, 2, 3, 1).numpy()
    ]
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)


def _center_crop(clip: torch.Tensor, crop_size: dict) -> torch.Tensor:
    """Centre crop as transformers does (top = (H - h) // 2); frames smaller than the crop are not padded."""
    height, width = clip.shape[-2:]
    crop_height, crop_width = crop_size["height"], crop_size["width"]
    if crop_height > height or crop_width > width:
        raise ValueError(f"cannot centre-crop {height}x{width} frames to {crop_height}x{crop_width}: resize first.")
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return clip[..., top : top + crop_height, left : left + crop_width]


def _pad_to_square(clip: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
    """LLaVA's `expand2square`: the frame centred on a square canvas of the fill colour (0..255)."""
    height, width = clip.shape[-2:]
    side = max(height, width)
    canvas = fill.to(torch.float32).expand(clip.shape[0], 3, side, side).clone()
    if clip.dtype == torch.uint8:
        canvas = canvas.trunc().to(torch.uint8)  # LLaVA's expand2square: tuple(int(x * 255) for x in image_mean)
    top, left = (side - height) // 2, (side - width) // 2
    canvas[:, :, top : top + height, left : left + width] = clip
    return canvas


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
