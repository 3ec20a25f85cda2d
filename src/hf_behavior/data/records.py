"""The one record schema every source (Reddit, YouTube, generic JSONL) is normalised into.

A `Record` is a plain dataclass so that every stage is a function of records; it round-trips through JSON
(`to_json` / `from_json`) for the on-disk staging between stages.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone

import orjson

SOURCES = ("reddit_images", "reddit_videos", "youtube_videos", "generic")
_stdlib_json_text = json.JSONEncoder(ensure_ascii=False).encode


def unencodable(value) -> str | None:
    """The first character of `value`'s strings (keys too) that UTF-8 cannot encode, or None. Only the stdlib parser
    lets one through (a lone surrogate escape, `"\\ud800"`, which orjson refuses); SQLite and Arrow cannot store it."""
    try:
        _stdlib_json_text(value).encode("utf-8")
    except UnicodeEncodeError as err:
        return err.object[err.start]
    return None


def json_text(value) -> str:
    """Compact JSON text of a value, UTF-8 kept. orjson writes a record about 10x faster than the stdlib encoder
    (which was a tenth of the build); what it refuses (integers beyond 64 bits) goes to the stdlib one."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return _stdlib_json_text(value)


def json_line(value) -> bytes:
    """`json_text(value)` and a newline, in UTF-8: a JSONL line, written to a binary file as orjson makes it (a text
    file's decoding, concatenation and encoding of each line cost a third of writing a shard's records)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        return (_stdlib_json_text(value) + "\n").encode()


class Dropped(Exception):
    """A raw item that does not become a record: `stage` and reason (the message) go to the funnel report."""

    stage = "post filters"
    error = False  # bad input (counts towards --max-error-rate) rather than a filter decision

    def __init__(self, reason: str, detail: str | None = None, stage: str | None = None, error: bool | None = None):
        super().__init__(reason)
        self.detail = detail  # item-specific part, shown with the file:line examples, not in the reason counts
        self.stage = stage or self.stage
        self.error = self.error if error is None else error


class MissingField(Dropped):
    """A raw item lacks a field the record needs (or has it with the wrong type); the message names it."""

    stage = "read"
    error = True


class MissingMedia(Dropped):
    """The media file the record points to was not found."""

    stage = "media"
    error = True


@dataclass
class Record:
    key: str  # "<platform>:<post id>", unique over the whole build
    source: str  # one of SOURCES
    platform: str  # "reddit", "youtube" or the generic dump's platform name
    post_id: str
    media_id: str  # file stem of the media; sidecars are looked up by it
    media_kind: str  # "image" | "video"
    title: str
    origin: str  # "file:line" of the raw item, for error messages
    channel: str | None = None  # YouTube channel / brand / generic author; None for Reddit
    subreddit: str | None = None
    author: str | None = None
    created_utc: int | None = None
    brand: bool = False  # brand channels get the "advertisement ... for the brand" wording
    media_path: str | None = None
    media_url: str | None = None
    media_hash: str | None = None
    duration: float | None = None
    views: int | None = None
    likes: int | None = None
    like_ratio: float | None = None  # fraction of viewers who liked (YouTube likes/views, Reddit upvote ratio)
    score: int | None = None  # Reddit score
    language: str | None = None
    categories: list[str] = field(default_factory=list)
    nsfw: bool = False
    asr: str | None = None
    heatmap: list[dict] | None = None  # replay graph: [{"start", "end", "value"}]
    # [{"text", "score", "author", "id", ...}] as read (YouTube's also "reply"), [{"text", "score"}] once staged (the
    # rest only matters to the filters and the dedup), best first after filtering
    comments: list[dict] = field(default_factory=list)
    scenes: list[dict] = field(default_factory=list)  # verbalization sidecar scenes

    @property
    def like_percent(self) -> float | None:
        return None if self.like_ratio is None else 100.0 * self.like_ratio

    @property
    def replay(self) -> list[float] | None:
        """Replay value per scene, or None when any scene lacks one."""
        values = [scene.get("replay") for scene in self.scenes]
        return values if values and all(v is not None for v in values) else None

    def to_json(self) -> str:
        return json_text(self.__dict__)

    def to_json_line(self) -> bytes:
        return json_line(self.__dict__)

    @classmethod
    def from_json(cls, text: str | bytes) -> Record:
        """The record `to_json` wrote. The parsed dict becomes its attribute dict: `cls(**fields)` cost as much as the
        parsing, and copying it into the record's own a tenth of that (132M -> 118M instructions for 5,000 posts)."""
        record = cls.__new__(cls)
        record.__dict__ = _loads(text)
        return record


def _loads(text: str | bytes):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN, which the stdlib encoder writes when `json_text` fell back to it
        return json.loads(text)


