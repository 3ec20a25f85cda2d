"""SALICON object and region saliency ranking (Listings 6 and 7) as a `datasets.ArrowBasedBuilder`,
run by `hf-behavior build-blift --salicon-fixations ...` like `blift.py` (rows yielded as Arrow batches)."""

from __future__ import annotations

import datasets
from datasets import Features, Json, List, Value
from datasets.builder import Key

from hf_behavior.data.arrow import rows_table, storage_schema
from hf_behavior.data.records import json_text
from hf_behavior.data.salicon import iter_salicon
from hf_behavior.data.templates import salicon_object_messages, salicon_region_messages

DESCRIPTIONS = {
    "salicon_object": "Listing 6: rank the image's COCO objects by SALICON saliency.",
    "salicon_region": "Listing 7: rank the 3x3 tiles of the image by SALICON saliency.",
}
FEATURES = Features(
    {
        "id": Value("string"),
        "file_name": Value("string"),
        "media_kind": Value("string"),
        "media_path": Value("string"),
        "ranking": List(Value("string")),
        "saliency": List(Value("float64")),
        "messages": List(Json()),
    }
)
ARROW_SCHEMA = storage_schema(FEATURES)
BATCH_ROWS = 1000


class SaliconConfig(datasets.BuilderConfig):
    def __init__(self, fixations: str | None = None, instances: str | None = None, image_dir: str = ".", **kwargs):
        super().__init__(**kwargs)
        self.fixations, self.instances, self.image_dir = fixations, instances, image_dir


class Salicon(datasets.ArrowBasedBuilder):
    BUILDER_CONFIG_CLASS = SaliconConfig
    BUILDER_CONFIGS = [SaliconConfig(name=name, description=text) for name, text in DESCRIPTIONS.items()]

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description=self.config.description, features=FEATURES)

    def _split_generators(self, dl_manager):
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={})]

    def _generate_tables(self):
        by_objects = self.config.name == "salicon_object"
        template = salicon_object_messages if by_objects else salicon_region_messages
        rows, batch = [], 0
        for item in iter_salicon(self.config.fixations, self.config.instances, self.config.image_dir):
            ranked = item["objects"] if by_objects else item["regions"]
            if not ranked or not item["num_fixations"]:
                continue
            names = [name for name, _ in ranked]
            rows.append({
                "id": item["id"],
                "file_name": item["file_name"],
                "media_kind": "image",
                "media_path": item["media_path"],
                "ranking": names,
                "saliency": [score for _, score in ranked],
                "messages": [json_text(message) for message in template(item, names)],
            })  # fmt: skip
            if len(rows) == BATCH_ROWS:
                yield Key(0, batch), rows_table(rows, ARROW_SCHEMA)
                rows, batch = [], batch + 1
        if rows:
            yield Key(0, batch), rows_table(rows, ARROW_SCHEMA)
