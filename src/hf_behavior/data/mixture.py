"""The Behavior-LLaVA training mixture: BLIFT (behaviour) + LLaMA-VID's SFT data (instruct) at a sampling ratio.

The paper (section 2.2, Table 11) trains LLaMA-VID's checkpoint on its original SFT mix (ShareGPT text, image QA,
video QA; LLaVA JSON) together with BLIFT, and finds a 1:1 behaviour:instruct ratio for 2.2 epochs best.

- `llava_to_messages`: one LLaVA-JSON record -> our chat messages (the format of `hf_behavior.data.templates`).
- `load_llava_json`: a LLaVA `.json` / `.jsonl` file -> a `datasets.Dataset` (`id`, `messages`, `source`), bad
  records counted and skipped.
- `memory_mapped`: an in-memory dataset (a loaded LLaVA file) as a memory-mapped Arrow file, for DataLoader workers.
- `mix`: the sampled, shuffled mixture for a ratio and a fractional number of epochs; train one epoch over it.
"""

from __future__ import annotations

import json
import logging
import math
import re
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from datasets import Dataset, Features, Json, List, Value, concatenate_datasets, load_from_disk
from datasets.fingerprint import get_temporary_cache_files_directory

from .records import json_text

logger = logging.getLogger(__name__)

MIXTURE_FEATURES = Features({"id": Value("string"), "messages": List(Json()), "source": Value("string")})
INSTRUCT, BEHAVIOR = "instruct", "behavior"
ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}
MEDIA_TOKENS = ("<image>", "<video>")  # LLaMA-VID's video records use <image> too; the record's field decides


def _media(record: dict, record_id, media_root: str | Path | None) -> dict | None:
    kinds = [kind for kind in ("image", "video") if record.get(kind) is not None]
    if not kinds:
        return None
    if len(kinds) > 1:
        raise ValueError(f"record {record_id}: both image and video: one media per record is supported")
    kind, path = kinds[0], record[kinds[0]]
    if not isinstance(path, str) or not path:
        raise ValueError(f"record {record_id}: bad media field: '{kind}' must be one path string, got {path!r}")
    if "://" in path:
        return {"type": kind, "url": path}
    if media_root is not None and not Path(path).is_absolute():
        path = str(Path(media_root) / path)
    return {"type": kind, "path": path}


def _split_at_token(text: str) -> tuple[str, str, int]:
    """(text before the media token, text after it, number of media tokens)."""
    found = [(text.find(token), token) for token in MEDIA_TOKENS if token in text]
    count = sum(text.count(token) for token in MEDIA_TOKENS)
    if not found:
        return text, "", 0
    position, token = min(found)
    return text[:position].strip(), text[position + len(token):].strip(), count


