"""Training throughput: BehaviorLlava (LLaMA-VID tokens) vs transformers' LlavaNextVideoForConditionalGeneration.

    uv run python benchmarks/train_throughput.py --shape tiny               # CPU smoke run
    python benchmarks/train_throughput.py --shape 7b --frames 32 --batch 8  # GPU, bf16
    uv run python benchmarks/train_throughput.py --shape tiny --through-trainer

Same LLM shape, same number of frames, random weights, one process: a training step is forward + backward + AdamW
update (fused on a GPU, as the Trainer's default) of what the freezing preset trains: `--freeze finetune` (default,
the Behavior-LLaVA recipe: LLM + content projector) for ours, and for the peer everything but its vision tower
(LLaVA's fine-tuning stage); `--gradient-checkpointing` on both, as the recipe. A peer batch that runs out of GPU
memory is halved until it fits (printed). Prints samples/s for both, the ratio (target on a GPU: >= 10x at 32
frames), peak memory, and on a GPU the LLM part's achieved share of the measured bf16 matmul rate (target >= 45% at
batch 8): once over our whole step, and once for the LLM alone (its forward + backward + AdamW on the same
`batch x sequence` inputs embeddings).

`--through-trainer` compares our bare step on one pre-collated batch with the same model trained by the recipe's
trainer (TRL's SFTTrainer, subclassed) + our collator on generated videos (decode, frame sampling, chat template,
labels every step): the ratio is what the data path costs (target: trainer >= 0.9x the bare step).
"""

import argparse
import gc
import resource
import tempfile
import time
from pathlib import Path

import torch
from transformers import CLIPVisionConfig, LlamaConfig, LlavaNextVideoConfig, LlavaNextVideoForConditionalGeneration

from hf_behavior import BehaviorLlavaConfig, BehaviorLlavaForCausalLM
from hf_behavior.training.freezing import FREEZE_PRESETS, apply_freezing

SHAPES = {
    "tiny": {
        "text": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=4, vocab_size=1000),
        "vision": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                       image_size=224, patch_size=14),
        "qformer": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2),
    },
    "7b": {
        "text": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                     num_key_value_heads=32, vocab_size=32000),
        "vision": dict(hidden_size=1408, intermediate_size=6144, num_hidden_layers=39, num_attention_heads=16,
                       image_size=224, patch_size=14),
        "qformer": dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12),
    },
}
PROMPT_TOKENS = 64


def build_ours(shape: dict, **overrides) -> BehaviorLlavaForCausalLM:
    """Built on the current default device (a 7B model initialised on the GPU, not on the CPU)."""
    vocab = shape["text"]["vocab_size"]
    config = BehaviorLlavaConfig(
        vision_config={"model_type": "blip_2_vision_model", **shape["vision"]},
        qformer_config={"model_type": "instructblip_qformer", "encoder_hidden_size": shape["vision"]["hidden_size"],
                        "vocab_size": 30523, **shape["qformer"]},
        text_config={"model_type": "llama", **shape["text"]},
        **{"image_token_id": vocab - 2, "video_token_id": vocab - 1, **overrides},
    )
    return BehaviorLlavaForCausalLM(config)


def build_peer(shape: dict) -> LlavaNextVideoForConditionalGeneration:
    vocab = shape["text"]["vocab_size"]
    config = LlavaNextVideoConfig(
        vision_config=CLIPVisionConfig(**shape["vision"]), text_config=LlamaConfig(**shape["text"]),
        image_token_index=vocab - 2, video_token_index=vocab - 1, spatial_pool_stride=2,
    )
    return LlavaNextVideoForConditionalGeneration(config)


def ours_batch(model, batch: int, frames: int, device) -> dict:
    config = model.config
    video_tokens = config.num_visual_tokens(frames, is_video=True)
    ids = torch.randint(0, config.image_token_id, (batch, PROMPT_TOKENS))
    ids = torch.cat([ids[:, :8], torch.full((batch, video_tokens), config.video_token_id), ids[:, 8:]], dim=1)
    side = config.vision_config.image_size
    return {
        "input_ids": ids.to(device), "labels": ids.to(device),
        "pixel_values_videos": torch.randn(batch * frames, 3, side, side, device=device),
        "num_frames_per_video": [frames] * batch,
        "qformer_input_ids": torch.randint(0, 30000, (batch, 32), device=device),
        "qformer_attention_mask": torch.ones(batch, 32, dtype=torch.long, device=device),
    }


