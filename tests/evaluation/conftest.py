"""Shared fixtures: one tiny random BehaviorLlava saved to disk and loaded back by path, as a user would."""

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoProcessor

import hf_behavior  # noqa: F401
from hf_behavior.tiny import build_tiny_model_and_processor

torch.set_num_threads(2)

ANSWER = (
    "The scene-by-scene descriptions are:\n"
    "Scene 1: The scene shows a red square on a blue background.\n"
    "Scene 2: The scene shows a cat and a dog.\n"
    "The video will be liked by 2.5% of viewers, and the popular comments could be:\n"
    '1. "love it"\n'
    '2. "so cool"\n'
    "The replay values for each scene would be:\n"
    "Scene 1: 0.8\n"
    "Scene 2: 0.3"
)


@pytest.fixture(scope="session")
def tiny_path(tmp_path_factory):
    model, processor = build_tiny_model_and_processor(seed=0)
    path = tmp_path_factory.mktemp("tiny_model")
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny(tiny_path):
    model = AutoModelForCausalLM.from_pretrained(tiny_path).eval()
    return model, AutoProcessor.from_pretrained(tiny_path)


def frames(count: int, seed: int = 0, height: int = 40, width: int = 60) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (count, height, width, 3), dtype=np.uint8)
