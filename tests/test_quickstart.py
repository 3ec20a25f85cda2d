"""The README's first command: the quickstart builds, trains, saves, reloads through the Auto classes and generates."""

import argparse
import subprocess
import sys

import datasets
import torch
from transformers import AutoModelForCausalLM

from hf_behavior import BehaviorLlavaForCausalLM
from hf_behavior.quickstart import run, run_quickstart


def test_quickstart_end_to_end(tmp_path, capsys):
    result = run_quickstart(tmp_path, steps=3)
    printed = capsys.readouterr().out
    assert [line[:5] for line in printed.splitlines() if line.startswith("[")] == [
        "[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"
    ]
    assert len(result["losses"]) == 3 and all(torch.isfinite(torch.tensor(result["losses"])))
    saved = {path.name for path in result["model_dir"].iterdir()}
    assert {"model.safetensors", "config.json", "processor_config.json", "chat_template.jinja", "README.md"} <= saved
    assert type(result["model"]) is BehaviorLlavaForCausalLM
    assert 0 < len(result["new_tokens"]) <= 12
    # The trained weights were saved: a reload gives the same parameters as the quickstart's reload.
    again = AutoModelForCausalLM.from_pretrained(result["model_dir"])
    for (name, a), (_, b) in zip(again.named_parameters(), result["model"].named_parameters()):
        assert torch.equal(a, b), name


def test_quickstart_in_a_temporary_folder_leaves_no_datasets_cache_entry(capsys):
    """Its rows point at media deleted with the folder, and datasets would serve the entry to the next quickstart,
    whose identical build has the same folder name and sizes: the second run failed on the deleted files."""
    cache = datasets.config.HF_DATASETS_CACHE
    before = set(cache.rglob("*")) if cache.exists() else set()
    assert run(argparse.Namespace(output_dir=None, steps=1)) == 0
    assert "quickstart finished" in capsys.readouterr().out
    assert (set(cache.rglob("*")) if cache.exists() else set()) == before
    assert datasets.config.HF_DATASETS_CACHE == cache


def test_cli_lists_its_commands():
    out = subprocess.run([sys.executable, "-m", "hf_behavior.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for command in ("quickstart", "convert-llama-vid", "build-blift", "verbalize", "eval", "tiny-data"):
        assert command in out.stdout
