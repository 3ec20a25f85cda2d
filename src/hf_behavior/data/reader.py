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

from .records import MissingField, unencodable

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


def _chunks(path: Path, truncated: list[bool]) -> Iterator[bytes]:
    """The bytes of a plain or `.zst` file in pieces as read (a `.zst`'s truncation flag appended at the end)."""
    if path.suffix == ".zst":
        yield from _zst_chunks(path, truncated)
        return
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            yield chunk
    truncated.append(False)


def iter_line_blocks(
    path: str | Path, size: int, skip_lines: int = 0
) -> Iterator[tuple[int, bytes, LineError | None]]:
    """A file in blocks of whole lines of about `size` bytes each: `(first line's number, the lines joined by
    b"\n", None)`, unparsed and unsplit, blank lines left in for the receiver to skip (`data.split(b"\n")` gives
    the block's lines). A corrupt or truncated `.zst` ends with `(number, the lines it left, error)`.

    Line numbers are 1-based. The first `skip_lines` lines are passed over (resuming after an interruption). The
    bytes are only cut at newlines and counted here, never split into lines: the blocks go to other processes to
    be parsed, and a block is bounded in bytes however long a dump's lines are.
    """
    path = Path(path)
    truncated: list[bool] = []
    first, buffer, to_skip = skip_lines + 1, b"", skip_lines  # `buffer` starts with line number `first`
    try:
        for chunk in _chunks(path, truncated):
            buffer += chunk
            start = 0
            if to_skip:
                start, to_skip = _skip(buffer, to_skip)
            while len(buffer) - start > size and (cut := buffer.find(b"\n", start + size)) >= 0:
                block = buffer[start:cut]
                yield first, block, None
                first += block.count(b"\n") + 1
                start = cut + 1
            buffer = buffer[start:]
        if to_skip:  # the file's last line, with no newline, is one of those passed over
            buffer = b""
        if truncated[0]:
            lines = buffer.count(b"\n") + (buffer[-1:] not in (b"", b"\n"))  # an unfinished last line is one
            error = LineError(str(path), first + lines, "truncated .zst (stream ends mid-frame)")
        else:
            error = None
    except zstandard.ZstdError as err:
        buffer = buffer[: buffer.rfind(b"\n") + 1]  # the line it cut off is lost with the rest of the file
        error = LineError(str(path), first + buffer.count(b"\n"), f"corrupt .zst stream ({err}); rest of file skipped")
    if buffer.endswith(b"\n"):
        buffer = buffer[:-1]
    if error is not None:
        yield first, buffer, error
    elif buffer.strip():
        yield first, buffer, None


def _skip(buffer: bytes, lines: int) -> tuple[int, int]:
    """Where `buffer` continues after its first `lines` whole lines (after its last whole line when it has fewer),
    and how many are left to skip."""
    whole = buffer.count(b"\n")
    if whole < lines:
        return buffer.rfind(b"\n") + 1, lines - whole
    start = 0
    for _ in range(lines):
        start = buffer.index(b"\n", start) + 1
    return start, 0


def iter_lines(path: str | Path, skip_lines: int = 0) -> Iterator[tuple[int, bytes | None, LineError | None]]:
    """Yield `(line_number, raw_line, None)` for each non-blank line, unparsed; `(line_number, None, error)` for
    a corrupt or truncated `.zst` (always last). The first `skip_lines` lines are passed over."""
    for first, data, error in iter_line_blocks(path, CHUNK_SIZE, skip_lines):
        for line_no, raw in enumerate(data.split(b"\n"), first):
            if raw.strip():
                yield line_no, raw, None
        if error is not None:
            yield error.line, None, error


def parse_line(path: str, line_no: int, raw: bytes) -> tuple[dict | None, LineError | None]:
    """`(object, None)` for a JSON object line, `(None, error)` otherwise (`json_object` says how it is read)."""
    try:
        return json_object(raw), None
    except MissingField as err:
        return None, LineError(path, line_no, f"{err} ({err.detail})")


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


def read_json_file(path: Path) -> dict:
    """A file's one JSON object (a yt-dlp info.json, a verbalization sidecar), or `MissingField` naming what is
    wrong (see `json_object`)."""
    return json_object(path.read_bytes())


def json_object(raw: bytes) -> dict:
    """The JSON object in `raw`, or `MissingField` naming what is wrong: bytes, JSON syntax with its position, text
    that cannot be stored, JSON the stdlib cannot read (an integer of over 4,300 digits, nesting deeper than the
    stack), a value that is not an object.

    orjson parses the bytes (UTF-8 checked) about 3x faster than decoding and `json.loads`; what it refuses goes
    through the stdlib, which names what is wrong and reads what orjson does not (NaN, Infinity). orjson reads
    integers beyond 64 bits as floats, so a field that must be an integer is then a counted drop. Text the stdlib
    reads but SQLite and Arrow cannot store (a lone surrogate, which orjson refuses) is checked only on that path.
    """
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            obj = json.loads(raw.decode("utf-8"))
            char = unencodable(obj)
        except UnicodeDecodeError as err:
            raise MissingField("not UTF-8", detail=f"{err.reason} at byte {err.start}") from None
        except json.JSONDecodeError as err:
            where = f"line {err.lineno} column {err.colno}" if err.lineno > 1 else f"column {err.colno}"
            raise MissingField("malformed JSON", detail=f"{err.msg} at {where}") from None
        except (ValueError, RecursionError) as err:
            raise MissingField("unreadable JSON", detail=str(err).split(":")[0]) from None
        if char is not None:
            raise MissingField("unencodable text", detail=f"lone surrogate {char!r}")
    if not isinstance(obj, dict):
        raise MissingField("not a JSON object", detail=type(obj).__name__)
    return obj


def open_text(path: str | Path) -> io.TextIOBase:
    """Open a plain or `.zst` text file for writing fixtures and dumps."""
    path = Path(path)
    if path.suffix == ".zst":
        return io.TextIOWrapper(zstandard.ZstdCompressor(level=3).stream_writer(open(path, "wb")), encoding="utf-8")
    return open(path, "w", encoding="utf-8")
