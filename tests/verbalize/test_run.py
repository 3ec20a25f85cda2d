"""Issue 4, shown 5: the whole command on a folder with good and bad media; failures are recorded, the
run completes, a re-run only redoes what is not done."""

import json
import random

import numpy as np
import pytest
from PIL import Image

from hf_behavior.cli import main as cli_main
from hf_behavior.verbalize.run import discover_media, write_sidecar

from .helpers import painted_frames, tone_track, write_video

SCENE_KEYS = {"index", "start", "end", "keyframes", "caption", "keywords", "foreground_colors",
              "background_colors", "tone", "asr", "replay"}
STATS_KEYS = {"frames_decoded", "bad_packets", "seconds"}
TOP_KEYS = {"media_id", "media_path", "kind", "status", "error", "duration", "asr", "scenes", "stats"}


@pytest.fixture
def media_dir(tmp_path):
    folder = tmp_path / "media"
    folder.mkdir()
    write_video(folder / "vid_talk.mp4", painted_frames([("orange", "red", 12), ("blue", "cyan", 15)]),
                audio=tone_track(2.7, [(0.2, 1.0), (1.5, 2.5)]))
    (folder / "vid_talk.info.json").write_text(json.dumps(
        {"heatmap": [{"start_time": 0.0, "end_time": 1.35, "value": 0.3}, {"start_time": 1.35, "end_time": 2.7, "value": 1.0}]}))
    write_video(folder / "vid_mute.mp4", painted_frames([("gray", "white", 20)]))  # no audio track
    Image.fromarray(np.full((40, 40, 3), (30, 170, 40), np.uint8)).save(folder / "post_img.png")
    # an MP4 type box and then no movie box, only fixed noise: random bytes were read as a stream about 1 time in 300
    (folder / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + random.Random(0).randbytes(2988))
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.txt").write_text("not media")
    return folder


def verbalize(media_dir, out, tiny_llava, tiny_whisper, *extra, exit_code=0):
    summary = out.parent / "summary.json"
    code = cli_main([
        "verbalize", "--media-dir", str(media_dir), "--out", str(out), "--captioner", str(tiny_llava),
        "--asr", str(tiny_whisper), "--asr-max-new-tokens", "6", "--language", "en", "--max-new-tokens", "6",
        "--min-scene-len", "5", "--media-batch-size", "3", "--summary-json", str(summary), *extra,
    ])
    assert code == exit_code
    return json.loads(summary.read_text())


def test_run_records_failures_and_completes_then_resumes(media_dir, tmp_path, tiny_llava, tiny_whisper, capsys):
    out = tmp_path / "sidecars"
    summary = verbalize(media_dir, out, tiny_llava, tiny_whisper)
    printed = capsys.readouterr().out
    assert "done 3, already done 0, failed 2" in printed and "media/s" in printed and "frames/s" in printed
    assert not summary["too_many_failures"] and "FAILED" not in printed  # 2 of 5: under --max-failure-rate 0.5

    assert sorted(summary["done"]) == ["post_img", "vid_mute", "vid_talk"]
    assert sorted(summary["failed"]) == ["corrupt", "empty"]
    assert "empty (0 bytes)" in summary["failed"]["empty"]
    assert summary["failed"]["corrupt"].startswith("InvalidDataError")
    assert sorted(p.name for p in out.iterdir()) == [f"{i}.json" for i in ["corrupt", "empty", "post_img", "vid_mute", "vid_talk"]]

    sidecars = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
    for sidecar in sidecars.values():
        assert set(sidecar) == TOP_KEYS
        assert all(set(scene) == SCENE_KEYS for scene in sidecar["scenes"])
        assert set(sidecar["stats"]) == STATS_KEYS
    assert sidecars["empty"]["status"] == "failed" and sidecars["empty"]["scenes"] == []

    talk = sidecars["vid_talk"]
    assert talk["kind"] == "video" and talk["status"] == "done" and talk["error"] is None
    assert talk["duration"] == pytest.approx(2.7)
    assert [(s["start"], s["end"]) for s in talk["scenes"]] == [(0.0, 1.2), (1.2, 2.7)]
    assert [s["foreground_colors"][0] for s in talk["scenes"]] == ["red", "cyan"]
    assert [s["tone"] for s in talk["scenes"]] == ["warm", "cool"]
    assert [s["replay"] for s in talk["scenes"]] == [0.3, 1.0]
    assert all(isinstance(s["caption"], str) and isinstance(s["keywords"], list) for s in talk["scenes"])
    assert talk["asr"] is None or isinstance(talk["asr"], str)
    # 27 frames for the cuts, then the 2 keyframes again, each decoded from the key frame before it
    assert 27 + 2 <= talk["stats"]["frames_decoded"] <= 27 + 27 and talk["stats"]["seconds"] > 0

    mute = sidecars["vid_mute"]
    assert mute["status"] == "done" and mute["asr"] is None and all(s["asr"] is None for s in mute["scenes"])
    assert mute["scenes"][0]["replay"] is None  # no info.json

    image = sidecars["post_img"]
    assert image["kind"] == "image" and image["duration"] is None
    assert [(s["start"], s["end"], s["keyframes"]) for s in image["scenes"]] == [(0.0, 0.0, [0.0])]
    assert image["scenes"][0]["foreground_colors"] == ["green"]

    # a re-run redoes the failed ids only; finished sidecars are left untouched
    before = {name: (out / f"{name}.json").stat().st_mtime_ns for name in summary["done"]}
    again = verbalize(media_dir, out, tiny_llava, tiny_whisper, "--decode-workers", "2", "--skip-deblocking",
                      exit_code=1)  # every media it tried failed: a non-zero exit, flagged in the summary
    assert again["too_many_failures"] and "verbalize: FAILED - 2 of 2 media failed" in capsys.readouterr().out
    assert sorted(again["already_done"]) == ["post_img", "vid_mute", "vid_talk"]
    assert again["done"] == [] and sorted(again["failed"]) == ["corrupt", "empty"]
    assert again["failed"]["corrupt"].startswith("InvalidDataError")  # split decoding reports it as one decode does
    assert {name: (out / f"{name}.json").stat().st_mtime_ns for name in before} == before


def test_discover_media_counts_duplicate_ids(tmp_path):
    for name in ["a.mp4", "a.webm", "b.jpg", "b.info.json", "c.txt"]:
        (tmp_path / name).write_bytes(b"x")
    media, skipped = discover_media(tmp_path)
    assert [p.name for p in media] == ["a.mp4", "b.jpg"]
    assert list(skipped) == [str(tmp_path / "a.webm")] and "duplicate media id 'a'" in skipped[str(tmp_path / "a.webm")]


def test_sidecar_write_is_atomic_and_leaves_no_temporary(tmp_path):
    write_sidecar(tmp_path, {"media_id": "x", "status": "done"})
    write_sidecar(tmp_path, {"media_id": "x", "status": "failed"})
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    assert json.loads((tmp_path / "x.json").read_text())["status"] == "failed"


def test_missing_or_empty_media_folder_is_an_error(tmp_path):
    args = ["verbalize", "--out", str(tmp_path / "out"), "--captioner", "unused"]
    with pytest.raises(SystemExit, match="--media-dir .*nowhere: no such folder"):
        cli_main([*args, "--media-dir", str(tmp_path / "nowhere")])
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "notes.txt").write_text("not media")
    with pytest.raises(SystemExit, match="--media-dir .*texts: no image or video files in it"):
        cli_main([*args, "--media-dir", str(tmp_path / "texts"), "--cpu"])
