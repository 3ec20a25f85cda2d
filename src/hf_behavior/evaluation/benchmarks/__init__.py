"""The paper's benchmarks (Tables 1, 2, 3, 5, 6, 7, 8, 9, and IMDb of 12) as tasks, each with an adapter for its
published files.

`BENCHMARKS[name]` holds the task definition (a `BenchmarkTask`), the paper table and column it reports into, and
the adapter reading the benchmark from a local folder; `load_benchmark(name, folder)` returns the task and its
records. Zero-shot classification is scored by label logits, memorability by the expected rating of the next token
over a 0-9 scale (Spearman's rho), and everything else by generation + parsing, as `kinds.py` describes. Adapters
for layouts this project could not confirm from the benchmark's own files say NOT CONFIRMED in their docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from . import folders, jsons, tables, texts
from .common import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from .kinds import BenchmarkTask

CHOOSE = " Answer with one of: {{ labels | join(', ') }}."
EMOTION = "What emotion does this {media} evoke in its viewers? Answer with one word from: {{ labels | join(', ') }}."
MEMORABLE = ("How memorable is this {media}: how likely is a viewer to recognise it on seeing it again? Answer with "
             "one digit from 0 (forgettable) to 9 (unforgettable).")
DIGITS = [str(digit) for digit in range(10)]
LVU_QUESTIONS = {
    "relationship": "What is the relationship between the main characters of this movie clip?",
    "way_speaking": "How do the characters speak in this movie clip?",
    "scene": "Where does this movie clip take place?",
    "director": "Who directed the movie this clip is from?",
    "writer": "Who wrote the movie this clip is from?",
    "genre": "What is the genre of the movie this clip is from?",
    "year": "In which year was the movie this clip is from released?",
}
HVU_CATEGORIES = ("scene", "object", "action", "event", "attribute", "concept")
SENTIMENT = "Is the sentiment of this movie review positive or negative?"
AUDIO_AND_TEXT = "Table 12: audio and text"  # the audio summarization half is not implemented


@dataclass(frozen=True)
class Benchmark:
    name: str
    table: str
    column: str
    load: Callable[[Path], object]
    task: dict = field(default_factory=dict)

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metric(s) the paper's table reports for this benchmark, in its column order."""
        return self.task.get("metric", ("accuracy",))

    def build(self, folder: str | Path) -> tuple[BenchmarkTask, list[dict]]:
        """(task, records) for the benchmark's files in `folder`; labels read from the data where the benchmark
        publishes them with the annotations (LVU, HVU, ads), and the media type from the media found."""
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"benchmark {self.name}: data folder {folder} does not exist")
        loaded = self.load(folder)
        records, labels = loaded if isinstance(loaded, tuple) else (loaded, None)
        if not records:
            raise ValueError(f"benchmark {self.name}: no records in {folder}")
        values = {key: value for key, value in self.task.items() if key != "metric"}
        if labels is not None:
            values["labels"] = labels
        media = [str(record["media"]) for record in records if "media" in record]
        is_image = bool(media) and all(path.lower().endswith(IMAGE_EXTENSIONS) for path in media)
        media_type = "image" if is_image else "video"
        values["prompt"] = values["prompt"].replace("{media}", media_type)
        task = BenchmarkTask(name=self.name, media_type=media_type, source=f"benchmark {self.name}",
                             media_column="media" if media else None, label_column="label", target_column="target",
                             **values)  # fmt: skip
        return task, records


def _emotion(name, table, column, load, labels):
    return Benchmark(name, table, column, load, {"kind": "zero_shot", "labels": labels, "prompt": EMOTION})


def _memorability(name, column, load):
    return Benchmark(name, "Table 3: memorability (Spearman)", column, load,
                     {"kind": "rating", "labels": DIGITS, "prompt": MEMORABLE, "metric": ("spearman",)})


