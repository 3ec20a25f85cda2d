"""Issue 4, shown 1: known hard cuts -> exactly those scenes, keyframes inside them, painted colours named."""

import csv

import av
import cv2
import numpy as np
import pytest
from PIL import Image
from scenedetect import ContentDetector, FrameTimecode, StatsManager, detect

from hf_behavior.verbalize.colors import PALETTE, describe_colors, name_colors, segments_foreground_mask, tone
from hf_behavior.verbalize.keyframes import MIN_KEYFRAME_DETAIL, select_keyframes, steadiest_frame
from hf_behavior.verbalize.run import VisualConfig, analyse_visual, new_record
from hf_behavior.verbalize.scenes import (content_score, detect_scenes, index_frames, probe_video, read_frames,
                                          scaled_size, score_frames_in_order, score_frames_in_spans,
                                          score_span)

from .helpers import FPS, painted_frames, write_video

SEGMENTS = [("orange", "red", 12), ("blue", "cyan", 15), ("gray", "white", 13)]  # cuts at frames 12 and 27


@pytest.fixture(scope="module")
def cut_video(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("cuts") / "cuts.mp4", painted_frames(SEGMENTS))


def test_known_cuts_give_exactly_those_scenes_with_keyframes_and_colours(cut_video):
    info = probe_video(cut_video)
    assert (info.width, info.height, info.fps, info.has_audio) == (64, 48, FPS, False)
    detection = detect_scenes(cut_video, 64, 48, info.fps, min_scene_len=5)
    assert detection.scenes == [(0, 12), (12, 27), (27, 40)]
    assert detection.num_frames == 40

    keyframes = select_keyframes(detection.scenes, detection.frame_change, info.fps)
    assert [len(k) for k in keyframes] == [1, 1, 1]
    for (start, end), (frame,) in zip(detection.scenes, keyframes):
        assert start <= frame < end

    frames = painted_frames(SEGMENTS)
    decoded, _ = read_frames(cut_video, detection, [k[0] for k in keyframes], 64, 48)
    for (background, foreground, _), (frame,) in zip(SEGMENTS, keyframes):
        colours = describe_colors([Image.fromarray(decoded[frame])])
        assert colours["foreground_colors"][0] == foreground
        assert colours["background_colors"][0] == background
        assert np.abs(decoded[frame].astype(int) - frames[frame].astype(int)).mean() < 10
    tones = [describe_colors([Image.fromarray(frames[k[0]])])["tone"] for k in keyframes]
    assert tones == ["warm", "cool", "neutral"]


def test_cuts_and_scores_match_pyscenedetects_own_pipeline(cut_video, tmp_path):
    stats = tmp_path / "stats.csv"
    theirs = detect(str(cut_video), ContentDetector(min_scene_len=5), stats_file_path=stats)
    ours = detect_scenes(cut_video, 64, 48, FPS, min_scene_len=5)
    assert ours.scenes == [(start.frame_num, end.frame_num) for start, end in theirs]
    with stats.open() as file:
        their_scores = {int(row["Frame Number"]) - 1: float(row["content_val"]) for row in csv.DictReader(file)}
    assert sorted(their_scores) == list(range(1, 40))
    # same detector maths; only the YUV -> BGR conversion differs (OpenCV's FFmpeg reader vs cv2 on the planes)
    assert max(abs(ours.frame_change[i] - score) for i, score in their_scores.items()) < 1.0


def test_content_score_is_content_detectors_score_to_the_last_bit():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (30, 40, 3), dtype=np.uint8) for _ in range(3)]
    frames += [np.clip(frames[-1].astype(int) + rng.integers(-9, 9, (30, 40, 3)), 0, 255).astype(np.uint8)]
    detector = ContentDetector()
    detector.stats_manager = StatsManager()
    previous = None
    for index, frame in enumerate(frames):  # BGR, as ContentDetector takes it
        detector.process_frame(FrameTimecode(index, 10.0), frame)
        hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)
        ours = content_score(hsv, previous)
        assert ours == (detector.stats_manager.get_metrics(index, ["content_val"])[0] if index else 0.0)
        previous = hsv
    unrelated = content_score(cv2.cvtColor(frames[1], cv2.COLOR_BGR2HSV), previous)
    assert 0 < ours < unrelated / 3  # a small change scores low


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv444p"])
def test_other_pixel_formats_and_skipped_deblocking_find_the_same_cuts(tmp_path, pix_fmt):
    video = write_video(tmp_path / "cuts.mp4", painted_frames(SEGMENTS), pix_fmt=pix_fmt)
    for skip_deblocking in (False, True):
        detection = detect_scenes(video, 64, 48, FPS, min_scene_len=5, skip_deblocking=skip_deblocking)
        assert detection.scenes == [(0, 12), (12, 27), (27, 40)]


