"""Bad input the fixtures of `test_build` do not hold, each a counted drop with its reason and file:line (or file)
instead of a crash: text SQLite and Arrow cannot store, numbers beyond their int64 columns, fields of another type
than the filters and Arrow's columns take."""

import json
import re

import pytest

from hf_behavior.data import pipeline
from hf_behavior.data.filters import load_filter_configs
from hf_behavior.data.jsonl import item_to_record
from hf_behavior.data.records import MissingField, Record, to_unix
from hf_behavior.data.reddit import submission_to_record
from hf_behavior.data.templates import content_simulation_messages
from hf_behavior.data.youtube import info_to_record

from .dumps import SCENES, comment, info, sidecar, submission


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
            item_to_record({**item, **bad}, "g.jsonl:1", tmp_path)
        assert str(caught.value) == reason and caught.value.detail == detail


def test_integers_beyond_int64_are_read_drops(tmp_path):
    """SQLite stopped the build at such a comment score; Arrow's int64 columns at such a post count or date."""
    comments = tmp_path / "RC.ndjson"
    comments.write_text(json.dumps(comment("p1", "three fine words", 2**63)) + "\n")
    folder = tmp_path / "youtube"
    folder.mkdir()
    video = info("v1")
    video["comments"][0]["like_count"] = 2**63
    (folder / "v1.info.json").write_text(json.dumps(video))
    (folder / "v1.mp4").write_bytes(b"video")
    funnel = ingest_funnel(tmp_path, reddit_comments=[str(comments)], youtube=[str(folder)])
    assert funnel["dropped"]["comments"]["read"] == {
        "field 'score' out of int64 range": 1,
        "malformed comment": 1,  # the comment with too many likes (the reply is a filter's drop)
    }
    assert funnel["examples"]["read: field 'score' out of int64 range"] == [f"{comments}:1 (9223372036854775808)"]

    cases = [
        (reddit_post, {"score": 2**64 - 1}, "field 'score' out of int64 range"),
        (reddit_post, {"created_utc": 1e30}, "date out of range"),
        (reddit_post, {"created_utc": float("nan")}, "date out of range"),
        (reddit_post, {"upvote_ratio": float("nan")}, "field 'upvote_ratio' not in [0, 1]"),
        (reddit_post, {"score": 2**62, "upvote_ratio": 0.5000000001}, "estimated upvotes out of int64 range"),
        (info("v1"), {"view_count": 2**63}, "field 'view_count' out of int64 range"),
        (info("v1"), {"like_count": -(2**63) - 1}, "field 'like_count' out of int64 range"),
        (info("v1"), {"timestamp": "inf"}, "date out of range"),
        (generic_item, {"likes": 2**63}, "field 'likes' out of int64 range"),
        (generic_item, {"like_percent": 101}, "field 'like_percent' not in [0, 100]"),
        (generic_item, {"comments": [{"text": "a b c", "likes": 2**63}]}, "comment field 'likes' out of int64 range"),
    ]
    for raw, bad, reason in cases:
        with pytest.raises(MissingField) as caught:
            to_record({**raw, **bad}, tmp_path)
        assert str(caught.value) == reason, bad
    counts = {"likes": 400, "views": 800, "comments": [{"text": "a b c", "likes": 3}]}
    record = to_record({**generic_item, **counts}, tmp_path)
    assert (record.likes, record.like_ratio, record.comments[0]["score"]) == (400, 0.5, 3)


def test_dates_outside_the_years_1_to_9999_are_read_drops(tmp_path):
    """A timestamp in milliseconds passed the date filters (it is after 2018) and stopped the export at the M3L
    templates, which write the release date."""
    first, last = to_unix("0001-01-01"), to_unix("9999-12-31T23:59:59")
    for created, release in [(first, "Release Date is 0001-01-01,\n\nLikes"),
                             (last, "Release Date is 9999-12-31,\n\nRelease Time is 23:59:59,")]:  # fmt: skip
        record = to_record({**reddit_post, "created_utc": created}, tmp_path)
        assert release in content_simulation_messages(record)[0]["content"][0]["text"]
    for bad in (last + 1, first - 1, 1_546_300_800_000, "1546300800000.5"):
        with pytest.raises(MissingField) as caught:
            to_record({**reddit_post, "created_utc": bad}, tmp_path)
        assert (str(caught.value), caught.value.detail) == ("date out of range", repr(bad)), bad


