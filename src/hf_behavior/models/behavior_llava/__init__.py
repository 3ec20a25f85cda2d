"""BehaviorLlava in transformers' one-folder-per-model layout. Its classes are imported on first use (PEP 562, as
transformers' own model folders are lazy): `convert_llama_vid_to_hf`'s `--help` imports the folder without torch."""

import importlib

_EXPORTS = {
    "assemble_behavior_llava": ".assemble",
    "BehaviorLlavaConfig": ".configuration_behavior_llava",
    "BehaviorLlavaForCausalLM": ".modeling_behavior_llava",
    "BehaviorLlavaForConditionalGeneration": ".modeling_behavior_llava",
    "BehaviorLlavaImageProcessor": ".image_processing_behavior_llava",
    "BehaviorLlavaModel": ".modeling_behavior_llava",
    "BehaviorLlavaPreTrainedModel": ".modeling_behavior_llava",
    "BehaviorLlavaProcessor": ".processing_behavior_llava",
    "BehaviorLlavaVideoProcessor": ".video_processing_behavior_llava",
}
__all__ = [name for name in _EXPORTS if name != "assemble_behavior_llava"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
