"""Convert an original LLaMA-VID / Behavior-LLaVA checkpoint folder to BehaviorLlava (safetensors + config).

    hf-behavior convert-llama-vid --checkpoint DIR [--vision-tower eva_vit_g.pth] --output OUT

The folder holds LLaMA-VID's `config.json` (`mm_*`, `bert_type`, `compress_type`, `num_query` keys next to the
LLaMA ones) and its weights as sharded `.bin` or `.safetensors`. The EVA-ViT-g tower comes from the checkpoint
(`model.vision_tower.vision_tower.*`) or from LAVIS' `eva_vit_g.pth`. `.bin`/`.pth` files are read with
`torch.load(weights_only=True)`. Every source key must map to a BehaviorLlava key and every BehaviorLlava key must be
filled: anything else is an error listing the keys.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch and the model are imported where they are used: `convert-llama-vid --help` needs neither
    import torch

    from .configuration_behavior_llava import BehaviorLlavaConfig
    from .modeling_behavior_llava import BehaviorLlavaForCausalLM

EVA_PREFIX = "model.vision_tower.vision_tower."
# LAVIS builds EVA-ViT-g with 39 blocks and loads eva_vit_g.pth (40 blocks + head norm) with strict=False.
EVA_DEPTH = 39
EVA_UNUSED = re.compile(r"^(norm|fc_norm|head|lm_head|rel_pos_bias)\.")
# Keys our modules have that LLaMA-VID has no counterpart for; they are not used by BehaviorLlava's features.
UNUSED_TARGETS = {"model.vision_tower.post_layernorm.weight", "model.vision_tower.post_layernorm.bias"}

DIRECT_RENAMES = [
    (r"^model\.mm_projector\.0\.", "model.content_projector.linear_1."),
    (r"^model\.mm_projector\.2\.", "model.content_projector.linear_2."),
    (r"^model\.vlm_att_query$", "model.query_tokens"),
    (r"^model\.vlm_att_ln\.", "model.qformer_layernorm."),
    (r"^model\.vlm_att_projector\.", "model.context_query_projector."),
    (r"^model\.vlm_att_key_projector\.", "model.context_key_projector."),
    (r"^model\.vlm_att_val_projector\.", "model.context_value_projector."),
    (r"^model\.vlm_att_encoder\.bert\.embeddings\.LayerNorm\.", "model.qformer.embeddings.layernorm."),
    (r"^model\.vlm_att_encoder\.bert\.embeddings\.(word|position)_embeddings\.", r"model.qformer.embeddings.\1_embeddings."),
    (r"^model\.vlm_att_encoder\.bert\.encoder\.layer\.(\d+)\.(attention|crossattention)\.self\.",
     r"model.qformer.encoder.layer.\1.\2.attention."),
    (r"^model\.vlm_att_encoder\.bert\.encoder\.layer\.(\d+)\.", r"model.qformer.encoder.layer.\1."),
    (r"^model\.(embed_tokens|layers|norm)\b", r"model.language_model.\1"),
    (r"^lm_head\.", "lm_head."),
]
SKIPPED_SOURCE = re.compile(r"(embeddings\.position_ids$|rotary_emb\.inv_freq$)")  # buffers, rebuilt at load


def load_state_dict_files(folder: Path) -> dict[str, torch.Tensor]:
    """All weights of a checkpoint folder: safetensors shards if any, else `.bin` shards (weights_only)."""
    import torch
    from safetensors.torch import load_file

    shards = sorted(folder.glob("*.safetensors"))
    if shards:
        return {key: value for shard in shards for key, value in load_file(shard).items()}
    shards = sorted(folder.glob("pytorch_model*.bin")) or sorted(folder.glob("*.bin"))
    if not shards:
        raise FileNotFoundError(f"no *.safetensors or *.bin weights in {folder}")
    state = {}
    for shard in shards:
        state.update(torch.load(shard, map_location="cpu", weights_only=True))
    return state


def load_eva_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise FileNotFoundError(f"EVA vision tower weights not found: {path}")
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    return state.get("model", state) if isinstance(state, dict) else state


def map_eva_keys(eva: dict[str, torch.Tensor], depth: int) -> tuple[dict[str, torch.Tensor], list[str]]:
    """LAVIS EVA-ViT keys -> Blip2VisionModel keys (qkv bias = [q_bias, 0, v_bias]); returns (mapped, unmapped)."""
    import torch

    target, unmapped = {}, []
    prefix = "model.vision_tower."
    for key, value in eva.items():
        block = re.match(r"^blocks\.(\d+)\.(.+)$", key)
        if key == "cls_token":
            target[prefix + "embeddings.class_embedding"] = value
        elif key == "pos_embed":
            target[prefix + "embeddings.position_embedding"] = value
        elif key.startswith("patch_embed.proj."):
            target[prefix + "embeddings.patch_embedding." + key.rsplit(".", 1)[1]] = value
        elif block and int(block.group(1)) >= depth or EVA_UNUSED.match(key):
            continue  # the 40th block and the classification head are not part of LLaMA-VID's tower
        elif block:
            layer, name = f"{prefix}encoder.layers.{block.group(1)}.", block.group(2)
            renamed = {
                "norm1": "layer_norm1", "norm2": "layer_norm2", "attn.proj": "self_attn.projection",
                "mlp.fc1": "mlp.fc1", "mlp.fc2": "mlp.fc2",
            }
            module, _, leaf = name.rpartition(".")
            if name == "attn.qkv.weight":
                target[layer + "self_attn.qkv.weight"] = value
            elif name in ("attn.q_bias", "attn.v_bias"):
                continue  # merged below
            elif module in renamed:
                target[f"{layer}{renamed[module]}.{leaf}"] = value
            else:
                unmapped.append(key)
        else:
            unmapped.append(key)
    for layer_index in sorted({int(m.group(1)) for k in eva if (m := re.match(r"^blocks\.(\d+)\.attn\.q_bias$", k))}):
        if layer_index < depth:
            q_bias, v_bias = eva[f"blocks.{layer_index}.attn.q_bias"], eva[f"blocks.{layer_index}.attn.v_bias"]
            target[f"{prefix}encoder.layers.{layer_index}.self_attn.qkv.bias"] = torch.cat(
                [q_bias, torch.zeros_like(v_bias), v_bias]
            )
    return target, unmapped


def map_llama_vid_keys(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], list[str]]:
    target, unmapped = {}, []
    for key, value in state.items():
        if key.startswith(EVA_PREFIX) or SKIPPED_SOURCE.search(key):
            continue
        for pattern, replacement in DIRECT_RENAMES:
            if re.search(pattern, key):
                target[re.sub(pattern, replacement, key)] = value
                break
        else:
            unmapped.append(key)
    return target, unmapped


def build_config(
    original: dict,
    state: dict[str, torch.Tensor],
    eva: dict[str, torch.Tensor],
    vision_heads: int | None,
    qformer_heads: int | None,
) -> BehaviorLlavaConfig:
    """Our config from LLaMA-VID's config.json plus the shapes of the weights (head counts are not stored)."""
    from .configuration_behavior_llava import BehaviorLlavaConfig

    vision_width = eva["cls_token"].shape[-1]
    patch = eva["patch_embed.proj.weight"].shape[-1]
    depth = min(EVA_DEPTH, 1 + max(int(m.group(1)) for k in eva if (m := re.match(r"^blocks\.(\d+)\.", k))))
    vision_heads = vision_heads or {1408: 16}.get(vision_width)
    qformer_width = state["model.vlm_att_query"].shape[-1]
    qformer_heads = qformer_heads or {768: 12}.get(qformer_width)
    if vision_heads is None or qformer_heads is None:
        raise ValueError(
            f"cannot infer attention head counts for vision width {vision_width} / Q-Former width {qformer_width}: "
            "pass --vision-heads and --qformer-heads"
        )
    bert = "model.vlm_att_encoder.bert."
    qformer_layers = 1 + max(int(m.group(1)) for k in state if (m := re.match(re.escape(bert) + r"encoder\.layer\.(\d+)\.", k)))
    text_keys = {k: v for k, v in original.items() if not k.startswith("mm_") and k not in NON_TEXT_KEYS}
    text_keys["model_type"] = "llama"
    vocab_size = text_keys.get("vocab_size", state["lm_head.weight"].shape[0])
    compress = original.get("compress_type") or "mean"
    return BehaviorLlavaConfig(
        vision_config={
            "model_type": "blip_2_vision_model",
            "hidden_size": vision_width,
            "intermediate_size": eva["blocks.0.mlp.fc1.weight"].shape[0],
            "num_hidden_layers": depth,
            "num_attention_heads": vision_heads,
            "image_size": patch * math.isqrt(eva["pos_embed"].shape[1] - 1),
            "patch_size": patch,
            "qkv_bias": True,
            "layer_norm_eps": 1e-6,
        },
        qformer_config={
            "model_type": "instructblip_qformer",
            "hidden_size": qformer_width,
            "num_hidden_layers": qformer_layers,
            "num_attention_heads": qformer_heads,
            "intermediate_size": state[bert + "encoder.layer.0.intermediate.dense.weight"].shape[0],
            "vocab_size": state[bert + "embeddings.word_embeddings.weight"].shape[0],
            "max_position_embeddings": state[bert + "embeddings.position_embeddings.weight"].shape[0],
            "encoder_hidden_size": vision_width,
            "cross_attention_frequency": 2,
        },
        text_config=text_keys,
        num_query_tokens=state["model.vlm_att_query"].shape[1],
        compress=compress,
        vision_feature_select_strategy="default" if original.get("mm_vision_select_feature", "patch") == "patch" else "full",
        image_token_id=vocab_size,
        video_token_id=vocab_size + 1,
        tie_word_embeddings=bool(original.get("tie_word_embeddings", False)),
    )