def peer_batch(model, batch: int, frames: int, device) -> dict:
    config = model.config
    side = config.vision_config.image_size
    video_tokens = frames * (side // config.vision_config.patch_size // 2) ** 2
    ids = torch.randint(0, config.image_token_index, (batch, PROMPT_TOKENS))
    ids = torch.cat([ids[:, :8], torch.full((batch, video_tokens), config.video_token_index), ids[:, 8:]], dim=1)
    return {"input_ids": ids.to(device), "labels": ids.to(device),
            "pixel_values_videos": torch.randn(batch, frames, 3, side, side, device=device)}


def adamw(model) -> torch.optim.AdamW:
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=1e-5, fused=params[0].is_cuda)


def measure(model, make_batch, batch: int, frames: int, steps: int, device, dtype) -> tuple[float, float, int]:
    model.to(device=device, dtype=dtype).train()
    optimizer = adamw(model)
    inputs = make_batch(model, batch, frames, device)
    inputs = {k: v.to(device) if torch.is_tensor(v) else v for k, v in inputs.items()}
    inputs = {k: v.to(dtype) if torch.is_tensor(v) and v.is_floating_point() else v for k, v in inputs.items()}
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for step in range(steps + 1):
        if step == 1:  # the first step warms up kernels and allocators
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        model(**inputs).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan")
    return batch * steps / elapsed, peak, inputs["input_ids"].shape[1]


def measure_peer(shape: dict, batch: int, frames: int, steps: int, device, dtype, checkpointing: bool):
    """`measure` of the peer at `batch`, halved while it runs out of GPU memory: (samples/s, peak, length, batch)."""
    while True:
        model = build_peer(shape)
        model.model.vision_tower.requires_grad_(False)
        if checkpointing:
            model.activation_checkpointing_enable()
            # transformers' hook on the vision tower's embeddings makes the frozen tower run backward: hook only the
            # LLM's, as our model does, so the two are compared on the same work
            model.disable_input_require_grads()
            BehaviorLlavaForCausalLM.enable_input_require_grads(model)
        try:
            return *measure(model, peer_batch, batch, frames, steps, device, dtype), batch
        except torch.OutOfMemoryError:
            if batch == 1:
                raise
            print(f"peer: batch {batch} runs out of GPU memory, trying {batch // 2}")
            batch //= 2
        finally:
            del model
            gc.collect()
            torch.cuda.empty_cache()


def llm_flops_per_token(model) -> int:
    """6 x the LLM's matmul parameters (its layers and lm_head; the embedding is a lookup): forward + backward."""
    llm = model.model.language_model
    return 6 * (llm.num_parameters() - llm.get_input_embeddings().weight.numel() + model.lm_head.weight.numel())


def measure_llm_part(model, batch: int, length: int, steps: int, device, dtype) -> float:
    """Steps/s of the LLM alone as it trains inside our step: forward + backward + AdamW on [batch, length] embeddings."""
    llm, head = model.model.language_model, model.lm_head
    optimizer = torch.optim.AdamW(
        [p for module in (llm, head) for p in module.parameters() if p.requires_grad], lr=1e-5, fused=True
    )
    embeds = torch.randn(batch, length, llm.config.hidden_size, device=device, dtype=dtype)
    labels = torch.randint(0, head.out_features, (batch * length,), device=device)
    for step in range(steps + 1):
        if step == 1:
            torch.cuda.synchronize()
            start = time.perf_counter()
        logits = head(llm(inputs_embeds=embeds).last_hidden_state)
        torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(), labels).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def vision_seconds(model, batch: int, frames: int, steps: int, device, dtype) -> float:
    """Seconds per step of our frozen vision tower's forward alone: the same-size tower on the same frames as the
    peer's, so the peer's step time over it bounds the ratio whatever the LLM side costs."""
    side = model.config.vision_config.image_size
    pixels = torch.randn(batch * frames, 3, side, side, device=device, dtype=dtype)
    with torch.no_grad():
        for step in range(steps + 1):
            if step == 1:
                torch.cuda.synchronize()
                start = time.perf_counter()
            model.model.vision_tower(pixel_values=pixels, output_hidden_states=True)
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def matmul_tflops(device, dtype, size: int = 8192, repeats: int = 20) -> float:
    a, b = torch.randn(size, size, device=device, dtype=dtype), torch.randn(size, size, device=device, dtype=dtype)
    a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    torch.cuda.synchronize()
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e12


