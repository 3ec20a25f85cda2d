"""Assemble a fresh BehaviorLlava from pretrained parts: a vision tower, an instruction Q-Former and an LLM.

The parts keep their weights bit for bit. Only what LLaMA-VID adds between them is new: the query tokens (unless the
Q-Former checkpoint brings its own), the Q-Former's input LayerNorm, the context query/key/value projections and the
content projector. The model is built on the meta device by `from_pretrained(None, state_dict=...)`, which fills it
from the parts' state dicts and initialises only the missing modules with the model's `_init_weights`, so a 7B
model is never randomly initialised first.
"""

import json

import torch
from safetensors import safe_open
from transformers import (
    AddedToken,
    AutoConfig,
    AutoImageProcessor,
    AutoModel,
    AutoModelForCausalLM,
    AutoTokenizer,
    Blip2VisionConfig,
    LlavaImageProcessor,
)
from transformers.utils import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, cached_file

from .configuration_behavior_llava import VISION_MODELS_WITHOUT_CLS, BehaviorLlavaConfig
from .modeling_behavior_llava import SUBMODEL_CLASSES, BehaviorLlavaForCausalLM
from .processing_behavior_llava import BehaviorLlavaProcessor
from .video_processing_behavior_llava import BehaviorLlavaVideoProcessor

PLACEHOLDER_TOKENS = ("<image>", "<video>")
# Full BLIP-2 / InstructBLIP checkpoints: the vision tower sits under `vision_model.`, the Q-Former under `qformer.`
# next to `query_tokens`, and the Q-Former's BERT tokenizer in the `qformer_tokenizer/` subfolder.
BLIP_FAMILY = ("blip-2", "instructblip", "instructblipvideo")
INSTRUCTBLIP_FAMILY = ("instructblip", "instructblipvideo")
# The EVA-ViT towers of the BLIP family share Blip2VisionModel's weights layout; our model builds that class.
BLIP_VISION_MODEL_TYPES = ("instructblip_vision_model", "instructblipvideo_vision_model")
# Weights BehaviorLlava adds between the parts; nothing else may be missing after loading them.
NEW_MODULE_PREFIXES = (
    "model.query_tokens",
    "model.qformer_layernorm.",
    "model.context_query_projector.",
    "model.context_key_projector.",
    "model.context_value_projector.",
    "model.content_projector.",
    "behavior_head.",
)


def assemble_behavior_llava(
    vision: str, qformer: str, llm: str, *, dtype: torch.dtype | str | None = None, **config_overrides
) -> tuple[BehaviorLlavaForCausalLM, BehaviorLlavaProcessor]:
    """A BehaviorLlava (model, processor) from a vision tower, an InstructBLIP Q-Former and a causal LM.

    Args:
        vision: folder or Hub id of a vision tower (Blip2VisionModel / EVA-ViT-g, CLIPVisionModel, SiglipVisionModel,
            ...) or of a full BLIP-2 / InstructBLIP / CLIP / SigLIP checkpoint (its vision part is used). Its
            `preprocessor_config.json` becomes the image processor; without one, a LlavaImageProcessor (pad to
            square, CLIP mean/std) at the tower's image size.
        qformer: folder or Hub id of an InstructBlipQFormerModel with its BERT tokenizer, or of a full InstructBLIP
            checkpoint (its `qformer.*`, `query_tokens` and `qformer_tokenizer/` are used).
        llm: folder or Hub id of any AutoModelForCausalLM with its tokenizer. `<image>`/`<video>` are added as
            special tokens when missing (embeddings mean-resized) and a missing pad token becomes unk (or eos).
        dtype: dtype of every parameter (torch dtype or name such as "bfloat16"); default float32.
        config_overrides: further BehaviorLlavaConfig fields (compress, video_representation, max_frames, ...).
    """
    dtype = _resolve_dtype(dtype)
    vision_model, image_processor = load_vision_tower(vision, dtype)
    qformer_model, query_tokens, qformer_tokenizer = load_qformer(qformer, dtype)
    language_model, tokenizer = load_language_model(llm, dtype)

    vision_width = vision_model.config.hidden_size
    encoder_width = qformer_model.config.encoder_hidden_size
    if encoder_width != vision_width:
        raise ValueError(
            f"the Q-Former {qformer} cross-attends to {encoder_width}-wide vision features but the vision tower "
            f"{vision} is {vision_width} wide: use a Q-Former trained on this tower "
            f"(encoder_hidden_size={vision_width})."
        )
    if query_tokens is not None:
        requested = config_overrides.setdefault("num_query_tokens", query_tokens.shape[1])
        if requested != query_tokens.shape[1]:
            raise ValueError(
                f"num_query_tokens={requested} but the Q-Former checkpoint {qformer} has "
                f"{query_tokens.shape[1]} query tokens."
            )
    if vision_model.config.model_type in VISION_MODELS_WITHOUT_CLS:
        config_overrides.setdefault("vision_feature_select_strategy", "full")

    config = BehaviorLlavaConfig(
        vision_config=vision_model.config,
        qformer_config=qformer_model.config,
        text_config=language_model.config,
        image_token_id=tokenizer.convert_tokens_to_ids(PLACEHOLDER_TOKENS[0]),
        video_token_id=tokenizer.convert_tokens_to_ids(PLACEHOLDER_TOKENS[1]),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **config_overrides,
    )
    state_dict = _prefixed(vision_model.state_dict(), "model.vision_tower.")
    if config.video_representation == "llama_vid":  # the other representations have no Q-Former
        state_dict.update(_prefixed(qformer_model.state_dict(), "model.qformer."))
        if query_tokens is not None:
            state_dict["model.query_tokens"] = query_tokens.to(dtype)
    state_dict.update(_language_model_state_dict(language_model))

    model, info = BehaviorLlavaForCausalLM.from_pretrained(
        None, config=config, state_dict=state_dict, dtype=dtype, output_loading_info=True
    )
    unfilled = sorted(key for key in info["missing_keys"] if not key.startswith(NEW_MODULE_PREFIXES))
    unused = sorted(set(info["unexpected_keys"]) | {str(key) for key in info["mismatched_keys"]})
    if unfilled or unused:
        raise ValueError(
            f"the parts do not fit BehaviorLlava: weights left unset {unfilled}; part weights not used {unused}. "
            f"The LLM {llm} must be a causal LM whose base model is what AutoModel builds from its config."
        )
    on_meta = [name for name, tensor in (*model.named_parameters(), *model.named_buffers()) if tensor.is_meta]
    if on_meta:
        raise RuntimeError(f"tensors left on the meta device after assembling: {on_meta}")
    model.generation_config = language_model.generation_config
    model.generation_config.pad_token_id = tokenizer.pad_token_id

    processor = build_processor(config, tokenizer, qformer_tokenizer, image_processor)
    if processor.num_patches != config.num_patches:
        raise ValueError(
            f"the image processor of {vision} makes {processor.num_patches} patches per image but the vision tower "
            f"expects {config.num_patches} (image_size {config.vision_config.image_size}): fix its "
            "preprocessor_config.json or remove it to get a matching LlavaImageProcessor."
        )
    return model, processor


