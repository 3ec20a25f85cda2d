"""The resumable build: raw dumps -> staging database -> filtered record shards.

1. `ingest` streams every input file once (posts first, then Reddit comments), applies the per-item filters and
   writes survivors to a SQLite staging database in the work folder. Duplicate posts and duplicate media are
   caught by unique keys; comments are matched to posts by key. Every `CHECKPOINT_LINES` lines the rows and the
   file's funnel counts are committed together, so an interrupted build resumes at the last checkpoint.
2. `finalize` reads the staging database in fixed shards of posts (in `num_proc` processes): joins
   verbalization sidecars, applies the duration filter, TF-IDF comment dedup, top-k and the minimum number of
   comments, and writes `records/<shard>.jsonl` + its funnel. Finished shards are skipped on resume.
Memory stays flat in the dump size: only one checkpoint's rows or one shard are held at a time.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from . import jsonl, reddit, youtube
from .dedup import content_hash, near_duplicates
from .filters import FilterConfig, Filters, family
from .media import MediaIndex
from .reader import iter_json_lines
from .records import Dropped, Record
from .report import Funnel

CHECKPOINT_LINES = 20_000
SHARD_POSTS = 5_000
SCHEMA = """
CREATE TABLE IF NOT EXISTS posts (key TEXT PRIMARY KEY, media_hash TEXT UNIQUE, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS comments (post_key TEXT NOT NULL, score INTEGER, text TEXT, author TEXT);
CREATE INDEX IF NOT EXISTS comments_by_post ON comments (post_key);
CREATE TABLE IF NOT EXISTS progress (job TEXT PRIMARY KEY, done INTEGER, finished INTEGER, funnel TEXT);
"""


@dataclass
class Inputs:
    reddit_submissions: list[str] = field(default_factory=list)
    reddit_comments: list[str] = field(default_factory=list)
    reddit_media: list[str] = field(default_factory=list)  # folders with <post id>.<ext> / <youtube id>.<ext>
    youtube: list[str] = field(default_factory=list)  # .info.json files or folders
    generic: list[str] = field(default_factory=list)
    sidecar_dir: str | None = None
    brand_channels: list[str] = field(default_factory=list)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;" + SCHEMA)
    return db


def _where(origin: str, drop: Dropped) -> str:
    return f"{origin} ({drop.detail})" if drop.detail else origin


class _Ingest:
    """State of one ingest pass: the database, compiled filters and the running funnel of the current file."""

    def __init__(self, db: sqlite3.Connection, filters: dict[str, Filters], inputs: Inputs):
        self.db, self.filters, self.inputs = db, filters, inputs
        self.media = MediaIndex(inputs.reddit_media)
        self.brands = frozenset(inputs.brand_channels)
        self.funnel = Funnel()

    def add_post(self, make_record, origin: str, raw_comments: int = 0) -> None:
        """Count, build (`make_record()` may raise `Dropped`), filter and store one post with its comments."""
        funnel = self.funnel
        funnel.add_input("posts")
        funnel.add_input("comments", raw_comments)
        try:
            record = make_record()
        except Dropped as drop:
            funnel.drop("posts", drop.stage, str(drop), where=_where(origin, drop), error=drop.error)
            funnel.drop("comments", "post dropped", f"post dropped at {drop.stage}", raw_comments)
            return
        rules = self.filters[family(record)]
        if len(record.comments) != raw_comments:  # replies and malformed entries the reader left out
            funnel.drop("comments", "read", "reply or malformed comment", raw_comments - len(record.comments))
        reason = rules.post_reason(record)
        if reason is not None:
            funnel.drop("posts", "post filters", reason, where=origin)
            funnel.drop("comments", "post dropped", "post dropped at post filters", len(record.comments))
            return
        comments, dropped = rules.screen_comments(record.comments)
        for why, n in dropped.items():
            funnel.drop("comments", "comment filters", why, n)
        if rules.config.dedup_media:
            record.media_hash = content_hash(record.media_path, record.media_url)
        record.comments = []
        try:
            self.db.execute("INSERT INTO posts VALUES (?, ?, ?)", (record.key, record.media_hash, record.to_json()))
        except sqlite3.IntegrityError as err:
            why = "duplicate media" if "media_hash" in str(err) else "same post id seen before"
            funnel.drop("posts", "duplicate media", why, where=origin)
            funnel.drop("comments", "post dropped", "post dropped at duplicate media", len(comments))
            return
        self.db.executemany(
            "INSERT INTO comments VALUES (?, ?, ?, ?)", [(record.key, c["score"], c["text"], c.get("author")) for c in comments]
        )

    def add_comment(self, obj: dict, origin: str) -> None:
        funnel = self.funnel
        funnel.add_input("comments")
        try:
            key, comment = reddit.comment_to_row(obj)
        except Dropped as drop:
            funnel.drop("comments", drop.stage, str(drop), where=_where(origin, drop), error=drop.error)
            return
        reason = self.filters["reddit"].comment_reason(comment)
        if reason is not None:
            funnel.drop("comments", "comment filters", reason)
            return
        inserted = self.db.execute(
            "INSERT INTO comments SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM posts WHERE key = ?)",
            (key, comment["score"], comment["text"], comment["author"], key),
        ).rowcount
        if not inserted:
            funnel.drop("comments", "post dropped", "post filtered out or not in the dump")

    # ---- one job = one file (or the list of YouTube info files) ------------------------------------------

    def run_lines(self, job: str, path: str, unit: str, handle) -> None:
        done = self._resume(job)
        if done is None:
            return
        line_no = done
        for line_no, obj, error in tqdm(iter_json_lines(path, skip_lines=done), desc=Path(path).name, unit=" lines", leave=False):
            if error is not None:
                self.funnel.add_input(unit)
                self.funnel.drop(unit, "read", error.reason.split(" (")[0], where=str(error), error=True)
            else:
                handle(obj, f"{path}:{line_no}")
            if line_no % CHECKPOINT_LINES == 0:
                self._checkpoint(job, line_no, finished=False)
        self._checkpoint(job, line_no, finished=True)

    def run_youtube(self, files: list[Path]) -> None:
        job = "youtube:" + str(len(files))
        done = self._resume(job)
        if done is None:
            return
        rules = self.filters["youtube"]
        for index in tqdm(range(done, len(files)), desc="youtube info.json", leave=False):
            path = files[index]
            try:
                info = youtube.read_info(path)
            except Dropped as drop:
                self.funnel.add_input("posts")
                self.funnel.drop("posts", drop.stage, str(drop), where=_where(str(path), drop), error=True)
                continue
            raw = info.get("comments") if isinstance(info.get("comments"), list) else []
            self.add_post(
                lambda: youtube.info_to_record(info, path, self.brands, rules.config.require_media), str(path), len(raw)
            )
            if (index + 1) % 1000 == 0:
                self._checkpoint(job, index + 1, finished=False)
        self._checkpoint(job, len(files), finished=True)

    def _resume(self, job: str) -> int | None:
        """Lines already done for `job` (its funnel so far loaded), or None when the job is finished."""
        row = self.db.execute("SELECT done, finished, funnel FROM progress WHERE job = ?", (job,)).fetchone()
        self.funnel = Funnel() if row is None else Funnel.from_dict(json.loads(row[2]))
        return 0 if row is None else (None if row[1] else row[0])

    def _checkpoint(self, job: str, done: int, finished: bool) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO progress VALUES (?, ?, ?, ?)", (job, done, int(finished), json.dumps(self.funnel.to_dict()))
        )
        self.db.commit()


def ingest(inputs: Inputs, filter_configs: dict[str, FilterConfig], work_dir: Path) -> None:
    """Stage 1: stream every input into `work_dir/staging.sqlite` (resumes where a previous run stopped)."""
    db = _connect(work_dir / "staging.sqlite")
    state = _Ingest(db, {name: Filters(cfg) for name, cfg in filter_configs.items()}, inputs)
    require_reddit_media = filter_configs["reddit"].require_media

    def add_submission(obj, origin):
        state.add_post(lambda: reddit.submission_to_record(obj, origin, state.media, require_reddit_media), origin)

    for path in inputs.reddit_submissions:
        state.run_lines(f"submissions:{path}", path, "posts", add_submission)
    if inputs.youtube:
        state.run_youtube(youtube.info_files(inputs.youtube))
    for path in inputs.generic:
        base, require_media = Path(path).parent, filter_configs["generic"].require_media

        def add_item(obj, origin, base=base):
            raw = obj.get("comments") if isinstance(obj.get("comments"), list) else []
            state.add_post(lambda: jsonl.item_to_record(obj, origin, base, require_media), origin, len(raw))

        state.run_lines(f"generic:{path}", path, "posts", add_item)
    for path in inputs.reddit_comments:
        state.run_lines(f"comments:{path}", path, "comments", state.add_comment)
    db.close()


def ingest_funnel(work_dir: Path) -> Funnel:
    db = sqlite3.connect(work_dir / "staging.sqlite")
    funnel = Funnel()
    for (data,) in db.execute("SELECT funnel FROM progress"):
        funnel.merge(Funnel.from_dict(json.loads(data)))
    db.close()
    return funnel


# ---- stage 2 ------------------------------------------------------------------------------------------------


def scene_replay(heatmap: list[dict], start: float, end: float) -> float | None:
    """Mean replay value over [start, end], weighted by overlap with each heatmap segment."""
    total = weight = 0.0
    for segment in heatmap:
        overlap = min(end, segment["end"]) - max(start, segment["start"])
        if overlap > 0:
            total += overlap * segment["value"]
            weight += overlap
    return round(total / weight, 4) if weight else None


def attach_verbalization(record: Record, sidecar_dir: str | None) -> Dropped | None:
    """Join the record's sidecar (`<media_id>.json`) when present; a failed or unreadable one is a drop."""
    if not sidecar_dir:
        return None
    path = Path(sidecar_dir) / f"{record.media_id}.json"
    if not path.is_file():
        return None
    try:
        sidecar = json.loads(path.read_text(encoding="utf-8"))
        status = sidecar["status"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
        return Dropped("unreadable sidecar", detail=f"{path}: {type(err).__name__}", stage="verbalization", error=True)
    if status != "done":
        error = str(sidecar.get("error") or status).splitlines()[0][:200]
        return Dropped("verbalization failed", detail=error, stage="verbalization", error=True)
    record.scenes = []
    for scene in sidecar.get("scenes") or []:
        scene = dict(scene)
        if scene.get("replay") is None and record.heatmap and record.media_kind == "video":
            scene["replay"] = scene_replay(record.heatmap, scene.get("start", 0.0), scene.get("end", 0.0))
        record.scenes.append(scene)
    record.asr = record.asr or sidecar.get("asr")
    if record.duration is None:
        record.duration = sidecar.get("duration")
    return None


def _finalize_shard(args) -> dict:
    db_path, index, lo, hi, configs, sidecar_dir, out_dir = args
    filters = {name: Filters(FilterConfig(**cfg)) for name, cfg in configs.items()}
    funnel = Funnel()
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    posts = [Record.from_json(p) for (p,) in db.execute("SELECT payload FROM posts WHERE rowid >= ? AND rowid < ? ORDER BY rowid", (lo, hi))]
    by_key = {record.key: record for record in posts}
    query = (
        "SELECT c.post_key, c.score, c.text, c.author FROM comments c JOIN posts p ON c.post_key = p.key "
        "WHERE p.rowid >= ? AND p.rowid < ? ORDER BY c.post_key, c.score DESC, c.rowid"
    )
    for key, score, text, author in db.execute(query, (lo, hi)):
        by_key[key].comments.append({"text": text, "score": score, "author": author})
    db.close()

    survivors = []
    for record in posts:
        rules = filters[family(record)]
        drop = attach_verbalization(record, sidecar_dir)
        if drop is None and rules.config.require_verbalization and not record.scenes:
            drop = Dropped("no verbalization sidecar", stage="verbalization")
        if drop is None and (reason := rules.duration_reason(record)) is not None:
            drop = Dropped(reason)
        if drop is not None:
            funnel.drop("posts", drop.stage, str(drop), where=_where(record.origin, drop), error=drop.error)
            funnel.drop("comments", "post dropped", f"post dropped at {drop.stage}", len(record.comments))
            continue
        candidates = rules.config.max_candidate_comments
        funnel.drop("comments", "top-k", f"beyond the {candidates} best-scored candidates", len(record.comments[candidates:]))
        record.comments = record.comments[:candidates]
        survivors.append(record)

    for name, rules in filters.items():
        group = [r for r in survivors if family(r) == name]
        threshold = rules.config.tfidf_threshold
        if not group or threshold is None:
            continue
        flags = near_duplicates([[c["text"] for c in r.comments] for r in group], threshold)
        for record, flagged in zip(group, flags):
            funnel.drop("comments", "comment dedup", f"TF-IDF similarity >= {threshold:g}", sum(flagged))
            record.comments = [c for c, dup in zip(record.comments, flagged) if not dup]

    os.makedirs(out_dir, exist_ok=True)
    tmp = Path(out_dir) / f"{index:05d}.jsonl.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        for record in survivors:
            cfg = filters[family(record)].config
            top_k = cfg.top_k_comments
            funnel.drop("comments", "top-k", f"beyond the top {top_k}", len(record.comments[top_k:]))
            record.comments = record.comments[:top_k]
            if len(record.comments) < cfg.min_comments:
                funnel.drop("posts", "post comments", f"fewer than {cfg.min_comments} comments", where=record.origin)
                funnel.drop("comments", "post dropped", "post had too few comments", len(record.comments))
                continue
            out.write(record.to_json() + "\n")
    os.replace(tmp, Path(out_dir) / f"{index:05d}.jsonl")
    stats = funnel.to_dict()
    (Path(out_dir) / f"{index:05d}.funnel.json").write_text(json.dumps(stats))
    return stats


def finalize(work_dir: Path, filter_configs: dict[str, FilterConfig], sidecar_dir: str | None, num_proc: int = 1) -> Funnel:
    """Stage 2: filtered record shards in `work_dir/records/` (finished shards are kept on resume)."""
    db_path = work_dir / "staging.sqlite"
    with sqlite3.connect(db_path) as db:
        max_rowid = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM posts").fetchone()[0]
    out_dir = work_dir / "records"
    configs = {name: asdict(cfg) for name, cfg in filter_configs.items()}
    shards = [
        (str(db_path), i, i * SHARD_POSTS + 1, (i + 1) * SHARD_POSTS + 1, configs, sidecar_dir, str(out_dir))
        for i in range(math.ceil(max_rowid / SHARD_POSTS))
    ]
    funnel = Funnel()
    todo = []
    for shard in shards:
        stats = out_dir / f"{shard[1]:05d}.funnel.json"
        if stats.is_file():
            funnel.merge(Funnel.from_dict(json.loads(stats.read_text())))
        else:
            todo.append(shard)
    bar = tqdm(total=len(shards), initial=len(shards) - len(todo), desc="filtering shards", unit=" shards")
    if num_proc > 1 and len(todo) > 1:
        with multiprocessing.get_context("fork").Pool(min(num_proc, len(todo))) as pool:
            for stats in pool.imap_unordered(_finalize_shard, todo):
                funnel.merge(Funnel.from_dict(stats))
                bar.update()
    else:
        for shard in todo:
            funnel.merge(Funnel.from_dict(_finalize_shard(shard)))
            bar.update()
    bar.close()
    return funnel


def record_shards(work_dir: Path) -> list[str]:
    return sorted(str(p) for p in (work_dir / "records").glob("*.jsonl"))
