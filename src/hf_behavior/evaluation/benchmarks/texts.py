"""Text-only benchmarks (Table 12): IMDb sentiment (Maas et al. 2011), 0-shot and 1-shot.

The reviews are read as the Large Movie Review Dataset's archive (aclImdb_v1.tar.gz) unpacks them:
`[aclImdb/]{test,train}/{pos,neg}/<id>_<rating>.txt`, one review per file with `<br />` for line breaks. Records
alternate positive and negative by id, so that `--limit` takes a balanced subset. The 1-shot task puts before each
test review one training review and its label, drawn with a fixed seed.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

SENTIMENTS = ["positive", "negative"]
SENTIMENT_FOLDERS = {"pos": "positive", "neg": "negative"}
MAX_WORDS = 1000  # longer reviews (under 1% of IMDb) are cut, so that a 1-shot prompt fits a 4k-token context
REVIEW_FILE = re.compile(r"(\d+)_(\d+)\.txt")


def imdb(root: Path, shots: int = 0, seed: int = 0) -> list[dict]:
    """{id, text, label} per test review; with `shots=1` also the demonstration's `example_text` / `example_label`."""
    records = _reviews(root, "test")
    if shots:
        train = _reviews(root, "train")
        rng = random.Random(seed)
        for record in records:
            example = train[rng.randrange(len(train))]
            record["example_text"], record["example_label"] = example["text"], example["label"]
    return records


def _reviews(root: Path, split: str) -> list[dict]:
    base = next((folder for folder in (root / "aclImdb" / split, root / split) if folder.is_dir()), None)
    if base is None:
        raise FileNotFoundError(f"{root}: no aclImdb/{split} (or {split}) folder: expected the unpacked "
                                "aclImdb_v1.tar.gz, with {test,train}/{pos,neg}/<id>_<rating>.txt")  # fmt: skip
    reviews = []
    for folder, label in SENTIMENT_FOLDERS.items():
        if not (base / folder).is_dir():
            raise FileNotFoundError(f"{base}: no {folder}/ folder of {label} reviews")
        for path in (base / folder).glob("*.txt"):
            match = REVIEW_FILE.fullmatch(path.name)
            if match is None:
                raise ValueError(f"{path}: not an IMDb review file name (<id>_<rating>.txt)")
            text = path.read_text(encoding="utf-8").replace("<br />", "\n").strip()
            if not text:
                raise ValueError(f"{path}: empty review")
            words = text.split(" ")
            if len(words) > MAX_WORDS:
                text = " ".join(words[:MAX_WORDS]) + " …"
            order = (int(match[1]), folder)  # review 0 negative, review 0 positive, review 1 negative, ...
            reviews.append((order, {"id": f"{split}/{folder}/{path.stem}", "text": text, "label": label}))
    if not reviews:
        raise FileNotFoundError(f"{base}: no reviews in pos/ and neg/")
    return [review for _, review in sorted(reviews, key=lambda pair: pair[0])]