def load_vision_tower(path: str, dtype: torch.dtype):
    """(vision model, image processor or None) from a tower checkpoint or the vision part of a composite one."""
    full_config = AutoConfig.from_pretrained(path)
    config = getattr(full_config, "vision_config", None) or full_config
    if not all(hasattr(config, name) for name in ("image_size", "patch_size", "hidden_size")):
        raise ValueError(
            f"{path} holds a {full_config.model_type!r} model, not a vision tower (no image_size/patch_size in its "
            "config): pass a vision model (Blip2VisionModel, CLIPVisionModel, SiglipVisionModel, ...) or a full "
            "BLIP-2 / InstructBLIP / CLIP / SigLIP checkpoint."
        )
    if config.model_type in BLIP_VISION_MODEL_TYPES:
        config = Blip2VisionConfig(**{k: v for k, v in config.to_dict().items() if k != "model_type"})
    key_mapping = {r"^vision_model\.": ""} if full_config.model_type in BLIP_FAMILY else None
    model_class = SUBMODEL_CLASSES.get(config.model_type, AutoModel)
    model = _load_part(model_class, path, config, dtype, key_mapping, "vision tower")
    has_processor = cached_file(path, "preprocessor_config.json", _raise_exceptions_for_missing_entries=False)
    return model, (AutoImageProcessor.from_pretrained(path) if has_processor else None)


def load_qformer(path: str, dtype: torch.dtype):
    """(InstructBlipQFormerModel, query tokens or None, its BERT tokenizer)."""
    full_config = AutoConfig.from_pretrained(path)
    if full_config.model_type in INSTRUCTBLIP_FAMILY:
        model = _load_part(
            SUBMODEL_CLASSES["instructblip_qformer"], path, full_config.qformer_config, dtype, {r"^qformer\.": ""},
            "Q-Former",
        )
        query_tokens = _read_checkpoint_tensor(path, "query_tokens")
        if query_tokens is None:
            raise ValueError(f"{path} is an InstructBLIP checkpoint without `query_tokens` in its safetensors weights.")
        tokenizer = AutoTokenizer.from_pretrained(path, subfolder="qformer_tokenizer")
    elif full_config.model_type == "instructblip_qformer":
        model = _load_part(SUBMODEL_CLASSES["instructblip_qformer"], path, full_config, dtype, None, "Q-Former")
        query_tokens, tokenizer = None, AutoTokenizer.from_pretrained(path)
    else:
        raise ValueError(
            f"{path} holds a {full_config.model_type!r} model; the Q-Former must be an InstructBlipQFormerModel "
            "(model_type 'instructblip_qformer') or a full InstructBLIP checkpoint."
        )
    if len(tokenizer) > model.config.vocab_size:
        raise ValueError(
            f"the Q-Former tokenizer of {path} has {len(tokenizer)} tokens but the Q-Former embeds only "
            f"{model.config.vocab_size}: save the tokenizer the Q-Former was trained with next to it."
        )
    return model, query_tokens, tokenizer


