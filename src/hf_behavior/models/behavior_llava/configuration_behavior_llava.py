"""BehaviorLlava configuration: LLaMA-VID (vision tower + instruction Q-Former + LLM) with switchable video tokens."""


import math
from typing import Literal

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

# EVA-ViT-g/14 at 224 px as BLIP-2 / LAVIS ship it (39 blocks, the 40th dropped), i.e. LLaMA-VID's vision tower.
EVA_VIT_G_KWARGS = {
    "hidden_size": 1408,
    "intermediate_size": 6144,
    "num_hidden_layers": 39,
    "num_attention_heads": 16,
    "image_size": 224,
    "patch_size": 14,
    "qkv_bias": True,
    "layer_norm_eps": 1e-6,
}
# Vision models without a CLS token: their patch tokens are used as they are.
VISION_MODELS_WITHOUT_CLS = ("siglip_vision_model", "siglip2_vision_model")


def pooled_grid_side(grid_side: int, pool: int) -> int:
    """Side of the token grid after `avg_pool2d(kernel=pool, stride=pool)` over a `grid_side`² patch grid."""
    return grid_side // pool


def visual_token_count(num_frames: int, is_video: bool, num_patches: int, settings) -> int:
    """LLM positions one image (`num_frames=1`) or video takes. `settings` (the config or the processor) carries
    `video_representation`, `compress`, `pool_size` and `slowfast_stride`, so both count the same way."""
    video_representation, compress = settings.video_representation, settings.compress
    pool_size, slowfast_stride = settings.pool_size, settings.slowfast_stride
    side = math.isqrt(num_patches)
    if video_representation == "llama_vid":
        if compress == "mean":
            per_frame = 1
        elif compress == "none":
            per_frame = num_patches
        else:
            grid = int(compress.split(":")[1])
            per_frame = pooled_grid_side(side, side // grid) ** 2
        return num_frames * (1 + per_frame)  # one context token + the content tokens, per frame
    slow = num_patches // pool_size**2
    if video_representation == "pool" or not is_video:
        return num_frames * slow
    fast = num_patches // (4 * pool_size**2)
    num_slow = num_frames // slowfast_stride
    return num_slow * slow + (num_frames - num_slow) * fast


def slow_frame_mask(num_frames: int, stride: int) -> list[bool]:
    """LLaVA-Video SlowFast: floor(T/s) slow frames picked uniformly (the middle of each stride window)."""
    slow = {k * stride + stride // 2 for k in range(num_frames // stride)}
    return [i in slow for i in range(num_frames)]


@strict
class BehaviorLlavaConfig(PreTrainedConfig):
    r"""
    Configuration of [`BehaviorLlavaForCausalLM`] (LLaMA-VID, Li et al. 2023, as trained in Behavior-LLaVA).

    Args:
        vision_config: vision tower config. Default: EVA-ViT-g/14 as `Blip2VisionConfig`; any AutoConfig vision model
            (CLIP, SigLIP, ...) works.
        qformer_config: instruction Q-Former config (`InstructBlipQFormerConfig`); its `encoder_hidden_size` must be
            the vision width (filled in from `vision_config` when the Q-Former config is not given).
        text_config: the LLM config (default LLaMA).
        num_query_tokens: learned Q-Former queries (32).
        vision_feature_layer: which vision hidden state is used (-1: last block, before any post-layernorm).
        vision_feature_select_strategy: "default" drops the CLS token from the patches, "full" keeps every token
            (needed for towers without CLS such as SigLIP).
        compress: LLaMA-VID content-token compression per frame: "mean" (1 token), "grid:g" (g*g), "none" (all).
        video_representation: "llama_vid" (context + content tokens), "slowfast" (LLaVA-Video) or "pool".
        pool_size: p of the p x p average pool used by "slowfast" (slow frames; fast frames use 2p) and "pool".
        slowfast_stride: s of "slowfast": floor(T/s) frames are slow.
        image_token_id / video_token_id: placeholder ids in the LLM vocabulary.
        video_fps / max_frames: default frame sampling (the processor's defaults mirror these).
        behavior_head: add a regression head predicting log-likes from the last hidden state (M3L approach).
        behavior_loss_weight: weight of the head's MSE loss next to the LM loss.
    """

    model_type = "behavior_llava"
    sub_configs_defaults = {
        "vision_config": SubConfigSpec(
            config_class=AutoConfig, model_type="blip_2_vision_model", init_kwargs=EVA_VIT_G_KWARGS
        ),
        "qformer_config": SubConfigSpec(
            config_class=AutoConfig,
            model_type="instructblip_qformer",
            # bert-base-uncased + LAVIS' added "[DEC]" token
            init_kwargs={"encoder_hidden_size": 1408, "vocab_size": 30523},
        ),
        "text_config": SubConfigSpec(config_class=AutoConfig, model_type="llama"),
    }

    vision_config: dict | PreTrainedConfig | None = None
    qformer_config: dict | PreTrainedConfig | None = None
    text_config: dict | PreTrainedConfig | None = None
    num_query_tokens: int = 32
    vision_feature_layer: int = -1
    vision_feature_select_strategy: Literal["default", "full"] = "default"
    compress: str = "mean"
    video_representation: Literal["llama_vid", "slowfast", "pool"] = "llama_vid"
    pool_size: int = 2
    slowfast_stride: int = 3
    image_token_id: int = 32000
    video_token_id: int = 32001
    video_fps: float = 1.0
    max_frames: int = 300
    projector_hidden_act: str = "gelu"
    behavior_head: bool = False
    behavior_loss_weight: float = 1.0
    tie_word_embeddings: bool = False

    def __post_init__(self, **kwargs):
        if self.qformer_config is None:
            # The Q-Former cross-attends to the vision features, so its encoder width is the vision width.
            self.qformer_config = {"encoder_hidden_size": _field(self.vision_config, "hidden_size", 1408)}
        super().__post_init__(**kwargs)
        if not self.tie_word_embeddings and getattr(self.text_config, "tie_word_embeddings", False):
            self.tie_word_embeddings = True
        self._validate_combination()

    @property
    def num_patches(self) -> int:
        """Patch tokens per frame (CLS excluded)."""
        return (self.vision_config.image_size // self.vision_config.patch_size) ** 2

    def num_visual_tokens(self, num_frames: int = 1, is_video: bool = False) -> int:
        return visual_token_count(num_frames, is_video, self.num_patches, self)

    def _validate_combination(self) -> None:
        vision_width = self.vision_config.hidden_size
        if self.qformer_config.encoder_hidden_size != vision_width:
            raise ValueError(
                f"qformer_config.encoder_hidden_size ({self.qformer_config.encoder_hidden_size}) must equal the vision "
                f"width vision_config.hidden_size ({vision_width}): set qformer_config.encoder_hidden_size={vision_width}."
            )
        if self.vision_config.model_type in VISION_MODELS_WITHOUT_CLS and self.vision_feature_select_strategy == "default":
            raise ValueError(
                f"{self.vision_config.model_type} has no CLS token to drop: set vision_feature_select_strategy='full'."
            )
        side = math.isqrt(self.num_patches)
        if self.video_representation == "llama_vid":
            if self.compress not in ("mean", "none") and not self.compress.startswith("grid:"):
                raise ValueError(f"compress={self.compress!r} is not one of 'mean', 'grid:g' (e.g. 'grid:2'), 'none'.")
            if self.compress.startswith("grid:"):
                grid = self.compress.split(":", 1)[1]
                if not grid.isdigit() or not 1 < int(grid) <= side or pooled_grid_side(side, side // int(grid)) != int(grid):
                    raise ValueError(
                        f"compress={self.compress!r}: the {side}x{side} patch grid cannot be average-pooled to a "
                        f"{grid}x{grid} grid; use 'grid:g' with g dividing {side} (e.g. 'grid:2'), or 'mean'."
                    )
        else:
            if self.compress != "mean":
                raise ValueError(
                    f"compress={self.compress!r} only applies to video_representation='llama_vid'; "
                    f"'{self.video_representation}' pools with pool_size. Leave compress='mean'."
                )
            pools = (self.pool_size, 2 * self.pool_size) if self.video_representation == "slowfast" else (self.pool_size,)
            if self.pool_size < 1 or any(side % p for p in pools):
                raise ValueError(
                    f"video_representation={self.video_representation!r} pools the {side}x{side} patch grid with "
                    f"{' and '.join(f'{p}x{p}' for p in pools)}: choose pool_size so that {side} is divisible by "
                    f"{' and '.join(str(p) for p in pools)}."
                )
            if self.slowfast_stride < 1:
                raise ValueError(f"slowfast_stride must be >= 1, got {self.slowfast_stride}.")
        if self.image_token_id == self.video_token_id:
            raise ValueError("image_token_id and video_token_id must differ (one placeholder token per media kind).")
        if self.max_frames < 1 or self.video_fps <= 0:
            raise ValueError(f"max_frames must be >= 1 and video_fps > 0 (got {self.max_frames}, {self.video_fps}).")


def _field(config: dict | PreTrainedConfig | None, name: str, default):
    if config is None:
        return default
    return config.get(name, default) if isinstance(config, dict) else getattr(config, name, default)


__all__ = ["BehaviorLlavaConfig"]
