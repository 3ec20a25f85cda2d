"""Benchmarks published as delimited text tables: LVU, Emotion6, Abstract, LaMem, MemCat, VideoMem, MediaEval,
HVU, and the documented fallback table for SUN and LAMBDA. Each adapter reads the table as the benchmark ships it
and finds the media through a `MediaIndex` of the folder, so the archive's own sub-folders need no renaming.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from .common import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, MediaIndex, find_file

LVU_CLASSIFICATION = ("relationship", "way_speaking", "scene", "director", "writer", "year", "genre")
LVU_REGRESSION = ("like_ratio", "view_count")


def _rows(path: Path, delimiter: str = ",") -> list[dict]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def _column(row: dict, names: tuple[str, ...], where: str) -> str:
    for name in names:
        if row.get(name) not in (None, ""):
            return row[name]
    raise ValueError(f"{where}: no value in any of the columns {names}")


def lvu(root: Path, task: str, split: str = "test"):
    """LVU 1.0 (Wu & Krahenbuhl 2021), `lvu_1.0/<task>/<split>.csv` as in chaoyuaw/lvu, plus the videos downloaded
    by YouTube id anywhere under `<root>` (e.g. `videos/<youtube_id>.mp4`).

    The csv has a header line, then space-separated rows whose second-to-last field is the YouTube id and last the
    IMDb id (chaoyuaw/lvu `load_mc_video_data`). like_ratio rows start with likes and dislikes (target: likes /
    (likes + dislikes) * 10), view_count rows with the view count (target: the count; scored on its log as LVU
    does). Classification rows start with the class index; the fields between it and the YouTube id are read as the
    class name, and the labels are the names of all three splits. NOT CONFIRMED: that a name column is there (LVU's
    own code reads only the index); when it is missing the index itself becomes the label.
    """
    table = find_file(root, f"lvu_1.0/{task}/{split}.csv", f"{task}/{split}.csv")
    media = MediaIndex(root, VIDEO_EXTENSIONS)
    records = []
    for number, line in enumerate(table.read_text().splitlines()[1:], start=2):
        fields = line.split()
        if not fields:
            continue
        where = f"{table}:{number}"
        if len(fields) < 3:
            raise ValueError(f"{where}: expected at least 3 space-separated fields, got {line!r}")
        record = {"media": media.find(fields[-2], where)}
        if task == "like_ratio":
            likes, dislikes = float(fields[0]), float(fields[1])
            record["target"] = likes / (likes + dislikes) * 10.0
        elif task == "view_count":
            record["target"] = float(fields[0])
        else:
            record["label"] = _lvu_class(fields)
        records.append(record)
    if task in LVU_REGRESSION:
        return records
    names = {}  # the class names of every split: the labels a record may take
    for path in sorted(table.parent.glob("*.csv")):
        for line in path.read_text().splitlines()[1:]:
            if len(line.split()) >= 3:
                names.setdefault(int(line.split()[0]), _lvu_class(line.split()))
    return records, [names[index] for index in sorted(names)]


def _lvu_class(fields: list[str]) -> str:
    return " ".join(fields[1:-2]).replace("_", " ") or fields[0]


def emotion6(root: Path):
    """Emotion6 (Peng et al. 2015): `ground_truth.txt` (tab-separated, a header, then per image its path under
    `images/`, valence, arousal and the annotators' probability of anger, disgust, fear, joy, sadness, surprise,
    neutral). The label is the most probable of the six emotions (the paper's 6-way task; neutral left out)."""
    table = find_file(root, "ground_truth.txt", "*/ground_truth.txt")
    media = MediaIndex(root, IMAGE_EXTENSIONS)
    records = []
    for number, line in enumerate(table.read_text().splitlines()[1:], start=2):
        fields = line.split("\t") if "\t" in line else line.split()
        if not fields or not fields[0].strip():
            continue
        where = f"{table}:{number}"
        if len(fields) < 9:
            raise ValueError(f"{where}: expected image, valence, arousal and 7 probabilities, got {line!r}")
        probabilities = [float(value) for value in fields[3:9]]
        records.append({"media": media.find(fields[0].strip(), where),
                        "label": EMOTION6[probabilities.index(max(probabilities))]})
    return records


def abstract(root: Path):
    """Abstract paintings (Machajdik & Hanbury 2010): `ABSTRACT_groundTruth.csv` (a quoted header 'Filename' and one
    vote count per emotion) beside the images. The label is the emotion with the most votes; images whose top votes
    tie are skipped as ambiguous, as the dataset's users do. NOT CONFIRMED beyond the file name and its columns."""
    table = find_file(root, "ABSTRACT_groundTruth.csv", "*/ABSTRACT_groundTruth.csv")
    media = MediaIndex(root, IMAGE_EXTENSIONS)
    records = []
    for number, row in enumerate(_rows(table), start=2):
        row = {key.strip("'\" "): value.strip("'\" ") for key, value in row.items()}
        votes = [float(row[column]) for column in ABSTRACT_COLUMNS]
        if votes.count(max(votes)) > 1:
            continue
        records.append({"media": media.find(row["Filename"], f"{table}:{number}"),
                        "label": MIKELS_LABELS[votes.index(max(votes))]})
    return records


def lamem(root: Path, fold: int = 1):
    """LaMem (Khosla et al. 2015): `splits/test_<fold>.txt` ("<image> <memorability score>" per line), images in
    `images/`."""
    table = find_file(root, f"splits/test_{fold}.txt", f"*/splits/test_{fold}.txt")
    media = MediaIndex(root, IMAGE_EXTENSIONS)
    records = []
    for number, line in enumerate(table.read_text().splitlines(), start=1):
        fields = line.split()
        if fields:
            records.append({"media": media.find(fields[0], f"{table}:{number}"), "target": float(fields[1])})
    return records


def memcat(root: Path):
    """MemCat (Goetschalckx & Wagemans 2019): `memcat_image_data.csv` (image_file, category, subcategory, ...,
    memorability_w_fa_correction), images under `<category>/<subcategory>/` anywhere below `<root>`."""
    return _score_table(root, ("memcat_image_data.csv", "*/memcat_image_data.csv"), ("image_file",),
                        ("memorability_w_fa_correction",), IMAGE_EXTENSIONS)


def videomem(root: Path):
    """VideoMem (Cohendet et al. 2019, MediaEval 2018/19 dev-set): `ground-truth_dev-set.csv` (video,
    short-term_memorability, nb_short-term_annotations, long-term_memorability, ...); the short-term score."""
    return _score_table(root, ("ground-truth_dev-set.csv", "*/ground-truth_dev-set.csv", "ground-truth*.csv"),
                        ("video",), ("short-term_memorability",), VIDEO_EXTENSIONS)


def mediaeval(root: Path):
    """MediaEval 2021 Predicting Media Memorability (TRECVid videos): `*_scores.csv` (video_id,
    scores_raw_short_term, scores_normalized_short_term, ...); videos found by id. NOT CONFIRMED: the video file
    naming (looked up by the id as file stem)."""
    return _score_table(root, ("dev_scores.csv", "*/dev_scores.csv", "*_scores.csv", "*/*_scores.csv"),
                        ("video_id",), ("scores_normalized_short_term", "scores_raw_short_term"), VIDEO_EXTENSIONS)


def scores_csv(root: Path, extensions: tuple[str, ...]):
    """NOT CONFIRMED layout, used for SUN memorability (Isola et al. 2011, published as MATLAB files) and LAMBDA
    (I et al. 2024): a `scores.csv` with columns `media` (file name or path under `<root>`) and `score`, written by
    the user from the published files."""
    return _score_table(root, ("scores.csv",), ("media",), ("score",), extensions)


def _score_table(root: Path, tables: tuple[str, ...], media_columns, score_columns, extensions):
    table = find_file(root, *tables)
    media = MediaIndex(root, extensions)
    records = []
    for number, row in enumerate(_rows(table), start=2):
        where = f"{table}:{number}"
        score = float(_column(row, score_columns, where))
        if not math.isnan(score):
            records.append({"media": media.find(_column(row, media_columns, where), where), "target": score})
    return records


def hvu(root: Path, category: str):
    """HVU (Diba et al. 2020): `HVU_Val_V1.0.csv` (Tags "tag1|tag2|...", youtube_id, time_start, time_end) and
    `HVU_Tags_Categories_V1.0.csv` (Tag, Category). The task's labels are the category's vocabulary; each clip's
    references are its tags of that category. NOT CONFIRMED: the clip file naming; a clip is looked up as
    `<youtube_id>_<start:06d>_<end:06d>` (the Kinetics downloader's naming), else by its YouTube id."""
    vocabulary_table = find_file(root, "HVU_Tags_Categories_V1.0.csv", "*/HVU_Tags_Categories_V1.0.csv")
    vocabulary = [row["Tag"] for row in _rows(vocabulary_table) if row["Category"].strip().lower() == category]
    if not vocabulary:
        raise ValueError(f"{vocabulary_table}: no tags of category {category!r}")
    table = find_file(root, "HVU_Val_V1.0.csv", "*/HVU_Val_V1.0.csv")
    media = MediaIndex(root, VIDEO_EXTENSIONS)
    known, records = set(vocabulary), []
    for number, row in enumerate(_rows(table), start=2):
        where = f"{table}:{number}"
        tags = [tag for tag in row["Tags"].split("|") if tag in known]
        if not tags:
            continue  # the clip has no tag of this category
        clip = f"{row['youtube_id']}_{int(float(row['time_start'])):06d}_{int(float(row['time_end'])):06d}"
        key = clip if clip in media.by_stem else row["youtube_id"]
        records.append({"media": media.find(key, where), "label": tags})
    return records, vocabulary


EMOTION6 = ["anger", "disgust", "fear", "joy", "sadness", "surprise"]
ABSTRACT_COLUMNS = ["Amusement", "Anger", "Awe", "Content", "Disgust", "Excitement", "Fear", "Sad"]
MIKELS_LABELS = ["amusement", "anger", "awe", "contentment", "disgust", "excitement", "fear", "sadness"]
