"""Convert an original LLaMA-VID / Behavior-LLaVA checkpoint folder to a complete BehaviorLlava folder.

    hf-behavior convert-llama-vid --checkpoint DIR [--vision-tower eva_vit_g.pth] --output OUT

The folder holds LLaMA-VID's `config.json` (`mm_*`, `bert_type`, `compress_type`, `num_query`, `image_processor`
keys next to the LLaMA ones), its weights as sharded `.bin` or `.safetensors` and its LLaMA tokenizer. The EVA-ViT-g
tower comes from the checkpoint (`model.vision_tower.vision_tower.*`) or from LAVIS' `eva_vit_g.pth`. `.bin`/`.pth`
files are read with `torch.load(weights_only=True)`. Every source key must map to a BehaviorLlava key and every
BehaviorLlava key must be filled: anything else is an error listing the keys.

What the original decides at load time is decided here the same way (llamavid/model/llamavid_arch.py,
multimodal_encoder/eva_vit.py): no `compress_type` means no pooling (`compress="none"`); the tower is built at the
crop size of the CLIPImageProcessor named by `image_processor` and its `pos_embed` interpolated bicubically to it.
The output folder holds the model, the LLM tokenizer with `<image>`/`<video>`, the Q-Former's BERT tokenizer (with
LAVIS' `[DEC]`), the Vicuna chat template, and image/video processors that preprocess as the original
(CLIPImageProcessor on PIL/uint8; every round(fps)-th video frame, no cap), and text tokenised as the original: the
LLaMA tokenizer as its slow legacy one, the text between media chunk by chunk (LLaVA's tokenizer_image_token), so it
loads with AutoModelForCausalLM + AutoProcessor and gives the original's input ids.
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

OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

# LLaMA-VID's Q-Former tokenizer: bert-base-uncased plus LAVIS' "[DEC]" bos token (llamavid_arch.py, init_bert).
DEFAULT_QFORMER_TOKENIZER = "bert-base-uncased"
# `image_processor` when a config has none (llamavid/model/multimodal_encoder/builder.py): CLIP ViT-L/14 at 224 px.
DEFAULT_IMAGE_PROCESSOR = "./model_zoo/OpenAI/clip-vit-large-patch14"

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
    import torch

    if not path.is_file():
        raise FileNotFoundError(f"EVA vision tower weights not found: {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    return state.get("model", state) if isinstance(state, dict) else state


def interpolate_pos_embed(pos_embed: torch.Tensor, grid_side: int) -> torch.Tensor:
    """[1, 1 + n*n, D] -> [1, 1 + grid_side**2, D] exactly as the original's `interpolate_pos_embed` at load time
    (eva_vit.py): the CLS position kept, the patch grid resized bicubically (align_corners=False) in float32."""
    import torch
    import torch.nn.functional as F

    pos_embed = pos_embed.float()
    old_side = math.isqrt(pos_embed.shape[-2] - 1)
    if old_side == grid_side:
        return pos_embed
    cls_position, grid = pos_embed[:, :1], pos_embed[:, 1:]
    grid = grid.reshape(-1, old_side, old_side, pos_embed.shape[-1]).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(grid_side, grid_side), mode="bicubic", align_corners=False)
    return torch.cat([cls_position, grid.permute(0, 2, 3, 1).flatten(1, 2)], dim=1)


def map_eva_keys(
    eva: dict[str, torch.Tensor], depth: int, grid_side: int | None = None
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """LAVIS EVA-ViT keys -> Blip2VisionModel keys (qkv bias = [q_bias, 0, v_bias]); returns (mapped, unmapped).
    `grid_side`: the patch grid the tower runs at (`pos_embed` interpolated to it)."""
    import torch

    target, unmapped = {}, []
    prefix = "model.vision_tower."
    for key, value in eva.items():
        block = re.match(r"^blocks\.(\d+)\.(.+)$", key)
        if key == "cls_token":
            target[prefix + "embeddings.class_embedding"] = value
        elif key == "pos_embed":
            side = grid_side or math.isqrt(value.shape[-2] - 1)
            target[prefix + "embeddings.position_embedding"] = interpolate_pos_embed(value, side).to(value.dtype)
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


def original_compress(compress_type: str | None) -> str:
    """LLaMA-VID's `compress_type` as our `compress` (llamavid_arch.py, token_generation): 'grid:g' pools to a g x g
    grid, anything holding 'mean' to one token, and no compress type (every image-only checkpoint) keeps all patches."""
    if compress_type is None:
        return "none"
    if "grid" in compress_type:
        return f"grid:{int(compress_type.split('grid:')[-1])}"
    return "mean" if "mean" in compress_type else "none"


def original_image_settings(original: dict, folder: Path, image_size: int | None = None) -> dict:
    """The CLIPImageProcessor settings the original builds its tower and preprocesses with: `config.image_processor`
    is a processor folder (e.g. ./llamavid/processor/clip-patch14-336); when it is not found next to the checkpoint or
    from here, its crop size is read from its name. `image_size` overrides the size."""
    setting = original.get("image_processor") or DEFAULT_IMAGE_PROCESSOR
    candidates = [Path(setting), folder / setting, folder / Path(setting).name]
    found = [path / "preprocessor_config.json" for path in candidates if (path / "preprocessor_config.json").is_file()]
    settings = json.loads(found[0].read_text()) if found else {}
    # the original builds the tower at `image_processor.size["shortest_edge"]` (EVAVisionTowerLavis.load_model)
    size = image_size or _processor_size(settings.get("size") or settings.get("crop_size"))
    if size is None:
        name = setting.rstrip("/")
        named = re.search(r"patch\d+-(\d+)$", name)  # clip-patch14-336, clip-vit-large-patch14-336
        size = int(named.group(1)) if named else (224 if re.search(r"patch\d+$", name) else None)
    if size is None:
        raise ValueError(
            f"cannot tell the image size of image_processor={setting!r} in {folder / 'config.json'}: put its "
            "preprocessor_config.json next to the checkpoint or pass --image-size (224 or 336 for LLaMA-VID)."
        )
    return {
        "size": size,
        "image_mean": settings.get("image_mean", list(OPENAI_CLIP_MEAN)),
        "image_std": settings.get("image_std", list(OPENAI_CLIP_STD)),
        "resample": settings.get("resample", 3),  # bicubic
        "pad": original.get("image_aspect_ratio") == "pad",
    }


def _processor_size(size) -> int | None:
    if isinstance(size, dict):
        return size.get("shortest_edge") or size.get("height")
    return size


def build_config(
    original: dict,
    state: dict[str, torch.Tensor],
    eva: dict[str, torch.Tensor],
    vision_heads: int | None,
    qformer_heads: int | None,
    image_size: int | None = None,
) -> BehaviorLlavaConfig:
    """Our config from LLaMA-VID's config.json plus the shapes of the weights (head counts are not stored).
    `image_size`: what the tower runs at (default: the size of its `pos_embed`)."""
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
    scaling = text_keys.pop("rope_scaling", None)
    if scaling:  # transformers 4.31's {"type": "linear", "factor": f} as today's rope_parameters
        text_keys["rope_parameters"] = {
            "rope_type": scaling.get("rope_type", scaling.get("type")),
            **{key: value for key, value in scaling.items() if key not in ("type", "rope_type")},
            "rope_theta": text_keys.pop("rope_theta", 10000.0),
        }
    vocab_size = text_keys.get("vocab_size", state["lm_head.weight"].shape[0])
    return BehaviorLlavaConfig(
        vision_config={
            "model_type": "blip_2_vision_model",
            "hidden_size": vision_width,
            "intermediate_size": eva["blocks.0.mlp.fc1.weight"].shape[0],
            "num_hidden_layers": depth,
            "num_attention_heads": vision_heads,
            "image_size": image_size or patch * math.isqrt(eva["pos_embed"].shape[1] - 1),
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
        compress=original_compress(original.get("compress_type")),
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
    image_size: int | None = None,
) -> BehaviorLlavaForCausalLM:
    """Build a BehaviorLlavaForCausalLM holding exactly the original weights (fp32 unless the source is lower).

    The tower runs at the original's image size (`image_size`, else the checkpoint's `image_processor` setting),
    with `pos_embed` interpolated to it as the original does when it loads the tower."""
    from .modeling_behavior_llava import BehaviorLlavaForCausalLM

    folder = Path(checkpoint_dir)
    original = read_original_config(folder)
    state = load_state_dict_files(folder)

    eva = {key[len(EVA_PREFIX) :]: value for key, value in state.items() if key.startswith(EVA_PREFIX)}
    if not eva:
        candidate = Path(vision_tower_path) if vision_tower_path else folder / str(original.get("mm_vision_tower", ""))
        eva = load_eva_state_dict(candidate)
    side = original_image_settings(original, folder, image_size)["size"]
    config = build_config(original, state, eva, vision_heads, qformer_heads, image_size=side)
    patch = config.vision_config.patch_size
    if side % patch:
        raise ValueError(f"image size {side} is not a multiple of the tower's patch size {patch}.")

    target, unmapped = map_llama_vid_keys(state)
    vision, unmapped_vision = map_eva_keys(eva, config.vision_config.num_hidden_layers, side // patch)
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


def read_original_config(folder: Path) -> dict:
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"LLaMA-VID config not found: {config_path}")
    return json.loads(config_path.read_text())


def original_llm_tokenizer(folder: Path, text_config):
    """The checkpoint's LLM tokenizer, tokenising as LLaMA-VID's slow LlamaTokenizer (transformers 4.31) does.

    That one is legacy unless tokenizer_config.json says `"legacy": false`: SentencePiece encodes each piece of text
    between special tokens with its dummy prefix, so `</s>USER:` and `</s> USER:` give '\u2581US' and
    '\u2581', '\u2581US'. transformers 5's LlamaTokenizer forgets `legacy` when saved and, reloaded, always rebuilds
    a Metaspace pre-tokenizer (which never doubles the '\u2581'), so a legacy tokenizer is kept here as a plain
    tokenizers backend with transformers 4's legacy LLaMA normaliser (convert_slow_tokenizer.LlamaConverter's).
    """
    from tokenizers import normalizers
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    tokenizer = AutoTokenizer.from_pretrained(folder, config=text_config)
    config_file = folder / "tokenizer_config.json"
    saved = json.loads(config_file.read_text()) if config_file.is_file() else {}
    if not hasattr(tokenizer, "legacy") or saved.get("legacy") is False:  # not LLaMA's, or not legacy
        return tokenizer
    backend = tokenizer.backend_tokenizer
    prepend = [normalizers.Prepend("\u2581")] if tokenizer.add_prefix_space is not False else []
    backend.normalizer = normalizers.Sequence([*prepend, normalizers.Replace(" ", "\u2581")])
    backend.pre_tokenizer = None
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token=tokenizer.bos_token, eos_token=tokenizer.eos_token,
        unk_token=tokenizer.unk_token, pad_token=tokenizer.pad_token, add_bos_token=tokenizer.add_bos_token,
        add_eos_token=tokenizer.add_eos_token, padding_side=tokenizer.padding_side,
        model_max_length=tokenizer.model_max_length, clean_up_tokenization_spaces=False,
    )


def build_original_processor(
    model: BehaviorLlavaForCausalLM, checkpoint_dir: str | Path, qformer_tokenizer: str | Path, image_size: int | None
):
    """The processor that prepares inputs as the original: the checkpoint's LLM tokenizer with `<image>`/`<video>`
    (pad = unk, as LLaMA-VID trains), the Q-Former BERT tokenizer with `[DEC]`, CLIPImageProcessor on PIL/uint8
    (LLaVA's pad-to-square first where the checkpoint's `image_aspect_ratio` is "pad"), and video frames at every
    round(avg_fps)-th frame, uncapped, through the same CLIP resize and centre crop. The model's placeholder ids are
    set to the tokenizer's."""
    from transformers import AutoTokenizer

    from .assemble import add_media_tokens, visual_token_settings
    from .image_processing_behavior_llava import BehaviorLlavaImageProcessor
    from .processing_behavior_llava import BehaviorLlavaProcessor
    from .video_processing_behavior_llava import BehaviorLlavaVideoProcessor

    folder = Path(checkpoint_dir)
    config = model.config
    settings = original_image_settings(read_original_config(folder), folder, image_size)
    if not any((folder / name).is_file() for name in ("tokenizer.model", "tokenizer.json")):
        raise FileNotFoundError(
            f"no LLM tokenizer (tokenizer.model or tokenizer.json) in {folder}: copy the tokenizer files of the "
            "checkpoint's LLM (e.g. Vicuna's) there."
        )
    # config.json there is LLaMA-VID's ("llava", not transformers' LlavaConfig): the tokenizer is the LLM's
    tokenizer = add_media_tokens(original_llm_tokenizer(folder, config.text_config), str(folder))
    vocab_size = config.text_config.vocab_size
    placeholder_ids = tokenizer.convert_tokens_to_ids(["<image>", "<video>"])
    text_ids = [i for token, i in tokenizer.get_vocab().items() if token not in ("<image>", "<video>")]
    if max(text_ids) >= vocab_size:
        raise ValueError(
            f"the tokenizer in {folder} has token ids up to {max(text_ids)} but the LLM embeds only {vocab_size}."
        )
    config.image_token_id, config.video_token_id = placeholder_ids
    for name in ("bos_token_id", "eos_token_id", "pad_token_id"):
        setattr(model.generation_config, name, getattr(tokenizer, name))
    config.pad_token_id = tokenizer.pad_token_id

    bert = AutoTokenizer.from_pretrained(qformer_tokenizer, truncation_side="left")
    bert.add_special_tokens({"bos_token": "[DEC]"})
    if len(bert) > config.qformer_config.vocab_size:
        raise ValueError(
            f"the Q-Former tokenizer {qformer_tokenizer} (with [DEC]) has {len(bert)} tokens but the Q-Former embeds "
            f"only {config.qformer_config.vocab_size}: pass the BERT tokenizer it was trained with "
            "(--qformer-tokenizer)."
        )

    side = config.vision_config.image_size
    clip = {
        "size": {"shortest_edge": side}, "crop_size": {"height": side, "width": side}, "do_center_crop": True,
        "resample": settings["resample"], "image_mean": settings["image_mean"], "image_std": settings["image_std"],
    }
    image_processor = BehaviorLlavaImageProcessor(**clip, do_pad=settings["pad"])
    video_processor = BehaviorLlavaVideoProcessor(
        **clip, do_pad=False, resize_backend="pil", fps=1.0, round_frame_step=True, max_frames=None
    )
    return BehaviorLlavaProcessor(
        image_processor=image_processor,
        video_processor=video_processor,
        tokenizer=tokenizer,
        qformer_tokenizer=bert,
        **visual_token_settings(config),
        tokenize_media_chunks=True,  # LLaVA's tokenizer_image_token
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, type=Path, help="original LLaMA-VID / Behavior-LLaVA folder")
    parser.add_argument("--vision-tower", type=Path, default=None, help="LAVIS eva_vit_g.pth (if not in the checkpoint)")
    parser.add_argument("--output", required=True, type=Path, help="where to write the BehaviorLlava folder")
    parser.add_argument("--vision-heads", type=int, default=None, help="vision attention heads (EVA-g: 16)")
    parser.add_argument("--qformer-heads", type=int, default=None, help="Q-Former attention heads (BERT-base: 12)")
    parser.add_argument(
        "--qformer-tokenizer", default=DEFAULT_QFORMER_TOKENIZER,
        help="the Q-Former's BERT tokenizer, Hub id or folder ([DEC] is added as LLaMA-VID does)",
    )
    parser.add_argument(
        "--image-size", type=int, default=None,
        help="image size the tower runs at (default: from the checkpoint's image_processor setting, e.g. 336)",
    )
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default="bfloat16")


def run(args: argparse.Namespace) -> int:
    import torch

    model = convert_llama_vid_checkpoint(
        args.checkpoint, args.vision_tower, args.vision_heads, args.qformer_heads, args.image_size
    )
    processor = build_original_processor(model, args.checkpoint, args.qformer_tokenizer, args.image_size)
    model.to(getattr(torch, args.dtype)).save_pretrained(args.output)
    processor.save_pretrained(args.output)
    config = model.config
    print(
        f"converted {args.checkpoint} -> {args.output} ({model.num_parameters():,} parameters, {args.dtype}); "
        f"{config.vision_config.image_size} px, compress={config.compress!r}, placeholders "
        f"<image>={config.image_token_id}, <video>={config.video_token_id}. Load it with AutoModelForCausalLM and "
        "AutoProcessor."
    )
    return 0
