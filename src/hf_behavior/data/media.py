"""Finding media files by id: yt-dlp names downloads `<video_id>.<ext>`, our Reddit downloads `<post_id>.<ext>`."""

from __future__ import annotations

import os
from bisect import bisect_left
from itertools import islice, takewhile
from pathlib import Path

VIDEO_EXTENSIONS = frozenset({".mp4", ".webm", ".mkv", ".mov", ".m4v", ".avi"})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"})
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS | IMAGE_EXTENSIONS


def video_duration(path: str) -> float | None:
    """A video file's duration in seconds as its container states it (PyAV reads the header only), None when it
    cannot be read: the duration cap's look-up for a video whose metadata and sidecar have none."""
    import av

    try:
        with av.open(path) as container:
            if container.duration is not None:
                return container.duration / av.time_base
            stream = container.streams.video[0]
            return float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
    except (av.error.FFmpegError, OSError, IndexError):
        return None


class MediaIndex:
    """Media stem -> path over one or more folders, listed once (a stat per post would dominate the build)."""

    def __init__(self, folders: list[str | Path] = ()):
        self.paths: dict[str, str] = {}
        for folder in folders:
            self.add_folder(folder)

    def add_folder(self, folder: str | Path) -> None:
        for path in sorted(Path(folder).iterdir()):
            if path.suffix.lower() in MEDIA_EXTENSIONS and path.is_file():
                self.paths.setdefault(path.name.split(".", 1)[0], str(path.resolve()))

    def find(self, media_id: str) -> str | None:
        return self.paths.get(media_id)

    def __bool__(self) -> bool:
        return bool(self.paths)


class FolderListing:
    """The file names of one folder at a time, listed once and sorted, for look-ups by name prefix (`<id>.`). yt-dlp
    puts every video's files in one folder, and a glob per video scanned all of it: N videos cost N² entries (43 ms a
    video at 4,000 videos, growing without bound). Prefixes are literal: a `[` in an id is no glob pattern here."""

    def __init__(self):
        self.folder: Path | None = None
        self.names: list[str] = []

    def starting_with(self, folder: Path, prefix: str) -> list[str]:
        """The names of the files in `folder` that start with `prefix`, sorted (the folder is listed again only when
        it is not the one of the previous call)."""
        if folder != self.folder:
            self.names = sorted(entry.name for entry in os.scandir(folder) if entry.is_file())
            self.folder = folder
        following = islice(self.names, bisect_left(self.names, prefix), None)
        return list(takewhile(lambda name: name.startswith(prefix), following))
