"""decord (the maintained decord2 wheel) and PyAV decode the same frames; PyAV is the fallback where decord has no
wheel or rejects a stream (decord 0.6 refused a 72x48 MPEG-4 clip: "The size must exactly match")."""

import sys

import decord
import numpy as np
import pytest
from damaged_media import damaged_copy

from hf_behavior.models.behavior_llava.video_processing_behavior_llava import _decode_with_pyav, load_video_frames
from hf_behavior.synthetic_media import SCENE_COLOURS, write_scene_video


def test_odd_sized_stream_decodes_with_decord_as_with_pyav(tmp_path):
    path = write_scene_video(tmp_path / "odd.mp4", size=(72, 48))
    assert decord.VideoReader(str(path)).get_batch([0, 8]).asnumpy().shape == (2, 48, 72, 3)
    frames, timestamps = load_video_frames(path, fps=1.0)
    assert frames.shape == (6, 48, 72, 3) and timestamps.tolist() == [0, 1, 2, 3, 4, 5]
    means = frames.reshape(6, -1, 3).mean(axis=1)
    for second, mean in enumerate(means):
        assert np.abs(mean - SCENE_COLOURS[second // 2]).max() < 12
    pyav_frames, _, _ = _decode_with_pyav(path, {"fps": 1.0, "num_frames": None, "max_frames": 300})
    assert np.array_equal(frames, pyav_frames)


def test_pyav_path_samples_the_same_frames_as_decord(tmp_path):
    path = write_scene_video(tmp_path / "even.mp4", size=(64, 48))
    frames, timestamps = load_video_frames(path, fps=None, num_frames=5)
    pyav_frames, indices, native_fps = _decode_with_pyav(path, {"fps": None, "num_frames": 5, "max_frames": 300})
    assert np.array_equal(frames, pyav_frames)
    assert np.allclose(timestamps, indices / native_fps)


def test_without_decord_pyav_decodes_the_same_frames(tmp_path, monkeypatch):
    path = write_scene_video(tmp_path / "even.mp4", size=(64, 48))
    frames, timestamps = load_video_frames(path, fps=None, num_frames=5)
    monkeypatch.setitem(sys.modules, "decord", None)  # `import decord` now raises ImportError
    without, without_timestamps = load_video_frames(path, fps=None, num_frames=5)
    assert np.array_equal(frames, without) and np.array_equal(timestamps, without_timestamps)


TWENTY_SCENES = [((37 * k) % 256, (91 * k) % 256, 53) for k in range(20)]


def twenty_scene_clip(tmp_path):
    return write_scene_video(tmp_path / "clip.mp4", seconds_per_scene=1, size=(224, 224), colours=TWENTY_SCENES)


def test_damaged_packets_are_skipped_and_their_frames_replaced(tmp_path, caplog):
    """decord gives up on the whole file at the first packet FFmpeg rejects; PyAV skips it, and the sampled frames
    that were lost become their nearest decoded neighbour, with a warning."""
    clean = twenty_scene_clip(tmp_path)
    damaged = damaged_copy(clean, tmp_path, [(0.3, 0.31), (0.5, 0.51), (0.7, 0.71)])
    with pytest.raises(decord.DECORDError):  # else the test no longer shows the fallback
        decord.VideoReader(str(damaged)).get_batch(list(range(0, 160, 8)))
    expected, timestamps = load_video_frames(clean, fps=1.0)
    with caplog.at_level("WARNING"):
        frames, damaged_timestamps = load_video_frames(damaged, fps=1.0)
    assert frames.shape == expected.shape and np.array_equal(timestamps, damaged_timestamps)
    assert np.array_equal(frames[:6], expected[:6])  # the frames before the first damage, exactly
    means = frames.reshape(20, -1, 3).mean(axis=1)
    assert sum(np.abs(mean - colour).max() < 12 for mean, colour in zip(means, TWENTY_SCENES)) >= 10  # most scenes intact
    assert "damaged packets skipped" in caplog.text and str(damaged) in caplog.text


def test_a_mostly_damaged_clip_is_an_error(tmp_path):
    clean = twenty_scene_clip(tmp_path)
    damaged = damaged_copy(clean, tmp_path, [(0.2, 0.8)])  # the container's index (at the end) intact
    with pytest.raises(ValueError, match=f"cannot decode video {damaged}: .*PyAV: 13 of 20 sampled frames could not be "
                                         r"decoded \(\d+ damaged packets skipped\)"):  # fmt: skip
        load_video_frames(damaged, fps=1.0)
