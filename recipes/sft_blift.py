"""Behavior-LLaVA supervised fine-tuning: LLaMA-VID's SFT data + BLIFT at a ratio, with TRL's SFTTrainer.

    accelerate launch --config_file recipes/accelerate_configs/zero2_offload.yaml \\
        recipes/sft_blift.py --config recipes/behavior_llava/behavior_llava.yaml

Every key of the YAML is a command-line flag too (`--mixture_ratio 1:2`, `--num_train_epochs 3`), as in TRL's own
scripts. The model is our checkpoint (`model_name_or_path`) or a fresh one assembled from `--vision`, `--qformer`
and `--llm` paths. The mixture already holds `num_train_epochs` passes (fractional ones included, each pass a fresh
draw of BLIFT rows), so the trainer runs one pass over it.
"""

import multiprocessing
import multiprocessing.forkserver
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import datasets
from huggingface_hub import constants
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id
from transformers import AutoModelForCausalLM, AutoProcessor
from transformers.integrations import get_reporting_integration_callbacks
from transformers.trainer_utils import get_last_checkpoint
from trl import ModelConfig, ScriptArguments, SFTConfig, TrlParser

import hf_behavior  # noqa: F401  (registers BehaviorLlava with the Auto classes)
from hf_behavior.data.mixture import load_llava_json, memory_mapped, mix, parse_ratio
from hf_behavior.models.behavior_llava import assemble_behavior_llava
from hf_behavior.training.callbacks import BehaviorMetricsCallback
from hf_behavior.training.collator import BehaviorLlavaCollator
from hf_behavior.training.freezing import apply_freezing, llm_lora_config, llm_quantization_config
from hf_behavior.training.hub import create_model_repo, model_card, push_to_hub
from hf_behavior.training.trainer import BehaviorSFTTrainer


CARD_METRICS = ("eval_loss", "eval_mean_token_accuracy", "eval_comment_perplexity", "eval_likes_r2")


@dataclass
class BehaviorScriptArguments(ScriptArguments):
    """`dataset_name` is the BLIFT folder (or Hub id) and `dataset_config` its config (blift, blift_likes, ...)."""

    instruct_data: list[str] = field(default_factory=list, metadata={"help": "LLaMA-VID SFT files (LLaVA JSON/JSONL)"})
    instruct_media_root: str | None = field(default=None, metadata={"help": "folder the LLaVA image/video paths are in"})
    mixture_ratio: str = field(default="1:1", metadata={"help": "behaviour : instruct samples per epoch"})
    eval_samples: int = field(default=0, metadata={"help": "BLIFT rows held out for eval loss, perplexity and R²"})
    eval_max_new_tokens: int = field(default=384, metadata={"help": "generation length for the likes R² answers"})
    max_dropped_fraction: float = field(
        default=0.05, metadata={"help": "stop when more of the samples seen were dropped (unreadable media)"}
    )
    min_samples_before_drop_check: int = field(
        default=200, metadata={"help": "samples seen (all processes) before max_dropped_fraction applies"}
    )
    dataloader_timeout: float = field(
        default=600, metadata={"help": "seconds to wait for a batch from the DataLoader workers before stopping the run "
                                       "with their stacks (0: wait forever); below ddp_timeout (1800), so that a "
                                       "stalled process reports before the others' collective times out"}  # fmt: skip
    )
    freeze: str = field(default="finetune", metadata={"help": "freezing preset (hf_behavior.training.freezing)"})
    vision: str | None = field(default=None, metadata={"help": "vision tower path, to assemble a fresh model"})
    qformer: str | None = field(default=None, metadata={"help": "Q-Former path (with its BERT tokenizer)"})
    llm: str | None = field(default=None, metadata={"help": "causal LM path (with its tokenizer)"})