def test_fields_of_the_wrong_type_are_read_drops(tmp_path):
    """Each stopped the build in a filter (a bot-author regex on an int, a set lookup of a list) or at export."""
    comments = tmp_path / "RC.ndjson"
    comments.write_text(json.dumps(comment("p1", "three fine words", 1, author=5)) + "\n")
    folder = tmp_path / "youtube"
    folder.mkdir()
    video = info("v1", age_limit=None)  # null is no age limit
    video["comments"][0]["author"] = ["x"]
    (folder / "v1.info.json").write_text(json.dumps(video))
    (folder / "v1.mp4").write_bytes(b"video")
    funnel = ingest_funnel(tmp_path, reddit_comments=[str(comments)], youtube=[str(folder)])
    assert funnel["dropped"]["comments"]["read"] == {"field 'author' has type int": 1, "malformed comment": 1}
    assert funnel["kept"]["posts"] == 1

    cases = [
        (reddit_post, {"author": 5}, "field 'author' has type int"),
        (info("v1"), {"channel": ["Gatorade"]}, "field 'channel' has type list"),
        (info("v1"), {"language": 5}, "field 'language' has type int"),
        (info("v1"), {"heatmap": [{"start_time": "a", "end_time": 1, "value": 1}]}, "malformed field 'heatmap'"),
        (generic_item, {"replay": "x"}, "malformed field 'replay'"),
        (generic_item, {"categories": [5]}, "field 'categories' not a list of strings"),
        (generic_item, {"duration": "12"}, "field 'duration' has type str"),
        (generic_item, {"duration": float("nan")}, "field 'duration' out of range"),  # passed the 500 s filter
        (info("v1"), {"duration": -1}, "field 'duration' out of range"),
        (generic_item, {"replay": [{"start": 0, "end": 1, "value": float("nan")}]}, "malformed field 'replay'"),
        (generic_item, {"comments": [{"text": "a b c", "author": 5}]}, "comment field 'author' has type int"),
    ]
    for raw, bad, reason in cases:
        with pytest.raises(MissingField) as caught:
            to_record({**raw, **bad}, tmp_path)
        assert str(caught.value) == reason, bad
    replay = [{"start": 0, "end": 1.5, "value": 1}]
    assert to_record({**generic_item, "replay": replay}, tmp_path).heatmap == [{"start": 0.0, "end": 1.5, "value": 1.0}]


reddit_post = submission("p1")
generic_item = {"id": "a", "platform": "x", "kind": "image", "title": "t", "media_url": "https://x/a.jpg"}


def to_record(raw: dict, folder):
    if "subreddit" in raw:
        return submission_to_record(raw, "RS:1")
    if "view_count" in raw:
        return info_to_record(raw, folder / "v.info.json")
    return item_to_record(raw, "g.jsonl:1", folder)


def test_bad_sidecars_are_verbalization_drops(tmp_path):
    """A lone surrogate stopped finalize's write of the records, a string duration its duration filter; the other
    wrong types stopped the templates or the export."""
    record = Record(key="youtube:v1", source="youtube_videos", platform="youtube", post_id="v1", media_id="v1",
                    media_kind="video", title="t", origin="v1.info.json")  # fmt: skip
    good, scene = sidecar("v1"), SCENES[0]
    cases = [
        ('{"status": "done", "asr": "a \\ud800"}', "unreadable sidecar", "unencodable text (lone surrogate '\\ud800')"),
        ('["done"]', "unreadable sidecar", "not a JSON object (list)"),
        ({**good, "status": None}, "malformed sidecar field 'status'", "missing field 'status'"),
        ({**good, "duration": "31.2"}, "malformed sidecar field 'duration'", "field 'duration' has type str"),
        ({**good, "asr": ["a"]}, "malformed sidecar field 'asr'", "field 'asr' has type list"),
        ({**good, "scenes": {"0": scene}}, "malformed sidecar field 'scenes'", "field 'scenes' has type dict"),
        ({**good, "scenes": [scene, "a"]}, "malformed sidecar field 'scenes'", "scene 1 not an object"),
        ({**good, "scenes": [{**scene, "end": "4"}]}, "malformed sidecar field 'scenes'", "scene 0 field 'end' has type str"),
        ({**good, "scenes": [{**scene, "caption": 5}]}, "malformed sidecar field 'scenes'", "scene 0 field 'caption' has type int"),
        ({**good, "scenes": [{**scene, "keywords": [1]}]}, "malformed sidecar field 'scenes'", "scene 0 field 'keywords' not a list of strings"),
        ({**good, "scenes": [{**scene, "tone": True}]}, "malformed sidecar field 'scenes'", "scene 0 field 'tone' has type bool"),
        ({**good, "scenes": [{**scene, "replay": float("nan")}]}, "malformed sidecar field 'scenes'", "scene 0 field 'replay' out of range (nan)"),
        ({**good, "scenes": [{**scene, "replay": 1.5}]}, "malformed sidecar field 'scenes'", "scene 0 field 'replay' out of range (1.5)"),
    ]  # fmt: skip
    path = tmp_path / "v1.json"
    for doc, reason, detail in cases:
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
        drop = pipeline.attach_verbalization(record, str(tmp_path))
        assert (str(drop), drop.detail, drop.stage, drop.error) == (reason, f"{path}: {detail}", "verbalization", True)
    path.write_text(json.dumps({**good, "duration": 31, "scenes": [{**scene, "start": None, "end": 4}]}))
    record.heatmap = [{"start": 0.0, "end": 8.0, "value": 0.5}]
    assert pipeline.attach_verbalization(record, str(tmp_path)) is None
    assert (record.duration, record.replay) == (31, [0.5])
