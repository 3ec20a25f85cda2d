"""The resumable build: raw dumps -> staging database -> filtered record shards.

1. `ingest` streams every input file once (posts first, then Reddit comments), applies the per-item filters and
   writes survivors to a SQLite staging database in the work folder. Lines (and YouTube info files) are parsed
   and filtered in blocks (in `num_proc` processes, results taken in file order); the main process does the
   inserts. Duplicate posts and duplicate media are caught by unique keys.
   About every `CHECKPOINT_LINES` lines (`CHECKPOINT_VIDEOS` info files) the rows and the job's funnel counts are
   committed together, so an interrupted build resumes at the last checkpoint; a rerun over changed inputs keeps
   the staged work of the jobs before the first changed one (`_Ingest.reuse_staged`). A truncated or corrupt `.zst`
   stops the ingest (`TruncatedInput`) unless it is allowed.
2. `finalize` reads the staging database in fixed shards of posts (in `num_proc` processes): joins
   verbalization sidecars, drops the copies of a comment id, applies the duration filter (a video's duration read
   from its media file when neither its metadata nor its sidecar has one), TF-IDF comment dedup, top-k and the
   minimum number of comments, and writes `records/<shard>.jsonl` (and, given a `render`, the export's tables of
   it) + its funnel.
   Finished shards are skipped on resume. Comments are joined to their posts here, by key; those that join none
   (their post was filtered out or is not in the dumps) are counted as drops at the end.
Memory stays flat in the dump size: only a few blocks of lines, one checkpoint's rows or one shard are held at
a time (and SQLite's page cache, capped at 64 MiB).
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import multiprocessing
import os
import sqlite3
from collections import deque
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from . import jsonl, reddit, youtube
from .dedup import content_hash, near_duplicates
from .filters import REPLY, UNSELECTED_SUBREDDIT, FilterConfig, Filters, family, true_flags
from .media import FolderListing, MediaIndex, video_duration
from .reader import LineError, iter_line_blocks, parse_line, read_json_file
from .records import Dropped, MissingField, MissingMedia, Record, optional, optional_number, optional_strings, require
from .report import Funnel

CHECKPOINT_LINES = 100_000  # a commit writes every page it touched: fewer commits, less writing; ~1 s redone on resume
BLOCK_BYTES = 1 << 20  # about this much of a file's lines is staged per task in the ingest processes
CHECKPOINT_VIDEOS = 1_000
BLOCK_VIDEOS = 8  # YouTube info files staged per task (one holds up to megabytes of comments)
# blocks in flight per staging process: results are taken in order, so a slow block holds back the next ones', and
# the other processes must have work queued meanwhile
BLOCKS_IN_FLIGHT = 4
SHARD_POSTS = 5_000
JOINED = "joined_comments"  # a finalized shard's count of the staged comments its posts have
NO_POST = "post filtered out or not in the dump"  # a comment's drop reason when its post is not staged
SCHEMA = """
CREATE TABLE IF NOT EXISTS posts (key TEXT PRIMARY KEY, media_hash TEXT UNIQUE, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS comments (post_key TEXT NOT NULL, score INTEGER, text TEXT);
CREATE TABLE IF NOT EXISTS progress (job TEXT PRIMARY KEY, done INTEGER, finished INTEGER, funnel TEXT);
CREATE TABLE IF NOT EXISTS staged (job TEXT PRIMARY KEY, fingerprint TEXT, posts_end INTEGER, comments_end INTEGER);
"""
# columns named, so that a staging database of an earlier version (whose comments also had an author column) resumes
INSERT_COMMENTS = "INSERT INTO comments (post_key, score, text, id)"
INSERT_POSTS = "INSERT OR IGNORE INTO posts (key, media_hash, payload)"
ROWS_PER_INSERT = 50


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
    # a 64 MiB page cache keeps the unique-key indexes' inserts off the disk; memory stays flat at that. A rollback
    # journal rather than WAL: the staging database grows by new pages, which a rollback journal does not copy,
    # while WAL wrote each page twice (the log, then the checkpoint): the main process's inserts and commits of
    # 200k posts and 600k comments took 3.0-3.35 s instead of 3.5-4.3 s. 16 KiB pages rather than 4: a quarter as
    # many pages to split, write and sync (the inserts of 200k posts 1.9-2.05 -> 1.35-1.5 s, of 600k comments
    # 1.35-1.45 -> 1.1-1.2 s), and finalize's reads no slower. A database of an earlier version keeps its page size.
    db.executescript(
        "PRAGMA page_size=16384; PRAGMA journal_mode=TRUNCATE; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
        + SCHEMA
    )
    if "id" not in {row[1] for row in db.execute("PRAGMA table_info(comments)")}:  # an earlier version's
        db.execute("ALTER TABLE comments ADD COLUMN id TEXT")
    return db


def _insert(db: sqlite3.Connection, insert: str, rows: list[tuple]) -> None:
    """`db.executemany` of `insert` ("INSERT ... INTO table (columns)") over `rows`, `ROWS_PER_INSERT` rows to a
    statement: binding many rows and stepping once cost less than a step per row (the main process's inserts of 200k
    posts and 600k comments: 1.7-1.9 -> 1.4-1.5 s and 1.3-1.9 -> 0.8-1.3 s)."""
    if not rows:
        return
    row = "(" + ", ".join("?" * len(rows[0])) + ")"
    full = len(rows) - len(rows) % ROWS_PER_INSERT
    if full:
        chunks = (chain.from_iterable(rows[i : i + ROWS_PER_INSERT]) for i in range(0, full, ROWS_PER_INSERT))
        db.executemany(f"{insert} VALUES {', '.join([row] * ROWS_PER_INSERT)}", map(tuple, chunks))
    db.executemany(f"{insert} VALUES {row}", rows[full:])


@contextmanager
def _collector_paused():
    """The cyclic garbage collector off while blocks are staged and stored or a shard is filtered (as a decorator):
    the records, dicts and lists built there hold no cycles, yet as they piled up its collections walked them again
    and again, a tenth of a shard's CPU. It is on again afterwards, for whatever cycles a library made."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def processes(num_proc: int, initializer=None):
    """A `ProcessPoolExecutor` of `num_proc` forked processes (they inherit what the caller set up), shut down when the
    block ends; after an error the tasks not begun are dropped and the processes end after their own. Not
    `multiprocessing.Pool`: its worker-handler thread loops while a result waits to be read (0.8 CPU-s of the 200k
    benchmark's ingest, holding the GIL from the threads at work), and a process that dies leaves it waiting
    forever, where the executor raises `BrokenProcessPool`."""
    executor = ProcessPoolExecutor(num_proc, multiprocessing.get_context("fork"), initializer)
    try:
        yield executor
    except BaseException:
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    executor.shutdown()


def _where(origin: str, drop: Dropped) -> str:
    return f"{origin} ({drop.detail})" if drop.detail else origin


def _media_wanted(record: Record) -> str:
    """The media file a record's post needs, for the "media file not found" examples."""
    if record.platform == "youtube":
        return f"no {record.media_id}.<ext> beside {Path(record.origin).name}"
    return f"no {record.media_id}.<ext>"


class _Stager:
    """The per-item half of ingest: parse a line (or read an info file), build the record, apply the per-item
    filters and serialise the survivor, counting every drop in the funnel it is given. It never touches the
    database, so blocks of lines and of info files are staged in `num_proc` processes while the main process does
    the inserts."""

    def __init__(self, filters: dict[str, Filters], inputs: Inputs):
        self.filters = filters
        self.media = MediaIndex(inputs.reddit_media)
        self.brands = frozenset(inputs.brand_channels)
        self.listing = FolderListing()  # the folder of the YouTube info files staged last

    def post(
        self, make_record, origin: str, raw_comments: int, funnel: Funnel, nsfw_title: bool | None = None,
        bot: bool | None = None,
    ) -> tuple | None:  # fmt: skip
        """Build (`make_record()` may raise `Dropped`) and filter one post (already counted as input) with its
        comments: `(key, media_hash, payload, comment rows, origin)` for the database, or None when it was dropped.
        `nsfw_title`, `bot`: the post filters' look-ups of its title and author, when they were made in bulk."""
        funnel.add_input("comments", raw_comments)
        try:
            record = make_record()
        except Dropped as drop:
            funnel.drop("posts", drop.stage, str(drop), where=_where(origin, drop), error=drop.error)
            funnel.drop("comments", "post dropped", f"post dropped at {drop.stage}", raw_comments)
            return None
        rules = self.filters[family(record)]
        if len(record.comments) != raw_comments:  # malformed entries the reader left out
            funnel.drop("comments", "read", "malformed comment", raw_comments - len(record.comments))
        reason = rules.post_reason(record, nsfw_title, bot)
        if reason is not None:
            funnel.drop("posts", "post filters", reason, where=origin)
            funnel.drop("comments", "post dropped", "post dropped at post filters", len(record.comments))
            return None
        if record.media_path is None and (rules.config.require_media or not record.media_url):
            # after the post filters: media is downloaded for the posts that pass them, and the others keep their reason
            drop = MissingMedia("media file not found", detail=_media_wanted(record))
            funnel.drop("posts", drop.stage, str(drop), where=_where(origin, drop), error=True)
            funnel.drop("comments", "post dropped", f"post dropped at {drop.stage}", len(record.comments))
            return None
        comments, dropped = rules.screen_comments(record.comments)
        for why, n in dropped.items():
            funnel.drop("comments", "comment filters", why, n)
        if rules.config.dedup_media:
            record.media_hash = content_hash(record.media_path, record.media_url)
        record.comments = []
        rows = [(record.key, c["score"], c["text"], c.get("id")) for c in comments]
        return record.key, record.media_hash, record.to_json(), rows, origin

    def unselected(self, subreddit) -> bool:
        """Whether a raw Reddit line's `subreddit` value is one the post filter does not select: checked before
        anything else is read from the line, as a monthly dump's lines are mostly (~98%) of other subreddits."""
        return type(subreddit) is str and self.filters["reddit"].unselected_subreddit(subreddit)

    def comment(self, obj: dict, path: str, line_no: int, funnel: Funnel) -> tuple | None:
        """A Reddit comment line (already counted as input) as `(post key, score, text, id, author)` for the comment
        filters (`screen`), or None when dropped (a reply, with `top_level_only`, as YouTube's are). Its file:line
        is spelled out only for a drop: comments are most of the lines.

        A comment of an unselected subreddit is dropped at once, as its post was, with none of its own checks and
        not staged."""
        if self.unselected(obj.get("subreddit")):
            funnel.drop("comments", "post dropped", NO_POST)
            return None
        try:
            key, score, text, author, comment_id, reply = reddit.comment_to_row(obj)
        except Dropped as drop:
            funnel.drop("comments", drop.stage, str(drop), where=_where(f"{path}:{line_no}", drop), error=drop.error)
            return None
        if reply and self.filters["reddit"].config.top_level_only:
            funnel.drop("comments", "comment filters", REPLY)
            return None
        return key, score, text, comment_id, author

    def screen(self, comments: list[tuple], funnel: Funnel) -> list[tuple]:
        """The database rows `(post key, score, text, id)` of the `comment` tuples the comment filters keep, filtered
        all at once (the author is only read here)."""
        reasons = self.filters["reddit"].comment_reasons([c[2] for c in comments], [c[4] for c in comments])
        rows = []
        for comment, reason in zip(comments, reasons):
            if reason is None:
                rows.append(comment[:4])
            else:
                funnel.drop("comments", "comment filters", reason)
        return rows

    def comment_lines(self, path: str, first: int, lines: list[bytes], funnel: Funnel) -> list[tuple] | None:
        """The database rows of a block's comment lines (from number `first` on), filtered all at once over their
        fields as Arrow columns: the same rows and funnel as `comment` and `screen` line by line (3.0 instead of 3.7
        us a line of the benchmark's dump, 6.5 instead of 6.8 for a real dump's longer lines). None, with nothing
        counted, unless every line is a JSON object whose fields are of a comment's types (strings or null, an
        integer score or none): a block with a blank or unreadable line, or a field of another type, goes line by
        line. A comment that lacks a field or whose link_id is no "t3_..." is dropped by `comment`, with its
        file:line."""
        try:
            # each line's object dropped once its fields are taken: a block of a real dump's objects (~60 fields each)
            # kept alive at once cost more than the per-line path saves
            fields = [
                (obj.get("subreddit"), obj.get("link_id"), obj.get("body"), obj.get("author"), obj.get("id"),
                 obj.get("parent_id"), obj.get("score", 0))
                for obj in map(orjson.loads, lines)
            ]  # fmt: skip
            *strings, scores = zip(*fields)
            subreddits, link_ids, texts, authors, ids, parents = (pa.array(column, pa.string()) for column in strings)
            scores = pa.array(scores)
        except (orjson.JSONDecodeError, AttributeError, pa.ArrowException, OverflowError):  # not dicts, other types
            return None
        if scores.type != pa.int64() and scores.null_count < len(scores):
            return None
        rules = self.filters["reddit"]
        unselected = np.zeros(len(lines), bool)
        if rules.subreddits is not None:
            names = pc.dictionary_encode(subreddits)  # a block's few subreddits, each looked up once
            looked_up = [rules.unselected_subreddit(name) for name in names.dictionary.to_pylist()] + [False]
            unselected = np.array(looked_up)[pc.fill_null(names.indices, len(names.dictionary)).to_numpy()]
            if unselected.any():
                funnel.drop("comments", "post dropped", NO_POST, int(unselected.sum()))
        readable = pc.and_(pc.and_(pc.is_valid(texts), pc.is_valid(scores)), pc.starts_with(link_ids, "t3_"))
        readable = true_flags(readable) & ~unselected
        for i in np.flatnonzero(~readable & ~unselected):
            self.comment(orjson.loads(lines[i]), path, first + i, funnel)  # the drop, with the field it names
        if rules.config.top_level_only:  # replies: a parent_id of another comment (t1_...)
            replies = readable & true_flags(pc.invert(pc.starts_with(parents, "t3_")))
            if replies.any():
                funnel.drop("comments", "comment filters", REPLY, int(replies.sum()))
                readable &= ~replies
        batch = {"key": link_ids, "score": scores, "text": texts, "author": authors, "id": ids}
        rows = pa.record_batch(batch).filter(readable)
        reasons, dropped = rules.comment_reasons(rows["text"], rows["author"]), {}
        for reason in filter(None, reasons):  # counted in the order `screen` meets them
            dropped[reason] = dropped.get(reason, 0) + 1
        for reason, n in dropped.items():
            funnel.drop("comments", "comment filters", reason, n)
        rows = rows.filter(np.equal(np.array(reasons, object), None))
        keys = pc.binary_join_element_wise("reddit:", pc.utf8_slice_codeunits(rows["key"], 3), "")
        return list(zip(keys.to_pylist(), rows["score"].to_pylist(), rows["text"].to_pylist(), rows["id"].to_pylist()))

    def submission_lines(self, path: str, first: int, lines: list[bytes], funnel: Funnel) -> list[tuple] | None:
        """The database rows of a block's submission lines (from number `first` on): the same rows and funnel as
        `line_by_line`, with the titles' NSFW words and the authors' bot check looked up for all posts at once, and the
        posts of the common shape built from their fields with inline checks (`reddit.image_submission`); any other
        post goes through `submission_to_record` as line by line (17 instead of 22 us a post of the benchmark's dump).
        None, with nothing counted, unless every line is a JSON object whose title and author are strings or null."""
        try:
            # each line's object dropped once its fields are taken (see `comment_lines`)
            values = [tuple(map(obj.get, reddit.SUBMISSION_FIELDS)) for obj in map(orjson.loads, lines)]
            titles, authors = (pa.array(column, pa.string()) for column in list(zip(*values))[5:7])
        except (orjson.JSONDecodeError, AttributeError, pa.ArrowException):  # not dicts, other types
            return None
        rules, media = self.filters["reddit"], self.media
        nsfw_titles, bots = rules.nsfw_flags(titles), rules.bot_flags(authors)
        staged = []
        for i, fields in enumerate(values):
            origin = f"{path}:{first + i}"
            if self.unselected(fields[1]):
                funnel.drop("posts", "post filters", UNSELECTED_SUBREDDIT, where=origin)
                continue
            record = reddit.image_submission(fields, origin, media)
            if record is not None:
                row = self.post(lambda: record, origin, 0, funnel, nsfw_titles[i], bots[i])
            else:
                make_record = partial(reddit.submission_to_record, orjson.loads(lines[i]), origin, media)
                row = self.post(make_record, origin, 0, funnel)
            if row is not None:
                staged.append(row)
        return staged

    def line_by_line(
        self, kind: str, path: str, first: int, lines: list[bytes], funnel: Funnel
    ) -> tuple[list[tuple], int]:
        """Stage a block's lines of a `kind` file one by one: its rows and its number of (non-blank) lines."""
        staged, inputs = [], 0
        base = Path(path).parent
        unit = "comments" if kind == "comments" else "posts"
        for line_no, raw in enumerate(lines, first):
            if not raw.strip():
                continue
            inputs += 1
            obj, error = parse_line(path, line_no, raw)
            if error is not None:
                _unreadable(funnel, unit, error)
                continue
            if kind == "comments":
                row = self.comment(obj, path, line_no, funnel)
            elif kind == "submissions":
                origin = f"{path}:{line_no}"
                if self.unselected(obj.get("subreddit")):
                    funnel.drop("posts", "post filters", UNSELECTED_SUBREDDIT, where=origin)
                    continue
                row = self.post(lambda: reddit.submission_to_record(obj, origin, self.media), origin, 0, funnel)
            else:
                origin = f"{path}:{line_no}"
                raw_comments = obj.get("comments") if isinstance(obj.get("comments"), list) else []
                row = self.post(lambda: jsonl.item_to_record(obj, origin, base), origin, len(raw_comments), funnel)
            if row is not None:
                staged.append(row)
        if kind == "comments":
            staged = self.screen(staged, funnel)
        return staged, inputs

    @_collector_paused()
    def block(
        self, kind: str, path: str, first: int, data: bytes, end: LineError | None
    ) -> tuple[Funnel, list[tuple], int]:
        """Stage one `iter_line_blocks` block of a `kind` file (its lines, from number `first` on, and the error
        that ended the file, if any): its funnel, its rows and its last line. A block of comments or submissions is
        staged at once (`comment_lines`, `submission_lines`) unless it needs to go line by line."""
        lines = data.split(b"\n")
        funnel = Funnel()
        unit = "comments" if kind == "comments" else "posts"
        at_once = {"comments": self.comment_lines, "submissions": self.submission_lines}.get(kind)
        if at_once is not None and (staged := at_once(path, first, lines, funnel)) is not None:
            inputs = len(lines)
        else:
            staged, inputs = self.line_by_line(kind, path, first, lines, funnel)
        funnel.add_input(unit, inputs + (end is not None))  # the error that ended the file is one unreadable input
        if end is not None:
            _unreadable(funnel, unit, end)
            funnel.truncated[path] = [end.line - 1, end.reason]  # the lines read before the cut, and what it is
            return funnel, staged, end.line
        return funnel, staged, first + len(lines) - 1

    @_collector_paused()
    def videos(self, paths: list[Path], first: int) -> tuple[Funnel, list[tuple], int]:
        """Stage YouTube info files, number `first` on of the job's list: their funnel, rows and the next number."""
        funnel, staged = Funnel(), []
        for path in paths:
            funnel.add_input("posts")
            try:
                info = read_json_file(path)
            except Dropped as drop:
                funnel.drop("posts", drop.stage, str(drop), where=_where(str(path), drop), error=True)
                continue
            raw = info.get("comments") if isinstance(info.get("comments"), list) else []
            make_record = partial(youtube.info_to_record, info, path, self.brands, self.listing)
            row = self.post(make_record, str(path), len(raw), funnel)
            if row is not None:
                staged.append(row)
        return funnel, staged, first + len(paths)


def _unreadable(funnel: Funnel, unit: str, error: LineError) -> None:
    funnel.drop(unit, "read", error.reason.split(" (")[0], where=str(error), error=True)


_STAGER: _Stager | None = None  # the forked ingest processes' copy


def _stage(method: str, args: tuple) -> tuple[Funnel, list[tuple], int]:
    return getattr(_STAGER, method)(*args)


@dataclass
class _Job:
    """One file of lines (or the list of YouTube info files) to stage: its progress row in the database, the
    fingerprint of its files (`file_fingerprint`), the stager's method for its blocks (`blocks(done)`: those from item
    `done` on), how its rows are stored, how often it is checkpointed, and, while it runs, its funnel so far and items
    done."""

    name: str
    fingerprint: str
    method: str
    blocks: Callable[[int], Iterator[tuple]]
    store: Callable[[sqlite3.Connection, list[tuple], Funnel], None]  # inserts a block's staged rows
    every: int
    bar: dict  # the tqdm progress bar's arguments
    funnel: Funnel = field(default_factory=Funnel)
    done: int = 0


def _store_posts(db: sqlite3.Connection, staged: list[tuple], funnel: Funnel) -> None:
    """Insert staged posts and their comments; a post whose key or media is already there is a drop.

    A block goes in with two `_insert` calls (a statement per post cost a fifth of the main process); when a unique key
    turned some posts away, each post's stored payload tells whether it is the one kept (no two lines share a payload,
    even the very same line twice: it holds its origin, file:line).
    """
    before = db.total_changes
    _insert(db, INSERT_POSTS, [row[:3] for row in staged])
    if db.total_changes - before < len(staged):
        staged = [row for row in staged if not _duplicate(db, funnel, *row)]
    _store_comments(db, [c for row in staged for c in row[3]], funnel)


def _duplicate(
    db: sqlite3.Connection, funnel: Funnel, key: str, media_hash: str | None, payload: str, comments: list, origin: str
) -> bool:
    """Whether the insert turned this post away (its key holds another payload, or it is not there)."""
    stored = db.execute("SELECT payload FROM posts WHERE key = ?", (key,)).fetchone()
    if stored is not None and stored[0] == payload:
        return False
    why = "duplicate media" if stored is None else "same post id seen before"
    funnel.drop("posts", "duplicate media", why, where=origin)
    funnel.drop("comments", "post dropped", "post dropped at duplicate media", len(comments))
    return True


def _store_comments(db: sqlite3.Connection, rows: list[tuple], funnel: Funnel) -> None:
    """Insert comment rows (none is a drop here: `funnel` is taken as `_store_posts` takes it). Whether a Reddit
    comment's post is staged is not looked up (that look-up was nearly half of a comment's insert): `finalize` counts
    the comments that join no post as drops."""
    _insert(db, INSERT_COMMENTS, rows)


class _Ingest:
    """One ingest pass: the database, the stager (and its processes) and the jobs' blocks staged in one stream."""

    def __init__(
        self, db: sqlite3.Connection, stager: _Stager, pool=None, num_proc: int = 1, allow_truncated: bool = False
    ):
        self.db, self.stager, self.pool, self.num_proc = db, stager, pool, num_proc
        self.allow_truncated = allow_truncated

    @_collector_paused()  # the staged rows, taken in here (in the executor's thread) and stored
    def run(self, jobs: list[_Job]) -> None:
        """Stage the jobs' blocks in order (in the processes, `BLOCKS_IN_FLIGHT` each at most) as one stream, so that a
        job's first blocks are staged while the previous job's last ones are stored and committed (at the switch
        from posts to comments the processes waited for that, a third of a second); store each block's rows, and
        commit rows and funnel together whenever a job's items done pass a multiple of its `every`, and at its end."""
        bars = {}  # a job's progress bar, from its first block stored on
        for job, result in self._staged(jobs):
            if job.name not in bars:
                bars[job.name] = tqdm(initial=job.done, leave=False, **job.bar)
            bar = bars[job.name]
            if result is None:  # the job's last block is stored
                bar.close()
                self._checkpoint(job, finished=True)
                continue
            funnel, staged, last = result
            if funnel.truncated and not self.allow_truncated:
                raise TruncatedInput(funnel.truncated)
            job.funnel.merge(funnel)
            job.store(self.db, staged, job.funnel)
            bar.update(last - bar.n)
            passed_a_checkpoint, job.done = last // job.every > job.done // job.every, last
            if passed_a_checkpoint:
                self._checkpoint(job, finished=False)

    def _staged(self, jobs: list[_Job]) -> Iterator[tuple[_Job, tuple | None]]:
        """`(job, its next block's funnel, rows and last item)` in order, then `(job, None)` after its last block; a
        job resumes at its last checkpoint and a finished one yields nothing."""
        tasks = ((job, block) for job in jobs if self._resume(job) for block in chain(job.blocks(job.done), [None]))
        if self.pool is None:
            for job, block in tasks:
                yield job, None if block is None else getattr(self.stager, job.method)(*block)
            return
        pending = deque()  # (job, the future of its block's result or None), at most `BLOCKS_IN_FLIGHT` per process
        for job, block in tasks:
            pending.append((job, None if block is None else self.pool.submit(_stage, job.method, block)))
            if len(pending) >= BLOCKS_IN_FLIGHT * self.num_proc:
                yield _result(*pending.popleft())
        while pending:
            yield _result(*pending.popleft())

    def _resume(self, job: _Job) -> bool:
        """Load the job's progress (items done, funnel so far); False when it is finished."""
        row = self.db.execute("SELECT done, finished, funnel FROM progress WHERE job = ?", (job.name,)).fetchone()
        if row is not None:
            job.done, job.funnel = row[0], Funnel.from_dict(json.loads(row[2]))
        return row is None or not row[1]

    def _checkpoint(self, job: _Job, finished: bool) -> None:
        """The job's progress and funnel, and where its rows end in each table, committed with its rows."""
        self.db.execute(
            "INSERT OR REPLACE INTO progress VALUES (?, ?, ?, ?)",
            (job.name, job.done, int(finished), json.dumps(job.funnel.to_dict())),
        )
        ends = [
            self.db.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {table}").fetchone()[0]
            for table in ("posts", "comments")
        ]
        self.db.execute(
            "INSERT INTO staged VALUES (?, ?, ?, ?) ON CONFLICT (job) DO UPDATE SET posts_end = ?, comments_end = ?",
            (job.name, job.fingerprint, *ends, *ends),
        )  # an update keeps the job's place (rowid) among the staged jobs
        self.db.commit()

    def reuse_staged(self, jobs: list[_Job]) -> bool:
        """Keep the staged work of the jobs, in order, up to the first whose input is not the one staged (another
        file, or the same file changed since: its size or modification time); discard the rest, whose rows follow
        theirs in both tables (jobs are stored one after the other, and rowids grow). A rerun with a corrected or an
        added comments file keeps the submissions staged. The jobs that follow a changed one are staged again, as
        their duplicate posts depend on the posts before them. Whether any staging is to be done."""
        query = "SELECT job, fingerprint, posts_end, comments_end FROM staged ORDER BY rowid"
        staged = self.db.execute(query).fetchall()
        same = 0
        while same < min(len(staged), len(jobs)) and staged[same][:2] == (jobs[same].name, jobs[same].fingerprint):
            same += 1
        if same < len(staged):
            posts_end, comments_end = staged[same - 1][2:] if same else (0, 0)
            self.db.execute("DELETE FROM posts WHERE rowid > ?", (posts_end,))
            self.db.execute("DELETE FROM comments WHERE rowid > ?", (comments_end,))
            for name, *_ in staged[same:]:
                self.db.execute("DELETE FROM staged WHERE job = ?", (name,))
                self.db.execute("DELETE FROM progress WHERE job = ?", (name,))
            self.db.execute("DROP INDEX IF EXISTS comments_by_post_score")
            self.db.commit()
        finished = {name for (name,) in self.db.execute("SELECT job FROM progress WHERE finished")}
        return same < len(staged) or any(job.name not in finished for job in jobs)


class TruncatedInput(Exception):
    """A compressed input ends early (truncated or corrupt): the posts or comments after the cut are missing, which
    would otherwise show only as posts with too few comments."""

    def __init__(self, truncated: dict[str, list]):
        self.truncated = truncated
        super().__init__("; ".join(f"{path}: {why} after line {lines:,}" for path, (lines, why) in truncated.items()))


def _result(job: _Job, pending) -> tuple[_Job, tuple | None]:
    return job, None if pending is None else pending.result()


def file_fingerprint(paths: list[str | Path]) -> str:
    """A digest of the path, size and modification time of files: a staged job is reused only over the same files
    (a yt-dlp download still adding videos to the folder shifted the YouTube job's positions)."""
    digest = hashlib.sha1()
    for path in paths:
        stat = os.stat(path)
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _line_job(kind: str, path: str) -> _Job:
    """The job of a `kind` file ("submissions", "generic" or "comments"): its lines in blocks of `BLOCK_BYTES`,
    checkpointed every `CHECKPOINT_LINES` lines."""
    return _Job(
        name=f"{kind}:{path}", fingerprint=file_fingerprint([path]), method="block", every=CHECKPOINT_LINES,
        blocks=lambda done: ((kind, path, *block) for block in iter_line_blocks(path, BLOCK_BYTES, skip_lines=done)),
        store=_store_comments if kind == "comments" else _store_posts, bar={"desc": Path(path).name, "unit": " lines"},
    )  # fmt: skip


def _youtube_job(files: list[Path]) -> _Job:
    """The job of the YouTube info files: `BLOCK_VIDEOS` files a block, checkpointed every `CHECKPOINT_VIDEOS`."""
    return _Job(
        name=f"youtube:{len(files)}", fingerprint=file_fingerprint(files), method="videos", every=CHECKPOINT_VIDEOS,
        store=_store_posts,
        blocks=lambda done: ((files[i : i + BLOCK_VIDEOS], i) for i in range(done, len(files), BLOCK_VIDEOS)),
        bar={"desc": "youtube info.json", "unit": " files", "total": len(files)},
    )  # fmt: skip


def ingest(
    inputs: Inputs, filter_configs: dict[str, FilterConfig], work_dir: Path, num_proc: int = 1,
    allow_truncated: bool = False,
) -> bool:  # fmt: skip
    """Stage 1: stream every input into `work_dir/staging.sqlite` (resumes where a previous run stopped, and keeps the
    staged work of the inputs that did not change: `_Ingest.reuse_staged`); with `num_proc > 1` lines are parsed and
    filtered in that many processes. A truncated or corrupt `.zst` raises `TruncatedInput` unless `allow_truncated`.
    Whether anything was staged (or discarded): the records filtered from the staging before are then stale."""
    global _STAGER
    jobs = [_line_job("submissions", path) for path in inputs.reddit_submissions]
    if inputs.youtube:
        jobs.append(_youtube_job(youtube.info_files(inputs.youtube)))
    jobs += [_line_job("generic", path) for path in inputs.generic]
    jobs += [_line_job("comments", path) for path in inputs.reddit_comments]
    _STAGER = _Stager({name: Filters(cfg) for name, cfg in filter_configs.items()}, inputs)
    with closing(_connect(work_dir / "staging.sqlite")) as db:
        changed = _Ingest(db, _STAGER).reuse_staged(jobs)
        try:
            if num_proc == 1:
                _Ingest(db, _STAGER, allow_truncated=allow_truncated).run(jobs)
            else:
                with processes(num_proc) as pool:
                    _Ingest(db, _STAGER, pool, num_proc, allow_truncated).run(jobs)
        finally:
            _STAGER = None
    return changed


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


_text = partial(optional, kind=str)
# a scene's fields that scene_replay, the templates and the export's columns read (the export takes it as JSON)
_SCENE_FIELDS = {
    "start": optional_number, "end": optional_number, "caption": _text, "keywords": optional_strings,
    "foreground_colors": optional_strings, "background_colors": optional_strings, "tone": _text, "asr": _text,
    "replay": partial(optional_number, high=1.0),
}  # fmt: skip


def _scenes(sidecar: dict, name: str) -> None:
    for number, scene in enumerate(optional(sidecar, name, list) or []):
        if type(scene) is not dict:
            raise MissingField(f"scene {number} not an object")
        for field_name, check in _SCENE_FIELDS.items():
            try:
                check(scene, field_name)
            except MissingField as err:
                raise MissingField(f"scene {number} {err}", detail=err.detail) from None


_SIDECAR_FIELDS = {"status": partial(require, kind=str), "duration": optional_number, "asr": _text, "scenes": _scenes}


def read_sidecar(path: Path) -> dict:
    """The sidecar's JSON object, its fields checked once, here, so that no later stage meets a value it cannot take
    (a lone surrogate stopped the records' write, a string duration the duration filter, a scene that is no object
    or a keyword that is no string the templates, a string replay value the export) or would write as nonsense
    ("The scene shows 5.", a replay of nan or outside the graph's [0, 1]). Raises the drop, "unreadable sidecar" or
    "malformed sidecar field 'X'" (a top-level field, 'scenes' for one in a scene), with the path and what is wrong
    in its detail. A failed sidecar's fields other than its status are not read."""
    try:
        sidecar = read_json_file(path)
    except (MissingField, OSError) as err:
        raise _sidecar_drop("unreadable sidecar", path, err) from None
    for name in _SIDECAR_FIELDS if sidecar.get("status") == "done" else ("status",):
        try:
            _SIDECAR_FIELDS[name](sidecar, name)
        except MissingField as err:
            raise _sidecar_drop(f"malformed sidecar field {name!r}", path, err) from None
    return sidecar


def _sidecar_drop(reason: str, path: Path, err: MissingField | OSError) -> Dropped:
    what = err.strerror if isinstance(err, OSError) else f"{err} ({err.detail})" if err.detail else str(err)
    return Dropped(reason, detail=f"{path}: {what}", stage="verbalization", error=True)


def attach_verbalization(record: Record, sidecar_dir: str | None) -> Dropped | None:
    """Join the record's sidecar (`<media_id>.json`) when present; a failed, unreadable or malformed one is a drop."""
    if not sidecar_dir:
        return None
    path = Path(sidecar_dir) / f"{record.media_id}.json"
    if not path.is_file():
        return None
    try:
        sidecar = read_sidecar(path)
    except Dropped as drop:
        return drop
    if sidecar["status"] != "done":
        error = str(sidecar.get("error") or f"status {sidecar['status']!r}").splitlines()[0][:200]
        return Dropped("verbalization failed", detail=error, stage="verbalization", error=True)
    record.scenes = []
    for scene in sidecar.get("scenes") or []:
        scene = dict(scene)
        if scene.get("replay") is None and record.heatmap and record.media_kind == "video":
            scene["replay"] = scene_replay(record.heatmap, scene.get("start") or 0.0, scene.get("end") or 0.0)
        record.scenes.append(scene)
    record.asr = record.asr or sidecar.get("asr")
    if record.duration is None:
        record.duration = sidecar.get("duration")
    return None


@_collector_paused()
def _finalize_shard(args) -> None:
    db_path, index, lo, hi, configs, sidecar_dir, out_dir, render = args
    filters = {name: Filters(FilterConfig(**cfg)) for name, cfg in configs.items()}
    funnel = Funnel()
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    posts = [Record.from_json(p) for (p,) in db.execute("SELECT payload FROM posts WHERE rowid >= ? AND rowid < ? ORDER BY rowid", (lo, hi))]
    by_key = {record.key: record for record in posts}
    # in the order of the posts and of the index (its entries of one post: best score first, then by rowid)
    query = (
        "SELECT c.post_key, c.score, c.text, c.id FROM posts p JOIN comments c ON c.post_key = p.key "
        "WHERE p.rowid >= ? AND p.rowid < ? ORDER BY p.rowid, c.score DESC, c.rowid"
    )
    # a comment staged twice (a dump given twice, or repeated in it) is one: its copies share its post
    seen, copies = set(), 0
    for key, score, text, comment_id in db.execute(query, (lo, hi)):
        if comment_id is not None:
            if (key, comment_id) in seen:
                copies += 1
                continue
            seen.add((key, comment_id))
        by_key[key].comments.append({"text": text, "score": score})
    db.close()
    joined = sum(len(record.comments) for record in posts) + copies
    funnel.drop("comments", "comment dedup", "same comment id seen before", copies)

    survivors = []  # (record, its family's config) in post order
    groups: dict[str, list[Record]] = {name: [] for name in filters}  # the same records by family, for the dedup
    for record in posts:
        name = family(record)
        rules = filters[name]
        drop = attach_verbalization(record, sidecar_dir)
        if drop is None and rules.config.require_verbalization and not record.scenes:
            drop = Dropped("no verbalization sidecar", stage="verbalization")
        if drop is None and record.duration is None and record.media_kind == "video" and record.media_path:
            record.duration = video_duration(record.media_path)  # neither the metadata nor a sidecar had it
        if drop is None and (reason := rules.duration_reason(record)) is not None:
            drop = Dropped(reason)
        if drop is not None:
            funnel.drop("posts", drop.stage, str(drop), where=_where(record.origin, drop), error=drop.error)
            funnel.drop("comments", "post dropped", f"post dropped at {drop.stage}", len(record.comments))
            continue
        candidates = rules.config.max_candidate_comments
        if len(record.comments) > candidates:
            funnel.drop("comments", "top-k", f"beyond the {candidates} best-scored candidates", len(record.comments) - candidates)
            record.comments = record.comments[:candidates]
        survivors.append((record, rules.config))
        groups[name].append(record)

    for name, group in groups.items():
        threshold = filters[name].config.tfidf_threshold
        if not group or threshold is None:
            continue
        flags = near_duplicates([[c["text"] for c in r.comments] for r in group], threshold)
        reason = f"TF-IDF similarity >= {threshold:g}"
        for record, flagged in zip(group, flags):
            if any(flagged):  # a few posts: the others' comments stay as they are
                funnel.drop("comments", "comment dedup", reason, sum(flagged))
                record.comments = [c for c, dup in zip(record.comments, flagged) if not dup]

    kept = []
    for record, cfg in survivors:
        top_k = cfg.top_k_comments
        if len(record.comments) > top_k:
            funnel.drop("comments", "top-k", f"beyond the top {top_k}", len(record.comments) - top_k)
            record.comments = record.comments[:top_k]
        if len(record.comments) < cfg.min_comments:
            funnel.drop("posts", "post comments", f"fewer than {cfg.min_comments} comments", where=record.origin)
            funnel.drop("comments", "post dropped", "post had too few comments", len(record.comments))
            continue
        kept.append(record)
    if render is not None:
        render(kept, f"{index:05d}")
    os.makedirs(out_dir, exist_ok=True)
    tmp = Path(out_dir) / f"{index:05d}.jsonl.tmp"
    with open(tmp, "wb") as out:
        out.writelines(record.to_json_line() for record in kept)
    os.replace(tmp, Path(out_dir) / f"{index:05d}.jsonl")
    # with the number of staged comments that joined the shard's posts: the others joined none (`finalize`)
    (Path(out_dir) / f"{index:05d}.funnel.json").write_text(json.dumps({**funnel.to_dict(), JOINED: joined}))


def index_comments(work_dir: Path) -> None:
    """The index by which `finalize` reads each shard's comments, once all are staged (a no-op when it is built):
    made in one sort rather than during ingest, where each comment's insert updated it in its post's place (random
    over a real dump, ordered by comment time); with the score, a shard's query needs no sort. SQLite sorts in C
    without holding the GIL, so a thread of the caller may build it while the caller does other work."""
    with closing(sqlite3.connect(work_dir / "staging.sqlite")) as db:
        db.execute("CREATE INDEX IF NOT EXISTS comments_by_post_score ON comments (post_key, score DESC)")


def finalize(
    work_dir: Path, filter_configs: dict[str, FilterConfig], sidecar_dir: str | None, num_proc: int = 1, render=None
) -> Funnel:
    """Stage 2: filtered record shards in `work_dir/records/` (finished shards are kept on resume). `render(records,
    shard)`, when given, is called with each shard's records before the shard is written, in the same process: the
    export's tables are made there, from the records in memory, in `num_proc` processes."""
    db_path = work_dir / "staging.sqlite"
    index_comments(work_dir)
    with sqlite3.connect(db_path) as db:
        max_rowid = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM posts").fetchone()[0]
    out_dir = work_dir / "records"
    configs = {name: asdict(cfg) for name, cfg in filter_configs.items()}
    shards = [
        (str(db_path), i, i * SHARD_POSTS + 1, (i + 1) * SHARD_POSTS + 1, configs, sidecar_dir, str(out_dir), render)
        for i in range(math.ceil(max_rowid / SHARD_POSTS))
    ]
    stats_path = {shard[1]: out_dir / f"{shard[1]:05d}.funnel.json" for shard in shards}
    todo = [shard for shard in shards if not stats_path[shard[1]].is_file()]
    bar = tqdm(total=len(shards), initial=len(shards) - len(todo), desc="filtering shards", unit=" shards")
    if num_proc > 1 and len(todo) > 1:
        with processes(min(num_proc, len(todo))) as pool:
            for done in as_completed([pool.submit(_finalize_shard, shard) for shard in todo]):
                done.result()
                bar.update()
    else:
        for shard in todo:
            _finalize_shard(shard)
            bar.update()
    bar.close()
    # merged in shard order, so the funnel's examples and ties are the same for any num_proc and after a resume
    funnel, joined = Funnel(), 0
    with sqlite3.connect(db_path) as db:
        for shard in shards:
            stats = json.loads(stats_path[shard[1]].read_text())
            funnel.merge(Funnel.from_dict(stats))
            joined += stats[JOINED] if JOINED in stats else _joined_comments(db, *shard[2:4])  # an earlier version's
        staged = db.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
    funnel.drop("comments", "post dropped", NO_POST, staged - joined)
    return funnel


def _joined_comments(db: sqlite3.Connection, lo: int, hi: int) -> int:
    query = "SELECT COUNT(*) FROM posts p JOIN comments c ON c.post_key = p.key WHERE p.rowid >= ? AND p.rowid < ?"
    return db.execute(query, (lo, hi)).fetchone()[0]


def record_shards(work_dir: Path) -> list[str]:
    return sorted(str(p) for p in (work_dir / "records").glob("*.jsonl"))
