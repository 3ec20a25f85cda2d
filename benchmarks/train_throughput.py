"""Training throughput: BehaviorLlava (LLaMA-VID tokens) vs transformers' LlavaNextVideoForConditionalGeneration.

    uv run python benchmarks/train_throughput.py --shape tiny               # CPU smoke run
    python benchmarks/train_throughput.py --shape 7b --frames 32 --batch 8  # GPU, bf16

Same LLM shape, same number of frames, random weights, one process: a training step is forward + backward + AdamW
update. Prints samples/s for both, the ratio (target on a GPU: >= 10x at 32 frames), peak memory, and on a GPU the
LLM part's achieved share of the measured bf16 matmul rate (target >= 45% at batch 8).
"""

import argparse
import resource
import time

import torch
from transformers import CLIPVisionConfig, LlamaConfig, LlavaNextVideoConfig, LlavaNextVideoForConditionalGeneration

from hf_behavior import BehaviorLlavaConfig, BehaviorLlavaForCausalLM

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


def build_ours(shape: dict) -> BehaviorLlavaForCausalLM:
    vocab = shape["text"]["vocab_size"]
    config = BehaviorLlavaConfig(
        vision_config={"model_type": "blip_2_vision_model", **shape["vision"]},
        qformer_config={"model_type": "instructblip_qformer", "encoder_hidden_size": shape["vision"]["hidden_size"],
                        "vocab_size": 30523, **shape["qformer"]},
        text_config={"model_type": "llama", **shape["text"]},
        image_token_id=vocab - 2, video_token_id=vocab - 1,
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
        "video_frame_counts": [frames] * batch,
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


def measure(model, make_batch, batch: int, frames: int, steps: int, device, dtype) -> tuple[float, float, int]:
    model.to(device=device, dtype=dtype).train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    inputs = make_batch(model, batch, frames, device)
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


def matmul_tflops(device, dtype, size: int = 8192, repeats: int = 20) -> float:
    a, b = torch.randn(size, size, device=device, dtype=dtype), torch.randn(size, size, device=device, dtype=dtype)
    a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    torch.cuda.synchronize()
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e12


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    shape = SHAPES[args.shape]
    torch.manual_seed(0)

    ours_model = build_ours(shape)
    ours, ours_peak, ours_len = measure(ours_model, ours_batch, args.batch, args.frames, args.steps, device, dtype)
    llm_params = ours_model.model.language_model.num_parameters() + ours_model.lm_head.weight.numel()
    del ours_model
    peer_model = build_peer(shape)
    peer, peer_peak, peer_len = measure(peer_model, peer_batch, args.batch, args.frames, args.steps, device, dtype)
    del peer_model

    print(f"device {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else 'CPU'}), {dtype}, "
          f"shape {args.shape}, batch {args.batch}, {args.frames} frames, {args.steps} timed steps")
    print(f"ours  BehaviorLlava (llama_vid, mean): {ours:8.3f} samples/s, sequence {ours_len}, peak {ours_peak:.2f} GiB")
    print(f"peer  LlavaNextVideo (pool stride 2):  {peer:8.3f} samples/s, sequence {peer_len}, peak {peer_peak:.2f} GiB")
    print(f"ratio ours/peer: {ours / peer:.2f}x (GPU target at 32 frames: >= 10x)")
    if device.type == "cuda":
        achieved = 6 * llm_params * ours_len * ours / 1e12
        peak_rate = matmul_tflops(device, dtype)
        print(f"LLM part: {achieved:.1f} TFLOP/s of a measured {peak_rate:.1f} TFLOP/s bf16 matmul rate "
              f"= {100 * achieved / peak_rate:.1f}% (target >= 45% at batch 8)")
    else:
        print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
