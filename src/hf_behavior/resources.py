"""Files that live beside the package in a source checkout (`dataset_builder/`, `model_cards/`, `recipes/`) and in a
wheel (hatch `force-include` copies them to `hf_behavior/_resources/`), found the same way in both."""

from pathlib import Path

_PACKAGED = Path(__file__).resolve().parent / "_resources"
_CHECKOUT = Path(__file__).resolve().parents[2]


def resource_path(relative: str) -> Path:
    """`resource_path("model_cards/behavior_llava.md")` -> the file, from the wheel or the source checkout."""
    for root in (_PACKAGED, _CHECKOUT):
        if (root / relative).exists():
            return root / relative
    raise FileNotFoundError(f"{relative} is neither in {_PACKAGED} (wheel) nor in {_CHECKOUT} (source checkout)")
