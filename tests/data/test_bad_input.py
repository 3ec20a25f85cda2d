"""Bad input the fixtures of `test_build` do not hold, each a counted drop with its reason and file:line (or file)
instead of a crash: text SQLite and Arrow cannot store."""

import json
import re

import pytest

from hf_behavior.data import pipeline
from hf_behavior.data.filters import load_filter_configs
from hf_behavior.data.jsonl import item_to_record
from hf_behavior.data.records import MissingField

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


def test_drop_reasons_are_categories_and_the_value_goes_to_the_example(tmp_path):
    comments = tmp_path / "RC.ndjson"
    comments.write_text('{"link_id": "t1_abc", "body": "x"}\n{"link_id": "t1_def", "body": "x"}\n')
    funnel = ingest_funnel(tmp_path, reddit_comments=[str(comments)])
    assert funnel["dropped"]["comments"]["read"] == {"link_id not a submission id (t3_...)": 2}
    examples = funnel["examples"]["read: link_id not a submission id (t3_...)"]
    assert examples == [f"{comments}:1 (t1_abc)", f"{comments}:2 (t1_def)"]
    item = {"id": "a", "platform": "x", "kind": "image", "title": "t", "media_url": "https://x/a.jpg"}
    for bad, reason, detail in [({"kind": "gif"}, "field 'kind' not 'image' or 'video'", "'gif'"),
                                ({"created": "yesterday"}, "unreadable date", "'yesterday'")]:  # fmt: skip
        with pytest.raises(MissingField, match=re.escape(reason)) as caught:
            item_to_record({**item, **bad}, "g.jsonl:1", tmp_path, require_media=False)
        assert str(caught.value) == reason and caught.value.detail == detail
