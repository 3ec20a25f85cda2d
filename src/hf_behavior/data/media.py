"""Finding media files by id: yt-dlp names downloads `<video_id>.<ext>`, our Reddit downloads `<post_id>.<ext>`."""

from __future__ import annotations

from pathlib import Path

VIDEO_EXTENSIONS = frozenset({".mp4", ".webm", ".mkv", ".mov", ".m4v", ".avi"})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"})
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS | IMAGE_EXTENSIONS


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
