"""A media file as a broken download leaves it: stretches of its bytes zeroed, the rest intact."""

from pathlib import Path


def damaged_copy(path: Path, folder: Path, stretches: list[tuple[float, float]]) -> Path:
    """A copy of `path` in `folder` with each (start, end) stretch (fractions of the file's size) zeroed."""
    data = bytearray(path.read_bytes())
    for start, end in stretches:
        first, last = int(len(data) * start), int(len(data) * end)
        data[first:last] = bytes(last - first)
    damaged = folder / f"damaged-{path.name}"
    damaged.write_bytes(bytes(data))
    return damaged
