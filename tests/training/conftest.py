"""The folder tiny_cpu.yaml expects (tiny_data/...: a tiny model, a real BLIFT build with every config a shipped
recipe trains on, LLaVA-JSON instruct data), written once for the training tests, plus a LLaVA file with a broken
video."""

import json

import pytest

from hf_behavior.training.tiny_data import write_tiny_sft_data

BROKEN_MP4 = b"\x00\x00\x00\x18ftypmp42 truncated"


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("recipe")
    write_tiny_sft_data(root / "tiny_data")
    (root / "tiny_data" / "llava" / "videos" / "broken.mp4").write_bytes(BROKEN_MP4)
    broken = [{"id": "broken-video", "video": "videos/broken.mp4",
               "conversations": [{"from": "human", "value": "<video>\nWhat happens?"}, {"from": "gpt", "value": "No."}]}]  # fmt: skip
    (root / "tiny_data" / "llava" / "broken.json").write_text(json.dumps(broken))
    return root
