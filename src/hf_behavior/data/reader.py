"""Stream NDJSON dumps (plain or Zstandard-compressed) line by line, never loading a file whole.

Pushshift dumps are single- or multi-frame `.zst` files written with a long window, so the decompressor is
opened with a 2 GiB window. A file cut short mid-frame decompresses silently with `zstandard`'s stream reader;
here the unfinished frame is detected and reported as its own error after the last complete line.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import zstandard

CHUNK_SIZE = 1 << 20


@dataclass
class LineError:
    """A line (or the end of a file) that could not be read; kept for the report."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def _zst_chunks(path: Path, truncated: list[bool]) -> Iterator[bytes]:
    decompressor = zstandard.ZstdDecompressor(max_window_size=2**31)
    frame = decompressor.decompressobj()
    frame_open = False
    with open(path, "rb") as raw:
        while chunk := raw.read(CHUNK_SIZE):
            while chunk:
                out = frame.decompress(chunk)
                frame_open = True
                if out:
                    yield out
                if frame.eof:
                    chunk, frame, frame_open = frame.unused_data, decompressor.decompressobj(), False
                else:
                    chunk = b""
    truncated.append(frame_open)


def _raw_lines(path: Path, truncated: list[bool]) -> Iterator[bytes]:
    if path.suffix != ".zst":
        with open(path, "rb") as fh:
            yield from fh
        truncated.append(False)
        return
    tail = b""
    for block in _zst_chunks(path, truncated):
        lines = (tail + block).split(b"\n")
        tail = lines.pop()
        for line in lines:
            yield line
    if tail:
        yield tail


def iter_lines(path: str | Path, skip_lines: int = 0) -> Iterator[tuple[int, bytes | None, LineError | None]]:
    """Yield `(line_number, raw_line, None)` for each non-blank line, unparsed; `(line_number, None, error)` for
    a corrupt or truncated `.zst` (always last).

    Line numbers are 1-based. The first `skip_lines` lines are passed over (resuming after an interruption).
    Parsing is left to `parse_line`, so that it can run in other processes.
    """
    path = Path(path)
    truncated: list[bool] = []
    line_no = 0
    try:
        for line_no, raw in enumerate(_raw_lines(path, truncated), start=1):
            if line_no > skip_lines and raw.strip():
                yield line_no, raw, None
    except zstandard.ZstdError as err:
        yield line_no + 1, None, LineError(str(path), line_no + 1, f"corrupt .zst stream ({err}); rest of file skipped")
        return
    if truncated and truncated[0]:
        yield line_no + 1, None, LineError(str(path), line_no + 1, "truncated .zst (stream ends mid-frame)")


def parse_line(path: str, line_no: int, raw: bytes) -> tuple[dict | None, LineError | None]:
    """`(object, None)` for a JSON object line, `(None, error)` otherwise.

    orjson parses the bytes (UTF-8 checked) about 3x faster than decoding and `json.loads`; a line it refuses
    goes through the stdlib, which names what is wrong and reads what orjson does not (NaN, Infinity). orjson
    reads integers beyond 64 bits as floats, so a field that must be an integer is then a counted drop.
    """
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as err:
            return None, LineError(path, line_no, f"not UTF-8 ({err.reason} at byte {err.start})")
        except json.JSONDecodeError as err:
            return None, LineError(path, line_no, f"malformed JSON ({err.msg} at column {err.colno})")
    if not isinstance(obj, dict):
        return None, LineError(path, line_no, f"not a JSON object ({type(obj).__name__})")
    return obj, None


def iter_json_lines(path: str | Path, skip_lines: int = 0) -> Iterator[tuple[int, dict | None, LineError | None]]:
    """Yield `(line_number, object, None)` for each JSON object line, `(line_number, None, error)` otherwise.

    Line numbers are 1-based. Blank lines are ignored. The first `skip_lines` lines are passed over without
    parsing (resuming after an interruption). A truncated `.zst` ends with one extra error.
    """
    name = str(path)
    for line_no, raw, error in iter_lines(path, skip_lines):
        if error is None:
            obj, error = parse_line(name, line_no, raw)
            yield line_no, obj, error
        else:
            yield line_no, None, error


def open_text(path: str | Path) -> io.TextIOBase:
    """Open a plain or `.zst` text file for writing fixtures and dumps."""
    path = Path(path)
    if path.suffix == ".zst":
        return io.TextIOWrapper(zstandard.ZstdCompressor(level=3).stream_writer(open(path, "wb")), encoding="utf-8")
    return open(path, "w", encoding="utf-8")
