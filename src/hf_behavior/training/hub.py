"""Publishing a trained model: the model card (`model_cards/behavior_llava.md` through `huggingface_hub.ModelCard`) and
the upload of exactly the files that load it (safetensors, config, processor, remote code, card) through `HfApi`.

Checkpoints, optimizer / scheduler / RNG states, `training_args.bin` and TensorBoard `runs/` stay local.
"""

from __future__ import annotations

import glob
import math
from fnmatch import fnmatchcase
from pathlib import Path

from huggingface_hub import EvalResult, HfApi, ModelCard, ModelCardData
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from ..resources import resource_path

CARD_TEMPLATE = resource_path("model_cards/behavior_llava.md")
TAGS = ["behavior-llava", "llama-vid", "trl", "sft"]
# What save_pretrained writes for the model (weights, configs, auto_map code) and the card, at the top level
MODEL_FILES = ("*.safetensors", "*.safetensors.index.json", "config.json", "generation_config.json", "*.py", "README.md")
# What the processor writes, at the top level or in a sub-tokenizer's folder (e.g. qformer_tokenizer/)
PROCESSOR_FILES = (
    "processor_config.json", "preprocessor_config.json", "video_preprocessor_config.json", "chat_template.jinja",
    "chat_template.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
    "tokenizer.model", "vocab.txt", "vocab.json", "merges.txt",
)  # fmt: skip
NOT_PUSHED_DIRS = ("checkpoint-*", "runs")
NOT_METRICS = ("eval_runtime", "eval_samples_per_second", "eval_steps_per_second", "epoch")


def _is_hub_id(value: str) -> bool:
    """Metadata may only name Hub repos; a local path is mentioned in the card's text instead."""
    try:
        validate_repo_id(value)
    except HFValidationError:
        return False
    return not Path(value).exists()


def _table(rows: dict, header: tuple[str, str]) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---:|"]
    lines += [f"| {key} | {getattr(value, 'value', value)} |" for key, value in rows.items()]
    return "\n".join(lines)


def _metrics(eval_metrics: dict | None) -> dict[str, float]:
    """Numeric, finite evaluation metrics without the timing entries, `eval_` prefix dropped."""
    return {
        name.removeprefix("eval_"): float(value)
        for name, value in (eval_metrics or {}).items()
        if name not in NOT_METRICS and isinstance(value, int | float) and math.isfinite(value)
    }


def model_card(
    *,
    output_dir: str | Path,
    base_model: str | None,
    datasets: list[str],
    mixture: dict,
    hyperparameters: dict,
    eval_metrics: dict | None = None,
    sample_counts: dict | None = None,
    repo_id: str | None = None,
    license: str = "other",
) -> ModelCard:
    """The model card: Hub metadata (`eval_results` / model-index only when there are metrics) + the template's text.

    `mixture` holds `ratio`, `epochs` and `rows` (rows per source); `eval_metrics` is what `Trainer.evaluate`
    returns; `sample_counts` what `BehaviorSFTTrainer.sample_counts` returns (samples seen and dropped). Base model
    and datasets that are local paths appear in the text, not in the metadata. The licence defaults to "other": it
    follows the base model's (LLaMA-VID / Vicuna: the Llama 2 licence).
    """
    model_name = repo_id.split("/")[-1] if repo_id else Path(output_dir).name
    hub_datasets = [name for name in datasets if _is_hub_id(name)]
    metrics = _metrics(eval_metrics)
    dataset_id = datasets[0] if datasets else "behaviour data"
    eval_results = [
        EvalResult(task_type="image-text-to-text", dataset_type=dataset_id, dataset_name=f"{dataset_id} (held out)",
                   metric_type=name, metric_value=value)
        for name, value in metrics.items()
    ]  # fmt: skip
    card_data = ModelCardData(
        license=license,
        library_name="transformers",
        pipeline_tag="image-text-to-text",
        tags=TAGS,
        base_model=base_model if base_model and _is_hub_id(base_model) else None,
        datasets=hub_datasets or None,
        model_name=model_name,
        eval_results=eval_results or None,
    )
    rows = mixture["rows"]
    return ModelCard.from_template(
        card_data,
        template_path=str(CARD_TEMPLATE),
        model_name=model_name,
        model_path=repo_id or str(output_dir),
        base_model=base_model,
        datasets=datasets,
        instruct="instruct" in rows,
        ratio=mixture["ratio"],
        epochs=mixture["epochs"],
        mixture_table=_table({**rows, "total": sum(rows.values())}, ("source", "rows")),
        samples_table=_table(sample_counts, ("samples", "count")) if sample_counts else None,
        hyperparameter_table=_table(hyperparameters, ("hyper-parameter", "value")),
        metrics_table=_table(metrics, ("metric", "value")) if metrics else None,
    )


def files_to_push(output_dir: str | Path) -> list[str]:
    """The files of `output_dir` that make up the model repo (see MODEL_FILES / PROCESSOR_FILES), sorted."""
    root = Path(output_dir)
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        if len(relative.parts) > 2 or any(fnmatchcase(relative.parts[0], d) for d in NOT_PUSHED_DIRS):
            continue
        patterns = (MODEL_FILES + PROCESSOR_FILES) if len(relative.parts) == 1 else PROCESSOR_FILES
        if any(fnmatchcase(path.name, pattern) for pattern in patterns):
            files.append(relative.as_posix())
    if not any(fnmatchcase(name, "*.safetensors") for name in files) or "config.json" not in files:
        raise FileNotFoundError(f"{root} has no safetensors weights and config.json at its top: save_pretrained first")
    return files


def create_model_repo(repo_id: str, *, token: str | None = None, private: bool | None = None,
                      api: HfApi | None = None) -> str:
    """Create the model repo (or find it there): the recipe calls this before training, so a missing or read-only
    token or a bad repo id stops the job at its start, not after it trained; returns the repo URL."""
    api = api or HfApi(token=token)
    return str(api.create_repo(repo_id, private=private, exist_ok=True, token=token))


def push_to_hub(
    output_dir: str | Path,
    repo_id: str,
    *,
    token: str | None = None,
    private: bool | None = None,
    commit_message: str = "Upload Behavior-LLaVA model trained with hf-behavior",
    api: HfApi | None = None,
) -> str:
    """Create the model repo if needed and upload `files_to_push(output_dir)` in one commit; returns its URL."""
    api = api or HfApi(token=token)
    files = files_to_push(output_dir)
    api.create_repo(repo_id, private=private, exist_ok=True, token=token)
    commit = api.upload_folder(
        repo_id=repo_id, folder_path=str(output_dir), allow_patterns=[glob.escape(name) for name in files],
        commit_message=commit_message, token=token,
    )  # fmt: skip
    return commit.commit_url
