"""End to end: raw dumps of every format -> `hf-behavior build-blift` -> `load_dataset(out, config)`."""

import gc
import json
import os
import shutil
import sqlite3
import time
from concurrent.futures.process import BrokenProcessPool

import datasets
import pyarrow as pa
import pytest
from datasets.exceptions import DatasetGenerationError
from huggingface_hub import DatasetCard
from hub_fixtures import fake_hub

from hf_behavior.cli import main
from hf_behavior.data import export, pipeline
from hf_behavior.data.export import BLIFT_CONFIGS, SALICON_CONFIGS, WORK, push_to_hub
from hf_behavior.evaluation.parsing import parse_behavior_answer

from .dumps import KNOWN_VIDEO_ID, REDDIT_POSTS, YOUTUBE_VIDEOS, cli_args, info, write_all, write_salicon
from .test_templates import LISTING1_USER

EXPECTED_BLIFT = {"reddit:p1", "reddit:p2", f"youtube:{KNOWN_VIDEO_ID}", "youtube:yt_views_10k1", "instagram:ig_001"}


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp("raw")
    paths = write_all(root)
    paths.update(write_salicon(root / "salicon"))
    (root / "brands.txt").write_text("Gatorade\n")
    paths["brand_channels"] = str(root / "brands.txt")
    return paths


@pytest.fixture(scope="module")
def built(raw, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "blift"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "SHARD_POSTS", 4)  # several shards, so --num-proc 2 really forks
        assert main(cli_args(raw, out, "--num-proc", "2", "--max-error-rate", "0.5", "--keep-work")) == 0
    return out


def load(out, config):
    return datasets.load_dataset(str(out), config, split="train")


def test_every_config_loads_with_expected_rows(built):
    rows = {config: load(built, config) for config in BLIFT_CONFIGS + SALICON_CONFIGS}
    assert set(rows["blift"]["id"]) == EXPECTED_BLIFT
    card = DatasetCard.load(built / "README.md").data.to_dict()
    sizes = {info["config_name"]: info["splits"][0]["num_examples"] for info in card["dataset_info"]}
    assert sizes == {config: len(table) for config, table in rows.items()}  # the card's dataset_info is the data's
    assert rows["reddit_images"]["id"] == ["reddit:p1"] and rows["reddit_videos"]["id"] == ["reddit:p2"]
    assert set(rows["youtube_videos"]["id"]) == {f"youtube:{KNOWN_VIDEO_ID}", "youtube:yt_views_10k1"}
    assert set(rows["blift_no_behavior"]["id"]) == {"reddit:p1", f"youtube:{KNOWN_VIDEO_ID}"}  # verbalized only
    for config in ("blift_likes", "blift_titles", "blift_comments", "content_simulation", "behavior_simulation"):
        assert set(rows[config]["id"]) == EXPECTED_BLIFT, config
    assert rows["salicon_object"]["ranking"] == [["dog", "frisbee", "car"]]
    assert rows["salicon_region"]["ranking"][0][0] == "upper-right"
    assert rows["salicon_object"][0]["messages"][2]["content"][0]["text"] == "dog\nfrisbee\ncar"

    known = rows["blift"].filter(lambda r: r["id"] == f"youtube:{KNOWN_VIDEO_ID}")[0]
    user = known["messages"][1]["content"]
    assert user[0]["text"] == LISTING1_USER
    assert user[1]["type"] == "video" and user[1]["path"].endswith(f"youtube/{KNOWN_VIDEO_ID}.mp4")
    answer = parse_behavior_answer(known["messages"][2]["content"][0]["text"])
    assert known["like_percent"] == pytest.approx(1.5) and answer["like_percent"] == 1.5
    assert known["views"] == 120000 and known["likes"] == 1800
    # top comments by likes; the 2-word one (most liked) and the reply are filtered out
    assert answer["comments"] == known["comments"][:5] and known["comments"][0].startswith("Suni Lee is such")
    assert known["replay"] == [1.0, pytest.approx(0.3679, abs=1e-3)] and answer["replay"] == [1.0, 0.37]
    reddit = rows["blift"].filter(lambda r: r["id"] == "reddit:p1")[0]
    assert reddit["like_percent"] == pytest.approx(90.0) and reddit["score"] == 1000 and reddit["likes"] == 1125
    assert reddit["comments"] == [  # 2-word, [deleted], bot and the TF-IDF near-duplicate are gone
        "The colours in this shot are absolutely stunning",
        "I visited this harbour last summer with my family",
        "What camera did you use for this picture?",
    ]


