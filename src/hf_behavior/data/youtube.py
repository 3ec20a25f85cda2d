"""YouTube: yt-dlp `.info.json` files (with `--write-comments`, and the media and subtitles beside them)."""

from __future__ import annotations

import re
from pathlib import Path

from .media import VIDEO_EXTENSIONS, FolderListing
from .records import (
    INT64_MAX,
    INT64_MIN,
    Dropped,
    Record,
    optional,
    optional_int,
    optional_number,
    replay_graph,
    require,
    require_int,
    to_unix,
)

_VTT_TAG = re.compile(r"<[^>]+>")


def subtitle_text(text: str) -> str:
    """Plain transcript from WebVTT/SRT text: cue timings, ids and tags removed, rolled-over repeats merged."""
    lines: list[str] = []
    for line in text.splitlines():
        line = _VTT_TAG.sub("", line).strip()
        if not line or "-->" in line or line.isdigit() or line.startswith(("WEBVTT", "Kind:", "Language:", "NOTE")):
            continue
        if not lines or lines[-1] != line:
            lines.append(line)
    return " ".join(lines)


def find_subtitles(listing: FolderListing, info_path: Path, video_id: str, languages=("en",)) -> str | None:
    """Transcript of `<id>.<lang>*.vtt|srt` beside the info file (yt-dlp `--write-subs/--write-auto-subs`)."""
    for lang in languages:
        names = listing.starting_with(info_path.parent, f"{video_id}.{lang}")
        for ext in (".vtt", ".srt"):
            for name in names:
                if name.endswith(ext):
                    text = subtitle_text((info_path.parent / name).read_text(encoding="utf-8", errors="replace"))
                    if text:
                        return text
    return None


def find_media(listing: FolderListing, info_path: Path, video_id: str) -> str | None:
    """The first `<id>.<video extension>` beside the info file."""
    for name in listing.starting_with(info_path.parent, f"{video_id}."):
        if Path(name).suffix.lower() in VIDEO_EXTENSIONS:
            return str((info_path.parent / name).resolve())
    return None


LIVE = frozenset({"is_live", "is_upcoming", "post_live"})  # yt-dlp's live_status of a stream whose counts still move


def _comment(item) -> dict | None:
    """A comment as `{"text", "score", "author", "id", "reply"}` (a reply's `parent` is another comment's id, not
    "root"); None for a malformed entry (a text, author or id that is no string, likes that are no int64), which
    the caller counts."""
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        return None
    likes, author, comment_id = item.get("like_count") or 0, item.get("author"), item.get("id")
    if type(likes) is not int or not INT64_MIN <= likes <= INT64_MAX or not (author is None or type(author) is str):
        return None
    if not (comment_id is None or type(comment_id) is str):
        return None
    reply = item.get("parent", "root") != "root"
    return {"text": item["text"], "score": likes, "author": author, "id": comment_id, "reply": reply}


def info_to_record(
    info: dict,
    info_path: Path,
    brand_channels=frozenset(),
    listing: FolderListing | None = None,
) -> Record:
    """One video's record (its `media_path` None when no media file is beside it: the post filters come first, then
    the media check); `listing` (one per build) lists each folder of info files once for the media and subtitle
    look-ups."""
    listing = listing or FolderListing()
    video_id = require(info, "id", str)
    if info.get("live_status") in LIVE or info.get("is_live") is True:
        # its views, likes and comments are provisional (and its duration unknown) until the stream ends
        raise Dropped("live stream", detail=str(info.get("live_status") or "is_live"))
    views = require_int(info, "view_count")
    likes = optional_int(info, "like_count")
    media_path = find_media(listing, info_path, video_id)
    channel = optional(info, "channel", str) or optional(info, "uploader", str)
    comments = [comment for c in optional(info, "comments", list) or [] if (comment := _comment(c)) is not None]
    language = optional(info, "language", str)
    return Record(
        key=f"youtube:{video_id}",
        source="youtube_videos",
        platform="youtube",
        post_id=video_id,
        media_id=video_id,
        media_kind="video",
        title=require(info, "title", str),
        origin=str(info_path),
        channel=channel,
        author=optional(info, "uploader_id", str),
        created_utc=to_unix(info.get("timestamp") or info.get("upload_date")),
        brand=channel in brand_channels,
        media_path=media_path,
        media_url=optional(info, "webpage_url", str) or f"https://www.youtube.com/watch?v={video_id}",
        duration=optional_number(info, "duration"),
        views=views,
        likes=likes,
        like_ratio=likes / views if likes is not None and views > 0 else None,
        language=language,
        categories=[c for c in optional(info, "categories", list) or [] if isinstance(c, str)],
        nsfw=(optional(info, "age_limit", int) or 0) >= 18,
        asr=find_subtitles(listing, info_path, video_id, (language or "en",)),
        heatmap=replay_graph(info, "heatmap", ("start_time", "end_time", "value")),
        comments=comments,
    )


def info_files(paths: list[str | Path]) -> list[Path]:
    """`*.info.json` files given directly or found (recursively) in the given folders, sorted."""
    found: list[Path] = []
    for path in map(Path, paths):
        found += sorted(path.rglob("*.info.json")) if path.is_dir() else [path]
    return found
