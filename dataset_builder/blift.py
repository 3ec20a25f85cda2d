"""BLIFT as a `datasets.ArrowBasedBuilder` over the filtered record shards of `hf-behavior build-blift`.

datasets 5 no longer runs loading scripts, so this builder is run by our CLI (`hf_behavior.data.export`), which
writes its parquet output plus a README with `configs:` YAML; `load_dataset("<folder or hub id>", "<config>")`
then reads the parquet with no remote code. Rows are yielded as Arrow tables of `BATCH_ROWS` rows
(`hf_behavior.data.arrow`).
"""

from __future__ import annotations

import datasets
from datasets import Features, Json, List, Value
from datasets.builder import Key

from hf_behavior.data.arrow import rows_table, storage_schema
from hf_behavior.data.records import Record, json_text
from hf_behavior.data.templates import CONFIG_TEMPLATES

SOURCE_SUBSETS = {"reddit_images": "reddit_images", "reddit_videos": "reddit_videos", "youtube_videos": "youtube_videos"}
DESCRIPTIONS = {
    "reddit_images": "Listing 1 (behaviour) for r/pics images: description, liked-by %, top comments.",
    "reddit_videos": "Listing 1 (behaviour) for r/videos YouTube videos.",
    "youtube_videos": "Listing 1 (behaviour) for YouTube videos, with replay values per scene.",
    "blift": "Listing 1 (behaviour) over all sources: the Behavior-LLaVA training set.",
    "blift_no_behavior": "Listing 8 (Ad-LLaVA): the same media and scene descriptions, no behaviour.",
    "blift_likes": "Table 10 ablation: only the like percentage is asked.",
    "blift_titles": "Table 10 ablation: the title is withheld and asked for.",
    "blift_comments": "Table 10 ablation: only the top comments are asked.",
    "content_simulation": "M3L content simulation: predict the caption (title) from metadata and media.",
    "behavior_simulation": "M3L behaviour simulation: predict the number of likes from metadata, caption and media.",
}

FEATURES = Features(
    {
        "id": Value("string"),
        "source": Value("string"),
        "platform": Value("string"),
        "post_id": Value("string"),
        "media_id": Value("string"),
        "media_kind": Value("string"),
        "media_path": Value("string"),
        "media_url": Value("string"),
        "title": Value("string"),
        "channel": Value("string"),
        "subreddit": Value("string"),
        "brand": Value("bool"),
        "created_utc": Value("int64"),
        "duration": Value("float64"),
        "views": Value("int64"),
        "likes": Value("int64"),
        "score": Value("int64"),
        "like_ratio": Value("float64"),
        "like_percent": Value("float64"),
        "asr": Value("string"),
        "replay": List(Value("float64")),  # per scene; empty when unknown
        "replay_graph": List({"start": Value("float64"), "end": Value("float64"), "value": Value("float64")}),
        "comments": List(Value("string")),
        "comment_scores": List(Value("int64")),
        "scenes": List(Json()),
        "messages": List(Json()),
    }
)
ARROW_SCHEMA = storage_schema(FEATURES)
BATCH_ROWS = 5000  # a record shard's posts: datasets' casting and checks run once per table


def record_row(record: Record, messages: list[dict]) -> dict:
    """The exported columns of one record: metadata, numeric behaviour for evaluation, and the chat."""
    return {
        "id": record.key,
        "source": record.source,
        "platform": record.platform,
        "post_id": record.post_id,
        "media_id": record.media_id,
        "media_kind": record.media_kind,
        "media_path": record.media_path,
        "media_url": record.media_url,
        "title": record.title,
        "channel": record.channel,
        "subreddit": record.subreddit,
        "brand": record.brand,
        "created_utc": record.created_utc,
        "duration": record.duration,
        "views": record.views,
        "likes": record.likes,
        "score": record.score,
        "like_ratio": record.like_ratio,
        "like_percent": record.like_percent,
        "asr": record.asr,
        "replay": record.replay or [],
        "replay_graph": record.heatmap or [],
        "comments": [c["text"] for c in record.comments],
        "comment_scores": [c["score"] for c in record.comments],
        "scenes": [json_text(scene) for scene in record.scenes],
        "messages": [json_text(message) for message in messages],
    }


class BliftConfig(datasets.BuilderConfig):
    def __init__(self, record_files: list[str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.record_files = record_files or []


class Blift(datasets.ArrowBasedBuilder):
    BUILDER_CONFIG_CLASS = BliftConfig
    BUILDER_CONFIGS = [BliftConfig(name=name, description=text) for name, text in DESCRIPTIONS.items()]
    DEFAULT_CONFIG_NAME = "blift"

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description=self.config.description, features=FEATURES)

    def _split_generators(self, dl_manager):
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"files": list(self.config.record_files)})]

    def _generate_tables(self, files: list[str]):
        template = CONFIG_TEMPLATES[self.config.name]
        subset = SOURCE_SUBSETS.get(self.config.name)
        for shard, path in enumerate(files):
            rows, batch = [], 0
            with open(path, "rb") as fh:
                for line in fh:
                    record = Record.from_json(line)
                    if subset is not None and record.source != subset:
                        continue
                    messages = template(record)
                    if messages is not None:
                        rows.append(record_row(record, messages))
                    if len(rows) == BATCH_ROWS:
                        yield Key(shard, batch), rows_table(rows, ARROW_SCHEMA)
                        rows, batch = [], batch + 1
            if rows:
                yield Key(shard, batch), rows_table(rows, ARROW_SCHEMA)
