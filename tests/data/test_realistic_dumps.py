"""`hf-behavior build-blift` as a new user runs it, on dumps written like the real ones (tests/data/dumps.py): media
for the survivors only, live streams, replies, hidden likes, [deleted] authors, a dump given twice, typos in paths
and filter values. Each case: the exit code, and what the funnel and the rows say."""

import json
import shutil
import sqlite3

import datasets
import pytest

from hf_behavior.cli import main
from hf_behavior.data import pipeline
from hf_behavior.data.export import WORK
from hf_behavior.data.reader import open_text

from .dumps import SURVIVORS, write_realistic_reddit, write_realistic_youtube


@pytest.fixture(scope="module")
def reddit(tmp_path_factory):
    return write_realistic_reddit(tmp_path_factory.mktemp("reddit"))


@pytest.fixture(scope="module")
def youtube(tmp_path_factory):
    return write_realistic_youtube(tmp_path_factory.mktemp("youtube"))


def reddit_args(reddit, out, *extra):
    return ["build-blift", "-o", str(out), "--reddit-submissions", str(reddit["submissions"]), "--reddit-comments",
            str(reddit["comments"]), "--reddit-media", str(reddit["media"]), "--configs", "blift", *extra]  # fmt: skip


def funnel_of(out):
    return json.loads((out / "funnel.json").read_text())


@pytest.fixture(scope="module")
def reddit_built(reddit, tmp_path_factory):
    out = tmp_path_factory.mktemp("built") / "blift"
    assert main(reddit_args(reddit, out)) == 0
    return out


def test_a_survivors_only_media_build_shows_the_filter_reasons_and_no_media_error(reddit_built):
    """Media downloaded for the posts that pass the filters: every other post keeps its filter's reason."""
    funnel = funnel_of(reddit_built)
    posts = funnel["dropped"]["posts"]
    assert "media" not in posts and funnel["errors"].get("posts", 0) == 0
    assert posts["post filters"] == {
        "nsfw flag": 1, "deleted/removed post": 1, "posted before 2018-01-01": 1, "bot author": 1,
        "subreddit not selected": 1, "media not a Reddit-hosted image or a YouTube video": 1,  # the gallery
    }  # fmt: skip
    rows = datasets.load_dataset(str(reddit_built), "blift", split="train")
    assert sorted(rows["post_id"]) == sorted(SURVIVORS)
    card = (reddit_built / "README.md").read_text()  # the settings used, and who is named in the rows
    assert "| subreddits | pics, videos | none | none |" in card and "| languages | none | en | en |" in card
    assert "| longest video (s) | 500.0 | none | none |" in card and "`content_simulation`" in card
    assert not (reddit_built / WORK).exists()
    emoji = rows[rows["post_id"].index("rp_emoji")]
    assert emoji["title"] == "سلام 🌅 sunrise over the old port 🚢"


def test_replies_deleted_bots_and_overlong_comments_are_counted_drops(reddit_built):
    funnel = funnel_of(reddit_built)
    filters = funnel["dropped"]["comments"]["comment filters"]
    # a reply, a [deleted] and an AutoModerator comment under each of the 8 r/pics posts (screened as read: the
    # comments of r/aww are dropped with their subreddit)
    assert filters["reply (not a top-level comment)"] == 8
    assert filters["deleted/removed comment"] == 8 and filters["bot author"] == 8
    assert filters["longer than 2,000 characters"] == 1
    rows = datasets.load_dataset(str(reddit_built), "blift", split="train")
    comments = dict(zip(rows["post_id"], rows["comments"]))
    assert "مرحبا this made my day 😍 truly lovely" in comments["rp1"]
    assert not any("I completely agree" in text for texts in comments.values() for text in texts)
    assert max(len(text) for texts in comments.values() for text in texts) < 2_000
    for unit in ("posts", "comments"):
        dropped = sum(sum(reasons.values()) for reasons in funnel["dropped"][unit].values())
        assert funnel["inputs"][unit] == funnel["kept"][unit] + dropped


