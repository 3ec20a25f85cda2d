"""Issue 4, shown 4: a real 2-process `accelerate launch` on CPU over 6 media, killed part-way and re-run:
every id ends up done exactly once, nothing finished is redone or lost."""

import json
import os
import subprocess
import sys
import time

import pytest
from process_tree import kill_tree

from .helpers import painted_frames, tone_track, write_video

COLOURS = ["red", "blue", "green", "yellow", "purple", "orange"]


def launch(media_dir, out, summary, tiny_llava, tiny_whisper) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0",
        "-m", "hf_behavior.verbalize", "--cpu", "--media-dir", str(media_dir), "--out", str(out),
        "--captioner", str(tiny_llava), "--asr", str(tiny_whisper), "--asr-max-new-tokens", "6", "--language", "en",
        "--max-new-tokens", "6", "--media-batch-size", "1", "--summary-json", str(summary),
    ]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def done_sidecars(out) -> dict[str, int]:
    found = {}
    for path in out.glob("*.json"):
        if json.loads(path.read_text())["status"] == "done":
            found[path.stem] = path.stat().st_mtime_ns
    return found


@pytest.mark.slow
def test_two_process_launch_killed_and_rerun_does_each_id_once(tmp_path, tiny_llava, tiny_whisper):
    media_dir, out = tmp_path / "media", tmp_path / "out"
    media_dir.mkdir()
    for number, colour in enumerate(COLOURS):
        write_video(media_dir / f"video{number}.mp4", painted_frames([(colour, "white", 50)]),
                    audio=tone_track(5.0, [(0.5, 2.0), (3.0, 4.0)]))
    ids = {f"video{number}" for number in range(len(COLOURS))}

    first = launch(media_dir, out, tmp_path / "first.json", tiny_llava, tiny_whisper)
    deadline = time.monotonic() + 300
    while not (out.exists() and done_sidecars(out)) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    kill_tree(first.pid)
    log = first.communicate()[0]
    before = done_sidecars(out)
    assert before, log
    assert len(before) < len(ids), "the run finished before it could be killed"
    assert all(path.name.endswith(".json") or path.name.startswith(".") for path in out.iterdir())

    second = launch(media_dir, out, tmp_path / "second.json", tiny_llava, tiny_whisper)
    log = second.communicate(timeout=300)[0]
    assert second.returncode == 0, log
    summary = json.loads((tmp_path / "second.json").read_text())
    assert summary["processes"] == 2
    assert sorted(summary["already_done"]) == sorted(before)
    shares = [set(summary["by_process"][str(rank)]) for rank in range(2)]
    assert shares[0] and shares[1] and not shares[0] & shares[1]  # both processes worked, on different ids
    assert shares[0] | shares[1] == ids - set(before) == set(summary["done"])  # only the rest was done
    assert summary["failed"] == {}

    after = done_sidecars(out)
    assert set(after) == ids
    assert {media_id: after[media_id] for media_id in before} == before  # finished sidecars untouched
    assert sorted(path.name for path in out.glob("*.json")) == sorted(f"{i}.json" for i in ids)
