"""Image processor of converted LLaMA-VID checkpoints: CLIPImageProcessor's steps on PIL/uint8 images, as the original.

transformers 5 loads a saved CLIPImageProcessor or LlavaImageProcessor with its torchvision backend, whose bicubic
resize of uint8 tensors differs from PIL's (the original's) by up to one grey level (0.03 in normalised units). This
class is LlavaImageProcessorPil (shortest-side PIL bicubic resize, centre crop, rescale, normalise; LLaVA's
pad-to-square first with `do_pad`) under its own name, so a saved processor loads back as itself.
"""

from transformers import LlavaImageProcessorPil


class BehaviorLlavaImageProcessor(LlavaImageProcessorPil):
    pass


BehaviorLlavaImageProcessor.register_for_auto_class("AutoImageProcessor")

__all__ = ["BehaviorLlavaImageProcessor"]
