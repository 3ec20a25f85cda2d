"""BehaviorLlavaVideoProcessor: LLaMA-VID's preprocessing (CLIPImageProcessor on PIL/uint8 frames, every
round(avg_fps)-th frame) against transformers' and decord's own code, and per-call options that take effect."""

from fractions import Fraction

import av
import numpy as np
import pytest
import torch
from decord import VideoReader, cpu
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

from hf_behavior.models.behavior_llava.video_processing_behavior_llava import (
    BehaviorLlavaVideoProcessor,
    load_video_frames,
    sample_frame_indices,
)


def original_video_processor(side: int) -> BehaviorLlavaVideoProcessor:
    """What convert-llama-vid configures (convert_llama_vid_to_hf.build_original_processor)."""
    return BehaviorLlavaVideoProcessor(
        size={"shortest_edge": side}, crop_size={"height": side, "width": side}, do_center_crop=True, do_pad=False,
        resize_backend="pil", round_frame_step=True, max_frames=None,
    )


def write_noise_video(path, rate: Fraction, frames: int, size=(64, 48)):
    """An MPEG-4 clip of random frames at `rate` frames per second."""
    rng = np.random.default_rng(0)
    width, height = size
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(frames):
            frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


@pytest.mark.parametrize("side", [224, 336])
@pytest.mark.parametrize(("height", "width"), [(240, 320), (448, 448), (45, 61), (333, 501), (67, 50)])
def test_original_mode_equals_transformers_clip_image_processor_on_uint8_frames(side, height, width):
    frames = np.random.default_rng(height * width).integers(0, 256, (2, height, width, 3), dtype=np.uint8)
    ours = original_video_processor(side)(frames, return_tensors="pt")["pixel_values_videos"]
    clip = CLIPImageProcessorPil(size={"shortest_edge": side}, crop_size={"height": side, "width": side})
    expected = clip(list(frames), return_tensors="pt")["pixel_values"]
    assert ours.shape == expected.shape == (2, 3, side, side)
    assert (ours - expected).abs().max() <= 1e-6


def test_other_modes_stay_available_and_differ():
    """LLaVA pad-to-square on float tensors (the class default) is still there; on a 240x320 frame it is not CLIP's."""
    frames = np.random.default_rng(1).integers(0, 256, (1, 240, 320, 3), dtype=np.uint8)
    padded = BehaviorLlavaVideoProcessor()(frames, return_tensors="pt")["pixel_values_videos"]
    clip = original_video_processor(224)(frames, return_tensors="pt")["pixel_values_videos"]
    assert padded.shape == clip.shape == (1, 3, 224, 224)
    # the padded rows (top 28 of 224) hold the mean colour, i.e. 0 after normalisation
    assert padded[0, :, :20].abs().max() < 1e-5 and clip[0, :, :20].abs().max() > 0.5
    pil_padded = BehaviorLlavaVideoProcessor(resize_backend="pil")(frames, return_tensors="pt")["pixel_values_videos"]
    assert 0 < (pil_padded - padded).abs().max() < 0.2  # same geometry, different resampler


def test_frame_step_is_rounded_and_uncapped_as_the_original(tmp_path):
    """LLaMA-VID's load_video: every round(avg_fps)-th frame from 0 (decord), no cap; 7.5 fps -> every 8th frame."""
    path = write_noise_video(tmp_path / "clip.mp4", Fraction(15, 2), frames=60)
    reader = VideoReader(str(path), ctx=cpu(0))
    original_indices = list(range(0, len(reader), round(reader.get_avg_fps())))
    expected = reader.get_batch(original_indices).asnumpy()

    frames, timestamps = load_video_frames(path, fps=1.0, max_frames=None, round_frame_step=True)
    assert np.array_equal(frames, expected)
    np.testing.assert_allclose(timestamps, np.array(original_indices) / 7.5)
    float_step, _ = load_video_frames(path, fps=1.0, max_frames=None)  # the exact-ratio mode stays available
    assert len(float_step) == len(expected) and not np.array_equal(float_step, expected)

    pixels = original_video_processor(224)(str(path), return_tensors="pt")
    clip = CLIPImageProcessorPil(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224})
    assert pixels["num_frames_per_video"].tolist() == [len(original_indices)]
    expected_pixels = clip(list(expected), return_tensors="pt")["pixel_values"]
    assert (pixels["pixel_values_videos"] - expected_pixels).abs().max() <= 1e-6


