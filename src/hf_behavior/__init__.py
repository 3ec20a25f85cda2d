"""hf-behavior: Behavior-LLaVA as a Hugging Face plug-in.

Importing the package registers BehaviorLlava with the transformers Auto classes, so that
`AutoModel`, `AutoModelForCausalLM`, `AutoModelForImageTextToText`, `AutoProcessor` and `AutoVideoProcessor`
resolve to our classes without `trust_remote_code`, and registers the `behavior-simulation` pipeline task.
"""

from transformers import (
    AutoConfig,
    AutoImageProcessor,
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForImageTextToText,
    AutoProcessor,
    AutoVideoProcessor,
)

from .models.behavior_llava import (
    BehaviorLlavaConfig,
    BehaviorLlavaForCausalLM,
    BehaviorLlavaImageProcessor,
    BehaviorLlavaModel,
    BehaviorLlavaProcessor,
    BehaviorLlavaVideoProcessor,
)

AutoConfig.register(BehaviorLlavaConfig.model_type, BehaviorLlavaConfig, exist_ok=True)
AutoModel.register(BehaviorLlavaConfig, BehaviorLlavaModel, exist_ok=True)
AutoModelForCausalLM.register(BehaviorLlavaConfig, BehaviorLlavaForCausalLM, exist_ok=True)
AutoModelForImageTextToText.register(BehaviorLlavaConfig, BehaviorLlavaForCausalLM, exist_ok=True)
AutoProcessor.register(BehaviorLlavaConfig, BehaviorLlavaProcessor, exist_ok=True)
AutoVideoProcessor.register(BehaviorLlavaConfig, BehaviorLlavaVideoProcessor, exist_ok=True)
# The slot AutoImageProcessor picks by default ("torchvision") holds our PIL processor: a saved
# BehaviorLlavaImageProcessor must load back as itself (see image_processing_behavior_llava.py).
AutoImageProcessor.register(
    BehaviorLlavaConfig, image_processor_classes={"torchvision": BehaviorLlavaImageProcessor}, exist_ok=True
)

from .evaluation.pipeline import BehaviorSimulationPipeline  # noqa: E402  (registers "behavior-simulation")

__all__ = [
    "BehaviorSimulationPipeline",
    "BehaviorLlavaConfig",
    "BehaviorLlavaForCausalLM",
    "BehaviorLlavaImageProcessor",
    "BehaviorLlavaModel",
    "BehaviorLlavaProcessor",
    "BehaviorLlavaVideoProcessor",
]
__version__ = "0.1.0"
