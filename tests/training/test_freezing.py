"""Freezing presets train exactly the expected parameters; LoRA adapters sit in the language model only."""

import numpy as np
import pytest
import torch
from peft import get_peft_model
from transformers.quantizers.quantizers_utils import should_convert_module
from trl import ModelConfig

from hf_behavior.tiny import build_tiny_model_and_processor
from hf_behavior.training.freezing import FREEZE_PRESETS, apply_freezing, llm_lora_config, llm_quantization_config

LLM = ("model.language_model.", "lm_head.")
CONTENT = ("model.content_projector.",)
CONTEXT = ("model.context_query_projector.", "model.context_key_projector.", "model.context_value_projector.")
QFORMER = ("model.qformer.", "model.qformer_layernorm.", "model.query_tokens")
HEAD = ("behavior_head.",)
# The LLaMA-VID / Behavior-LLaVA stages (see freezing.py for the source lines)
EXPECTED = {
    "finetune": LLM + CONTENT + HEAD,  # paper E.1: qformer_pretrain_freeze_all
    "finetune_attention": LLM + CONTENT + CONTEXT + HEAD,  # qformer_pretrain_freeze
    "finetune_qformer": LLM + CONTENT + CONTEXT + QFORMER + HEAD,  # LLaMA-VID stage 2: qformer_pretrain
    "pretrain_projectors": CONTENT + CONTEXT + HEAD,  # LLaMA-VID stage 1: tune_mm_mlp_adapter
    "full": ("",),
}


@pytest.fixture(scope="module")
def tiny():
    return build_tiny_model_and_processor(seed=0, behavior_head=True)


@pytest.fixture(scope="module")
def batch(tiny):
    """One image sample with labels and a behaviour target, so every module of the model takes part."""
    _, processor = tiny
    image = np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8)
    chat = [
        {"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": "What is shown?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
    ]
    inputs = processor.apply_chat_template([chat], tokenize=True, return_dict=True, return_tensors="pt")
    return {**inputs, "labels": inputs["input_ids"].clone(), "behavior_targets": torch.tensor([1.5])}


def trainable(model) -> set[str]:
    return {name for name, param in model.named_parameters() if param.requires_grad}


# features are taken before the vision tower's post-layernorm (DESIGN.md), so it never gets a gradient
UNUSED = {"model.vision_tower.post_layernorm.weight", "model.vision_tower.post_layernorm.bias"}


def grads_flow_exactly_to_trainable(model, batch) -> None:
    model.zero_grad(set_to_none=True)
    model(**batch).loss.backward()
    with_grad = {name for name, param in model.named_parameters() if param.grad is not None}
    assert with_grad == trainable(model) - UNUSED


@pytest.mark.parametrize("preset", sorted(FREEZE_PRESETS))
def test_preset_trains_exactly_the_expected_parameters(tiny, batch, preset):
    model, _ = tiny
    summary = apply_freezing(model, preset)
    names = [name for name, _ in model.named_parameters()]
    assert trainable(model) == {name for name in names if name.startswith(EXPECTED[preset])}
    assert "model.vision_tower.embeddings.patch_embedding.weight" in names
    assert sum(t for t, _ in summary.values()) == sum(p.numel() for p in model.parameters() if p.requires_grad)
    qformer_trains = preset in ("finetune_qformer", "full")
    assert summary["model.qformer_layernorm"] == (64 if qformer_trains else 0, 64)
    grads_flow_exactly_to_trainable(model, batch)


def test_unknown_preset_and_wrapped_model_are_errors(tiny):
    model, _ = tiny
    with pytest.raises(ValueError, match="unknown freezing preset 'stage3'; choose one of finetune, finetune_att"):
        apply_freezing(model, "stage3")
    with pytest.raises(ValueError, match="outside the known BehaviorLlava modules"):
        apply_freezing(torch.nn.ModuleDict({"wrapped": model}), "finetune")


def lora_model(preset: str, **model_config):
    model, _ = build_tiny_model_and_processor(seed=0, behavior_head=True)
    apply_freezing(model, preset)
    config = llm_lora_config(ModelConfig(use_peft=True, lora_r=4, lora_alpha=8, **model_config), model)
    return get_peft_model(model, config), config


def test_lora_adapts_only_the_language_model_and_keeps_the_projectors_trainable(batch):
    peft_model, config = lora_model("finetune")
    assert config.modules_to_save == ["behavior_head", "model.content_projector"]
    prefix = "base_model.model."
    names = [name.removeprefix(prefix) for name, _ in peft_model.named_parameters()]
    lora = [name for name in names if "lora_" in name]
    assert lora and all(name.startswith("model.language_model.layers.") for name in lora)
    adapted = {name.split(".lora_")[0].rsplit(".", 1)[-1] for name in lora}
    assert adapted == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
    train = {name.removeprefix(prefix) for name in trainable(peft_model)}
    saved = {name for name in train if ".modules_to_save." in name}
    assert {name.split(".modules_to_save.")[0] for name in saved} == {"model.content_projector", "behavior_head"}
    assert train == set(lora) | saved  # base LLM weights, lm_head, vision tower, Q-Former, context projectors frozen
    grads_flow_exactly_to_trainable(peft_model, batch)


def test_lora_target_names_are_restricted_to_the_language_model():
    peft_model, config = lora_model("finetune", lora_target_modules=["q_proj", "self_attn.v_proj"])
    lora = {name for name, _ in peft_model.named_parameters() if "lora_A" in name}
    assert {name.split(".lora_A")[0].rsplit(".", 1)[-1] for name in lora} == {"q_proj", "v_proj"}
    assert len(lora) == 2 * peft_model.config.text_config.num_hidden_layers
    with pytest.raises(ValueError, match=r"\['linear_1'\] match no module of the language model"):
        lora_model("finetune", lora_target_modules=["q_proj", "linear_1"])  # linear_1 lives in the projector only
    with pytest.raises(ValueError, match="must match modules of model.language_model only; it matches"):
        lora_model("finetune", lora_target_modules=r".*\.(q_proj|linear_1)")  # a regex reaching the projector


def test_lora_cannot_keep_bare_parameters_trainable():
    with pytest.raises(ValueError, match=r"bare parameter\(s\) \['model.query_tokens'\]"):
        lora_model("finetune_qformer")
    model, _ = build_tiny_model_and_processor(seed=0)
    assert llm_lora_config(ModelConfig(use_peft=False), model) is None


def test_qlora_quantizes_only_the_language_model(tiny):
    """The bitsandbytes config (loading with it needs bitsandbytes and a CUDA GPU): transformers' own skip rule."""
    model, _ = tiny
    assert llm_quantization_config(ModelConfig()) is None
    config = llm_quantization_config(ModelConfig(load_in_4bit=True, dtype="bfloat16"))
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4"
    linear = [name for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)]
    converted = {name for name in linear if should_convert_module(name, config.llm_int8_skip_modules)}
    assert converted == {name for name in linear if name.startswith("model.language_model.")}
