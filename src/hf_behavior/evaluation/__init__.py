"""Evaluation: the paper's metrics, YAML tasks behind `hf-behavior eval`, and the behaviour-simulation pipeline.

The `behavior-simulation` pipeline task is registered with transformers by `import hf_behavior`.
"""

import importlib

_EXPORTS = {"BehaviorSimulationPipeline": ".pipeline", "TaskConfig": ".tasks", "load_task": ".tasks"}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    """Imported on first use: `hf-behavior eval --help` imports this package without torch."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
