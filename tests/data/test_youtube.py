"""yt-dlp download folders: each video's media and subtitles are found beside its info file, by its literal id,
with the folder listed once however many videos it holds."""

import json
import os
import sqlite3

from hf_behavior.data import pipeline
from hf_behavior.data.filters import load_filter_configs
from hf_behavior.data.youtube import info_to_record

from .dumps import info

VTT = "WEBVTT\n\n00:00.000 --> 00:02.000\nwelcome to the <c>backyard</c>\n\n00:02.000 --> 00:04.000\nlet's train\n"


def write_videos(folder, count: int) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        video_id = f"vid{i:08d}"
        (folder / f"{video_id}.info.json").write_text(json.dumps(info(video_id)))
        (folder / f"{video_id}.mp4").write_bytes(video_id.encode())
        (folder / f"{video_id}.en.vtt").write_text(VTT)


def ingest_youtube(folder, work, num_proc: int = 1) -> tuple[list, dict]:
    """Ingest a folder of videos into `work`: the staged payloads in insertion order and the funnel."""
    work.mkdir(exist_ok=True)
    pipeline.ingest(pipeline.Inputs(youtube=[str(folder)]), load_filter_configs(), work, num_proc)
    with sqlite3.connect(work / "staging.sqlite") as db:
        payloads = [json.loads(p) for (p,) in db.execute("SELECT payload FROM posts ORDER BY rowid")]
    return payloads, pipeline.ingest_funnel(work).to_dict()


def scandirs_to_ingest(tmp_path, monkeypatch, count: int) -> int:
    """How often the ingest of a folder of `count` videos lists a folder; every video must keep its media and ASR."""
    write_videos(tmp_path / "yt", count)
    calls = []
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path=".": calls.append(path) or real_scandir(path))
    payloads, _ = ingest_youtube(tmp_path / "yt", tmp_path / "work")
    monkeypatch.undo()
    assert len(payloads) == count
    assert all(p["media_path"].endswith(f"{p['post_id']}.mp4") for p in payloads)
    assert {p["asr"] for p in payloads} == {"welcome to the backyard let's train"}
    return len(calls)


def test_a_folder_is_listed_once_whatever_its_size(tmp_path, monkeypatch):
    """A glob per video scanned the whole folder for each one: quadratic, 43 ms a video at 4,000 videos."""
    small = scandirs_to_ingest(tmp_path / "small", monkeypatch, 3)
    large = scandirs_to_ingest(tmp_path / "large", monkeypatch, 40)
    assert large == small


def test_media_and_subtitles_are_found_by_the_literal_id(tmp_path):
    """`[1]` in an id is part of the name, not a glob character class that matches `clip1.*`."""
    for name in ("clip1.mp4", "clip1.en.vtt", "clip[1].mp4", "clip[1].en-US.srt", "clip[1].de.vtt"):
        (tmp_path / name).write_text("1\n00:00:00,000 --> 00:00:02,000\nsubtitles of " + name + "\n")
    (tmp_path / "clip[1].en.mkv").mkdir()  # a folder is no media file
    record = info_to_record(info("clip[1]"), tmp_path / "clip[1].info.json")
    assert record.media_path == str((tmp_path / "clip[1].mp4").resolve())
    assert record.asr == "subtitles of clip[1].en-US.srt"


def test_info_files_are_staged_in_the_processes_and_resume_from_a_checkpoint(tmp_path, monkeypatch):
    """Reading and filtering the info files (up to megabytes of comments each) ran in the main process alone."""
    write_videos(tmp_path / "yt", 11)
    (tmp_path / "yt" / "vid00000005.info.json").write_text("{not json")
    monkeypatch.setattr(pipeline, "BLOCK_VIDEOS", 2)
    monkeypatch.setattr(pipeline, "CHECKPOINT_VIDEOS", 4)
    expected = ingest_youtube(tmp_path / "yt", tmp_path / "one")
    assert len(expected[0]) == 10 and expected[1]["dropped"]["posts"]["read"] == {"malformed JSON": 1}

    readers, read_json_file = tmp_path / "readers", pipeline.read_json_file

    def read_noting_the_process(path):
        with open(readers, "a") as out:
            out.write(f"{os.getpid()}\n")
        return read_json_file(path)

    monkeypatch.setattr(pipeline, "read_json_file", read_noting_the_process)
    assert ingest_youtube(tmp_path / "yt", tmp_path / "two", num_proc=2) == expected
    pids = set(readers.read_text().split())
    assert str(os.getpid()) not in pids and len(pids) == 2

    def interrupted(path):
        if path.name.startswith("vid00000007"):
            raise KeyboardInterrupt
        return read_json_file(path)

    monkeypatch.setattr(pipeline, "read_json_file", interrupted)
    try:
        ingest_youtube(tmp_path / "yt", tmp_path / "resumed")
    except KeyboardInterrupt:
        pass
    with sqlite3.connect(tmp_path / "resumed" / "staging.sqlite") as db:
        assert db.execute("SELECT done, finished FROM progress").fetchall() == [(4, 0)]  # the checkpoint at 4 files
    monkeypatch.setattr(pipeline, "read_json_file", read_json_file)
    assert ingest_youtube(tmp_path / "yt", tmp_path / "resumed") == expected