def load_language_model(path: str, dtype: torch.dtype):
    """The causal LM and its tokenizer with `<image>`/`<video>` and a pad token, embeddings resized to fit."""
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    tokenizer = add_media_tokens(AutoTokenizer.from_pretrained(path), path)
    rows = model.get_input_embeddings().weight.shape[0]
    if len(tokenizer) > rows:
        model.resize_token_embeddings(len(tokenizer))  # new rows drawn around the mean of the old ones
    return model, tokenizer


def add_media_tokens(tokenizer, source: str):
    """`<image>`/`<video>` added as special tokens where missing, and a pad token (unk, else eos) where missing."""
    vocab = tokenizer.get_vocab()
    missing = [AddedToken(token, special=True, normalized=False) for token in PLACEHOLDER_TOKENS if token not in vocab]
    tokenizer.add_tokens(missing, special_tokens=True)
    if tokenizer.pad_token is None:
        # LLaMA-VID (llamavid/train/train.py, every conversation version but v0) pads with unk.
        tokenizer.pad_token = tokenizer.unk_token or tokenizer.eos_token
        if tokenizer.pad_token is None:
            raise ValueError(f"the tokenizer of {source} has no pad, unk or eos token to pad with: set one.")
    return tokenizer


def build_processor(
    config: BehaviorLlavaConfig, tokenizer, qformer_tokenizer, image_processor=None
) -> BehaviorLlavaProcessor:
    """The processor matching `config`; without an image processor, LLaVA's: pad to square, resize, CLIP mean/std."""
    side = config.vision_config.image_size
    if image_processor is None:
        image_processor = LlavaImageProcessor(
            size={"shortest_edge": side}, crop_size={"height": side, "width": side}, do_pad=True
        )
    return BehaviorLlavaProcessor(
        image_processor=image_processor,
        video_processor=BehaviorLlavaVideoProcessor(
            size={"height": side, "width": side},
            image_mean=list(image_processor.image_mean),
            image_std=list(image_processor.image_std),
            fps=config.video_fps,
            max_frames=config.max_frames,
        ),
        tokenizer=tokenizer,
        qformer_tokenizer=qformer_tokenizer,
        **visual_token_settings(config),
    )


def visual_token_settings(config) -> dict:
    """The model config's settings a BehaviorLlavaProcessor needs to count each image's / video's visual tokens."""
    return {
        "patch_size": config.vision_config.patch_size,
        "video_representation": config.video_representation,
        "compress": config.compress,
        "pool_size": config.pool_size,
        "slowfast_stride": config.slowfast_stride,
    }


def _load_part(model_class, path: str, config, dtype, key_mapping, what: str):
    model, info = model_class.from_pretrained(
        path, config=config, dtype=dtype, key_mapping=key_mapping, output_loading_info=True
    )
    if info["missing_keys"]:
        missing = sorted(info["missing_keys"])
        raise ValueError(
            f"{path} is not a {what} checkpoint {model_class.__name__} can load: {len(missing)} weights missing "
            f"(e.g. {missing[:3]})."
        )
    return model


def _language_model_state_dict(model) -> dict[str, torch.Tensor]:
    """The causal LM's weights under our names: its base model -> model.language_model, its output layer -> lm_head."""
    head = next(name for name, module in model.named_modules() if module is model.get_output_embeddings())
    renamed = {}
    for key, value in model.state_dict().items():
        if key.startswith(model.base_model_prefix + "."):
            key = "model.language_model." + key[len(model.base_model_prefix) + 1 :]
        elif key.startswith(head + "."):
            key = "lm_head." + key[len(head) + 1 :]
        renamed[key] = value
    return renamed


def _prefixed(state_dict: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {prefix + key: value for key, value in state_dict.items()}


def _read_checkpoint_tensor(path: str, name: str) -> torch.Tensor | None:
    """One tensor of a safetensors checkpoint (single file or sharded), without loading the rest."""
    index = cached_file(path, SAFE_WEIGHTS_INDEX_NAME, _raise_exceptions_for_missing_entries=False)
    if index:
        with open(index) as handle:
            filename = json.load(handle)["weight_map"].get(name)
    else:
        filename = SAFE_WEIGHTS_NAME
    weights = filename and cached_file(path, filename, _raise_exceptions_for_missing_entries=False)
    if not weights:
        return None
    with safe_open(weights, framework="pt") as handle:
        return handle.get_tensor(name) if name in handle.keys() else None


def _resolve_dtype(dtype: torch.dtype | str | None) -> torch.dtype:
    if dtype is None:
        return torch.float32
    if isinstance(dtype, str):
        resolved = getattr(torch, dtype, None)
        if not isinstance(resolved, torch.dtype):
            raise ValueError(f"dtype={dtype!r} is not a torch dtype name (e.g. 'bfloat16', 'float16', 'float32').")
        return resolved
    return dtype


__all__ = ["add_media_tokens", "assemble_behavior_llava", "build_processor"]
