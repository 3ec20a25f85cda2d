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
    LlavaImageProcessor,
)

from .models.behavior_llava import (
    BehaviorLlavaConfig,
    BehaviorLlavaForCausalLM,
    BehaviorLlavaForConditionalGeneration,
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
AutoImageProcessor.register(BehaviorLlavaConfig, fast_image_processor_class=LlavaImageProcessor, exist_ok=True)

from .evaluation.pipeline import BehaviorSimulationPipeline  # noqa: E402  (registers "behavior-simulation")

__all__ = [
    "BehaviorSimulationPipeline",
    "BehaviorLlavaConfig",
    "BehaviorLlavaForCausalLM",
    "BehaviorLlavaForConditionalGeneration",
    "BehaviorLlavaModel",
    "BehaviorLlavaProcessor",
    "BehaviorLlavaVideoProcessor",
]
__version__ = "0.1.0"