def llava_to_messages(record: dict, media_root: str | Path | None = None) -> list[dict]:
    """LLaVA JSON (`id`, `image` | `video`, `conversations` of `{from: human|gpt, value}`) -> chat messages.

    The `<image>` / `<video>` token of a human turn becomes the media block, before or after the turn's text as in
    the source; a record with media but no token gets it at the start of the first user turn (LLaVA's placement).
    A leading `gpt` turn is dropped, as LLaVA's preprocessing does. Raises ValueError naming the record for
    anything malformed: no conversations, an unknown role, turns that do not alternate, no assistant turn, a media
    token without a media field (or in an assistant turn), several media tokens for the one media file.
    """
    record_id = record.get("id", "?")
    turns = record.get("conversations")
    if not isinstance(turns, list) or not turns:
        raise ValueError(f"record {record_id}: no conversations")
    media = _media(record, record_id, media_root)
    parsed = []
    for i, turn in enumerate(turns):
        speaker = turn.get("from") if isinstance(turn, dict) else None
        role = ROLES.get(str(speaker).lower())
        if role is None:
            raise ValueError(f"record {record_id}: unknown role: turn {i} is from {speaker!r}")
        if not isinstance(turn.get("value"), str):
            raise ValueError(f"record {record_id}: turn without text: turn {i} has no string 'value'")
        parsed.append((i, role, turn["value"]))
    system = [text for _, role, text in parsed if role == "system"]
    dialogue = parsed[len(system):]
    if dialogue and dialogue[0][1] == "assistant":
        dialogue = dialogue[1:]
    for position, (i, role, _) in enumerate(dialogue):
        if role != ("user" if position % 2 == 0 else "assistant"):
            raise ValueError(f"record {record_id}: not alternating human/gpt: turn {i} is {role}")
    if len(dialogue) < 2:
        raise ValueError(f"record {record_id}: no assistant turn to learn from")

    messages = [{"role": "system", "content": [{"type": "text", "text": text}]} for text in system]
    tokens = 0
    for _, role, text in dialogue:
        before, after, count = _split_at_token(text)
        if count and role == "assistant":
            raise ValueError(f"record {record_id}: media token in a gpt turn")
        tokens += count
        if count and media is None:
            raise ValueError(f"record {record_id}: media token without media: no 'image' or 'video' field")
        if tokens > 1:
            raise ValueError(f"record {record_id}: several media tokens: {tokens} for one {media['type']}")
        content = [{"type": "text", "text": before}] if before else []
        if count:
            content.append(media)
        if after:
            content.append({"type": "text", "text": after})
        messages.append({"role": role, "content": content})
    if media is not None and tokens == 0:
        messages[len(system)]["content"].insert(0, media)
    return messages


def _read_records(path: Path) -> list[tuple[object, str | None]]:
    """[(record, reason to skip it or None)] in file order; a `.jsonl` line that is not JSON gets a reason."""
    if path.suffix == ".jsonl":
        rows = []
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rows.append((json.loads(line), None))
                except json.JSONDecodeError as error:
                    rows.append(({"id": f"line {number}"}, f"invalid JSON: {error.msg}"))
        return rows
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: a LLaVA .json file holds a list of records, got {type(data).__name__}")
    return [(record, None) for record in data]


def load_llava_json(path: str | Path, media_root: str | Path | None = None) -> Dataset:
    """A LLaVA-format SFT file (`.json` list or `.jsonl`) as `id`, `messages` (BLIFT's `List(Json())`), `source`.

    Bad records are skipped and counted by reason, with a logged summary naming the file and the first ids; a file
    with no usable record raises.
    """
    path = Path(path)
    ids, messages, skipped, skipped_ids = [], [], Counter(), []
    for index, (record, reason) in enumerate(_read_records(path)):
        if not isinstance(record, dict):
            record, reason = {}, "not a JSON object"
        record_id = str(record.setdefault("id", f"{path.stem}-{index}"))
        if reason is None:
            try:
                chat = llava_to_messages(record, media_root)
            except ValueError as error:
                reason = str(error).removeprefix(f"record {record_id}: ")
        if reason is not None:
            skipped[reason.split(":")[0]] += 1
            skipped_ids.append(f"{record_id} ({reason})")
            continue
        ids.append(record_id)
        messages.append([json_text(message) for message in chat])
    if skipped:
        bad = sum(skipped.values())
        reasons = ", ".join(f"{n} {reason}" for reason, n in skipped.most_common())
        logger.warning("%s: skipped %d of %d records (%s); first: %s", path, bad, len(ids) + bad, reasons,
                       "; ".join(skipped_ids[:5]))  # fmt: skip
    if not ids:
        raise ValueError(f"{path}: no usable LLaVA record ({sum(skipped.values())} bad); first: {skipped_ids[:5]}")
    return Dataset.from_dict(
        {"id": ids, "messages": messages, "source": [INSTRUCT] * len(ids)}, features=MIXTURE_FEATURES
    )


def memory_mapped(dataset: Dataset) -> Dataset:
    """The dataset written to an Arrow file in datasets' temporary cache folder (deleted at exit) and memory-mapped:
    DataLoader workers started by forkserver or spawn then receive a file reference, not a pickled copy of every row
    each (a 200k-record LLaVA file: 7 MB instead of 267 MB per worker), and share its pages."""
    folder = tempfile.mkdtemp(prefix="llava-", dir=get_temporary_cache_files_directory())
    dataset.save_to_disk(folder)
    return load_from_disk(folder)