def _registry() -> dict[str, Benchmark]:
    video_emotion, image_emotion = "Table 2: video emotion", "Table 7: image emotion"
    entries = [
        _emotion("videoemotion8", video_emotion, "VideoEmotion-8", folders.videoemotion8, folders.PLUTCHIK),
        _emotion("caer", video_emotion, "CAER", folders.caer, folders.CAER),
        _emotion("ekman6", video_emotion, "Ekman-6", folders.ekman6, folders.EKMAN),
        _emotion("iapsa8", image_emotion, "IAPSa-8", folders.iapsa8, folders.MIKELS),
        _emotion("abstract", image_emotion, "Abstract", tables.abstract, tables.MIKELS_LABELS),
        _emotion("emotion6", image_emotion, "Emotion6", tables.emotion6, tables.EMOTION6),
        _emotion("emoset", image_emotion, "EmoSet", jsons.emoset, folders.MIKELS),
        _memorability("lamem", "LaMem", tables.lamem),
        _memorability("memcat", "MemCat", tables.memcat),
        _memorability("sun", "SUN", partial(tables.scores_csv, extensions=IMAGE_EXTENSIONS)),
        _memorability("memento10k", "Memento10k", jsons.memento10k),
        _memorability("videomem", "VideoMem", tables.videomem),
        _memorability("mediaeval", "MediaEval", tables.mediaeval),
        _memorability("lambda", "LAMBDA", partial(tables.scores_csv, extensions=VIDEO_EXTENSIONS)),
    ]
    for task, question in LVU_QUESTIONS.items():
        entries.append(Benchmark(f"lvu-{task}", "Table 1: LVU", task, partial(tables.lvu, task=task),
                                 {"kind": "zero_shot", "prompt": question + CHOOSE}))
    entries += [
        Benchmark("lvu-like_ratio", "Table 1: LVU", "like_ratio", partial(tables.lvu, task="like_ratio"),
                  {"kind": "regression", "metric": ("mse",), "max_new_tokens": 8,
                   "prompt": "On a scale from 0 to 10, how much do YouTube viewers like this movie clip (likes / "
                             "(likes + dislikes) x 10)? Answer with a number."}),
        Benchmark("lvu-view_count", "Table 1: LVU", "view_count", partial(tables.lvu, task="view_count"),
                  {"kind": "regression", "metric": ("mse",), "max_new_tokens": 12, "log_scale": True,
                   "prompt": "How many times has this movie clip been viewed on YouTube? Answer with a number."}),
    ]
    ads = "Table 5: video ads"
    entries += [
        Benchmark("ads-topic", ads, "Topic", partial(jsons.ads_classes, name="Topics"),
                  {"kind": "zero_shot",
                   "prompt": "What is the topic of this advertisement?" + CHOOSE}),
        Benchmark("ads-sentiment", ads, "Sentiment", partial(jsons.ads_classes, name="Sentiments"),
                  {"kind": "zero_shot",
                   "prompt": "What sentiment does this advertisement evoke in its viewers?" + CHOOSE}),
        Benchmark("persuasion", ads, "Persuasion", jsons.persuasion,
                  {"kind": "zero_shot",
                   "prompt": "Which persuasion strategy does this advertisement use?" + CHOOSE}),
        Benchmark("ads-action", ads, "Action", partial(jsons.ads_statements, name="QA_Action"),
                  {"kind": "choice", "candidates_column": "candidates", "answer_column": "answers",
                   "prompt": "What does this advertisement want the viewer to do?"}),
        Benchmark("ads-reason", ads, "Reason", partial(jsons.ads_statements, name="QA_Reason"),
                  {"kind": "choice", "candidates_column": "candidates", "answer_column": "answers",
                   "prompt": "Why should the viewer do what this advertisement suggests?"}),
    ]
    for name, column in (("msvd-qa", "MSVD-QA"), ("msrvtt-qa", "MSRVTT-QA"), ("activitynet-qa", "ActivityNet-QA")):
        entries.append(Benchmark(name, "Table 6: video QA", column, jsons.video_qa,
                                 {"kind": "qa_judge", "question_column": "question", "answer_column": "answer",
                                  "prompt": "{{ question }}", "max_new_tokens": 64, "metric": ("accuracy", "score")}))
    entries.append(Benchmark("dense-captions", "Table 8: dense captioning", "Dense captions", folders.image_folder,
                             {"kind": "judge", "prompt": "Describe this {media} in detail.",
                              "metric": ("correctness", "detail", "quality")}))
    for category in HVU_CATEGORIES:
        entries.append(Benchmark(f"hvu-{category}", "Table 9: HVU", category.capitalize(),
                                 partial(tables.hvu, category=category),
                                 {"kind": "multilabel", "metric": ("mAP",),
                                  "prompt": f"Name one {category} shown in this video."}))
    review = "Review: {{ text }}\n\n" + SENTIMENT
    demonstration = "Review: {{ example_text }}\n\n" + SENTIMENT + " {{ example_label }}\n\n"
    entries += [
        Benchmark("imdb", AUDIO_AND_TEXT, "IMDb 0-shot", texts.imdb,
                  {"kind": "zero_shot", "labels": texts.SENTIMENTS, "prompt": review + CHOOSE}),
        Benchmark("imdb-1shot", AUDIO_AND_TEXT, "IMDb 1-shot", partial(texts.imdb, shots=1),
                  {"kind": "zero_shot", "labels": texts.SENTIMENTS, "prompt": demonstration + review + CHOOSE}),
    ]
    return {entry.name: entry for entry in entries}


BENCHMARKS = _registry()
FAMILIES = {
    "lvu": [name for name in BENCHMARKS if name.startswith("lvu-")],
    "hvu": [name for name in BENCHMARKS if name.startswith("hvu-")],
    "ads": [name for name in BENCHMARKS if name.startswith("ads-")],
    "imdb": ["imdb", "imdb-1shot"],
}


def load_benchmark(name: str, folder: str | Path) -> tuple[BenchmarkTask, list[dict]]:
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; the paper suite has: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name].build(folder)


__all__ = ["BENCHMARKS", "FAMILIES", "Benchmark", "BenchmarkTask", "load_benchmark"]
