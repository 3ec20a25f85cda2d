"""Benchmarks published as JSON annotations: EmoSet, Memento10k, the video-QA sets of Video-ChatGPT / LLaMA-VID,
the Pitt ads (Hussain et al. 2017) and the persuasion-strategy labels."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from .common import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, MediaIndex, find_file, majority

MEDIA_EXTENSIONS = IMAGE_EXTENSIONS + VIDEO_EXTENSIONS


def _load(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error


def emoset(root: Path, split: str = "test"):
    """EmoSet-118K (Yang et al. 2023): `<split>.json`, a list of [emotion, image path, annotation path] under
    `<root>` (`image/<emotion>/<name>.jpg`)."""
    table = find_file(root, f"{split}.json", f"*/{split}.json")
    records = []
    for number, entry in enumerate(_load(table)):
        if not (isinstance(entry, list) and len(entry) >= 2):
            raise ValueError(f"{table}: entry {number} is not [emotion, image, annotation]: {entry!r}")
        image = table.parent / entry[1]
        if not image.is_file():
            raise FileNotFoundError(f"{table}: entry {number}: image {entry[1]} not found under {table.parent}")
        records.append({"media": str(image), "label": entry[0]})
    return records


def memento10k(root: Path, split: str = "val"):
    """Memento10k (Newman et al. 2020): `memento_<split>_data.json`, a list of {"filename": ..., "mem_score": ...};
    the test split ships no scores, so `val` is the default. Videos found by file name under `<root>`. NOT
    CONFIRMED: the score key (`mem_score`, also read: `scores_normalized_short_term`, `short_term_score`)."""
    table = find_file(root, f"memento_{split}_data.json", f"*/memento_{split}_data.json")
    media = MediaIndex(root, VIDEO_EXTENSIONS)
    records = []
    for number, entry in enumerate(_load(table)):
        where = f"{table}: entry {number}"
        score = next((entry[key] for key in ("mem_score", "scores_normalized_short_term", "short_term_score")
                      if key in entry), None)
        if score is None:
            raise ValueError(f"{where}: no memorability score (mem_score)")
        records.append({"media": media.find(entry["filename"], where), "target": float(score)})
    return records


def video_qa(root: Path):
    """MSVD-QA, MSRVTT-QA, ActivityNet-QA in the files LLaMA-VID / Video-ChatGPT evaluate from: either one list
    (`test_qa.json`) of {question, answer, video_name | video_id | video} or ActivityNet-QA's `test_q.json`
    ({video_name, question, question_id}) with `test_a.json` ({answer, question_id}). Videos are found by name
    under `<root>` (ActivityNet's are also tried with the `v_` prefix)."""
    media = MediaIndex(root, VIDEO_EXTENSIONS)
    try:
        table = find_file(root, "test_qa.json", "*/test_qa.json")
        entries = _load(table)
    except FileNotFoundError:
        table = find_file(root, "test_q.json", "*/test_q.json")
        answers = {entry["question_id"]: entry for entry in _load(find_file(root, "test_a.json", "*/test_a.json"))}
        entries = []
        for entry in _load(table):
            if entry["question_id"] not in answers:
                raise ValueError(f"{table}: question {entry['question_id']} has no answer in test_a.json")
            entries.append({**entry, "answer": answers[entry["question_id"]]["answer"]})
    records = []
    for number, entry in enumerate(entries):
        where = f"{table}: entry {number}"
        name = str(next((entry[key] for key in ("video_name", "video_id", "video") if key in entry), ""))
        if not name:
            raise ValueError(f"{where}: no video_name / video_id")
        key = name if (name in media.by_stem or name in media.by_name or f"v_{name}" not in media.by_stem) else (
            f"v_{name}")
        records.append({"media": media.find(key, where), "question": entry["question"], "answer": entry["answer"]})
    return records


def _ads_annotations(root: Path, name: str) -> tuple[Path, dict]:
    table = find_file(root, f"{name}.json", f"video_{name}_clean.json", f"**/{name}.json",
                      f"**/video_{name}_clean.json")
    annotations = _load(table)
    if not isinstance(annotations, dict):
        raise ValueError(f"{table}: expected an object mapping each ad to its annotations")
    return table, annotations


def _ads_names(root: Path, name: str) -> dict[str, str]:
    """Topic / sentiment ids to names from the annotation archive's list file. NOT CONFIRMED: its exact format;
    read as one `<id> <description>` per line, the quoted short name in the description preferred."""
    table = find_file(root, f"{name}_List.txt", f"**/{name}_List.txt")
    names = {}
    for line in table.read_text(encoding="utf-8", errors="replace").splitlines():
        match = re.match(r"\s*(\d+)[\s.:)-]+(.+)", line)
        if match:
            short = re.search(r"\(\"?([^\")]+)\"?\)\s*$", match.group(2))
            names[match.group(1)] = (short.group(1) if short else match.group(2)).strip().strip('"').lower()
    if not names:
        raise ValueError(f"{table}: no '<id> <name>' lines")
    return names


def ads_classes(root: Path, name: str):
    """Pitt ads topics or sentiments (Hussain et al. 2017): `Topics.json` / `Sentiments.json` (images; videos:
    `video_Topics_clean.json` / `video_Sentiments_clean.json`) map each ad (image path or YouTube id) to its
    annotators' ids (a list, a list of lists, or one id); the label is the annotators' majority, named through
    `Topics_List.txt` / `Sentiments_List.txt`. Free-text annotations that are no id are ignored."""
    table, annotations = _ads_annotations(root, name)
    names = _ads_names(root, name)
    media = MediaIndex(root, MEDIA_EXTENSIONS)
    records = []
    for key, value in annotations.items():
        where = f"{table}: {key}"
        values = value if isinstance(value, list) else [value]
        flat = [item for entry in values for item in (entry if isinstance(entry, list) else [entry])]
        ids = [str(item).strip() for item in flat if str(item).strip() in names]
        if not ids:
            raise ValueError(f"{where}: no annotation is a known {name} id ({flat!r})")
        records.append({"media": media.find(key, where), "label": names[majority(ids, where)]})
    return records, [names[key] for key in sorted(names, key=int)]


def ads_statements(root: Path, name: str, n_candidates: int = 30, seed: int = 0):
    """Pitt ads action or reason statements: `QA_Action.json` / `QA_Reason.json` map each ad to its annotators'
    statements. Each record is a ranking question (the protocol of Hussain et al.): one of its statements among
    `n_candidates - 1` statements of other ads, drawn with a fixed seed, any of its own statements counting as
    correct (random accuracy 1 / n_candidates)."""
    table, annotations = _ads_annotations(root, name)
    media = MediaIndex(root, MEDIA_EXTENSIONS)
    keys = sorted(annotations)
    pool = [(key, statement) for key in keys for statement in annotations[key]]
    records = []
    for key in keys:
        where = f"{table}: {key}"
        own = [str(statement) for statement in annotations[key]]
        if not own:
            raise ValueError(f"{where}: no statements")
        rng = random.Random(f"{seed}:{key}")
        others = [statement for other, statement in pool if other != key and statement not in own]
        candidates = [own[0], *rng.sample(others, min(n_candidates - 1, len(others)))]
        rng.shuffle(candidates)
        records.append({"media": media.find(key, where), "candidates": candidates, "answers": own})
    return records


def persuasion(root: Path):
    """Persuasion strategies of video ads (Bhattacharyya et al. 2023). NOT CONFIRMED: no public layout was found;
    this reads `persuasion_strategies.json` mapping each video (file name or id under `<root>`) to its strategy
    labels, the first label being the ad's main strategy."""
    table = find_file(root, "persuasion_strategies.json")
    annotations = _load(table)
    media = MediaIndex(root, VIDEO_EXTENSIONS)
    records, labels = [], set()
    for key, value in annotations.items():
        strategies = value if isinstance(value, list) else [value]
        if not strategies:
            raise ValueError(f"{table}: {key}: no strategy")
        labels.update(map(str, strategies))
        records.append({"media": media.find(key, f"{table}: {key}"), "label": str(strategies[0])})
    return records, sorted(labels)
