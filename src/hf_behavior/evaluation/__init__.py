"""Evaluation: the paper's metrics, YAML tasks behind `hf-behavior eval`, and the behaviour-simulation pipeline.

The `behavior-simulation` pipeline task is registered with transformers by `import hf_behavior`.
"""

from .pipeline import BehaviorSimulationPipeline
from .tasks import TaskConfig, load_task

__all__ = ["BehaviorSimulationPipeline", "TaskConfig", "load_task"]
