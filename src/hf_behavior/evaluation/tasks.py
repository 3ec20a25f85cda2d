"""Evaluation tasks as YAML files: what to ask, about which media column, and how to score the answer.

A task file (see the shipped ones in `tasks/`)::

    name: image-emotion-8
    kind: zero_shot            # zero_shot | perplexity | likes_r2 | replay | generation | judge
    media_column: image        # a path (relative to the data folder), a PIL image or frames; optional
    media_type: image          # image | video
    prompt: "Which emotion ...? Answer with one of: {{ labels | join(', ') }}."   # Jinja over the record
    labels: [amusement, anger, ...]
    label_column: label
    length_normalize: false    # zero_shot: rank labels by mean (not summed) log-probability per token

Behaviour tasks use `prompt: listing1` (the Listing-1 question, with `title_column` / `channel_column` /
`asr_column`) or `messages_column` (the record's own chat, the reference answer being its last assistant turn).
`config` names the config to read from a dataset with several (a `hf-behavior build-blift` folder) when
`--config` does not. `kind: judge` generates a caption and has a judge chat model (`judge_model`, or `--judge-model`) grade it with
the paper's Listings 2-4. A user adds a task by writing such a file and passing its path to `--task`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml
from jinja2 import StrictUndefined, Template

from .prompts import behavior_messages

TASKS_DIR = Path(__file__).parent / "tasks"
KINDS = ("zero_shot", "perplexity", "likes_r2", "replay", "generation", "judge")


@dataclass
class TaskConfig:
    name: str
    kind: str
    prompt: str | None = None
    system: str | None = None
    media_column: str | None = None
    media_type: str = "image"
    labels: list[str] = field(default_factory=list)
    label_column: str = "label"
    length_normalize: bool = False
    messages_column: str | None = None
    answer_column: str | None = None
    target_column: str | None = None
    title_column: str | None = None
    channel_column: str | None = None
    asr_column: str | None = None
    brand: bool = False
    max_new_tokens: int = 256
    judge_model: str | None = None
    judge_criteria: list[str] = field(default_factory=lambda: ["correctness", "detail", "quality"])
    data: str | None = None
    config: str | None = None
    split: str | None = None
    description: str = ""
    source: str = ""

    def __post_init__(self):
        where = self.source or self.name
        if self.kind not in KINDS:
            raise ValueError(f"task {where}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "zero_shot" and len(self.labels) < 2:
            raise ValueError(f"task {where}: a zero_shot task needs `labels` (at least two)")
        if self.prompt is None and self.messages_column is None:
            raise ValueError(f"task {where}: give `prompt` (a Jinja template or 'listing1') or `messages_column`")
        if self.media_type not in ("image", "video"):
            raise ValueError(f"task {where}: media_type must be image or video, got {self.media_type!r}")
        needs = {"perplexity": "answer_column", "likes_r2": "target_column", "replay": "target_column",
                 "generation": "answer_column"}.get(self.kind)
        if needs and getattr(self, needs) is None and self.messages_column is None:
            raise ValueError(f"task {where}: a {self.kind} task needs `{needs}` (or `messages_column`)")

    @classmethod
    def from_yaml(cls, path: str | Path) -> TaskConfig:
        path = Path(path)
        values = yaml.safe_load(path.read_text())
        if not isinstance(values, dict):
            raise ValueError(f"task file {path}: expected a mapping at the top level")
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"task file {path}: unknown keys {sorted(unknown)}")
        values.setdefault("name", path.stem)
        values["source"] = str(path)
        return cls(**values)

    def required_columns(self) -> list[str]:
        """The dataset columns every record must have for this task (title, channel and ASR are optional)."""
        columns = [self.media_column, self.messages_column, self.answer_column, self.target_column]
        if self.kind == "zero_shot":
            columns.append(self.label_column)
        return [column for column in columns if column is not None]

    # -- building the model's input from one record -------------------------------------------------------------
    def conversation(self, record: dict, data_dir: Path | None = None) -> list[dict]:
        """The chat to send to the model for `record` (ending with a user turn)."""
        if self.messages_column is not None:
            messages = _messages(record, self.messages_column)
            last_user = max(i for i, message in enumerate(messages) if message["role"] == "user")
            return [_resolve_media_paths(message, data_dir) for message in messages[: last_user + 1]]
        media = self.media_block(record, data_dir)
        if self.prompt == "listing1":
            if media is None:
                raise ValueError(f"task {self.name}: prompt 'listing1' needs `media_column`")
            return behavior_messages(
                media,
                self.media_type,
                title=_optional(record, self.title_column),
                channel=_optional(record, self.channel_column),
                asr=_optional(record, self.asr_column),
                brand=self.brand,
            )
        text = Template(self.prompt, undefined=StrictUndefined).render(**record, labels=self.labels)
        content = ([media] if media is not None else []) + [{"type": "text", "text": text}]
        conversation = [{"role": "user", "content": content}]
        if self.system:
            conversation.insert(0, {"role": "system", "content": [{"type": "text", "text": self.system}]})
        return conversation

    def media_block(self, record: dict, data_dir: Path | None = None) -> dict | None:
        if self.media_column is None:
            return None
        value = record.get(self.media_column)
        if value is None:
            raise ValueError(f"task {self.name}: record has no `{self.media_column}` media")
        if isinstance(value, dict) and "path" in value and value.get("bytes") is None:  # datasets Image/Video dict
            value = value["path"]
        if isinstance(value, str):
            return {"type": self.media_type, "path": _resolve(value, data_dir)}
        return {"type": self.media_type, self.media_type: value}

    def reference_answer(self, record: dict) -> str:
        if self.answer_column is not None:
            return str(record[self.answer_column])
        messages = _messages(record, self.messages_column)
        answers = [message for message in messages if message["role"] == "assistant"]
        if not answers:
            raise ValueError(f"task {self.name}: record has no assistant turn in `{self.messages_column}`")
        return _text(answers[-1]["content"])


def load_task(name_or_path: str) -> TaskConfig:
    """A shipped task by name (`tasks/<name>.yaml`) or any YAML file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"task file {path} does not exist")
        return TaskConfig.from_yaml(path)
    shipped = TASKS_DIR / f"{name_or_path}.yaml"
    if not shipped.is_file():
        raise ValueError(f"unknown task {name_or_path!r}; shipped tasks: {', '.join(shipped_tasks())} (or a YAML path)")
    return TaskConfig.from_yaml(shipped)


def shipped_tasks() -> list[str]:
    return sorted(path.stem for path in TASKS_DIR.glob("*.yaml"))


def _optional(record: dict, column: str | None):
    return record.get(column) if column else None


def _messages(record: dict, column: str) -> list[dict]:
    messages = record[column]
    return json.loads(messages) if isinstance(messages, str) else [dict(message) for message in messages]


def _text(content) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(block["text"] for block in content if block.get("type") == "text")


def _resolve(path: str, data_dir: Path | None) -> str:
    if data_dir is None or "://" in path or Path(path).is_absolute():
        return path
    return str(data_dir / path)


def _resolve_media_paths(message: dict, data_dir: Path | None) -> dict:
    if isinstance(message["content"], str):
        return message
    content = [
        {**block, "path": _resolve(block["path"], data_dir)} if isinstance(block.get("path"), str) else block
        for block in message["content"]
    ]
    return {**message, "content": content}