def check_setup(script_args, training_args, model_args) -> None:
    """Everything that can be checked before the model loads: paths, ratio, output folder, logging integrations."""
    models = [model_args.model_name_or_path] if model_args.model_name_or_path else [script_args.vision,
              script_args.qformer, script_args.llm]  # fmt: skip
    if not all(models):
        raise ValueError("give model_name_or_path, or all of vision, qformer and llm to assemble a fresh model")
    missing = [("model", path) for path in models if _missing(path)]
    if _missing(script_args.dataset_name):
        missing.append(("dataset", script_args.dataset_name))
    missing += [("instruct file", path) for path in script_args.instruct_data if not Path(path).is_file()]
    if script_args.instruct_media_root and not Path(script_args.instruct_media_root).is_dir():
        missing.append(("instruct_media_root", script_args.instruct_media_root))
    if missing:
        hint = ""
        if any(Path(path).parts[0] == "tiny_data" for _, path in missing):
            hint = "; `hf-behavior tiny-data tiny_data` writes the tiny recipe's inputs"
        listed = ", ".join(f"{what} {path}" for what, path in missing)
        raise FileNotFoundError(f"not found (from {os.getcwd()}): {listed}{hint}")
    if Path(script_args.dataset_name).is_dir():
        configs = datasets.get_dataset_config_names(script_args.dataset_name)
        if script_args.dataset_config not in configs:
            raise ValueError(f"{script_args.dataset_name} has no config {script_args.dataset_config!r}: {configs}")
    parse_ratio(script_args.mixture_ratio)
    if not 0 <= script_args.max_dropped_fraction <= 1:
        raise ValueError(f"max_dropped_fraction must be within [0, 1], got {script_args.max_dropped_fraction}")
    if script_args.dataloader_timeout < 0:
        raise ValueError(f"dataloader_timeout must be 0 (wait forever) or more, got {script_args.dataloader_timeout}")
    Path(training_args.output_dir).mkdir(parents=True, exist_ok=True)
    tempfile.TemporaryFile(dir=training_args.output_dir).close()  # PermissionError now, not at the first save
    try:
        for integration in get_reporting_integration_callbacks(training_args.report_to):
            integration()  # raises when the package is not installed, as the Trainer would once the model is loaded
    except (ImportError, RuntimeError) as error:
        raise RuntimeError(f"report_to={training_args.report_to}: {error} (or pass --report_to none)") from error


def _missing(path: str) -> bool:
    """A path that does not exist here and cannot be a Hub id (or the Hub is offline) is missing."""
    if Path(path).exists():
        return False
    try:
        validate_repo_id(path)
    except HFValidationError:
        return True
    return constants.HF_HUB_OFFLINE


def resume_checkpoint(training_args) -> str | None:
    """`--resume_from_checkpoint true` means the last checkpoint in output_dir, as in TRL's scripts."""
    value = training_args.resume_from_checkpoint
    if value is None or str(value).lower() == "false":
        return None
    if str(value).lower() != "true":
        if not Path(value).is_dir():
            raise FileNotFoundError(f"resume_from_checkpoint: checkpoint folder {value} not found")
        return value
    last = get_last_checkpoint(training_args.output_dir)
    if last is None:
        raise FileNotFoundError(f"resume_from_checkpoint true: no checkpoint-* folder in {training_args.output_dir}")
    return last


def set_worker_start(training_args) -> None:
    """DataLoader workers from a forkserver: a clean process, started now (its imports overlap the model's loading),
    that imported the collator's modules once; each worker forks from it in milliseconds without inheriting the
    training process's model, CUDA context and threads (forked workers never delivered a batch on an H200)."""
    if training_args.dataloader_num_workers == 0:  # `--dataloader_num_workers 0` over a YAML that names a method
        training_args.dataloader_multiprocessing_context = None
    elif training_args.dataloader_multiprocessing_context == "forkserver":
        # "__main__" (this script, with everything it imports) as multiprocessing's own default, so that a worker
        # does not import it again; our modules too, for a recipe imported from elsewhere (tests)
        multiprocessing.set_forkserver_preload(["__main__", "hf_behavior.training.collator",
                                                "hf_behavior.models.behavior_llava", "datasets"])  # fmt: skip
        multiprocessing.forkserver.ensure_running()