def test_min_scene_len_merges_short_scenes(cut_video):
    detection = detect_scenes(cut_video, 64, 48, FPS, min_scene_len=14)
    assert detection.scenes == [(0, 27), (27, 40)]  # the 12-frame first scene is too short to stand alone


@pytest.mark.parametrize("container", ["mp4", "ts", "mpg"])  # index seeks; time seeks that overshoot; no timestamps
def test_read_frames_gives_exactly_the_frames_sequential_decoding_gives(tmp_path, container):
    frames = painted_frames([("orange", "red", 40)])
    for number, frame in enumerate(frames):
        frame[number % 48, :] = 255  # every frame differs from its neighbours
    video = write_video(tmp_path / f"gop.{container}", frames, keyframe_interval=8)
    detection = detect_scenes(video, 64, 48, FPS)
    assert detection.index.key_frames == [0, 8, 16, 24, 32]
    sequential, decoded_all = read_frames(video, detection, range(40), 32, 24)
    assert decoded_all == 40 and sorted(sequential) == list(range(40))
    wanted = [35, 3, 17, 17, 20, 6]
    found, decoded = read_frames(video, detection, wanted, 32, 24)
    assert sorted(found) == sorted(set(wanted))
    assert all(np.array_equal(found[i], sequential[i]) for i in found)
    if container == "mp4":
        assert decoded == 4 + 3 + 2 + 3 + 4  # 0..3, on to 6, seek to 16: 16..17, on to 20, seek to 32: 32..35


@pytest.mark.parametrize("container, open_gop, splits", [
    ("mp4", False, True), ("mkv", True, True),  # split at key frames, decoded 2 at a time
    ("ts", False, False), ("avi", False, False),  # seek by time lands elsewhere / timestamps are not the packets'
])
def test_split_decoding_scores_every_frame_as_one_decode_does(tmp_path, container, open_gop, splits):
    frames = painted_frames(SEGMENTS + [("orange", "red", 40)])
    for number, frame in enumerate(frames):
        frame[number % 48, :] = 255
    video = write_video(tmp_path / f"gop.{container}", frames, keyframe_interval=8, open_gop=open_gop)
    whole, index = score_frames_in_order(video, 64, 48, skip_deblocking=False)
    in_order = whole.scores
    assert len(in_order) == len(whole.details) == 80 and index.key_frames == list(range(0, 80, 8))
    assert index_frames(video).spans(parts=8, min_frames=30) == [(0, 32), (32, 64), (64, 80)]
    split = score_frames_in_spans(video, index_frames(video), 64, 48, skip_deblocking=False, workers=2)
    if splits:
        assert (split.scores, split.details, split.bad_packets) == (in_order, whole.details, [])
    else:
        assert split is None  # detect_scenes falls back to one decode
    if splits:  # a span that does not start at a key frame: decoded from the one before, those frames dropped
        span = score_span(video, index_frames(video), (20, 40), 64, 48, skip_deblocking=False)
        assert span.scores == [0.0] + in_order[21:40]
    one, two = (detect_scenes(video, 64, 48, FPS, min_scene_len=5, workers=n) for n in (1, 2))
    assert one.scenes == two.scenes == [(0, 12), (12, 27), (27, 40), (40, 80)]
    assert np.array_equal(one.frame_change, two.frame_change)
    assert (one.index.frame_pts, one.index.key_frames) == (two.index.frame_pts, two.index.key_frames)


def test_steadiest_frame_and_long_scene_windows():
    change = np.full(100, 5.0, np.float32)
    change[[41, 42]] = 0.0  # frame 41 holds still: no change into it nor out of it
    assert steadiest_frame(change, 30, 60) == 41
    assert steadiest_frame(np.zeros(10, np.float32), 0, 9) == 4  # all equal: the middle frame
    assert steadiest_frame(np.full(10, 5.0, np.float32), 0, 9) == 4  # steady motion: the middle, not an edge
    keyframes = select_keyframes([(0, 30), (30, 100)], change, fps=10.0, max_scene_seconds=3.0)
    assert len(keyframes[0]) == 1 and len(keyframes[1]) == 3  # 7 s scene: three windows of <= 3 s
    assert keyframes[1][0] == 41 and all(30 <= k < 100 for k in keyframes[1])
    assert keyframes[1] == sorted(set(keyframes[1]))