def video_dataset(root: Path, samples: int, frames: int, side: int):
    """`samples` chats, each about its own generated clip of `frames` one-second scenes, with an answer to learn."""
    from datasets import Dataset

    from hf_behavior.synthetic_media import write_scene_video

    rows = []
    for index in range(samples):
        colours = [((37 * (index + k)) % 256, (91 * k) % 256, (53 * index) % 256) for k in range(frames)]
        path = write_scene_video(root / f"clip{index}.mp4", seconds_per_scene=1, size=(side, side), colours=colours)
        rows.append({"messages": [
            {"role": "user", "content": [{"type": "video", "path": str(path)},
                                         {"type": "text", "text": "What percentage of viewers would like it?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": f"The video will be liked by {index}% of viewers."}]},
        ]})  # fmt: skip
    return Dataset.from_list(rows)


def measure_through_trainer(
    shape_name: str, batch: int, frames: int, steps: int, workers: int, repeats: int, device, dtype, freeze: str,
    checkpointing: bool, worker_start: str, dataloader_timeout: float,
) -> None:
    """Bare step on one collated batch vs the recipe's trainer (SFTTrainer's subclass) + BehaviorLlavaCollator
    collating every step; workers that deliver nothing stop it after `dataloader_timeout` with their stacks."""
    shape = SHAPES[shape_name]
    from transformers import TrainerCallback
    from trl import SFTConfig

    from hf_behavior.tiny import build_tiny_processor, build_tiny_tokenizer
    from hf_behavior.training.collator import BehaviorLlavaCollator
    from hf_behavior.training.trainer import BehaviorSFTTrainer

    tokenizer = build_tiny_tokenizer()
    ids = {"image_token_id": tokenizer.convert_tokens_to_ids("<image>"),
           "video_token_id": tokenizer.convert_tokens_to_ids("<video>"), "max_frames": frames}  # fmt: skip
    torch.manual_seed(0)
    with device:
        model = build_ours(shape, **ids)
    apply_freezing(model, freeze)
    if checkpointing:
        model.activation_checkpointing_enable()
    processor = build_tiny_processor(model.config, tokenizer)

    class StepClock(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.begin = time.perf_counter()

        def on_step_begin(self, args, state, control, **kwargs):
            if state.global_step == 0:  # the workers' start and the first batch
                self.first_batch = time.perf_counter() - self.begin
            if state.global_step == warmup:  # once every worker delivered its first batch (its start is not timed)
                self.start = time.perf_counter()

        def on_train_end(self, args, state, control, **kwargs):
            self.elapsed = time.perf_counter() - self.start

    with tempfile.TemporaryDirectory() as tmp:
        warmup = max(1, workers)  # steps before timing: one, and one batch from each worker
        dataset = video_dataset(Path(tmp), batch * (steps + warmup), frames, shape["vision"]["image_size"])
        collator = BehaviorLlavaCollator(processor)
        collated = collator(dataset.select(range(batch)).to_list())
        args = SFTConfig(
            output_dir=tmp, max_steps=steps + warmup, per_device_train_batch_size=batch, learning_rate=1e-5,
            bf16=dtype == torch.bfloat16, use_cpu=device.type == "cpu", activation_checkpointing=checkpointing,
            dataloader_num_workers=workers, dataloader_multiprocessing_context=worker_start if workers else None,
            remove_unused_columns=False, save_strategy="no", report_to=[],
            logging_strategy="no", disable_tqdm=True, dataset_kwargs={"skip_prepare_dataset": True},
        )  # fmt: skip
        bare = through = 0.0
        first_batch = []
        for _ in range(repeats):  # alternate the two and keep each one's best: a shared machine's load varies
            rate, _, length = measure(model, lambda *_: collated, batch, frames, steps, device, dtype)
            bare = max(bare, rate)
            clock = StepClock()
            trainer = BehaviorSFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=processor,
                                         data_collator=collator, callbacks=[clock],
                                         dataloader_timeout=dataloader_timeout)  # fmt: skip
            trainer.train()
            through = max(through, batch * steps / clock.elapsed)
            first_batch.append(clock.first_batch)
            del trainer  # its optimizer's state, before the next bare step builds its own
            gc.collect()
    print(f"device {device}, {dtype}, shape {shape_name}, batch {batch}, {frames} frames "
          f"({int(collated['num_frames_per_video'][0])} decoded per clip), sequence {length}, {steps} timed steps, "
          f"{workers} dataloader workers ({worker_start if workers else 'none'}), best of {repeats}, freeze {freeze}, "
          f"activation checkpointing {checkpointing}")
    print(f"first batch after: {', '.join(f'{seconds:.1f}' for seconds in first_batch)} s (workers' start + collation)")
    print(f"bare step (one pre-collated batch):        {bare:8.3f} samples/s")
    print(f"trainer + collator (decode every step):    {through:8.3f} samples/s")
    print(f"ratio trainer/bare: {through / bare:.2f}x (target >= 0.90: the data path costs < 10%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--freeze", choices=sorted(FREEZE_PRESETS), default="finetune", help="what trains in ours")
    parser.add_argument("--gradient-checkpointing", action="store_true", help="on both models, as the recipe")
    parser.add_argument("--through-trainer", action="store_true", help="bare step vs SFTTrainer + our collator")
    parser.add_argument("--workers", type=int, default=2, help="dataloader workers for --through-trainer")
    parser.add_argument("--worker-start", choices=["forkserver", "spawn", "fork"], default="forkserver",
                        help="how the workers start (the recipes: forkserver; fork inherits the model, CUDA, threads)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating repetitions for --through-trainer")
    parser.add_argument("--dataloader-timeout", type=float, default=300,
                        help="seconds without a batch before the workers' stacks are printed and the run stops")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    shape = SHAPES[args.shape]
    if args.through_trainer:
        measure_through_trainer(
            args.shape, args.batch, args.frames, args.steps, args.workers, args.repeats, device, dtype, args.freeze,
            args.gradient_checkpointing, args.worker_start, args.dataloader_timeout,
        )
        return
    torch.manual_seed(0)

    with device:
        ours_model = build_ours(shape)
    apply_freezing(ours_model, args.freeze)
    if args.gradient_checkpointing:
        ours_model.activation_checkpointing_enable()
    ours, ours_peak, ours_len = measure(ours_model, ours_batch, args.batch, args.frames, args.steps, device, dtype)
    if device.type == "cuda":
        llm_steps = measure_llm_part(ours_model, args.batch, ours_len, args.steps, device, dtype)
        vision = vision_seconds(ours_model, args.batch, args.frames, args.steps, device, dtype)
    flops_per_token = llm_flops_per_token(ours_model)
    del ours_model
    gc.collect()
    with device:
        peer, peer_peak, peer_len, peer_batch_size = measure_peer(
            shape, args.batch, args.frames, args.steps, device, dtype, args.gradient_checkpointing
        )

    print(f"device {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else 'CPU'}), {dtype}, "
          f"shape {args.shape}, batch {args.batch}, {args.frames} frames, {args.steps} timed steps, "
          f"freeze {args.freeze}, gradient checkpointing {args.gradient_checkpointing}")
    print(f"ours  BehaviorLlava (llama_vid, mean): {ours:8.3f} samples/s, sequence {ours_len}, peak {ours_peak:.2f} GiB")
    print(f"peer  LlavaNextVideo (pool stride 2):  {peer:8.3f} samples/s, sequence {peer_len}, peak {peer_peak:.2f} GiB"
          + (f" (at batch {peer_batch_size})" if peer_batch_size != args.batch else ""))
    print(f"ratio ours/peer: {ours / peer:.2f}x (GPU target at 32 frames: >= 10x)")
    if device.type == "cuda":
        peak_rate = matmul_tflops(device, dtype)
        whole = flops_per_token * ours_len * ours / 1e12
        alone = flops_per_token * ours_len * args.batch * llm_steps / 1e12
        print(f"vision tower forward alone: {vision:.3f} s of our {args.batch / ours:.3f} s per {args.batch} samples; "
              f"the peer's {args.batch / peer:.3f} s over it bounds the ratio at {args.batch / peer / vision:.1f}x")
        print(f"measured bf16 matmul rate: {peak_rate:.1f} TFLOP/s (8192^3)")
        print(f"LLM part over our whole step: {whole:.1f} TFLOP/s = {100 * whole / peak_rate:.1f}%")
        print(f"LLM part alone ([{args.batch}, {ours_len}] embeddings, fwd + bwd + AdamW): {alone:.1f} TFLOP/s "
              f"= {100 * alone / peak_rate:.1f}% (target >= 45% at batch 8)")
    else:
        print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")

if __name__ == "__main__":
    main()