def load_model_and_processor(script_args, model_args):
    quantization = llm_quantization_config(model_args)  # QLoRA (load_in_4bit / load_in_8bit): the LLM only
    if model_args.model_name_or_path:
        kwargs = {"dtype": model_args.dtype, "attn_implementation": model_args.attn_implementation}
        if quantization is not None:  # bitsandbytes places the model on the current GPU
            kwargs["quantization_config"] = quantization
        model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, **kwargs)
        return model, AutoProcessor.from_pretrained(model_args.model_name_or_path)
    if quantization is not None:
        raise ValueError("load_in_4bit/load_in_8bit need model_name_or_path: save the assembled model first")
    return assemble_behavior_llava(script_args.vision, script_args.qformer, script_args.llm, dtype=model_args.dtype)


def load_data(script_args, training_args):
    """(mixed train set, held-out BLIFT rows or None, mixture summary for the model card)."""
    blift = datasets.load_dataset(script_args.dataset_name, script_args.dataset_config)
    behavior = blift[script_args.dataset_train_split]
    held_out = None
    if script_args.dataset_test_split in blift:
        held_out = blift[script_args.dataset_test_split]
    elif script_args.eval_samples:
        if script_args.eval_samples >= len(behavior):
            raise ValueError(f"eval_samples={script_args.eval_samples} would hold out all {len(behavior)} rows of "
                             f"{script_args.dataset_name} ({script_args.dataset_config}): lower it")  # fmt: skip
        split = behavior.train_test_split(test_size=script_args.eval_samples, seed=training_args.seed)
        behavior, held_out = split["train"], split["test"]
    if held_out is not None and script_args.eval_samples:
        held_out = held_out.select(range(min(script_args.eval_samples, len(held_out))))
    instruct = [load_llava_json(path, script_args.instruct_media_root) for path in script_args.instruct_data]
    for path, rows in zip(script_args.instruct_data, instruct):
        check_media_found(path, rows, script_args.instruct_media_root)
    if instruct:  # on disk, so that the workers get a file reference rather than a pickled copy each
        instruct = memory_mapped(datasets.concatenate_datasets(instruct))
    else:
        instruct = behavior.select([]).select_columns(["messages"])
    train = mix(behavior, instruct, script_args.mixture_ratio, training_args.num_train_epochs, training_args.seed)
    summary = {"ratio": script_args.mixture_ratio, "epochs": training_args.num_train_epochs,
               "rows": dict(sorted(Counter(train["source"]).items()))}  # fmt: skip
    return train, held_out, summary


def check_media_found(path: str, rows: datasets.Dataset, media_root: str | None, sample: int = 100) -> None:
    """A wrong instruct_media_root would train on text alone: stop unless some of the first media files exist."""
    head = rows.select(range(min(len(rows), 10 * sample)))["messages"]
    media = [block["path"] for messages in head for message in messages
             for block in message["content"] if isinstance(block, dict) and "path" in block][:sample]  # fmt: skip
    if media and not any(Path(file).is_file() for file in media):
        raise FileNotFoundError(f"{path}: none of the first {len(media)} media files exists (e.g. {media[0]}); "
                                f"check instruct_media_root={media_root}")  # fmt: skip


