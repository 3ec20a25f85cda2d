"""BehaviorLlava's registration with transformers' Auto classes, made once those classes are loaded.

Every module of transformers beyond its lazy top level imports torch: `from transformers import AutoConfig` alone
costs ~3 s and ~600 MB. `import hf_behavior` must register our classes for users, yet the data jobs and the CLI's
--help, which import the package too, must not pay for that. So the package registers at once only when
transformers' Auto classes are already loaded; otherwise an import hook (`_RegisterWhenLoaded`) registers as soon
as the import that loads them has finished: after the outermost import of a transformers or hf_behavior module
under way, so that no module the registration imports is still half-initialised (transformers'
`modeling_layers` loads the Auto classes from its own body, and so does our configuration module).
"""

from __future__ import annotations

import sys
import threading
from importlib.abc import MetaPathFinder
from importlib.machinery import ExtensionFileLoader, SourceFileLoader, SourcelessFileLoader

AUTO_CLASSES = "transformers.models.auto.configuration_auto"  # loaded before any Auto class can be used
_WATCHED = ("transformers", "hf_behavior")
_FILE_LOADERS = (SourceFileLoader, SourcelessFileLoader, ExtensionFileLoader)
_lock = threading.Lock()
_registered = False


def register() -> None:
    """Register config, models, processors and the `behavior-simulation` task (imports torch and transformers)."""
    global _registered
    with _lock:
        if _registered:
            return
        _registered = True
    from transformers import (
        AutoConfig,
        AutoImageProcessor,
        AutoModel,
        AutoModelForCausalLM,
        AutoModelForImageTextToText,
        AutoProcessor,
        AutoVideoProcessor,
    )

    from .models.behavior_llava.configuration_behavior_llava import BehaviorLlavaConfig
    from .models.behavior_llava.image_processing_behavior_llava import BehaviorLlavaImageProcessor
    from .models.behavior_llava.modeling_behavior_llava import BehaviorLlavaForCausalLM, BehaviorLlavaModel
    from .models.behavior_llava.processing_behavior_llava import BehaviorLlavaProcessor
    from .models.behavior_llava.video_processing_behavior_llava import BehaviorLlavaVideoProcessor

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
    from .evaluation import pipeline  # noqa: F401  (registers "behavior-simulation")


class _RegisterWhenLoaded(MetaPathFinder):
    """Counts the transformers and hf_behavior modules being executed (per thread: imports may run in several) by
    wrapping their loaders' `exec_module`; when the count is back at zero and the Auto classes are loaded, it takes
    itself off `sys.meta_path` and calls `register`. It finds no module itself: it asks the finders after it."""

    def __init__(self):
        self.executing = threading.local()

    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] not in _WATCHED:
            return None
        for finder in sys.meta_path[sys.meta_path.index(self) + 1 :] if self in sys.meta_path else ():
            spec = finder.find_spec(name, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None:
                if isinstance(spec.loader, _FILE_LOADERS):  # a loader of its own (a file's), unlike a shared importer's
                    spec.loader.exec_module = self._counted(spec.loader.exec_module)
                return spec
        return None

    def _counted(self, exec_module):
        def counted(module):
            self.executing.depth = getattr(self.executing, "depth", 0) + 1
            try:
                exec_module(module)
            finally:
                self.executing.depth -= 1
            if self.executing.depth == 0 and AUTO_CLASSES in sys.modules:
                try:
                    sys.meta_path.remove(self)
                except ValueError:  # another thread's import got there first
                    return
                register()

        return counted


def register_with_transformers() -> None:
    """`register` now if transformers' Auto classes are loaded, else once they are (`_RegisterWhenLoaded`)."""
    if AUTO_CLASSES in sys.modules:
        register()
    elif not any(isinstance(finder, _RegisterWhenLoaded) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterWhenLoaded())
