"""decord (the maintained decord2 wheel) and PyAV decode the same frames; PyAV is the fallback where decord has no
wheel or rejects a stream (decord 0.6 refused a 72x48 MPEG-4 clip: "The size must exactly match")."""

import sys

import decord
import numpy as np

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
