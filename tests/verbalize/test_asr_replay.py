"""Issue 4, shown 2: audio from the container at 16 kHz, the real Whisper pipeline on a tiny random
Whisper, per-scene text by timestamps; and the replay heatmap per scene."""

import json
import re

import numpy as np
import pytest
from damaged_media import damaged_copy

from hf_behavior.verbalize.asr import SAMPLING_RATE, Transcriber, load_audio, scene_transcripts
from hf_behavior.verbalize.replay import load_heatmap, replay_per_scene

from .helpers import painted_frames, tone_track, write_video

SPEECH = [(1.0, 2.0), (3.0, 3.5)]


@pytest.fixture(scope="module")
def talking_video(tmp_path_factory):
    frames = painted_frames([("red", "blue", 50)])
    return write_video(tmp_path_factory.mktemp("asr") / "talk.mp4", frames, audio=tone_track(5.0, SPEECH))


def test_audio_is_extracted_and_resampled_with_its_silences(talking_video, tmp_path):
    waveform = load_audio(talking_video)
    assert waveform.dtype == np.float32
    assert abs(len(waveform) / SAMPLING_RATE - 5.0) < 0.1
    windows = np.sqrt(np.mean(waveform[: 50 * 1600].reshape(50, 1600) ** 2, axis=1))  # 0.1 s RMS windows
    loud = {round(0.1 * i, 1) for i in np.flatnonzero(windows > 0.1)}
    expected = {round(0.1 * i, 1) for i in range(50) if any(a <= 0.1 * i and 0.1 * (i + 1) <= b for a, b in SPEECH)}
    assert expected <= loud  # every window inside a tone is loud ...
    assert all(any(a - 0.15 <= t <= b + 0.05 for a, b in SPEECH) for t in loud)  # ... and only those (codec edges)
    silent = write_video(tmp_path / "silent.mp4", painted_frames([("red", "blue", 5)]))
    assert load_audio(silent) is None


def test_damaged_audio_packets_become_silence_of_their_length(talking_video, tmp_path, caplog):
    """Zeroed stretches of the file (a broken download) make AAC packets undecodable: the track keeps its length,
    so the transcript's timestamps still match the scenes, and the rest of it is as in the intact file."""
    damaged = damaged_copy(talking_video, tmp_path, [(0.3, 0.32), (0.5, 0.52), (0.6, 0.63)])
    with caplog.at_level("WARNING"):
        waveform = load_audio(damaged)
    intact = load_audio(talking_video)
    assert len(waveform) == len(intact)
    assert re.search(rf"{damaged}: \d+ damaged audio packets replaced by silence", caplog.text)
    windows = [np.sqrt(np.mean(w[: 50 * 1600].reshape(50, 1600) ** 2, axis=1)) for w in (waveform, intact)]
    assert np.mean(np.abs(windows[0] - windows[1]) < 0.05) >= 0.9 and not np.allclose(windows[0], windows[1])


def test_whisper_pipeline_runs_chunked_batched_with_timestamps(talking_video, tiny_whisper):
    transcriber = Transcriber(str(tiny_whisper), batch_size=2, chunk_length_s=4.0, language="en", max_new_tokens=6)
    assert type(transcriber.pipe).__name__ == "AutomaticSpeechRecognitionPipeline"
    waveform = load_audio(talking_video)
    outputs = transcriber([waveform, waveform[: SAMPLING_RATE]])
    assert len(outputs) == 2
    for output in outputs:
        assert isinstance(output["text"], str)
        assert all(len(chunk["timestamp"]) == 2 and chunk["timestamp"][0] is not None for chunk in output["chunks"])


@pytest.mark.parametrize(
    "chunks, expected",
    [
        ([{"text": " hello", "timestamp": (0.5, 1.5)}, {"text": " world", "timestamp": (2.4, 4.0)}],
         ["hello", "world", None]),
        # a chunk spanning a cut goes to the scene it overlaps most
        ([{"text": "across", "timestamp": (1.2, 3.0)}], [None, "across", None]),
        # an open-ended last chunk runs to the end of the media; empty text is dropped
        ([{"text": "end", "timestamp": (4.5, None)}, {"text": "  ", "timestamp": (0.0, 1.0)}], [None, None, "end"]),
        # timestamps past the media's end (Whisper hallucination) are clipped into the last scene
        ([{"text": "late", "timestamp": (5.5, 7.0)}], [None, None, "late"]),
        ([{"text": "a", "timestamp": (0.0, 0.5)}, {"text": "b", "timestamp": (0.6, 1.0)}], ["a b", None, None]),
    ],
)
def test_scene_transcripts_by_timestamp_overlap(chunks, expected):
    assert scene_transcripts(chunks, [(0.0, 2.0), (2.0, 4.2), (4.2, 6.0)], duration=6.0) == expected


def test_replay_is_max_heatmap_value_over_each_scene(tmp_path):
    media = tmp_path / "abc123.mp4"
    heatmap = [{"start_time": 2.0 * i, "end_time": 2.0 * (i + 1), "value": v} for i, v in enumerate([1.0, 0.2, 0.5, 0.9])]
    (tmp_path / "abc123.info.json").write_text(json.dumps({"id": "abc123", "heatmap": heatmap}))
    loaded = load_heatmap(media)
    assert loaded == heatmap
    assert replay_per_scene(loaded, [(0.0, 2.0), (2.0, 5.0), (5.0, 8.0), (9.0, 10.0)]) == [1.0, 0.5, 0.9, None]
    assert replay_per_scene(None, [(0.0, 1.0)]) == [None]
    assert load_heatmap(tmp_path / "nothing.mp4") is None

    elsewhere = tmp_path / "info"
    elsewhere.mkdir()
    (elsewhere / "abc123.info.json").write_text("{broken")
    with pytest.raises(ValueError, match="abc123.info.json"):
        load_heatmap(media, info_dir=elsewhere)
    (elsewhere / "abc123.info.json").write_text(json.dumps({"heatmap": [{"start_time": 0}]}))
    with pytest.raises(ValueError, match="heatmap point 0"):
        load_heatmap(media, info_dir=elsewhere)