def test_uncapped_sampling_keeps_every_step_of_a_long_video():
    indices = sample_frame_indices(12_000, 29.97, 1.0, None, None, round_frame_step=True)
    assert len(indices) == 400 and indices[1] == 30 and indices[-1] == 11_970
    assert len(sample_frame_indices(12_000, 29.97, 1.0, None, 300, round_frame_step=True)) == 300
    assert sample_frame_indices(10, 0.4, 1.0, None, None, round_frame_step=True).tolist() == list(range(10))


@pytest.mark.parametrize("resize_backend", ["pil", "torch"])
def test_call_time_options_take_effect(resize_backend):
    frames = np.random.default_rng(2).integers(0, 256, (2, 40, 60, 3), dtype=np.uint8)
    processor = BehaviorLlavaVideoProcessor(resize_backend=resize_backend, do_pad=False)

    def pixels(**kwargs):
        return processor(frames, return_tensors="pt", **kwargs)["pixel_values_videos"]

    default = pixels()
    assert default.shape == (2, 3, 224, 224)
    assert pixels(size={"height": 28, "width": 42}).shape == (2, 3, 28, 42)
    assert pixels(do_resize=False).shape == (2, 3, 40, 60)
    raw = pixels(do_resize=False, do_normalize=False, do_rescale=False)
    assert torch.equal(raw, torch.from_numpy(frames).permute(0, 3, 1, 2).float())
    unnormalised = pixels(do_normalize=False)
    assert 0 <= unnormalised.min() and unnormalised.max() <= 1 and not torch.allclose(unnormalised, default)
    torch.testing.assert_close(pixels(do_normalize=False, rescale_factor=2 / 255), 2 * unnormalised)
    zero_mean = pixels(image_mean=[0.0, 0.0, 0.0], image_std=[1.0, 1.0, 1.0])
    torch.testing.assert_close(zero_mean, unnormalised)
    cropped = pixels(size={"shortest_edge": 32}, do_center_crop=True, crop_size={"height": 32, "width": 32})
    assert cropped.shape == (2, 3, 32, 32)
    assert pixels(num_frames=1).shape[0] == 1
    assert torch.equal(pixels(), default)  # a call's options do not stick to the processor


def test_call_time_options_flow_through_the_processor(tiny_processor_with_frames):
    processor, frames = tiny_processor_with_frames
    text = "USER: <video>\nwhat happens? ASSISTANT:"
    default = processor(text=text, videos=frames, return_tensors="pt")["pixel_values_videos"]
    unnormalised = processor(text=text, videos=frames, do_normalize=False, return_tensors="pt")["pixel_values_videos"]
    assert 0 <= unnormalised.min() and unnormalised.max() <= 1 and not torch.allclose(unnormalised, default)


def test_unknown_or_unsupported_options_are_errors():
    frames = np.zeros((1, 8, 8, 3), dtype=np.uint8)
    processor = BehaviorLlavaVideoProcessor()
    with pytest.raises(ValueError, match="do_normalise"):
        processor(frames, do_normalise=False)
    with pytest.raises(ValueError, match="video_metadata"):
        processor(frames, video_metadata={"fps": 3})
    with pytest.raises(ValueError, match="resize_backend"):
        processor(frames, resize_backend="cv2")


@pytest.fixture
def tiny_processor_with_frames():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertTokenizer, PreTrainedTokenizerFast

    from hf_behavior.models.behavior_llava import BehaviorLlavaProcessor

    words = ["<unk>", "<s>", "</s>", "USER:", "ASSISTANT:", "what", "happens?"]
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    tokenizer.add_tokens(["<image>", "<video>"], special_tokens=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "what", "happens", "?"]
    qformer_tokenizer = BertTokenizer(vocab={word: i for i, word in enumerate(vocab)})
    processor = BehaviorLlavaProcessor(
        image_processor=CLIPImageProcessorPil(), video_processor=original_video_processor(224), tokenizer=tokenizer,
        qformer_tokenizer=qformer_tokenizer,
    )
    return processor, np.random.default_rng(3).integers(0, 256, (2, 40, 60, 3), dtype=np.uint8)
