"""The paper's filters (section 2.1), each a small function of one record or comment returning a drop reason.

Defaults follow the paper: Reddit posts from 2018-01 (r/pics also after its 2015-02 rule change), comments of
at least 3 words, TF-IDF dedup at 0.6, at least 2 comments, videos up to 500 s; YouTube videos with more than
10,000 views, comments of 4-100 words, TF-IDF dedup at 0.7, no music/gaming/news/sports/anime/meme categories,
English only, the top-5 comments by likes. Every value is a field of `FilterConfig` and can be overridden per
source family from the CLI (`--filter youtube.min_views=5000`) or a YAML file (`--filter-config`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timezone
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from .records import Record

DELETED_MARKERS = frozenset({"[deleted]", "[removed]", "[deleted by user]"})
DEFAULT_BOT_PATTERN = r"(?i)^(automoderator|.*bot|bot[-_].*|.*[-_]bot[-_].*)$"
# a name the default pattern matches holds "bot" or starts with "automoderator", lower-cased (no other character
# matches b, o, t or those letters under re's IGNORECASE): `is_bot` checks that first, and nearly every name needs
# no regex
UNSELECTED_SUBREDDIT = "subreddit not selected"  # a post's drop reason, checked on the raw line in ingest too
# Words are the runs of [a-z0-9'] in the lower-cased text. They are cut out without a regex (a third of the cost,
# in C): non-ASCII characters become "?" and every byte outside the class a space, then split.
_WORD_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789'"
_NON_WORD_TO_SPACE = bytes(c if c in _WORD_BYTES else 0x20 for c in range(256))
DELETED_COMMENT, BOT_AUTHOR, NSFW_COMMENT = "deleted/removed comment", "bot author", "nsfw words"
REPLY = "reply (not a top-level comment)"
UNKNOWN_DURATION = "video of unknown duration"
# `comment_reasons` of fewer comments go one by one: in bulk a comment costs ~0.5 us instead of ~1.4, but its ~30
# Arrow calls ~0.7 ms
BULK_COMMENTS = 1_000


@dataclass
class FilterConfig:
    """Thresholds for one source family ("reddit", "youtube" or "generic"). `None` disables a filter."""

    min_date: str | None = None  # ISO date; posts created before are dropped
    max_date: str | None = None  # ISO date; posts created on/after are dropped
    subreddit_min_dates: dict[str, str] = field(default_factory=dict)  # per-subreddit start (r/pics rule change)
    subreddits: list[str] | None = None  # subreddits to keep (case-insensitive); None keeps all
    drop_nsfw_flag: bool = True  # platform flag (Reddit over_18)
    nsfw_words_file: str | None = None  # None = the shipped list; "" disables the word filter
    bot_pattern: str | None = DEFAULT_BOT_PATTERN  # regex on author names
    drop_deleted: bool = True  # [deleted] / [removed] posts and comments
    dedup_media: bool = True  # duplicate media by content hash (URL hash when not downloaded)
    require_media: bool = True  # drop posts whose media file was not found (else fall back to the URL)
    top_level_only: bool = True  # replies (to another comment) dropped: the paper's top comments are top-level
    min_comment_words: int | None = 3
    max_comment_words: int | None = None
    max_comment_chars: int | None = 2_000  # a longer comment is an essay (Reddit allows 10,000), not a reaction
    tfidf_threshold: float | None = 0.6  # a comment this similar to a better one of the same post is dropped
    max_candidate_comments: int = 50  # best-scored comments considered per post before dedup
    top_k_comments: int = 5
    min_comments: int = 2
    max_duration: float | None = 500.0  # seconds; a video of unknown duration is dropped when set
    min_views: int | None = None  # posts need strictly more views than this
    excluded_categories: list[str] = field(default_factory=list)
    languages: list[str] | None = None  # language prefixes to keep; None keeps all
    keep_unknown_language: bool = True
    require_verbalization: bool = False  # drop posts without a "done" sidecar


REDDIT = FilterConfig(
    min_date="2018-01-01", subreddit_min_dates={"pics": "2015-02-01"}, subreddits=["pics", "videos"]
)
YOUTUBE = FilterConfig(
    min_comment_words=4,
    max_comment_words=100,
    tfidf_threshold=0.7,
    max_duration=None,
    min_views=10_000,
    excluded_categories=["music", "gaming", "news", "sports", "anime", "memes"],
    languages=["en"],
)
GENERIC = replace(YOUTUBE, min_views=None, excluded_categories=[])
DEFAULTS = {"reddit": REDDIT, "youtube": YOUTUBE, "generic": GENERIC}


def family(record: Record) -> str:
    return record.platform if record.platform in ("reddit", "youtube") else "generic"


def load_filter_configs(config_file: str | Path | None = None, overrides: list[str] = ()) -> dict[str, FilterConfig]:
    """Defaults, then a YAML file `{reddit: {min_views: ...}, youtube: {...}}`, then `family.field=value` pairs. Each
    value is read as its field's declared type (`setting_value`): a `ValueError` naming the setting and what is wrong
    before any work starts, never a filter that reads "pics" as the letters p, i, c, s."""
    settings: dict[str, dict] = {name: {} for name in DEFAULTS}
    if config_file:
        loaded = yaml.safe_load(Path(config_file).read_text()) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{config_file}: expected a mapping {{family: {{field: value}}}}")
        for name, values in loaded.items():
            if name not in DEFAULTS:
                raise ValueError(f"{config_file}: unknown source family {name!r} (expected one of {list(DEFAULTS)})")
            if not isinstance(values or {}, dict):
                raise ValueError(f"{config_file}: {name}: expected a mapping of filter settings")
            for attr, value in (values or {}).items():
                settings[name][attr] = setting_value(attr, value, f"{config_file}: {name}.{attr}")
    for item in overrides:
        key, sep, value = item.partition("=")
        name, dot, attr = key.partition(".")
        if not sep or not dot or name not in DEFAULTS:
            raise ValueError(f"--filter {item!r}: expected FAMILY.FIELD=VALUE with FAMILY in {list(DEFAULTS)}")
        settings[name][attr] = setting_value(attr, _cli_value(attr, value), f"--filter {item!r}")
    return {name: replace(DEFAULTS[name], **settings[name]) for name in DEFAULTS}


_FIELD_TYPES = {f.name: f.type for f in fields(FilterConfig)}  # as written (postponed annotations): "int | None"
_LIST_FIELDS = {name for name, kind in _FIELD_TYPES.items() if kind.startswith("list[str]")}
_DATE_FIELDS = {"min_date", "max_date"}


def _cli_value(attr: str, text: str):
    """A `--filter` value as YAML would read it, except that a list or text setting takes its text as it is (YAML
    reads `languages=no` as False, `subreddits=2019` as a number): comma-separated, quotes around it removed."""
    kind = _FIELD_TYPES.get(attr, "")
    if (attr in _LIST_FIELDS or kind.startswith("str")) and not text.lstrip().startswith(("[", "{")):
        stripped = text.strip()
        if stripped.lower() in ("null", "none", "~") and kind.endswith("None"):
            return None
        if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "'\"":
            stripped = stripped[1:-1]
        return stripped
    return yaml.safe_load(text)


def setting_value(attr: str, value, where: str):
    """`value` (from YAML or `_cli_value`) as filter setting `attr`'s type: lists of strings from a list or
    comma-separated text, dates as ISO text, whole numbers for counts, a compiled-checked regex, an existing word
    list; `ValueError` naming `where` otherwise."""
    if attr not in _FIELD_TYPES:
        raise ValueError(f"{where}: unknown filter setting {attr!r}; known: {sorted(_FIELD_TYPES)}")
    kind = _FIELD_TYPES[attr]

    def bad(expected: str) -> ValueError:
        return ValueError(f"{where}: expected {expected}, got {value!r}")

    if value is None:
        if not kind.endswith("None"):
            raise bad(kind)
        return None
    if isinstance(value, date):
        value = value.isoformat()
    if attr in _LIST_FIELDS:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise bad("a list of names (comma-separated)")
        return [item.strip() for item in items if item.strip()]
    if kind.startswith("dict"):  # subreddit -> start date
        if not isinstance(value, dict):
            raise bad("a mapping {name: ISO date}")
        return {str(key): _iso_date(item, f"{where}: {key}") for key, item in value.items()}
    if kind == "bool":
        if type(value) is not bool:
            raise bad("true or false")
        return value
    if kind.startswith("int"):
        if type(value) is not int:
            raise bad("a whole number")
        return value
    if kind.startswith("float"):
        if type(value) not in (int, float) or value != value:
            raise bad("a number")
        return float(value)
    if not isinstance(value, str):
        raise bad("text")
    if attr in _DATE_FIELDS:
        return _iso_date(value, where)
    if attr == "bot_pattern":
        try:
            re.compile(value)
        except re.error as err:
            raise ValueError(f"{where}: not a regular expression ({err})") from None
    if attr == "nsfw_words_file" and value and not Path(value).is_file():
        raise ValueError(f"{where}: no such file {value!r}")
    return value


def _iso_date(value, where: str) -> str:
    """An ISO date as text (YAML reads an unquoted 2018-01-01 as a date; the filters and the build's saved settings
    take text); `ValueError` naming `where` for anything else."""
    if isinstance(value, date):
        return value.isoformat()
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected an ISO date (2018-01-01), got {value!r}") from None
    return value


def _unix(iso_date: str | None) -> int | None:
    if iso_date is None:
        return None
    return int(datetime.fromisoformat(iso_date).replace(tzinfo=timezone.utc).timestamp())


def _strings(values) -> pa.Array:
    return values if isinstance(values, pa.Array) else pa.array(values, pa.string())


def true_flags(mask: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, null as False."""
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def load_word_list(path: str | Path | None) -> frozenset[str]:
    if path == "":
        return frozenset()
    text = Path(path).read_text() if path else resources.files(__package__).joinpath("nsfw_words.txt").read_text()
    return frozenset(w.strip().lower() for w in text.splitlines() if w.strip() and not w.startswith("#"))


