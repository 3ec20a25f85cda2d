"""Evaluation: the paper's metrics, YAML tasks behind `hf-behavior eval`, and the behaviour-simulation pipeline.

Importing this package registers the `behavior-simulation` pipeline task with transformers.
"""

import hf_behavior  # noqa: F401  (registers BehaviorLlava with the Auto classes, which the pipeline loads through)

from .pipeline import BehaviorSimulationPipeline
from .tasks import TaskConfig, load_task

__all__ = ["BehaviorSimulationPipeline", "TaskConfig", "load_task"]