def main(script_args, training_args, model_args):
    if training_args.push_to_hub and not training_args.hub_model_id:
        raise ValueError("push_to_hub needs hub_model_id (the repo to create, e.g. your-name/behavior-llava-7b)")
    check_setup(script_args, training_args, model_args)
    resume = resume_checkpoint(training_args)
    set_worker_start(training_args)
    train, held_out, mixture = load_data(script_args, training_args)
    push, training_args.push_to_hub = training_args.push_to_hub, False  # we push our own card and files at the end
    if push and training_args.process_index == 0:  # a bad token or repo id fails now, not after training
        create_model_repo(training_args.hub_model_id, token=training_args.hub_token,
                          private=training_args.hub_private_repo)  # fmt: skip
    model, processor = load_model_and_processor(script_args, model_args)
    frozen = apply_freezing(model, script_args.freeze)

    training_args.num_train_epochs = 1  # the mixture already repeats the data num_train_epochs times
    training_args.remove_unused_columns = False  # the collator needs the raw `messages`
    training_args.dataset_kwargs = {**(training_args.dataset_kwargs or {}), "skip_prepare_dataset": True}
    trainer = BehaviorSFTTrainer(
        model=model,
        args=training_args,
        train_dataset=train,
        eval_dataset=held_out,
        processing_class=processor,
        data_collator=BehaviorLlavaCollator(processor, max_length=training_args.max_length),
        peft_config=llm_lora_config(model_args, model),
        max_dropped_fraction=script_args.max_dropped_fraction,
        min_samples_before_drop_check=script_args.min_samples_before_drop_check,
        dataloader_timeout=script_args.dataloader_timeout,
    )
    if held_out is not None:
        trainer.add_callback(BehaviorMetricsCallback(trainer, held_out, max_new_tokens=script_args.eval_max_new_tokens))
    trainer.accelerator.print(f"processes: {trainer.accelerator.num_processes}\ntrainable parameters: {frozen}\n"
                              f"mixture: {mixture}")
    if os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true" and not trainer.is_fsdp_enabled:
        # accelerate 1.15 shards only on accelerators: on CPU (gloo) its FSDP config falls back to plain DDP
        distributed = trainer.accelerator.distributed_type
        trainer.accelerator.print(f"warning: FSDP was asked for but accelerate runs {distributed}: every process "
                                  "holds the whole model")  # fmt: skip

    trainer.train(resume_from_checkpoint=resume)
    if held_out is not None and not final_eval(trainer.state):
        trainer.evaluate()
    metrics = final_eval(trainer.state)
    samples = trainer.sample_counts()  # the counts since the last logging step too, over all processes
    trainer.log(dict(samples))
    trainer.accelerator.print(f"samples (all processes): {samples}")

    if model_args.use_peft:  # the merged weights, so the checkpoint loads without peft
        merged = trainer.model.merge_and_unload()
        if trainer.accelerator.is_main_process:
            merged.save_pretrained(training_args.output_dir)
            processor.save_pretrained(training_args.output_dir)
    else:  # through the trainer: gathers a full state dict under FSDP / ZeRO-3
        trainer.save_model(training_args.output_dir)
    if trainer.accelerator.is_main_process:
        trainer.state.save_to_json(f"{training_args.output_dir}/trainer_state.json")  # the losses and metrics
        card = model_card(
            output_dir=training_args.output_dir,
            base_model=model_args.model_name_or_path or script_args.llm,
            datasets=[script_args.dataset_name],
            mixture=mixture,
            sample_counts=samples,
            hyperparameters=_hyperparameters(training_args, script_args, mixture),
            eval_metrics=metrics,
            repo_id=training_args.hub_model_id,
        )
        card.save(f"{training_args.output_dir}/README.md")
        if push:
            push_to_hub(training_args.output_dir, training_args.hub_model_id, token=training_args.hub_token,
                        private=training_args.hub_private_repo)  # fmt: skip
    trainer.accelerator.wait_for_everyone()
    pushed = f", pushed to {training_args.hub_model_id}" if push else ""
    trainer.accelerator.print(f"saved to {training_args.output_dir}{pushed}")


def final_eval(state) -> dict:
    """The evaluation metrics logged at the last step (eval loss and the behaviour callback's), for the card."""
    logged = [entry for entry in state.log_history if entry.get("step") == state.global_step]
    metrics = {key: value for entry in logged for key, value in entry.items()}
    return {key: metrics[key] for key in CARD_METRICS if key in metrics}


def _hyperparameters(training_args, script_args, mixture) -> dict:
    names = ("learning_rate", "lr_scheduler_type", "warmup_steps", "per_device_train_batch_size",
             "gradient_accumulation_steps", "max_length", "bf16", "activation_checkpointing", "seed")  # fmt: skip
    return {**{name: getattr(training_args, name) for name in names}, "epochs": mixture["epochs"],
            "freeze": script_args.freeze}  # fmt: skip


if __name__ == "__main__":
    parser = TrlParser((BehaviorScriptArguments, SFTConfig, ModelConfig))
    main(*parser.parse_args_and_config())