RECORD_FIELDS = tuple(f.name for f in fields(Record))


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # SQLite INTEGER, Arrow int64
# the Unix seconds of 0001-01-01 and of 9999-12-31 23:59:59: the dates `datetime` (and the M3L templates) can write
FIRST_DATE = int(datetime(1, 1, 1, tzinfo=timezone.utc).timestamp())
LAST_DATE = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp())


def require(obj: dict, name: str, kind: type | tuple[type, ...]):
    """`obj[name]` if present, not None and of `kind`; otherwise `MissingField` naming it."""
    value = obj.get(name)
    if type(value) is kind:  # nearly every call: one check instead of three
        return value
    if value is None:
        raise MissingField(f"missing field {name!r}")
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise MissingField(f"field {name!r} has type {type(value).__name__}")
    return value


def optional(obj: dict, name: str, kind: type | tuple[type, ...]):
    """`obj[name]` if of `kind`, None if absent or null; `MissingField` naming it if of another type."""
    value = obj.get(name)
    return value if value is None or type(value) is kind else require(obj, name, kind)


def optional_strings(obj: dict, name: str) -> list[str] | None:
    """`obj[name]` if a list of strings, None if absent or null; `MissingField` naming it otherwise."""
    value = optional(obj, name, list)
    if value is not None and not all(type(item) is str for item in value):
        raise MissingField(f"field {name!r} not a list of strings")
    return value


def optional_number(obj: dict, name: str, high: float = sys.float_info.max) -> float | None:
    """`obj[name]` as a float in [0, high], None if absent or null; `MissingField` naming it if of another type or
    out of that range: NaN, infinity and an integer too large for a float (which Arrow's float64 columns refuse)
    too."""
    value = optional(obj, name, (int, float))
    if value is None:
        return None
    if not 0 <= value <= high:
        raise MissingField(f"field {name!r} out of range", detail=repr(value)[:40])
    return float(value)


def int64(value: int, what: str) -> int:
    """`value` if SQLite and Arrow can store it; `MissingField` "<what> out of int64 range" otherwise (a count
    that large is bad input, and it stopped the build where it was inserted or exported)."""
    if INT64_MIN <= value <= INT64_MAX:
        return value
    digits = str(value)
    raise MissingField(f"{what} out of int64 range", detail=digits if len(digits) <= 30 else f"{len(digits)} digits")


def require_int(obj: dict, name: str) -> int:
    """`require(obj, name, int)` within int64. The common case is checked inline: the calls and the message
    cost three times as much."""
    value = obj.get(name)
    if type(value) is int and INT64_MIN <= value <= INT64_MAX:
        return value
    return int64(require(obj, name, int), f"field {name!r}")


def optional_int(obj: dict, name: str) -> int | None:
    return None if obj.get(name) is None else require_int(obj, name)


def replay_graph(obj: dict, name: str, keys: tuple[str, str, str] = ("start", "end", "value")) -> list[dict] | None:
    """`obj[name]`, a list of segments with finite numeric `keys` (start, end, value), as
    `[{"start", "end", "value"}]` of floats; None when absent or empty; `MissingField` naming it when it is of
    another shape or holds NaN or infinity (the templates would print "nan" as a scene's replay value)."""
    start, end, value = keys
    segments = obj.get(name) or []
    try:
        graph = [{"start": float(s[start]), "end": float(s[end]), "value": float(s[value])} for s in segments]
    except (TypeError, KeyError, ValueError, OverflowError):
        raise MissingField(f"malformed field {name!r}") from None
    if not all(map(math.isfinite, (x for segment in graph for x in segment.values()))):
        raise MissingField(f"malformed field {name!r}", detail="NaN or infinity")
    return graph or None


def to_unix(value) -> int | None:
    """Unix seconds from an int/float/numeric string (Pushshift), `YYYYMMDD` (yt-dlp) or ISO-8601 text;
    `MissingField` for anything else, NaN, infinity or a time outside the years 1-9999 (a timestamp in
    milliseconds is one: it passed the date filters and stopped the export at the M3L templates' release date)."""
    if value is None or value == "":
        return None
    if type(value) is int or type(value) is float:
        seconds = value
    else:
        seconds = _text_seconds(str(value).strip())
    if not FIRST_DATE <= seconds <= LAST_DATE:  # NaN too
        raise MissingField("date out of range", detail=repr(value)[:40])
    return int(seconds)


def _text_seconds(text: str) -> int | float:
    try:
        if len(text) == 8 and text.isdigit():
            return datetime.strptime(text, "%Y%m%d").replace(tzinfo=timezone.utc).timestamp()
        try:
            return float(text)
        except ValueError:
            pass
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    except (ValueError, OverflowError) as err:
        raise MissingField("unreadable date", detail=repr(text)[:40]) from err
