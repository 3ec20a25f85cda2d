"""Reddit (Pushshift-style NDJSON dumps): submissions of r/pics (Reddit-hosted images) and r/videos (YouTube
links) become records; comments are matched to them by `link_id` later, in the staging database."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .records import (
    FIRST_DATE,
    INT64_MAX,
    INT64_MIN,
    LAST_DATE,
    Dropped,
    MissingField,
    Record,
    int64,
    optional,
    require,
    require_int,
    to_unix,
)

REDDIT_IMAGE_HOSTS = frozenset({"i.redd.it", "i.reddituploads.com", "preview.redd.it"})
YOUTUBE_HOSTS = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be", "music.youtube.com"})
_YOUTUBE_ID = re.compile(r"(?:[?&]v=|youtu\.be/|/embed/|/shorts/|/v/|/live/)([A-Za-z0-9_-]{11})")
_PLAIN_HOST = re.compile(r"https?://([a-z0-9.-]+)(?=[/?#]|\Z)")
REMOVED_SELFTEXTS = ("[removed]", "[deleted]")  # the text of a removed post, whose author is "[removed]" then
# the fields of a submission line that `submission_to_record` reads, in the order `image_submission` takes them
SUBMISSION_FIELDS = ("id", "subreddit", "url", "score", "upvote_ratio", "title", "author", "created_utc", "over_18",
                     "removed_by_category", "selftext")  # fmt: skip


def url_host(url: str) -> str:
    """The lower-cased host of a URL ("" when it has none); `MissingField` when it cannot be split. Plain
    `https://host/...` URLs (nearly all of a dump) are read by one regex: `urlsplit` for every post cost a
    seventh of staging it."""
    if match := _PLAIN_HOST.match(url):
        return match.group(1)
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError as err:  # e.g. an unclosed IPv6 bracket
        raise MissingField("unreadable url", detail=str(err)) from None


def youtube_id(url: str) -> str | None:
    if url_host(url) not in YOUTUBE_HOSTS:
        return None
    match = _YOUTUBE_ID.search(url)
    return match.group(1) if match else None


def estimated_upvotes(score: int, upvote_ratio: float) -> int:
    """Upvotes from Reddit's score (ups - downs) and upvote ratio (ups / (ups + downs))."""
    if upvote_ratio <= 0.5:
        return max(score, 0)
    return max(round(score * upvote_ratio / (2 * upvote_ratio - 1)), 0)


def submission_to_record(post: dict, origin: str, media=None) -> Record:
    """One submission as a record (its `media_path` None when `media` has no file of it: the post filters come
    first, then the media check); `Dropped` (or its `MissingField`) when it cannot be one."""
    post_id = require(post, "id", str)
    subreddit = require(post, "subreddit", str)
    url = require(post, "url", str)
    host = url_host(url)
    if host in REDDIT_IMAGE_HOSTS:
        source, kind, media_id = "reddit_images", "image", post_id
    elif (video_id := youtube_id(url)) is not None:
        source, kind, media_id = "reddit_videos", "video", video_id
    else:
        raise Dropped("media not a Reddit-hosted image or a YouTube video", detail=host or "no host")
    score = require_int(post, "score")
    upvote_ratio = require(post, "upvote_ratio", (int, float))
    if not 0 <= upvote_ratio <= 1:  # NaN too
        raise MissingField("field 'upvote_ratio' not in [0, 1]", detail=repr(upvote_ratio)[:40])
    likes = estimated_upvotes(score, float(upvote_ratio))
    if likes > INT64_MAX:  # a ratio just above 0.5 multiplies the score
        int64(likes, "estimated upvotes")
    media_path = media.find(media_id) if media is not None else None
    removed = post.get("removed_by_category") or (post.get("selftext") in REMOVED_SELFTEXTS)
    title = require(post, "title", str)
    author = "[removed]" if removed else optional(post, "author", str)
    created_utc = to_unix(require(post, "created_utc", (int, float, str)))
    return _record(post_id, subreddit, url, source, kind, media_id, title, author, created_utc, score,
                   float(upvote_ratio), likes, media_path, bool(post.get("over_18")), origin)  # fmt: skip


def image_submission(values: tuple, origin: str, media=None) -> Record | None:
    """`submission_to_record` of a submission of the common shape, from its `SUBMISSION_FIELDS` values: a
    Reddit-hosted image at a plain URL, every field of its type and in range, not removed. None for any other
    submission, which `submission_to_record` then builds or tells what is wrong with. The common case's checks are made
    inline: a call per field's check cost a fifth of building the record."""
    post_id, subreddit, url, score, ratio, title, author, created_utc, over_18, removed, selftext = values
    if not (
        type(post_id) is str and type(subreddit) is str and type(url) is str and type(title) is str
        and (author is None or type(author) is str) and not removed and selftext not in REMOVED_SELFTEXTS
        and type(score) is int and INT64_MIN <= score <= INT64_MAX and type(ratio) is float and 0 <= ratio <= 1
        and type(created_utc) is int and FIRST_DATE <= created_utc <= LAST_DATE
    ):  # fmt: skip
        return None
    host = _PLAIN_HOST.match(url)
    if host is None or host.group(1) not in REDDIT_IMAGE_HOSTS:
        return None
    likes = estimated_upvotes(score, ratio)
    media_path = media.find(post_id) if media is not None else None
    if likes > INT64_MAX:
        return None
    return _record(post_id, subreddit, url, "reddit_images", "image", post_id, title, author, created_utc, score,
                   ratio, likes, media_path, bool(over_18), origin)  # fmt: skip


def _record(
    post_id: str, subreddit: str, url: str, source: str, kind: str, media_id: str, title: str, author: str | None,
    created_utc: int | None, score: int, like_ratio: float, likes: int, media_path: str | None, nsfw: bool, origin: str,
) -> Record:  # fmt: skip
    """The record, its `__init__` called on a new instance: `Record(...)` hands its keywords over as a dict, which
    Python 3.11 builds and unpacks again (17k -> 9k instructions a record; staging a submission 91k -> 84k)."""
    record = Record.__new__(Record)
    record.__init__(
        key=f"reddit:{post_id}", source=source, platform="reddit", post_id=post_id, media_id=media_id, media_kind=kind,
        title=title, origin=origin, subreddit=subreddit, author=author, created_utc=created_utc, media_path=media_path,
        media_url=url, likes=likes, like_ratio=like_ratio, score=score, nsfw=nsfw,
    )  # fmt: skip
    return record


def comment_to_row(comment: dict) -> tuple[str, int, str, str | None, str | None, bool]:
    """`(post key, score, text, author, comment id, reply)` for one comment line (a reply's `parent_id` is another
    comment's, t1_...); `MissingField` when it has no link_id/body, its score is not an int64 or its author, id or
    parent_id no string."""
    link_id = require(comment, "link_id", str)
    if not link_id.startswith("t3_"):
        raise MissingField("link_id not a submission id (t3_...)", detail=link_id[:40])
    score = comment.get("score", 0)
    if type(score) is not int or not INT64_MIN <= score <= INT64_MAX:
        score = require_int(comment, "score")  # raises the type or range error
    author = comment.get("author")
    if type(author) is not str and author is not None:
        author = require(comment, "author", str)  # raises the type error
    parent = optional(comment, "parent_id", str)
    reply = parent is not None and not parent.startswith("t3_")
    return f"reddit:{link_id[3:]}", score, require(comment, "body", str), author, optional(comment, "id", str), reply
