"""Generic JSONL: any platform's own analytics as one JSON object per line (plain or `.zst`).

The schema, the rules each field is held to and the skip reasons are in `docs/generic_jsonl.md` (one copy, kept
there for users); `item_to_record` enforces them.
"""

from __future__ import annotations

from pathlib import Path

from .records import (
    MissingField,
    Record,
    optional,
    optional_int,
    optional_number,
    optional_strings,
    replay_graph,
    require,
    to_unix,
)


def _media_path(item: dict, base: Path) -> str | None:
    value = item.get("media_path")
    if value is None:
        return None
    if not isinstance(value, str):
        raise MissingField(f"field 'media_path' has type {type(value).__name__}")
    path = Path(value) if Path(value).is_absolute() else base / value
    return str(path.resolve()) if path.is_file() else None


def item_to_record(item: dict, origin: str, base: Path) -> Record:
    """One item's record (its `media_path` None when the file is not there: the post filters come first, then the
    media check)."""
    post_id = str(require(item, "id", (str, int)))
    platform = require(item, "platform", str).lower()
    kind = require(item, "kind", str)
    if kind not in ("image", "video"):
        raise MissingField("field 'kind' not 'image' or 'video'", detail=repr(kind)[:40])
    if item.get("media_path") is None and item.get("media_url") is None:
        raise MissingField("missing field 'media_path' or 'media_url'")
    media_path = _media_path(item, base)
    views, likes = optional_int(item, "views"), optional_int(item, "likes")
    like_percent = optional(item, "like_percent", (int, float))
    if like_percent is not None:
        if not 0 <= like_percent <= 100:  # NaN too
            raise MissingField("field 'like_percent' not in [0, 100]", detail=repr(like_percent)[:40])
        like_ratio = like_percent / 100.0
    else:
        like_ratio = likes / views if likes is not None and views else None
    comments = []
    for comment in optional(item, "comments", list) or []:
        if not isinstance(comment, dict) or not isinstance(comment.get("text"), str):
            raise MissingField("comment without a 'text' string")
        try:
            score, author = optional_int(comment, "likes") or 0, optional(comment, "author", str)
        except MissingField as err:
            raise MissingField(f"comment {err}", detail=err.detail) from None
        try:
            comment_id = optional(comment, "id", str)
        except MissingField as err:
            raise MissingField(f"comment {err}", detail=err.detail) from None
        comments.append({"text": comment["text"], "score": score, "author": author, "id": comment_id})
    author = optional(item, "author", str)
    default_id = Path(media_path).name.split(".", 1)[0] if media_path else post_id
    return Record(
        key=f"{platform}:{post_id}",
        source="generic",
        platform=platform,
        post_id=post_id,
        media_id=str(item.get("media_id") or default_id),
        media_kind=kind,
        title=require(item, "title", str),
        origin=origin,
        channel=author,
        author=author,
        created_utc=to_unix(item.get("created")),
        brand=bool(item.get("brand")),
        media_path=media_path,
        media_url=optional(item, "media_url", str),
        duration=optional_number(item, "duration"),
        views=views,
        likes=likes,
        like_ratio=like_ratio,
        language=optional(item, "language", str),
        categories=optional_strings(item, "categories") or [],
        nsfw=bool(item.get("nsfw")),
        asr=optional(item, "asr", str),
        heatmap=replay_graph(item, "replay"),
        comments=comments,
    )
