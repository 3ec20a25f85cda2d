"""Issue 4, shown 1: known hard cuts -> exactly those scenes, keyframes inside them, painted colours named."""

import numpy as np
import pytest
from PIL import Image
from scenedetect import ContentDetector, detect

from hf_behavior.verbalize.colors import PALETTE, describe_colors, name_colors, segments_foreground_mask, tone
from hf_behavior.verbalize.keyframes import select_keyframes, steadiest_frame
from hf_behavior.verbalize.scenes import detect_scenes, iter_frame_batches, probe_video, scaled_size

from .helpers import FPS, painted_frames, write_video

SEGMENTS = [("orange", "red", 12), ("blue", "cyan", 15), ("gray", "white", 13)]  # cuts at frames 12 and 27


@pytest.fixture(scope="module")
def cut_video(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("cuts") / "cuts.mp4", painted_frames(SEGMENTS))


def test_known_cuts_give_exactly_those_scenes_with_keyframes_and_colours(cut_video):
    info = probe_video(cut_video)
    assert (info.width, info.height, info.fps, info.has_audio) == (64, 48, FPS, False)
    detection = detect_scenes(iter_frame_batches(cut_video, 64, 48, batch_size=8), info.fps, min_scene_len=5)
    assert detection.scenes == [(0, 12), (12, 27), (27, 40)]
    assert detection.num_frames == 40

    keyframes = select_keyframes(detection.scenes, detection.frame_change, info.fps)
    assert [len(k) for k in keyframes] == [1, 1, 1]
    for (start, end), (frame,) in zip(detection.scenes, keyframes):
        assert start <= frame < end

    frames = painted_frames(SEGMENTS)
    for (background, foreground, _), (frame,) in zip(SEGMENTS, keyframes):
        decoded = next(iter_frame_batches(cut_video, 64, 48, batch_size=64))[frame]
        colours = describe_colors([Image.fromarray(decoded)])
        assert colours["foreground_colors"][0] == foreground
        assert colours["background_colors"][0] == background
        assert np.abs(decoded.astype(int) - frames[frame].astype(int)).mean() < 10
    tones = [describe_colors([Image.fromarray(frames[k[0]])])["tone"] for k in keyframes]
    assert tones == ["warm", "cool", "neutral"]


def test_cuts_match_pyscenedetects_own_pipeline(cut_video):
    theirs = detect(str(cut_video), ContentDetector(min_scene_len=5))
    ours = detect_scenes(iter_frame_batches(cut_video, 64, 48), FPS, min_scene_len=5).scenes
    assert ours == [(start.frame_num, end.frame_num) for start, end in theirs]


def test_min_scene_len_merges_short_scenes(cut_video):
    detection = detect_scenes(iter_frame_batches(cut_video, 64, 48), FPS, min_scene_len=14)
    assert detection.scenes == [(0, 27), (27, 40)]  # the 12-frame first scene is too short to stand alone


def test_steadiest_frame_and_long_scene_windows():
    change = np.full(100, 5.0, np.float32)
    change[[41, 42]] = 0.0  # frame 41 holds still: no change into it nor out of it
    assert steadiest_frame(change, 30, 60) == 41
    assert steadiest_frame(np.zeros(10, np.float32), 0, 9) == 4  # all equal: the middle frame
    keyframes = select_keyframes([(0, 30), (30, 100)], change, fps=10.0, max_scene_seconds=3.0)
    assert len(keyframes[0]) == 1 and len(keyframes[1]) == 3  # 7 s scene: three windows of <= 3 s
    assert keyframes[1][0] == 41 and all(30 <= k < 100 for k in keyframes[1])
    assert keyframes[1] == sorted(set(keyframes[1]))


def test_scaled_size_keeps_aspect_and_never_upscales():
    assert scaled_size(1280, 720, 256) == (256, 144)
    assert scaled_size(64, 48, 256) == (64, 48)


def test_palette_names_and_segmenter_foreground():
    pixels = np.array([PALETTE["mud green"]] * 6 + [PALETTE["navy"]] * 3 + [PALETTE["white"]], np.uint8)
    assert name_colors(pixels, top_k=3, min_share=0.2) == ["mud green", "navy"]
    assert tone(np.array([PALETTE["gray"]] * 4, np.uint8)) == "neutral"

    height, width = 20, 30
    sky = np.zeros((height, width), np.uint8)
    sky[:, :] = 255
    sky[5:15, 10:25] = 0
    person = 255 - sky
    segments = [{"label": "sky", "mask": Image.fromarray(sky)}, {"label": "person", "mask": Image.fromarray(person)}]
    mask = segments_foreground_mask(segments, height, width)
    assert mask.sum() == 10 * 15 and mask[5:15, 10:25].all()
    assert segments_foreground_mask(segments[:1], height, width) is None  # one segment: use the centre fallback


def test_segmentation_pipeline_by_path_feeds_the_colours(tmp_path):
    import torch
    from transformers import SegformerConfig, SegformerForSemanticSegmentation, SegformerImageProcessor

    from hf_behavior.verbalize.colors import Segmenter

    config = SegformerConfig(num_encoder_blocks=1, depths=[1], sr_ratios=[1], hidden_sizes=[8], patch_sizes=[3],
                             strides=[2], num_attention_heads=[1], mlp_ratios=[1], decoder_hidden_size=8,
                             id2label={0: "background", 1: "thing"}, label2id={"background": 0, "thing": 1})
    torch.manual_seed(0)
    SegformerForSemanticSegmentation(config).save_pretrained(tmp_path)
    SegformerImageProcessor(size={"height": 32, "width": 32}).save_pretrained(tmp_path)

    segmenter = Segmenter(str(tmp_path), batch_size=2)
    images = [Image.fromarray(frame) for frame in painted_frames([("blue", "yellow", 1), ("gray", "red", 1)])]
    segments = segmenter(images)
    assert len(segments) == 2
    for image, image_segments in zip(images, segments):
        assert image_segments and all(s["label"] in {"background", "thing"} for s in image_segments)
        assert all(s["mask"].size == image.size for s in image_segments)
    colours = describe_colors(images[:1], segments[:1])
    assert set(colours["foreground_colors"]) | set(colours["background_colors"]) <= {"blue", "yellow", "gray"}
    assert colours["foreground_colors"] and colours["background_colors"]
