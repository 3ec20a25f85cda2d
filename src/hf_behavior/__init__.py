"""hf-behavior: Behavior-LLaVA as a Hugging Face plug-in.

Importing the package registers BehaviorLlava with the transformers Auto classes, so that `AutoConfig`,
`AutoModel`, `AutoModelForCausalLM`, `AutoModelForImageTextToText`, `AutoProcessor`, `AutoVideoProcessor` and
`AutoImageProcessor` resolve to our classes without `trust_remote_code`, and registers the `behavior-simulation`
pipeline task.

The registration imports torch and transformers (6-8 s, about 1 GB), which the data jobs and every `hf-behavior ...
--help` never use: it runs when transformers' Auto classes are loaded, not before (`registration`). `import
hf_behavior` then `AutoModelForCausalLM.from_pretrained(path)` works as it always did.
"""

from .registration import register_with_transformers

register_with_transformers()

_EXPORTS = {
    "BehaviorSimulationPipeline": "hf_behavior.evaluation.pipeline",
    "BehaviorLlavaConfig": "hf_behavior.models.behavior_llava",
    "BehaviorLlavaForCausalLM": "hf_behavior.models.behavior_llava",
    "BehaviorLlavaForConditionalGeneration": "hf_behavior.models.behavior_llava",
    "BehaviorLlavaImageProcessor": "hf_behavior.models.behavior_llava",
    "BehaviorLlavaModel": "hf_behavior.models.behavior_llava",
    "BehaviorLlavaProcessor": "hf_behavior.models.behavior_llava",
    "BehaviorLlavaVideoProcessor": "hf_behavior.models.behavior_llava",
}
__all__ = list(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str):
    """The model classes, imported on first use (PEP 562): `from hf_behavior import BehaviorLlavaConfig` works."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hf_behavior' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
