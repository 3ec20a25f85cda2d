"""Behavior-LLaVA supervised fine-tuning: LLaMA-VID's SFT data + BLIFT at a ratio, with TRL's SFTTrainer.

    accelerate launch --config_file recipes/accelerate_configs/zero2_offload.yaml \\
        recipes/sft_blift.py --config recipes/behavior_llava/behavior_llava.yaml

Every key of the YAML is a command-line flag too (`--mixture_ratio 1:2`, `--num_train_epochs 3`), as in TRL's own
scripts. The model is our checkpoint (`model_name_or_path`) or a fresh one assembled from `--vision`, `--qformer`
and `--llm` paths. The mixture already holds `num_train_epochs` passes (fractional ones included, each pass a fresh
draw of BLIFT rows), so the trainer runs one pass over it.
"""

from collections import Counter
from dataclasses import dataclass, field

import datasets
from transformers import AutoModelForCausalLM, AutoProcessor
from trl import ModelConfig, ScriptArguments, SFTConfig, SFTTrainer, TrlParser

import hf_behavior  # noqa: F401  (registers BehaviorLlava with the Auto classes)
from hf_behavior.data.mixture import load_llava_json, mix
from hf_behavior.models.behavior_llava import assemble_behavior_llava
from hf_behavior.training.callbacks import BehaviorMetricsCallback
from hf_behavior.training.collator import BehaviorLlavaCollator
from hf_behavior.training.freezing import apply_freezing, llm_lora_config, llm_quantization_config
from hf_behavior.training.hub import model_card, push_to_hub


CARD_METRICS = ("eval_loss", "eval_mean_token_accuracy", "eval_comment_perplexity", "eval_likes_r2")


@dataclass
class BehaviorScriptArguments(ScriptArguments):
    """`dataset_name` is the BLIFT folder (or Hub id) and `dataset_config` its config (blift, blift_likes, ...)."""

    instruct_data: list[str] = field(default_factory=list, metadata={"help": "LLaMA-VID SFT files (LLaVA JSON/JSONL)"})
    instruct_media_root: str | None = field(default=None, metadata={"help": "folder the LLaVA image/video paths are in"})
    mixture_ratio: str = field(default="1:1", metadata={"help": "behaviour : instruct samples per epoch"})
    eval_samples: int = field(default=0, metadata={"help": "BLIFT rows held out for eval loss, perplexity and R²"})
    eval_max_new_tokens: int = field(default=384, metadata={"help": "generation length for the likes R² answers"})
    freeze: str = field(default="finetune", metadata={"help": "freezing preset (hf_behavior.training.freezing)"})
    vision: str | None = field(default=None, metadata={"help": "vision tower path, to assemble a fresh model"})
    qformer: str | None = field(default=None, metadata={"help": "Q-Former path (with its BERT tokenizer)"})
    llm: str | None = field(default=None, metadata={"help": "causal LM path (with its tokenizer)"})


def load_model_and_processor(script_args, model_args):
    quantization = llm_quantization_config(model_args)  # QLoRA (load_in_4bit / load_in_8bit): the LLM only
    if model_args.model_name_or_path:
        kwargs = {"dtype": model_args.dtype, "attn_implementation": model_args.attn_implementation}
        if quantization is not None:  # bitsandbytes places the model on the current GPU
            kwargs["quantization_config"] = quantization
        model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, **kwargs)
        return model, AutoProcessor.from_pretrained(model_args.model_name_or_path)
    if not (script_args.vision and script_args.qformer and script_args.llm):
        raise ValueError("give model_name_or_path, or all of vision, qformer and llm to assemble a fresh model")
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
        split = behavior.train_test_split(test_size=script_args.eval_samples, seed=training_args.seed)
        behavior, held_out = split["train"], split["test"]
    if held_out is not None and script_args.eval_samples:
        held_out = held_out.select(range(min(script_args.eval_samples, len(held_out))))
    instruct = [load_llava_json(path, script_args.instruct_media_root) for path in script_args.instruct_data]
    instruct = datasets.concatenate_datasets(instruct) if instruct else behavior.select([]).select_columns(["messages"])
    train = mix(behavior, instruct, script_args.mixture_ratio, training_args.num_train_epochs, training_args.seed)
    summary = {"ratio": script_args.mixture_ratio, "epochs": training_args.num_train_epochs,
               "rows": dict(sorted(Counter(train["source"]).items()))}  # fmt: skip
    return train, held_out, summary


def main(script_args, training_args, model_args):
    if training_args.push_to_hub and not training_args.hub_model_id:
        raise ValueError("push_to_hub needs hub_model_id (the repo to create, e.g. your-name/behavior-llava-7b)")
    model, processor = load_model_and_processor(script_args, model_args)
    frozen = apply_freezing(model, script_args.freeze)
    train, held_out, mixture = load_data(script_args, training_args)

    training_args.num_train_epochs = 1  # the mixture already repeats the data num_train_epochs times
    training_args.remove_unused_columns = False  # the collator needs the raw `messages`
    training_args.dataset_kwargs = {**(training_args.dataset_kwargs or {}), "skip_prepare_dataset": True}
    push, training_args.push_to_hub = training_args.push_to_hub, False  # we push our own card and files at the end
    collator = BehaviorLlavaCollator(processor, max_length=training_args.max_length)
    trainer = SFTTrainer(
        model=model,
        args=training_args,
        train_dataset=train,
        eval_dataset=held_out,
        processing_class=processor,
        data_collator=collator,
        peft_config=llm_lora_config(model_args, model),
    )
    if held_out is not None:
        trainer.add_callback(BehaviorMetricsCallback(trainer, held_out, max_new_tokens=script_args.eval_max_new_tokens))
    trainer.accelerator.print(f"processes: {trainer.accelerator.num_processes}\ntrainable parameters: {frozen}\n"
                              f"mixture: {mixture}")

    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    if held_out is not None and not final_eval(trainer.state):
        trainer.evaluate()
    metrics = final_eval(trainer.state)
    if collator.skipped:
        trainer.accelerator.print(f"samples dropped by the collator on process 0: {dict(collator.skipped)}")

    model_to_save = trainer.model.merge_and_unload() if model_args.use_peft else trainer.model
    if trainer.accelerator.is_main_process:
        model_to_save.save_pretrained(training_args.output_dir)
        processor.save_pretrained(training_args.output_dir)
        trainer.state.save_to_json(f"{training_args.output_dir}/trainer_state.json")  # the losses and metrics
        card = model_card(
            output_dir=training_args.output_dir,
            base_model=model_args.model_name_or_path or script_args.llm,
            datasets=[script_args.dataset_name],
            mixture=mixture,
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
             "gradient_accumulation_steps", "max_length", "bf16", "gradient_checkpointing", "seed")  # fmt: skip
    return {**{name: getattr(training_args, name) for name in names}, "epochs": mixture["epochs"],
            "freeze": script_args.freeze}  # fmt: skip


if __name__ == "__main__":
    parser = TrlParser((BehaviorScriptArguments, SFTConfig, ModelConfig))
    main(*parser.parse_args_and_config())