def test_the_same_comments_file_twice_counts_each_comment_once(reddit, reddit_built, tmp_path):
    """The same month's comments downloaded twice (and given both): TF-IDF reported the copies as near-duplicates."""
    out, copy = tmp_path / "twice", tmp_path / "RC_2019-06 (1).zst"
    shutil.copy(reddit["comments"], copy)
    args = reddit_args(reddit, out)
    at = args.index("--reddit-comments") + 1
    args[at + 1 : at + 1] = [str(copy)]
    assert main(args) == 0
    once, twice = funnel_of(reddit_built), funnel_of(out)
    assert twice["kept"] == once["kept"]
    assert twice["dropped"]["comments"]["comment dedup"]["same comment id seen before"] == once["kept"]["comments"]
    assert "TF-IDF similarity >= 0.6" not in twice["dropped"]["comments"]["comment dedup"]
    by_post = [datasets.load_dataset(str(folder), "blift", split="train") for folder in (out, reddit_built)]
    by_post = [dict(zip(rows["id"], rows["comments"])) for rows in by_post]
    assert by_post[0] == by_post[1]


def test_youtube_live_streams_replies_unknown_durations_and_hidden_likes(youtube, tmp_path):
    out = tmp_path / "yt"
    args = ["build-blift", "-o", str(out), "--youtube", str(youtube), "--configs", "blift",
            "--filter", "youtube.max_duration=500"]  # fmt: skip
    assert main(args) == 0
    funnel = funnel_of(out)
    posts = funnel["dropped"]["posts"]
    # the stream on air at once; the null duration once neither a sidecar nor the (unreadable) media file tell it
    assert posts == {"post filters": {"live stream": 1, "video of unknown duration": 1}}
    # one reply under each of the 4 videos that are not live (the live one's comments are dropped with it)
    assert funnel["dropped"]["comments"]["comment filters"]["reply (not a top-level comment)"] == 4
    rows = datasets.load_dataset(str(out), "blift", split="train")
    assert sorted(rows["post_id"]) == ["ytHidden001", "ytNormal001", "ytWasLive01"]
    hidden = rows[rows["post_id"].index("ytHidden001")]
    assert hidden["likes"] is None and hidden["like_ratio"] is None


def test_typed_filter_values(youtube, reddit, tmp_path, capsys):
    """`subreddits=pics` is the subreddit pics (it was the letters p, i, c, s: no row), `excluded_categories=Music`
    excludes Music, `languages=ja` is Japanese only (it matched any language starting with j or a)."""
    assert main(reddit_args(reddit, tmp_path / "pics", "--filter", "reddit.subreddits=pics")) == 0
    assert len(datasets.load_dataset(str(tmp_path / "pics"), "blift", split="train")) == len(SURVIVORS)
    capsys.readouterr()
    for setting, message in [("youtube.min_views=abc", "expected a whole number, got 'abc'"),
                             ("reddit.min_date=June", "expected an ISO date"),
                             ("youtube.top_k_comments=five", "expected a whole number"),
                             ("reddit.drop_nsfw_flag=perhaps", "expected true or false")]:  # fmt: skip
        out = tmp_path / "bad"
        assert main(["build-blift", "-o", str(out), "--youtube", str(youtube), "--filter", setting]) == 2
        err = capsys.readouterr().err
        assert message in err and setting in err and len(err.strip().splitlines()) == 1
        assert not (out / WORK / "staging.sqlite").exists()  # refused before any work
    base = ["build-blift", "--youtube", str(youtube), "--configs", "blift"]
    assert main([*base, "-o", str(tmp_path / "music"), "--filter", "youtube.excluded_categories=People & Blogs,Music"]) == 1
    assert funnel_of(tmp_path / "music")["dropped"]["posts"]["post filters"]["excluded category 'People & Blogs'"] == 5 - 1
    assert main([*base, "-o", str(tmp_path / "ja"), "--filter", "youtube.languages=ja"]) == 1  # every video is "en"
    reasons = funnel_of(tmp_path / "ja")["dropped"]["posts"]["post filters"]
    assert reasons["language 'en' not in ['ja']"] == 5 - 1
    assert "no post was kept" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--reddit-comments", "missing/RC_2019-06.zst", "no such file"),
        ("--reddit-comments", ".", "a folder, expected a file"),
        ("--reddit-media", "missing_media", "no such folder"),
        ("--sidecar-dir", "missing_sidecars", "no such folder"),
        ("--brand-channels", "missing_brands.txt", "no such file"),
        ("--filter-config", "missing_filters.yaml", "no such file"),
        ("--num-proc", "0", "expected a whole number of at least 1"),
        ("--max-error-rate", "5", "expected a fraction in [0, 1]"),
    ],
)
def test_bad_arguments_are_usage_errors_before_any_work(reddit, tmp_path, capsys, flag, value, message):
    args = ["build-blift", "-o", str(tmp_path / "out"), "--reddit-submissions", str(reddit["submissions"]), flag, value]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}" in err and message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_no_inputs_and_comments_without_submissions_are_usage_errors(reddit, tmp_path, capsys):
    assert main(["build-blift", "-o", str(tmp_path / "out")]) == 2
    assert "no inputs" in capsys.readouterr().err
    assert main(["build-blift", "-o", str(tmp_path / "out"), "--reddit-comments", str(reddit["comments"])]) == 2
    assert "--reddit-comments without --reddit-submissions" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bad_input_rate_is_per_unit_and_a_build_keeping_no_post_fails(youtube, tmp_path, capsys):
    """5 videos without media among hundreds of comments: all the posts are bad input (it was 0.4% of the items, and
    the build exited 0 with no row)."""
    folder = tmp_path / "no_media"
    folder.mkdir()
    for path in youtube.glob("*.info.json"):
        info = json.loads(path.read_text())
        info["comments"] = info["comments"] * 60  # many comments, as real videos have
        info.pop("live_status")
        info.pop("is_live", None)
        info["duration"] = 30.0
        (folder / path.name).write_text(json.dumps(info))
    out = tmp_path / "out"
    assert main(["build-blift", "-o", str(out), "--youtube", str(folder), "--configs", "blift"]) == 1
    err = capsys.readouterr().err
    assert "100.0% of the 5 posts read are bad input" in err and "no config was written" in err
    assert not (out / "blift").exists()
    funnel = funnel_of(out)
    assert funnel["inputs"]["comments"] > 1_000 and funnel["dropped"]["posts"]["media"] == {"media file not found": 5}


