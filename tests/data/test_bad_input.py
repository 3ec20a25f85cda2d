"""Bad input the fixtures of `test_build` do not hold, each a counted drop with its reason and file:line (or file)
instead of a crash: text SQLite and Arrow cannot store."""

import json

from hf_behavior.data import pipeline
from hf_behavior.data.filters import load_filter_configs

from .dumps import comment, info


def ingest_funnel(tmp_path, **inputs) -> dict:
    pipeline.ingest(pipeline.Inputs(**inputs), load_filter_configs(), tmp_path)
    return pipeline.ingest_funnel(tmp_path).to_dict()


def test_unencodable_text_is_a_read_drop(tmp_path):
    comments = tmp_path / "RC.ndjson"
    good = json.dumps(comment("p1", "fine words here", 1))
    comments.write_text(good + '\n{"link_id": "t3_p1", "body": "three words \\udc80"}\n')
    folder = tmp_path / "youtube"
    folder.mkdir()
    (folder / "v1.info.json").write_text(json.dumps(info("v1", title="a \ud800 b")))  # json.dumps escapes it
    (folder / "v1.mp4").write_bytes(b"video")
    funnel = ingest_funnel(tmp_path, reddit_comments=[str(comments)], youtube=[str(folder)])
    assert funnel["dropped"]["comments"]["read"] == {"unencodable text": 1}
    assert funnel["dropped"]["posts"]["read"] == {"unencodable text": 1}
    assert funnel["examples"]["read: unencodable text"] == [
        f"{folder / 'v1.info.json'} (lone surrogate '\\ud800')",
        f"{comments}:2: unencodable text (lone surrogate '\\udc80')",
    ]
