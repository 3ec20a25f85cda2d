"""What every adapter shares: finding a benchmark's files and media in a local folder, with errors that name them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".flv")


def find_file(root: Path, *candidates: str) -> Path:
    """The first of `candidates` (paths relative to `root`, globs allowed) that exists, else a clear error."""
    for candidate in candidates:
        matches = sorted(root.glob(candidate))
        if matches:
            return matches[0]
    raise FileNotFoundError(f"{root}: none of {', '.join(candidates)} found (see the adapter's expected layout)")


class MediaIndex:
    """Every media file under a folder by name and by stem, so an annotation's id or file name finds its file
    wherever the benchmark's archive unpacked it (LVU videos named by YouTube id, MemCat's category folders...)."""

    def __init__(self, root: Path, extensions: tuple[str, ...]):
        self.root = root
        self.by_name: dict[str, Path] = {}
        self.by_stem: dict[str, Path] = {}
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() in extensions and path.is_file():
                self.by_name.setdefault(path.name, path)
                self.by_stem.setdefault(path.stem, path)
        if not self.by_name:
            raise FileNotFoundError(f"{root}: no media files ({', '.join(extensions)}) found")

    def find(self, key: str, where: str) -> str:
        """The file for `key` (a relative path, a file name or an id without extension); `where` names the record."""
        direct = self.root / key
        if direct.is_file():
            return str(direct)
        path = self.by_name.get(Path(key).name) or self.by_stem.get(Path(key).stem) or self.by_stem.get(key)
        if path is None:
            raise FileNotFoundError(f"{where}: no media file for {key!r} under {self.root}")
        return str(path)


def majority(values, where: str) -> str:
    """The most frequent annotation (the first one seen on a tie), for benchmarks with several annotators."""
    values = [str(value).strip() for value in values if str(value).strip()]
    if not values:
        raise ValueError(f"{where}: no annotation")
    return Counter(values).most_common(1)[0][0]