def test_a_corrected_comments_path_reuses_the_staged_submissions(reddit, reddit_built, tmp_path, monkeypatch):
    """The submissions, staged by a run without comments, are not staged again when the comments come: the
    result is the one build of both."""
    out = tmp_path / "out"
    without = reddit_args(reddit, out, "--keep-work")
    at = without.index("--reddit-comments")
    del without[at : at + 2]
    assert main(without) == 1  # no post keeps 2 comments without the comments file
    staged, block = [], pipeline._Stager.block
    monkeypatch.setattr(pipeline._Stager, "block", lambda self, kind, *rest: staged.append(kind) or block(self, kind, *rest))
    assert main(reddit_args(reddit, out)) == 0
    assert set(staged) == {"comments"}
    assert funnel_of(out) == funnel_of(reddit_built)
    assert not (out / WORK).exists()  # removed once the build succeeded


def test_a_truncated_comments_dump_is_named_with_the_lines_read(reddit, tmp_path, capsys):
    """Cut inside its last frame, a comments dump loses the comments after the cut, and their posts would drop as
    "fewer than 2 comments": the build stops, or, told to go on, names the file and the lines it read."""
    lines = open_text_lines(reddit["comments"])
    cut = tmp_path / "RC_cut.zst"
    with open_text(tmp_path / "RC_whole.zst") as out:
        out.writelines(lines)
    data = (tmp_path / "RC_whole.zst").read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    args = reddit_args({**reddit, "comments": cut}, tmp_path / "out")
    assert main(args) == 1
    assert f"{cut}: truncated .zst (stream ends mid-frame)" in capsys.readouterr().err
    assert main([*args, "--allow-truncated-inputs"]) in (0, 1)
    read, why = funnel_of(tmp_path / "out")["truncated"][str(cut)]
    assert why == "truncated .zst (stream ends mid-frame)" and 0 <= read < len(lines)
    assert f"{read:,} lines" in capsys.readouterr().out


def open_text_lines(path):
    import zstandard

    with open(path, "rb") as fh:
        return zstandard.ZstdDecompressor().stream_reader(fh).read().decode().splitlines(keepends=True)


def test_staged_comments_keep_their_ids(reddit_built, reddit, tmp_path):
    out = tmp_path / "kept"
    assert main(reddit_args(reddit, out, "--keep-work")) == 0
    with sqlite3.connect(out / WORK / "staging.sqlite") as db:
        ids = [row[0] for row in db.execute("SELECT id FROM comments")]
    assert ids and all(ids) and len(ids) == len(set(ids))
