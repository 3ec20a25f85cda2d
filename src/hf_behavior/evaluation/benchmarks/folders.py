"""Folder-per-class benchmarks: one sub-folder of media per emotion class (VideoEmotion-8, Ekman-6, CAER, IAPSa).

A split folder (`test/`, `validation/`...) above the class folders is used when present. Class folder names are
matched case-insensitively to the task's labels through each benchmark's `folder_names`, so `Happy` in CAER is the
label `happy`; a folder that is not a class is an error naming it, never a silent drop.
"""

from __future__ import annotations

from pathlib import Path

from .common import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS


def class_folders(root: Path, labels: list[str], extensions: tuple[str, ...], split: str | None = None,
                  folder_names: dict[str, str] | None = None) -> list[dict]:
    """One record {media, label} per media file in `<root>[/<split>]/<class>/`."""
    base = root / split if split and (root / split).is_dir() else root
    names = {label.lower(): label for label in labels} | {k.lower(): v for k, v in (folder_names or {}).items()}
    records = []
    for folder in sorted(path for path in base.iterdir() if path.is_dir()):
        label = names.get(folder.name.lower())
        if label is None:
            raise ValueError(f"{folder}: not a class folder of this benchmark (expected one of {sorted(names)})")
        records += [{"media": str(path), "label": label} for path in sorted(folder.rglob("*"))
                    if path.suffix.lower() in extensions]
    if not records:
        raise FileNotFoundError(f"{base}: no class folders with media ({', '.join(extensions)})")
    return records


def videoemotion8(root: Path) -> list[dict]:
    """VideoEmotion-8 (Jiang et al. 2014): `<root>/<Anger|Anticipation|...|Trust>/*.mp4` as the archive unpacks.
    The official 10 train/test splits (`TrainTestSplits/*.mat`) are not read: every video is evaluated zero-shot."""
    return class_folders(root, PLUTCHIK, VIDEO_EXTENSIONS)


def ekman6(root: Path) -> list[dict]:
    """Ekman-6 (Xu et al. 2016): `<root>[/test]/<anger|disgust|fear|joy|sadness|surprise>/*.mp4`."""
    return class_folders(root, EKMAN, VIDEO_EXTENSIONS, split="test")


def caer(root: Path) -> list[dict]:
    """CAER (Lee et al. 2019): `<root>/test/<Anger|Disgust|Fear|Happy|Neutral|Sad|Surprise>/*.avi`."""
    return class_folders(root, CAER, VIDEO_EXTENSIONS, split="test",
                         folder_names={"happy": "happy", "sad": "sad"})


def iapsa8(root: Path) -> list[dict]:
    """IAPSa (Mikels et al. 2005). NOT CONFIRMED: IAPS is licensed and has no public layout; this reads Mikels'
    eight categories as class folders, `<root>/<amusement|anger|...|sadness>/*.jpg`."""
    return class_folders(root, MIKELS, IMAGE_EXTENSIONS, folder_names={"content": "contentment", "sad": "sadness"})


def image_folder(root: Path) -> list[dict]:
    """Dense captioning (Table 8): every image under `<root>` (the paper names no dataset; references are judged)."""
    records = [{"media": str(path)} for path in sorted(root.rglob("*")) if path.suffix.lower() in IMAGE_EXTENSIONS]
    if not records:
        raise FileNotFoundError(f"{root}: no images ({', '.join(IMAGE_EXTENSIONS)})")
    return records


PLUTCHIK = ["anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust"]
EKMAN = ["anger", "disgust", "fear", "joy", "sadness", "surprise"]
CAER = ["anger", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
MIKELS = ["amusement", "anger", "awe", "contentment", "disgust", "excitement", "fear", "sadness"]