def test_funnel_adds_up_and_names_every_drop(built, raw):
    funnel = json.loads((built / "funnel.json").read_text())
    for unit in ("posts", "comments"):
        dropped = sum(sum(reasons.values()) for reasons in funnel["dropped"][unit].values())
        assert funnel["inputs"][unit] == funnel["kept"][unit] + dropped
    posts = funnel["dropped"]["posts"]
    # every raw post: 13 Reddit + 1 non-UTF-8 + 1 malformed line, 6 YouTube + broken + no media, 2 generic
    assert funnel["inputs"]["posts"] == len(REDDIT_POSTS) + 2 + len(YOUTUBE_VIDEOS) + 2 + 2
    assert funnel["kept"]["posts"] == len(EXPECTED_BLIFT)
    for _, fate in REDDIT_POSTS + YOUTUBE_VIDEOS:
        if fate != "kept":
            assert any(fate in reasons for reasons in posts.values()), fate
    assert posts["read"] == {
        "malformed JSON": 2, "not UTF-8": 1, "missing field 'upvote_ratio'": 1, "unreadable url": 1,
        "missing field 'title'": 1,  # ig_002, which has no media either: what is wrong with the item comes first
    }  # fmt: skip
    assert posts["media"] == {"media file not found": 2}  # p8, yt_nomedia1: posts that pass the filters
    assert posts["verbalization"] == {"verbalization failed": 1}
    examples = funnel["examples"]
    assert any(e.startswith(f"{raw['reddit_submissions'][0]}:6:") for e in examples["read: malformed JSON"])
    assert any(e.startswith(f"{raw['reddit_submissions'][1]}:1") for e in examples["read: not UTF-8"])
    assert any("could not decode stream" in e for e in examples["verbalization: verbalization failed"])
    comments = funnel["dropped"]["comments"]
    assert comments["read"]["missing field 'body'"] == 1
    assert comments["comment dedup"] == {"TF-IDF similarity >= 0.6": 1}
    table = (built / "funnel.md").read_text()
    assert "| posts | **kept** | | | **5** |" in table
    assert (built / "funnel.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    card = (built / "README.md").read_text()
    assert "config_name: salicon_region" in card and "Ethical considerations" in card and "| posts | read |" in card


def test_a_truncated_zst_stops_the_build_unless_allowed_and_is_then_named(raw, tmp_path, capsys):
    """A dump cut short loses the posts after the cut (and, for comments, the posts whose comments were there later
    drop as "fewer than 2 comments"): the build stops at the cut, and goes on only when told to, naming the file and
    the lines it read."""
    cut = tmp_path / "RS_cut.zst"
    data = open(raw["reddit_submissions"][0], "rb").read()
    cut.write_bytes(data[: len(data) - 12])
    args = {**raw, "reddit_submissions": [str(cut)]}
    assert main(cli_args(args, tmp_path / "strict", "--configs", "blift", "--max-error-rate", "0.5")) == 1
    err = capsys.readouterr().err
    assert f"{cut}: truncated .zst (stream ends mid-frame)" in err and "--allow-truncated-inputs" in err
    assert not (tmp_path / "strict" / "blift").exists()  # stopped before writing configs
    allowed = cli_args(args, tmp_path / "strict", "--configs", "blift", "--max-error-rate", "0.5", "--allow-truncated-inputs")
    assert main(allowed) == 0
    funnel = json.loads((tmp_path / "strict" / "funnel.json").read_text())
    lines, why = funnel["truncated"][str(cut)]
    assert why == "truncated .zst (stream ends mid-frame)" and 0 <= lines < len(REDDIT_POSTS) + 1
    assert funnel["dropped"]["posts"]["read"]["truncated .zst"] == 1
    assert f"warning: {cut}: truncated .zst (stream ends mid-frame); built from the {lines:,} lines" in capsys.readouterr().err
    assert len(load(tmp_path / "strict", "blift")) >= 3


def test_the_build_takes_arrow_memory_from_the_system_allocator_and_gives_the_pool_back(raw, tmp_path, monkeypatch):
    before, during = pa.default_memory_pool().backend_name, []

    def recording(*args, **kwargs):
        during.append(pa.default_memory_pool().backend_name)  # the filtering processes fork with it
        return finalize(*args, **kwargs)

    finalize = pipeline.finalize
    monkeypatch.setattr(pipeline, "finalize", recording)
    assert main(cli_args(raw, tmp_path / "out", "--configs", "blift", "--max-error-rate", "0.5")) == 0
    assert during == ["system"]
    assert pa.default_memory_pool().backend_name == before


def test_resume_after_interruption_matches_uninterrupted_build(raw, built, tmp_path, monkeypatch):
    out = tmp_path / "resumed"
    monkeypatch.setattr(pipeline, "CHECKPOINT_LINES", 3)
    monkeypatch.setattr(pipeline, "BLOCK_BYTES", 1)  # a line or two per block
    monkeypatch.setattr(pipeline, "SHARD_POSTS", 4)
    original, calls = pipeline._Stager.block, []  # the comment lines staged

    def counted(interrupt_at):
        def block(self, kind, path, first, data, end):
            if kind == "comments":
                calls.extend(range(first, first + data.count(b"\n") + 1))
                if interrupt_at is not None and len(calls) >= interrupt_at:
                    raise KeyboardInterrupt
            return original(self, kind, path, first, data, end)

        return block

    monkeypatch.setattr(pipeline._Stager, "block", counted(interrupt_at=8))
    with pytest.raises(KeyboardInterrupt):
        main(cli_args(raw, out, "--max-error-rate", "0.5", "--configs", "blift", "salicon_region"))
    assert gc.isenabled()  # the garbage collector, paused while the interrupted block was staged, is on again
    before = len(calls)
    monkeypatch.setattr(pipeline._Stager, "block", counted(interrupt_at=None))
    assert main(cli_args(raw, out, "--max-error-rate", "0.5", "--configs", "blift", "salicon_region", "--keep-work")) == 0
    comment_lines = len(calls) - before
    # the comments file resumed from its last checkpoint, not from the start, and nothing was counted twice
    assert 0 < comment_lines < before
    assert json.loads((out / "funnel.json").read_text()) == json.loads((built / "funnel.json").read_text())
    assert sorted(load(out, "blift")["id"]) == sorted(load(built, "blift")["id"])
    # a different filter setting must not silently reuse the staged data
    assert main(cli_args(raw, out, "--configs", "blift", "--filter", "youtube.min_views=5")) == 2


def test_the_next_file_is_staged_while_the_last_rows_of_the_previous_are_stored(raw, built, tmp_path, monkeypatch):
    """The ingest processes stage the next input's first blocks while the main process stores and commits the last
    ones of the input before (they waited for that): the first file's final checkpoint waits here for a block of
    another input to be staged, then the build is interrupted. It resumes to the same funnel and rows."""
    staged, checkpoint = tmp_path / "staged", pipeline._Ingest._checkpoint
    block, videos = pipeline._Stager.block, pipeline._Stager.videos

    def noting(name, method):  # the stager's method, noting its job's name in the ingest processes
        def staging(self, *args):
            with open(staged, "a") as out:
                out.write(f"{name(*args)}\n")
            return method(self, *args)

        return staging

    def interrupted_at_the_first_end(self, job, finished):
        if finished:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and set(staged.read_text().split()) <= {job.name}:
                time.sleep(0.01)
            assert set(staged.read_text().split()) > {job.name}
            raise KeyboardInterrupt
        return checkpoint(self, job, finished)

    monkeypatch.setattr(pipeline._Stager, "block", noting(lambda kind, path, *_: f"{kind}:{path}", block))
    monkeypatch.setattr(pipeline._Stager, "videos", noting(lambda *_: "youtube", videos))
    monkeypatch.setattr(pipeline._Ingest, "_checkpoint", interrupted_at_the_first_end)
    args = cli_args(raw, tmp_path / "out", "--num-proc", "2", "--max-error-rate", "0.5", "--configs", "blift")
    with pytest.raises(KeyboardInterrupt):
        main(args)
    with sqlite3.connect(tmp_path / "out" / WORK / "staging.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM progress WHERE finished").fetchone() == (0,)
    monkeypatch.setattr(pipeline._Ingest, "_checkpoint", checkpoint)
    assert main(args) == 0
    assert json.loads((tmp_path / "out" / "funnel.json").read_text()) == json.loads((built / "funnel.json").read_text())
    assert sorted(load(tmp_path / "out", "blift")["id"]) == sorted(load(built, "blift")["id"])


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stage", ["ingest", "finalize"])
def test_a_process_killed_stops_the_build_and_a_rerun_resumes(raw, built, tmp_path, monkeypatch, stage):
    """A staging or filtering process that dies (the OOM killer, a segfault) stops the build with an error at once;
    with `multiprocessing.Pool` the main process waited for its task forever."""
    builder = os.getpid()

    def dying(function):
        def in_a_worker_process(*args):
            if os.getpid() != builder:
                os._exit(1)
            return function(*args)

        return in_a_worker_process

    monkeypatch.setattr(pipeline, "SHARD_POSTS", 4)  # several shards, filtered in the processes
    args = cli_args(raw, tmp_path / "out", "--num-proc", "2", "--max-error-rate", "0.5", "--configs", "blift")
    with monkeypatch.context() as patch, pytest.raises(BrokenProcessPool):
        if stage == "ingest":
            patch.setattr(pipeline._Stager, "comment_lines", dying(pipeline._Stager.comment_lines))
        else:
            patch.setattr(pipeline, "near_duplicates", dying(pipeline.near_duplicates))
        main(args)
    assert main(args) == 0
    assert json.loads((tmp_path / "out" / "funnel.json").read_text()) == json.loads((built / "funnel.json").read_text())


def test_a_staging_database_of_an_earlier_version_resumes(raw, built, tmp_path):
    """Its comments table also has an author column (staged comments no longer keep one): the inserts name theirs."""
    out = tmp_path / "older"
    (out / WORK).mkdir(parents=True)
    with sqlite3.connect(out / WORK / "staging.sqlite") as db:
        db.execute("CREATE TABLE comments (post_key TEXT NOT NULL, score INTEGER, text TEXT, author TEXT)")
    assert main(cli_args(raw, out, "--max-error-rate", "0.5", "--configs", "blift")) == 0
    assert sorted(load(out, "blift")["id"]) == sorted(load(built, "blift")["id"])


def test_shard_funnels_of_an_earlier_version_resume_with_their_joined_comments_counted(raw, built, tmp_path):
    """The comments that join no post are the staged ones that no shard joined: a shard finalized by an earlier
    version, whose funnel lacks its count of them, has it counted in the database."""
    out = tmp_path / "older"
    assert main(cli_args(raw, out, "--max-error-rate", "0.5", "--configs", "blift", "--keep-work")) == 0
    funnel = json.loads((built / "funnel.json").read_text())
    assert funnel["dropped"]["comments"]["post dropped"][pipeline.NO_POST] > 0
    for path in (out / WORK / "records").glob("*.funnel.json"):
        path.write_text(json.dumps({k: v for k, v in json.loads(path.read_text()).items() if k != pipeline.JOINED}))
    assert main(cli_args(raw, out, "--max-error-rate", "0.5", "--configs", "blift")) == 0
    assert json.loads((out / "funnel.json").read_text()) == funnel


def test_a_rerun_over_changed_input_files_stages_them_again(raw, tmp_path, monkeypatch):
    """A resumed build continues from the positions it staged, which over changed files are other items (a yt-dlp
    download still adding videos to the folder shifted the YouTube job's): a changed input is staged again, and the
    same files resume without staging anything."""
    folder = shutil.copytree(raw["youtube"][0], tmp_path / "youtube")
    args = ["build-blift", "-o", str(tmp_path / "out"), "--youtube", str(folder), "--configs", "blift",
            "--max-error-rate", "0.5", "--keep-work"]  # fmt: skip
    assert main(args) == 0
    staged, videos = [], pipeline._Stager.videos
    monkeypatch.setattr(pipeline._Stager, "videos", lambda self, paths, first: staged.extend(paths) or videos(self, paths, first))
    assert main(args) == 0 and staged == []
    assert "youtube:yt_added_01" not in load(tmp_path / "out", "blift")["id"]
    (folder / "yt_added_01.info.json").write_text(json.dumps(info("yt_added_01")))
    (folder / "yt_added_01.mp4").write_bytes(b"another video")
    assert main(args) == 0
    assert "youtube:yt_added_01" in load(tmp_path / "out", "blift")["id"]  # not the first build's cached rows
    funnel = json.loads((tmp_path / "out" / "funnel.json").read_text())
    assert funnel["inputs"]["posts"] == len(staged) == len(list(folder.glob("*.info.json")))  # counted once


def test_a_salicon_config_without_fixations_is_refused_before_the_dumps_are_read(raw, tmp_path, capsys):
    without = {key: value for key, value in raw.items() if key != "salicon_fixations"}
    out = tmp_path / "refused"
    assert main(cli_args(without, out, "--configs", "blift", "salicon_region")) == 2
    assert "salicon_region needs --salicon-fixations" in capsys.readouterr().err
    assert not (out / WORK / "staging.sqlite").exists()


def test_push_to_hub_through_hfapi(built):
    with fake_hub("me/blift", repo_type="dataset") as hub:
        url = push_to_hub(built, "me/blift", token="hf_test")
    assert url.endswith("/commit/abc")
    assert hub.requests[0] == ("POST", "/api/repos/create")
    assert any("config_name: blift" in card for card in hub.validated_cards)
    uploaded = hub.committed
    parquet = sorted(str(path.relative_to(built)) for path in built.glob("*/*.parquet"))
    assert "blift/train-00000-of-00001.parquet" in parquet
    assert {"README.md", "funnel.json", "funnel.png", *parquet} <= set(uploaded)
    assert not any(path.startswith(".work") for path in uploaded)


def test_finalize_funnel_is_the_same_for_any_num_proc(built, tmp_path):
    """Shards finish in any order in parallel; their funnels are merged in shard order (examples and ties too)."""
    from hf_behavior.data.filters import load_filter_configs

    funnels = []
    for num_proc in (2, 1):
        work = tmp_path / f"work{num_proc}"
        work.mkdir()
        shutil.copy(built / WORK / "staging.sqlite", work / "staging.sqlite")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(pipeline, "SHARD_POSTS", 1)
            funnels.append(pipeline.finalize(work, load_filter_configs(), None, num_proc).to_dict())
    assert funnels[0] == funnels[1] and list(funnels[0]["examples"]) == list(funnels[1]["examples"])


def test_the_configs_tables_are_rendered_as_the_records_are_filtered(raw, built, tmp_path, monkeypatch):
    """Each config used to parse every record again; now the filtering processes render every config's table from
    the records in memory, so the export never reads the record files (here deleted once they are written), and
    the rows are those of `built` (whose configs are the defaults: all of them, with SALICON's)."""
    finalize = pipeline.finalize

    def finalize_then_delete_records(work, *args, **kwargs):
        funnel = finalize(work, *args, **kwargs)
        for shard in (work / "records").glob("*.jsonl"):
            shard.write_text("not a record\n")  # the builder would fail on it
        return funnel

    monkeypatch.setattr(pipeline, "finalize", finalize_then_delete_records)
    monkeypatch.setattr(pipeline, "SHARD_POSTS", 4)
    out = tmp_path / "once"
    assert main(cli_args(raw, out, "--max-error-rate", "0.5", "--num-proc", "2", "--configs", *BLIFT_CONFIGS)) == 0
    for config in BLIFT_CONFIGS:
        assert load(out, config).to_list() == load(built, config).to_list(), config
    assert not (out / WORK / "rendered").exists()  # the rendered tables go once every config is written


def test_shards_filtered_with_no_tables_are_rendered_by_the_first_config_that_needs_them(raw, built, tmp_path, monkeypatch):
    """A record shard filtered with no rendered tables (by an earlier run, or whose tables were lost) is read once,
    by the first config built, which renders every pending config's table of it."""
    out = tmp_path / "later"
    monkeypatch.setattr(pipeline, "SHARD_POSTS", 4)
    assert main(cli_args(raw, out, "--max-error-rate", "0.5", "--configs", "salicon_region", "--keep-work")) == 0
    records, reads = pipeline.record_shards(out / WORK), []
    render_shard = export._load_builder("blift").render_shard

    def counted(path, configs):
        reads.append(path)
        return render_shard(path, configs)

    monkeypatch.setattr(export._load_builder("blift"), "render_shard", counted)
    assert main(cli_args(raw, out, "--max-error-rate", "0.5", "--configs", "salicon_region", *BLIFT_CONFIGS)) == 0
    assert sorted(reads) == records
    for config in BLIFT_CONFIGS:
        assert load(out, config).to_list() == load(built, config).to_list(), config


def test_rendering_one_config_or_all_of_them_gives_the_same_table(built):
    builder = export._load_builder("blift")
    shards = pipeline.record_shards(built / WORK)
    assert len(shards) > 1
    for shard in shards:
        columns, picks = builder.render_shard(shard, list(BLIFT_CONFIGS))
        for config in BLIFT_CONFIGS:
            alone_columns, alone_picks = builder.render_shard(shard, [config])
            alone = builder.config_table(alone_columns, alone_picks[config])
            assert builder.config_table(columns, picks[config]).equals(alone), (shard, config)


def test_a_config_failing_in_its_process_stops_the_build_and_a_rerun_completes_it(raw, built, tmp_path, monkeypatch):
    """With --num-proc 2 the configs are written two at a time, each in its own process: one that fails there
    raises datasets' error in the build, with the cause's traceback, and the re-run writes what is missing (the same
    rows as `built`)."""
    blift = export._load_builder("blift")
    shard_table = blift.Blift._shard_table

    def failing(self, path):
        if self.config.name == "blift_titles":
            raise RuntimeError("disk full")
        return shard_table(self, path)

    monkeypatch.setattr(blift.Blift, "_shard_table", failing)
    out = tmp_path / "failed"
    with pytest.raises(DatasetGenerationError) as failure:
        main(cli_args(raw, out, "--max-error-rate", "0.5", "--num-proc", "2", "--configs", *BLIFT_CONFIGS))
    assert "RuntimeError: disk full" in str(failure.value.__cause__)  # the process's traceback, as the pool gives it
    assert not export.done_marker(out / WORK, "blift_titles").exists()
    monkeypatch.setattr(blift.Blift, "_shard_table", shard_table)
    assert main(cli_args(raw, out, "--max-error-rate", "0.5", "--num-proc", "2", "--configs", *BLIFT_CONFIGS)) == 0
    for config in BLIFT_CONFIGS:
        assert load(out, config).to_list() == load(built, config).to_list(), config


def test_an_export_interrupted_while_rendering_resumes_to_the_same_rows(raw, built, tmp_path, monkeypatch):
    """Killed inside the rendering (the first shard's tables written, the others not), the re-run renders what is
    missing and every config has `built`'s rows."""
    from hf_behavior.data import templates

    titles, calls = templates.CONFIG_TEMPLATES["blift_titles"], []
    first_shard = len(open(pipeline.record_shards(built / WORK)[0]).readlines())

    def interrupted(record):
        calls.append(record)
        if len(calls) == first_shard + 1:  # at the second shard's first record
            raise KeyboardInterrupt
        return titles(record)

    monkeypatch.setattr(pipeline, "SHARD_POSTS", 4)
    monkeypatch.setitem(templates.CONFIG_TEMPLATES, "blift_titles", interrupted)
    out = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        main(cli_args(raw, out, "--max-error-rate", "0.5", "--configs", *BLIFT_CONFIGS))
    assert len(list((out / WORK / "rendered").glob("*/blift_titles.arrow"))) == 1  # the first shard's only
    monkeypatch.setitem(templates.CONFIG_TEMPLATES, "blift_titles", titles)
    assert main(cli_args(raw, out, "--max-error-rate", "0.5", "--configs", *BLIFT_CONFIGS)) == 0
    for config in BLIFT_CONFIGS:
        assert load(out, config).to_list() == load(built, config).to_list(), config
