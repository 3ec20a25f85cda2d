"""BLIFT as a `datasets.ArrowBasedBuilder` over the filtered record shards of `hf-behavior build-blift`.

datasets 5 no longer runs loading scripts, so this builder is run by our CLI (`hf_behavior.data.export`), which
writes its parquet output plus a README with `configs:` YAML; `load_dataset("<folder or hub id>", "<config>")`
then reads the parquet with no remote code. Rows are yielded as Arrow tables of `BATCH_ROWS` rows
(`hf_behavior.data.arrow`).

`build-blift` renders the tables of every config it builds as it filters the records (`keep_rendered`, called
in its processes with each record shard's records in memory: a record's columns once, its messages once per
template), so that a config's build only reads them from `rendered_dir`: the shard's record columns, kept once,
and the config's rows of them with their messages. A shard with no table there (filtered by an earlier run) is
rendered from its record file by the first config that needs it, for all of `render_configs`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from operator import itemgetter
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
from datasets import Features, Json, List, Value
from datasets.builder import Key

from hf_behavior.data.arrow import storage_schema
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
MESSAGES = ARROW_SCHEMA.field("messages")  # the last column, the only one that differs between the configs
RECORD_SCHEMA = pa.schema([field for field in ARROW_SCHEMA if field.name != MESSAGES.name])
PICKS = pa.schema([pa.field("row", pa.int32()), MESSAGES])  # a config's rows of a shard's record columns
# the exported columns that hold a record field as it is, and the field's name
FIELD_COLUMNS = {name: {"id": "key", "replay_graph": "heatmap"}.get(name, name) for name in RECORD_SCHEMA.names
                 if name not in ("like_percent", "replay", "comments", "comment_scores", "scenes")}  # fmt: skip
COLUMNS_FILE = "columns.arrow"  # a rendered shard's record columns, beside its configs' picks
BATCH_ROWS = 5000  # a record shard's posts: datasets' casting and checks run once per table


def record_columns(records: list[Record]) -> pa.Table:
    """The exported columns of some records but their chats: metadata and numeric behaviour for evaluation. The
    fields exported as they are go column by column (an `itemgetter` over the records' attribute dicts, in C): a dict
    per record, turned into columns afterwards, cost twice as much. The comments and scenes of all the records go in
    one flat list each, cut into the records' lists by their counts: a list per record cost 15% more."""
    fields = [vars(record) for record in records]
    columns = dict(zip(FIELD_COLUMNS, zip(*map(itemgetter(*FIELD_COLUMNS.values()), fields))))
    columns["like_percent"] = [record.like_percent for record in records]
    columns["replay"] = [(record.replay or []) if record.scenes else [] for record in records]
    columns["replay_graph"] = [graph or [] for graph in columns["replay_graph"]]
    arrays = {name: pa.array(values, RECORD_SCHEMA.field(name).type) for name, values in columns.items()}
    comments, scenes = [record.comments for record in records], [record.scenes for record in records]
    flat, by_post = [comment for some in comments for comment in some], _offsets(comments)
    arrays["comments"] = _lists(by_post, [comment["text"] for comment in flat], "comments")
    arrays["comment_scores"] = _lists(by_post, [comment["score"] for comment in flat], "comment_scores")
    arrays["scenes"] = _lists(_offsets(scenes), [json_text(scene) for some in scenes for scene in some], "scenes")
    return pa.Table.from_arrays([arrays[f.name] for f in RECORD_SCHEMA], schema=RECORD_SCHEMA)


def _offsets(lists: list[list]) -> np.ndarray:
    """Where each of `lists` starts among their values laid one after another, and where the last ends."""
    offsets = np.zeros(len(lists) + 1, np.int32)
    np.cumsum(np.fromiter(map(len, lists), np.int32, len(lists)), out=offsets[1:])
    return offsets


def _lists(offsets: np.ndarray, values: list, column: str) -> pa.ListArray:
    """`values` cut at `offsets` (`_offsets`) as a list column of `RECORD_SCHEMA`."""
    kind = RECORD_SCHEMA.field(column).type
    return pa.ListArray.from_arrays(offsets, pa.array(values, kind.value_type), type=kind)


def render_records(records: Iterable[Record], configs: list[str]) -> tuple[pa.Table, dict[str, pa.Table]]:
    """The record columns of some records, and each config's picks of them: a table of row numbers and their
    messages. A record's columns are built once, and each template once (the source configs and `blift` share
    Listing 1's); `config_table` joins the two."""
    kept, picks = [], {config: ([], []) for config in configs}  # config -> (row numbers, messages as JSON texts)
    for record in records:
        chats = {}  # template -> its messages, None when the record lacks what the template needs
        for config in configs:
            subset = SOURCE_SUBSETS.get(config)
            if subset is not None and record.source != subset:
                continue
            template = CONFIG_TEMPLATES[config]
            if template not in chats:
                chat = template(record)
                chats[template] = None if chat is None else [json_text(message) for message in chat]
            if chats[template] is not None:
                picks[config][0].append(len(kept))
                picks[config][1].append(chats[template])
        if any(chat is not None for chat in chats.values()):
            kept.append(record)
    columns = record_columns(kept) if kept else RECORD_SCHEMA.empty_table()
    return columns, {config: pa.table([pa.array(r, pa.int32()), pa.array(m, MESSAGES.type)], PICKS)
                     for config, (r, m) in picks.items()}  # fmt: skip


def config_table(columns: pa.Table, picks: pa.Table) -> pa.Table:
    """A config's table: its rows of the record columns with their messages."""
    return columns.take(picks["row"]).append_column(MESSAGES, picks["messages"])


def render_shard(path: str, configs: list[str]) -> tuple[pa.Table, dict[str, pa.Table]]:
    """`render_records` of one record shard (`records/<shard>.jsonl`), from one read of it."""
    with open(path, "rb") as fh:
        return render_records(map(Record.from_json, fh), configs)


def keep_rendered(rendered_dir: str, configs: list[str], records: list[Record], shard: str) -> None:
    """Render `configs` for a shard's records into `rendered_dir/<shard>/`, where a build of those configs takes
    its tables from: `build-blift` calls it as each record shard is written, in the filtering processes, while the
    records are still in memory."""
    _keep(Path(rendered_dir) / shard, *render_records(records, configs))


def _keep(folder: Path, columns: pa.Table, picks: dict[str, pa.Table]) -> None:
    """A shard's record columns once (`columns.arrow`, written first) and each config's picks (`<config>.arrow`),
    so that a config's file there means its table can be made."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_arrow(folder / COLUMNS_FILE, columns)
    for config, table in picks.items():
        _write_arrow(folder / f"{config}.arrow", table)


def _write_arrow(path: Path, table: pa.Table) -> None:
    """An Arrow IPC file (LZ4: the chats repeat the system prompt and the comments), renamed into place whole (the
    temporary file is the process's own: configs built at once may render the same shard)."""
    tmp, options = path.with_suffix(f".{os.getpid()}.tmp"), pa.ipc.IpcWriteOptions(compression="lz4")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    os.replace(tmp, path)


def _read_arrow(path: Path) -> pa.Table:
    with pa.OSFile(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


class BliftConfig(datasets.BuilderConfig):
    def __init__(
        self, record_files: list[str] | None = None, rendered_dir: str | None = None,
        render_configs: list[str] | None = None, **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        self.record_files = record_files or []
        self.rendered_dir = rendered_dir  # where a shard's rendering for every one of `render_configs` is kept
        self.render_configs = render_configs or []


class Blift(datasets.ArrowBasedBuilder):
    BUILDER_CONFIG_CLASS = BliftConfig
    BUILDER_CONFIGS = [BliftConfig(name=name, description=text) for name, text in DESCRIPTIONS.items()]
    DEFAULT_CONFIG_NAME = "blift"
    # a parquet row group per table yielded, as datasets' own parquet export makes few large ones: its builders'
    # default, 1,000 rows, wrote five per table (a footer of 0.4 MB per file, a fifth of the writing)
    DEFAULT_WRITER_BATCH_SIZE = BATCH_ROWS

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description=self.config.description, features=FEATURES)

    def _split_generators(self, dl_manager):
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"files": list(self.config.record_files)})]

    def _generate_tables(self, files: list[str]):
        for shard, path in enumerate(files):
            table = self._shard_table(path)
            for batch, start in enumerate(range(0, table.num_rows, BATCH_ROWS)):
                yield Key(shard, batch), table.slice(start, BATCH_ROWS)

    def _shard_table(self, path: str) -> pa.Table:
        """This config's table of a record shard: kept by the filtering or by the config that read the shard first,
        else rendered here."""
        name, kept = self.config.name, self.config.rendered_dir
        if kept is None:
            columns, picks = render_shard(path, [name])
            return config_table(columns, picks[name])
        folder = Path(kept) / Path(path).stem
        if not (folder / f"{name}.arrow").is_file():
            columns, picks = render_shard(path, sorted({name, *self.config.render_configs}))
            _keep(folder, columns, {config: table for config, table in picks.items() if config != name})
            return config_table(columns, picks[name])
        picks = _read_arrow(folder / f"{name}.arrow")
        # a config of no rows here (a source the shard has none of) reads none of the shard's columns
        columns = _read_arrow(folder / COLUMNS_FILE) if picks.num_rows else RECORD_SCHEMA.empty_table()
        return config_table(columns, picks)
