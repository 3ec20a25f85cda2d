"""`hf-behavior` entry point.

Each sub-command lives in the module that does the work; that module exposes
``add_arguments(parser)`` and ``run(args) -> int``. Modules are imported only when
their command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "quickstart": ("hf_behavior.quickstart", "tiny end-to-end run: build, train, save, reload, generate"),
    "convert-llama-vid": (
        "hf_behavior.models.behavior_llava.convert_llama_vid_to_hf",
        "convert an original LLaMA-VID / Behavior-LLaVA checkpoint folder",
    ),
    "build-blift": ("hf_behavior.data.export", "build the BLIFT dataset from raw dumps into parquet + card"),
    "verbalize": ("hf_behavior.verbalize.run", "scene-by-scene verbalization sidecars for media files"),
    "eval": ("hf_behavior.evaluation.cli", "evaluate a model on a task (zero-shot, perplexity, R², ...)"),
    "tiny-data": ("hf_behavior.training.tiny_data", "write the tiny model + BLIFT + LLaVA-JSON inputs of tiny_cpu.yaml"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="hf-behavior", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, help_text) in COMMANDS.items():
        subparsers.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # prints help or the usage error and exits
    module = importlib.import_module(COMMANDS[argv[0]][0])
    sub = argparse.ArgumentParser(prog=f"hf-behavior {argv[0]}", description=COMMANDS[argv[0]][1])
    module.add_arguments(sub)
    return int(module.run(sub.parse_args(argv[1:])) or 0)


if __name__ == "__main__":
    sys.exit(main())