def test_scaled_size_keeps_aspect_and_never_upscales():
    assert scaled_size(1280, 720, 256) == (256, 144)
    assert scaled_size(64, 48, 256) == (64, 48)
    assert scaled_size(1920, 1080, 256) == (256, 144)
    assert scaled_size(63, 47, 256) == (62, 46)  # even sides for 4:2:0 chroma, never larger


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


@pytest.mark.parametrize("level", [0, 255])  # a black frame, a white flash
def test_near_uniform_frames_are_never_a_scenes_keyframe(tmp_path, level):
    """Four flat frames inside a scene (shorter than min_scene_len, so no cut): before, one became the keyframe."""
    flash = [np.full((48, 64, 3), level, np.uint8)] * 4
    frames = painted_frames([("orange", "red", 12)]) + flash + painted_frames([("orange", "red", 12)])
    video = write_video(tmp_path / f"flash{level}.mp4", frames)
    detection = detect_scenes(video, 64, 48, FPS)  # min_scene_len 15, PySceneDetect's default
    assert detection.scenes == [(0, 28)]
    assert (detection.frame_detail[12:16] < MIN_KEYFRAME_DETAIL).all()
    assert (np.delete(detection.frame_detail, range(12, 16)) > 20).all()
    assert select_keyframes(detection.scenes, detection.frame_change, FPS) == [[13]]  # the steadiest: a flat frame
    keyframes = select_keyframes(detection.scenes, detection.frame_change, FPS, frame_detail=detection.frame_detail)
    (keyframe,) = keyframes[0]
    assert not 12 <= keyframe < 16
    picture = read_frames(video, detection, [keyframe], 64, 48)[0][keyframe]
    assert describe_colors([Image.fromarray(picture)])["foreground_colors"][0] == "red"
    # a scene black throughout still has a keyframe: the steadiest, as before
    assert select_keyframes([(0, 22)], np.zeros(22, np.float32), FPS, frame_detail=np.zeros(22, np.float32)) == [[10]]


def test_steadiest_frame_passes_over_unusable_frames():
    change = np.full(20, 5.0, np.float32)
    change[[3, 4]] = 0.0  # frame 3 holds still
    usable = np.ones(20, bool)
    assert steadiest_frame(change, 0, 20) == 3
    usable[3] = False
    assert steadiest_frame(change, 0, 20, usable) != 3
    assert steadiest_frame(change, 0, 20, np.zeros(20, bool)) == 3  # no usable frame: the steadiest after all


def test_corrupt_packets_are_skipped_and_counted(tmp_path):
    """Two packets of an H.264 MP4 zeroed: the video is verbalized without their frames, the packets counted."""
    video = write_video(tmp_path / "clean.mp4", painted_frames(SEGMENTS), keyframe_interval=8)
    with av.open(str(video)) as container:
        packets = [(p.pos, p.size) for p in container.demux(container.streams.video[0]) if p.size]
    data = bytearray(video.read_bytes())
    for number in (5, 30):  # two inter frames, one in each of two scenes
        position, size = packets[number]
        data[position : position + size] = bytes(size)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))
    with pytest.raises(av.error.InvalidDataError):  # what failed the whole video before
        with av.open(str(broken)) as container:
            for _ in container.decode(video=0):
                pass

    for workers in (1, 2):
        detection = detect_scenes(broken, 64, 48, FPS, min_scene_len=5, workers=workers)
        assert detection.bad_packets == 2 and detection.num_frames == 38
        assert detection.scenes == [(0, 11), (11, 26), (26, 38)]  # the cuts, one frame earlier after each loss
        keyframes = select_keyframes(detection.scenes, detection.frame_change, FPS, frame_detail=detection.frame_detail)
        decoded, _ = read_frames(broken, detection, [k for scene in keyframes for k in scene], 64, 48)
        assert len(decoded) == 3
    record = new_record(broken)
    analyse_visual(record, VisualConfig(min_scene_len=5))
    assert record["stats"]["bad_packets"] == 2 and len(record["scenes"]) == 3