class Filters:
    """One `FilterConfig` compiled (dates, regex, word list) for fast per-item checks."""

    def __init__(self, config: FilterConfig):
        self.config = config
        self.min_date, self.max_date = _unix(config.min_date), _unix(config.max_date)
        self.subreddit_min_dates = {k.lower(): _unix(v) for k, v in config.subreddit_min_dates.items()}
        self.subreddits = None if config.subreddits is None else {s.lower() for s in config.subreddits}
        self.nsfw_words = load_word_list(config.nsfw_words_file)
        self._nsfw_ascii = frozenset(w.encode() for w in self.nsfw_words if w.isascii())  # others match no word
        # (only words of word characters can be found: the others hold what the split cuts at)
        findable = sorted(w.decode() for w in self._nsfw_ascii if not w.translate(None, _WORD_BYTES))
        self._nsfw_pattern = f"(?:^| )(?:{'|'.join(map(re.escape, findable))})(?: |$)" if findable else None
        self.bot = re.compile(config.bot_pattern) if config.bot_pattern else None
        self._default_bot = config.bot_pattern == DEFAULT_BOT_PATTERN
        self.excluded = {c.lower() for c in config.excluded_categories}
        # a comment's words are counted up to one past what the limits look at (splitting all of a long comment cost
        # as much as the NSFW check): `len(text.split(None, n))` is min(words, n + 1)
        self._words_counted = max(config.min_comment_words or 0, (config.max_comment_words or -1) + 1)
        self._too_few_words = f"fewer than {config.min_comment_words} words"
        self._too_long = f"longer than {config.max_comment_chars:,} characters" if config.max_comment_chars else None
        self._too_many_words = f"more than {config.max_comment_words} words"

    def has_nsfw_words(self, text: str | None) -> bool:
        if not text:
            return False
        words = text.lower().encode("ascii", "replace").translate(_NON_WORD_TO_SPACE).split()
        return not self._nsfw_ascii.isdisjoint(words)

    def nsfw_flags(self, texts) -> np.ndarray:
        """`has_nsfw_words` of each of the `texts` (a list or an Arrow string array), all looked up at once: the ASCII
        ones lower-cased and their words cut out with the same byte table in one buffer, then one RE2 pattern of the
        listed words between spaces run over all of them in Arrow (a split and a set look-up per comment were a
        third of staging one); the others (Python's lower-casing reaches beyond ASCII) one by one."""
        flags = np.zeros(len(texts), bool)
        if not len(texts) or self._nsfw_pattern is None:
            return flags
        try:
            texts = _strings(texts)
        except UnicodeEncodeError:  # a lone surrogate, which no parsed input holds
            return np.fromiter(map(self.has_nsfw_words, texts), bool, len(texts))
        lowered = pc.ascii_lower(texts)  # the same length: the offsets hold
        validity, offsets, data = lowered.buffers()
        data = pa.py_buffer(data.to_pybytes().translate(_NON_WORD_TO_SPACE))
        words = pa.StringArray.from_buffers(len(lowered), offsets, data, validity, offset=lowered.offset)
        flags[:] = pc.fill_null(pc.match_substring_regex(words, self._nsfw_pattern), False)
        for i in np.flatnonzero(~true_flags(pc.string_is_ascii(texts))):
            flags[i] = self.has_nsfw_words(texts[i].as_py())
        return flags

    def is_bot(self, author: str | None) -> bool:
        if not author or self.bot is None:
            return False
        if self._default_bot and "bot" not in (name := author.lower()) and not name.startswith("automoderator"):
            return False
        return self.bot.match(author) is not None

    def unselected_subreddit(self, subreddit: str | None) -> bool:
        """Whether `subreddit` is one the `subreddits` setting leaves out (case-insensitive; None is no subreddit)."""
        return self.subreddits is not None and subreddit is not None and subreddit.lower() not in self.subreddits

    def post_reason(self, record: Record, nsfw_title: bool | None = None, bot: bool | None = None) -> str | None:
        """Why `record` is dropped before its comments are looked at (None = keep); `nsfw_title`, `bot`: whether its
        title `has_nsfw_words` and its author `is_bot`, when that is known (`nsfw_flags`, `bot_flags`)."""
        cfg = self.config
        if self.unselected_subreddit(record.subreddit):
            return UNSELECTED_SUBREDDIT
        created = record.created_utc
        if created is None and (self.min_date or self.max_date):
            return "no creation date"
        if self.min_date is not None and created < self.min_date:
            return f"posted before {cfg.min_date}"
        start = self.subreddit_min_dates.get((record.subreddit or "").lower())
        if start is not None and created is not None and created < start:
            return f"r/{record.subreddit} posted before {cfg.subreddit_min_dates[record.subreddit.lower()]}"
        if self.max_date is not None and created >= self.max_date:
            return f"posted on/after {cfg.max_date}"
        if cfg.drop_nsfw_flag and record.nsfw:
            return "nsfw flag"
        if self.has_nsfw_words(record.title) if nsfw_title is None else nsfw_title:
            return "nsfw words in title"
        if self.is_bot(record.author) if bot is None else bot:
            return BOT_AUTHOR
        if cfg.drop_deleted and (record.title in DELETED_MARKERS or record.author in DELETED_MARKERS):
            return "deleted/removed post"
        if cfg.min_views is not None and (record.views is None or record.views <= cfg.min_views):
            return f"views <= {cfg.min_views:,}"
        for category in record.categories:  # a whole category's name ("people & blogs") or one of its words ("music")
            name = category.lower()
            if name in self.excluded or set(name.replace("&", " ").split()) & self.excluded:
                return f"excluded category {category!r}"
        if cfg.languages is not None:
            if record.language is None:
                if not cfg.keep_unknown_language:
                    return "unknown language"
            elif not any(record.language.lower().startswith(lang) for lang in cfg.languages):
                return f"language {record.language!r} not in {cfg.languages}"
        return self.duration_reason(record, unknown=None)

    def duration_reason(self, record: Record, unknown: str | None = UNKNOWN_DURATION) -> str | None:
        """Why a video is too long for `max_duration`; `unknown` when its duration is not known (the ingest passes
        None: a sidecar or the media file may tell it later)."""
        limit = self.config.max_duration
        if limit is None or record.media_kind != "video":
            return None
        if record.duration is None:
            return unknown
        return f"video longer than {limit:g} s" if record.duration > limit else None

    def comment_reason(self, text: str, author: str | None, nsfw: bool | None = None) -> str | None:
        """Why one comment is dropped before dedup (None = keep); `nsfw`: whether its text `has_nsfw_words`, when
        that is known (`comment_reasons`)."""
        cfg = self.config
        if cfg.drop_deleted and (text.strip() in DELETED_MARKERS or author in DELETED_MARKERS):
            return DELETED_COMMENT
        if self.is_bot(author):
            return BOT_AUTHOR
        if self._too_long is not None and len(text) > cfg.max_comment_chars:
            return self._too_long
        words = len(text.split(None, self._words_counted))
        if cfg.min_comment_words is not None and words < cfg.min_comment_words:
            return self._too_few_words
        if cfg.max_comment_words is not None and words > cfg.max_comment_words:
            return self._too_many_words
        if self.has_nsfw_words(text) if nsfw is None else nsfw:
            return NSFW_COMMENT
        return None

    def comment_reasons(self, texts, authors) -> list[str | None]:
        """`comment_reason` of each of many comments (lists or Arrow string arrays), worked out for all of them at
        once in Arrow where that is exact: for ASCII texts without the separators \\x1c-\\x1f, Arrow's ASCII
        whitespace (trimming, splitting) is Python's. The other texts, and authors that may be bots, go one by one.
        A few comments (a post's own list) go one by one: Arrow's calls cost more than their loop; so do texts
        Arrow cannot hold (a lone surrogate)."""
        try:
            bulk = len(texts) >= BULK_COMMENTS and (_strings(texts), _strings(authors))
        except UnicodeEncodeError:  # a lone surrogate, which no parsed input holds
            bulk = False
        if not bulk:
            texts, authors = (v.to_pylist() if isinstance(v, pa.Array) else v for v in (texts, authors))
            return list(map(self.comment_reason, texts, authors))
        cfg, (texts, authors) = self.config, bulk
        nsfw, trimmed = self.nsfw_flags(texts), pc.ascii_trim_whitespace(texts)
        checks = []  # (reason, flags) in `comment_reason`'s order
        if cfg.drop_deleted:
            markers = pa.array(sorted(DELETED_MARKERS))  # made here: pyarrow's first array imports pandas (1 s)
            deleted = pc.or_(pc.is_in(trimmed, markers), pc.is_in(authors, markers))
            checks.append((DELETED_COMMENT, true_flags(deleted)))
        if self.bot is not None:
            checks.append((BOT_AUTHOR, self.bot_flags(authors)))
        if self._too_long is not None:
            checks.append((self._too_long, true_flags(pc.greater(pc.utf8_length(texts), cfg.max_comment_chars))))
        if cfg.min_comment_words is not None or cfg.max_comment_words is not None:
            # min(words, counted + 1), as `comment_reason`'s split; a blank text is one empty part here
            parts = pc.list_value_length(pc.ascii_split_whitespace(trimmed, max_splits=self._words_counted))
            words = np.where(true_flags(pc.equal(trimmed, "")), 0, parts.to_numpy())
            if cfg.min_comment_words is not None:
                checks.append((self._too_few_words, words < cfg.min_comment_words))
            if cfg.max_comment_words is not None:
                checks.append((self._too_many_words, words > cfg.max_comment_words))
        checks.append((NSFW_COMMENT, nsfw))
        separators = pc.match_substring_regex(texts, "[\\x1c-\\x1f]")
        plain = true_flags(pc.and_(pc.string_is_ascii(texts), pc.invert(separators)))
        reasons = [None] * len(texts)
        for reason, flags in reversed(checks):  # the first check that drops a comment names it
            for i in np.flatnonzero(flags & plain):
                reasons[i] = reason
        for i in np.flatnonzero(~plain):
            reasons[i] = self.comment_reason(texts[i].as_py(), authors[i].as_py(), nsfw[i])
        return reasons

    def bot_flags(self, authors: pa.Array) -> np.ndarray:
        """`is_bot` of each of the `authors` (an Arrow string array), with the regex run only on the names it may be
        true of."""
        flags = np.zeros(len(authors), bool)
        if self.bot is not None:
            candidates = np.flatnonzero(self._bot_candidates(authors))
            flags[candidates] = list(map(self.is_bot, authors.take(candidates).to_pylist()))
        return flags

    def _bot_candidates(self, authors: pa.Array) -> np.ndarray:
        """The authors `is_bot` may be true of: with the default pattern, the names that hold "bot" or start with
        "automoderator" once lower-cased (no character beyond ASCII lower-cases to those letters)."""
        if not self._default_bot:
            return true_flags(pc.is_valid(authors))
        lowered = pc.ascii_lower(authors)
        return true_flags(pc.or_(pc.match_substring(lowered, "bot"), pc.starts_with(lowered, "automoderator")))

    def screen_comments(self, comments: list[dict]) -> tuple[list[dict], dict[str, int]]:
        """Comments that pass `comment_reason` (and are no reply, with `top_level_only`), and the drop counts by
        reason (a dict: a `Counter` for the empty comment list of every Reddit post cost more than the loop)."""
        kept, dropped = [], {}
        if not comments:
            return kept, dropped
        if self.config.top_level_only and any(c.get("reply") for c in comments):
            dropped[REPLY] = sum(1 for c in comments if c.get("reply"))
            comments = [c for c in comments if not c.get("reply")]
        reasons = self.comment_reasons([c["text"] for c in comments], [c.get("author") for c in comments])
        for comment, reason in zip(comments, reasons):
            if reason is None:
                kept.append(comment)
            else:
                dropped[reason] = dropped.get(reason, 0) + 1
        return kept, dropped
