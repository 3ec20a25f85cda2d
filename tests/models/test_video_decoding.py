"""decord rejects some valid streams (a 72x48 MPEG-4 clip: "The size must exactly match") and has no wheel on some
platforms; PyAV decodes the same frames."""

import sys

import decord
import numpy as np
import pytest

from hf_behavior.models.behavior_llava.video_processing_behavior_llava import _decode_with_pyav, load_video_frames
from hf_behavior.quickstart import SCENE_COLOURS, write_scene_video


def test_stream_decord_rejects_decodes_through_pyav(tmp_path):
    path = write_scene_video(tmp_path / "odd.mp4", size=(72, 48))
    with pytest.raises(decord.DECORDError, match="size must exactly match"):
        decord.VideoReader(str(path)).get_batch([0, 8]).asnumpy()
    frames, timestamps = load_video_frames(path, fps=1.0)
    assert frames.shape == (6, 48, 72, 3) and timestamps.tolist() == [0, 1, 2, 3, 4, 5]
    means = frames.reshape(6, -1, 3).mean(axis=1)
    for second, mean in enumerate(means):
        assert np.abs(mean - SCENE_COLOURS[second // 2]).max() < 12


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
