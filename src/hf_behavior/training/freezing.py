"""Which parameters of BehaviorLlavaForCausalLM train: the LLaMA-VID / Behavior-LLaVA stage presets, and LoRA/QLoRA
restricted to the language model.

What LLaMA-VID freezes (github.com/dvlab-research/LLaMA-VID; our names in brackets):
- The EVA vision tower [model.vision_tower] never trains: `EVAVisionTowerLavis.load_model` calls
  `requires_grad_(False)` and its forward runs under `torch.no_grad` (llamavid/model/multimodal_encoder/eva_vit.py).
- `bert_type` (`LLaMAVIDMetaModel.initialize_attention_modules`, llamavid/model/llamavid_arch.py): with
  `freeze_all` in it, the Q-Former `vlm_att_encoder` [model.qformer], its input LayerNorm `vlm_att_ln`
  [model.qformer_layernorm], the queries `vlm_att_query` [model.query_tokens] *and* the three context-attention
  projectors `vlm_att_projector` / `vlm_att_key_projector` / `vlm_att_val_projector`
  [model.context_{query,key,value}_projector] are frozen; with `freeze` (not `freeze_all`) only the first three;
  otherwise all of them train.
- Stage 1 (scripts/video/train/stage_1_2_full_v7b_224_fps_1.sh: `--tune_mm_mlp_adapter True --bert_type
  qformer_pretrain_freeze`; llamavid/train/train.py): `model.requires_grad_(False)`, then `mm_projector`
  [model.content_projector] is unfrozen and the attention modules are built trainable, then `freeze` re-freezes the
  Q-Former, queries and LayerNorm: the content projector and the three context projectors train.
- Stage 2 of LLaMA-VID (`--bert_type qformer_pretrain`): everything but the vision tower trains.
- Behavior-LLaVA (paper appendix E.1: `BERT Type: qformer_pretrain_freeze_all`, from llama-vid-13b-full): the LLM
  (embeddings, layers, norm, lm_head) and the content projector train; vision tower, Q-Former, queries, LayerNorm
  and the context-attention projectors stay frozen.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from torch import nn

VISION = ("model.vision_tower",)
QFORMER = ("model.qformer", "model.query_tokens", "model.qformer_layernorm")
CONTEXT_PROJECTORS = ("model.context_query_projector", "model.context_key_projector", "model.context_value_projector")
CONTENT_PROJECTOR = ("model.content_projector",)
LANGUAGE_MODEL = "model.language_model"
LLM = (LANGUAGE_MODEL, "lm_head")
HEADS = ("behavior_head",)  # ours, not the paper's: new like the projectors, trained wherever they are
MODULES = VISION + QFORMER + CONTEXT_PROJECTORS + CONTENT_PROJECTOR + LLM + HEADS


@dataclass(frozen=True)
class FreezePreset:
    trainable: tuple[str, ...]
    description: str


_FINETUNE = CONTENT_PROJECTOR + LLM + HEADS
FREEZE_PRESETS = {
    "finetune": FreezePreset(
        _FINETUNE, "Behavior-LLaVA (bert_type qformer_pretrain_freeze_all): LLM + content projector"
    ),
    "finetune_attention": FreezePreset(
        CONTEXT_PROJECTORS + _FINETUNE, "bert_type qformer_pretrain_freeze: LLM + content and context projectors"
    ),
    "finetune_qformer": FreezePreset(
        QFORMER + CONTEXT_PROJECTORS + _FINETUNE, "LLaMA-VID stage 2 (bert_type qformer_pretrain): all but vision"
    ),
    "pretrain_projectors": FreezePreset(
        CONTENT_PROJECTOR + CONTEXT_PROJECTORS + HEADS, "LLaMA-VID stage 1 (tune_mm_mlp_adapter): projectors only"
    ),
    "full": FreezePreset(MODULES, "everything, the vision tower included"),
}


def _module_of(name: str) -> str | None:
    """The known top-level module holding a parameter (by component: model.qformer is not model.qformer_layernorm)."""
    return next((module for module in MODULES if name == module or name.startswith(module + ".")), None)


def trainable_summary(model: nn.Module) -> dict[str, tuple[int, int]]:
    """{top-level module: (trainable parameters, all parameters)}, in model order."""
    trainable, total = Counter(), Counter()
    for name, param in model.named_parameters():
        module = _module_of(name) or name
        total[module] += param.numel()
        trainable[module] += param.numel() if param.requires_grad else 0
    return {module: (trainable[module], total[module]) for module in total}


def apply_freezing(model: nn.Module, preset: str) -> dict[str, tuple[int, int]]:
    """Set `requires_grad` by preset (see FREEZE_PRESETS) on an unwrapped model; returns `trainable_summary`."""
    if preset not in FREEZE_PRESETS:
        raise ValueError(f"unknown freezing preset {preset!r}; choose one of {', '.join(FREEZE_PRESETS)}")
    unknown = [name for name, _ in model.named_parameters() if _module_of(name) is None]
    if unknown:
        raise ValueError(f"parameters outside the known BehaviorLlava modules (a wrapped model?): {unknown[:5]}")
    trainable = FREEZE_PRESETS[preset].trainable
    for name, param in model.named_parameters():
        param.requires_grad_(_module_of(name) in trainable)
    return trainable_summary(model)


def llm_lora_config(model_args, model: nn.Module):
    """`trl.get_peft_config(model_args)` with LoRA on the language model only; None without `use_peft`.

    `lora_target_modules` (names such as `q_proj`, or "all-linear", default: every linear layer, as LLaMA-VID's
    `find_all_linear_names`) are matched inside `model.language_model` only, through a regex `target_modules`;
    a name matching nothing there is an error, and so is a user regex reaching outside it. Modules that the freezing
    preset left trainable outside the LLM (projectors, behaviour head, ...) go to `modules_to_save`, since
    `get_peft_model` freezes everything that is not an adapter; call `apply_freezing` first. `lm_head` counts as the
    LLM (frozen under LoRA, as in LLaVA) unless `lora_modules_to_save` names it.
    """
    from trl import get_peft_config

    config = get_peft_config(model_args)
    if config is None:
        return None
    modules = dict(model.named_modules())
    llm_modules = {name for name in modules if name.startswith(LANGUAGE_MODEL + ".")}
    requested = config.target_modules
    if isinstance(requested, str) and requested != "all-linear":  # a regex over full module names, as in peft
        matched = [name for name in modules if re.fullmatch(requested, name)]
        outside = [name for name in matched if name not in llm_modules]
        if outside or not matched:
            raise ValueError(f"lora_target_modules {requested!r} must match modules of {LANGUAGE_MODEL} only; it "
                             f"matches {outside[:5] if outside else 'nothing'}")  # fmt: skip
    else:
        if requested is None or requested == "all-linear":
            requested = {name.rsplit(".", 1)[-1] for name in llm_modules if isinstance(modules[name], nn.Linear)}
        missing = sorted(t for t in requested if not any(name.endswith("." + t) for name in llm_modules))
        if missing:
            raise ValueError(f"lora_target_modules {missing} match no module of the language model ({LANGUAGE_MODEL})")
        names = "|".join(map(re.escape, sorted(requested)))
        config.target_modules = rf"{re.escape(LANGUAGE_MODEL)}\.(?:.*\.)?(?:{names})"

    keep = {_module_of(name) or name for name, param in model.named_parameters() if param.requires_grad} - set(LLM)
    bare = sorted(name for name in keep if not isinstance(modules.get(name), nn.Module))
    if bare:
        raise ValueError(f"peft keeps only whole modules trainable, not the bare parameter(s) {bare}: with LoRA, "
                         "choose a freezing preset that freezes them (e.g. 'finetune')")  # fmt: skip
    config.modules_to_save = sorted(keep | set(config.modules_to_save or []))
    return config


def llm_quantization_config(model_args):
    """`trl.get_quantization_config(model_args)` (QLoRA: `load_in_4bit` / `load_in_8bit`) quantizing the LLM only.

    Vision tower, Q-Former, projectors and heads stay in full precision (`llm_int8_skip_modules`, which transformers
    applies to 4-bit too). Loading with it needs bitsandbytes and a CUDA GPU; the config itself is built anywhere.
    """
    from trl import get_quantization_config

    config = get_quantization_config(model_args)
    if config is not None:
        config.llm_int8_skip_modules = [m for m in MODULES if m != LANGUAGE_MODEL]
    return config
