from .assemble import assemble_behavior_llava
from .configuration_behavior_llava import BehaviorLlavaConfig
from .modeling_behavior_llava import (
    BehaviorLlavaForCausalLM,
    BehaviorLlavaForConditionalGeneration,
    BehaviorLlavaModel,
    BehaviorLlavaPreTrainedModel,
)
from .processing_behavior_llava import BehaviorLlavaProcessor
from .video_processing_behavior_llava import BehaviorLlavaVideoProcessor

__all__ = [
    "BehaviorLlavaConfig",
    "BehaviorLlavaForCausalLM",
    "BehaviorLlavaForConditionalGeneration",
    "BehaviorLlavaModel",
    "BehaviorLlavaPreTrainedModel",
    "BehaviorLlavaProcessor",
    "BehaviorLlavaVideoProcessor",
]