NON_TEXT_KEYS = {
    "architectures", "bert_type", "compress_type", "num_query", "image_processor", "image_aspect_ratio",
    "freeze_mm_mlp_adapter", "tune_mm_mlp_adapter", "use_mm_proj", "image_grid_pinpoints", "video_token",
    "tokenizer_padding_side", "tokenizer_model_max_length", "transformers_version", "torch_dtype", "dtype",
    "_name_or_path", "model_type", "vision_tower", "max_token", "freeze_backbone",
}


def convert_llama_vid_checkpoint(
    checkpoint_dir: str | Path,
    vision_tower_path: str | Path | None = None,
    vision_heads: int | None = None,
    qformer_heads: int | None = None,
) -> BehaviorLlavaForCausalLM:
    """Build a BehaviorLlavaForCausalLM holding exactly the original weights (fp32 unless the source is lower)."""
    from .modeling_behavior_llava import BehaviorLlavaForCausalLM

    folder = Path(checkpoint_dir)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"LLaMA-VID config not found: {config_path}")
    original = json.loads(config_path.read_text())
    state = load_state_dict_files(folder)

    eva = {key[len(EVA_PREFIX) :]: value for key, value in state.items() if key.startswith(EVA_PREFIX)}
    if not eva:
        candidate = Path(vision_tower_path) if vision_tower_path else folder / str(original.get("mm_vision_tower", ""))
        eva = load_eva_state_dict(candidate)
    config = build_config(original, state, eva, vision_heads, qformer_heads)

    target, unmapped = map_llama_vid_keys(state)
    vision, unmapped_vision = map_eva_keys(eva, config.vision_config.num_hidden_layers)
    target.update(vision)
    unmapped += [f"(vision tower) {key}" for key in unmapped_vision]
    if unmapped:
        raise KeyError(f"{len(unmapped)} source key(s) have no BehaviorLlava counterpart: {sorted(unmapped)}")

    model = BehaviorLlavaForCausalLM(config)
    expected = set(model.state_dict())
    if config.tie_word_embeddings:
        expected.discard("lm_head.weight")
    missing = sorted(expected - set(target) - UNUSED_TARGETS)
    unexpected = sorted(set(target) - expected)
    if missing or unexpected:
        raise KeyError(f"checkpoint does not fill the model: missing {missing}; unexpected {unexpected}")
    model.load_state_dict(target, strict=False)
    return model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, type=Path, help="original LLaMA-VID / Behavior-LLaVA folder")
    parser.add_argument("--vision-tower", type=Path, default=None, help="LAVIS eva_vit_g.pth (if not in the checkpoint)")
    parser.add_argument("--output", required=True, type=Path, help="where to write the BehaviorLlava folder")
    parser.add_argument("--vision-heads", type=int, default=None, help="vision attention heads (EVA-g: 16)")
    parser.add_argument("--qformer-heads", type=int, default=None, help="Q-Former attention heads (BERT-base: 12)")
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default="bfloat16")


def run(args: argparse.Namespace) -> int:
    import torch

    model = convert_llama_vid_checkpoint(args.checkpoint, args.vision_tower, args.vision_heads, args.qformer_heads)
    model.to(getattr(torch, args.dtype)).save_pretrained(args.output)
    print(
        f"converted {args.checkpoint} -> {args.output} ({model.num_parameters():,} parameters, {args.dtype}); "
        f"placeholders <image>={model.config.image_token_id}, <video>={model.config.video_token_id}: add them to "
        "the tokenizer and build a BehaviorLlavaProcessor to use it."
    )
    return 0