def parse_ratio(ratio: str) -> tuple[int, int]:
    """"behaviour:instruct" such as "1:2" -> (1, 2); both parts positive integers."""
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", str(ratio), flags=re.ASCII)
    if not match or 0 in (int(match[1]), int(match[2])):
        hint = " (YAML reads an unquoted 1:1 as the base-60 number 61: quote it)" if str(ratio).isdigit() else ""
        raise ValueError(f"ratio {ratio!r}: expected 'behaviour:instruct' with two positive integers, e.g. '1:1'{hint}")
    return int(match[1]), int(match[2])


def _draw(rng: np.random.Generator, population: int, count: int) -> np.ndarray:
    """`count` indices of range(population): whole shuffled passes, then a draw without replacement for the rest."""
    passes, rest = divmod(count, population)
    whole = [rng.permutation(population) for _ in range(passes)]
    return np.concatenate(whole + [rng.choice(population, rest, replace=False)])


def _mixture_columns(dataset: Dataset, source: str) -> Dataset:
    if "source" not in dataset.column_names:
        dataset = dataset.add_column("source", [source] * len(dataset))
    missing = {"id", "messages"} - set(dataset.column_names)
    if missing:
        raise ValueError(f"the {source} dataset lacks the column(s) {sorted(missing)}")
    dataset = dataset.select_columns(list(MIXTURE_FEATURES))
    # cast rewrites every row (a map), so only when a column's type differs
    return dataset if dataset.features == MIXTURE_FEATURES else dataset.cast(MIXTURE_FEATURES)


def mix(behavior: Dataset, instruct: Dataset, ratio: str = "1:1", epochs: float = 1.0, seed: int = 0) -> Dataset:
    """The training mixture for `ratio` (behaviour:instruct) and `epochs`; the recipe trains one epoch over it.

    One epoch = every instruct sample + round(n_instruct * b / i) behaviour samples drawn without replacement (if
    BLIFT is smaller, whole passes over it plus a draw for the remainder, never fewer), shuffled together; with no
    instruct data, one epoch = every behaviour sample. `epochs` = floor(epochs) such epochs, each with a fresh draw
    and shuffle, then the first round(frac * epoch size) samples of one more freshly drawn and shuffled epoch. All
    randomness comes from `seed`, so a seed gives the same rows in the same order. Columns: `id`, `messages`,
    `source` (rows without a source get "behavior" / "instruct"); an empty dataset may lack columns.
    """
    b, i = parse_ratio(ratio)
    if not math.isfinite(epochs) or epochs <= 0:
        raise ValueError(f"epochs must be a positive number, got {epochs}")
    n_behavior, n_instruct = len(behavior), len(instruct)
    per_epoch = round(n_instruct * b / i) if n_instruct else n_behavior
    if per_epoch and not n_behavior:
        raise ValueError(f"ratio {ratio} needs {per_epoch} behaviour samples per epoch; the behaviour dataset is empty")
    if not per_epoch + n_instruct:
        raise ValueError("both datasets are empty")
    # behaviour rows first: instruct row k is pool row n_behavior + k
    pool = concatenate_datasets([_mixture_columns(data, source) for data, source in
                                 ((behavior, BEHAVIOR), (instruct, INSTRUCT)) if len(data)])  # fmt: skip
    rng = np.random.default_rng(seed)

    def epoch() -> np.ndarray:
        behavior_rows = _draw(rng, n_behavior, per_epoch) if per_epoch else np.empty(0, dtype=np.int64)
        rows = np.concatenate([behavior_rows, n_behavior + np.arange(n_instruct)])
        return rows[rng.permutation(len(rows))]

    whole, fraction = divmod(epochs, 1)
    indices = [epoch() for _ in range(int(whole))]
    if fraction:
        partial = epoch()
        indices.append(partial[: round(fraction * len(partial))])
    return pool.select(np.concatenate(indices))
