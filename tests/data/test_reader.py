import json

from hf_behavior.data.reader import iter_json_lines, iter_line_blocks, open_text


def test_zst_streaming_with_bad_lines(tmp_path):
    path = tmp_path / "dump.zst"
    with open_text(path) as out:
        out.write('{"a": 1}\n\n[1, 2]\n{"a":\n{"a": 2}\n')
    rows = list(iter_json_lines(path))
    assert [(n, o) for n, o, e in rows if e is None] == [(1, {"a": 1}), (5, {"a": 2})]
    errors = [(e.line, e.reason.split(" (")[0]) for _, _, e in rows if e is not None]
    assert errors == [(3, "not a JSON object"), (4, "malformed JSON")]
    assert [n for n, _, _ in iter_json_lines(path, skip_lines=4)] == [5]


def test_line_blocks_are_whole_lines_cut_at_the_first_newline_after_size_bytes(tmp_path):
    path = tmp_path / "dump.zst"
    with open_text(path) as out:
        out.write("\na\nbb\n \nc\nd\ne\n\n")
    blocks = [(first, data) for first, data, _ in iter_line_blocks(path, 3)]
    assert blocks == [(1, b"\na\nbb"), (4, b" \nc"), (6, b"d\ne")]  # the trailing blank line is left out
    assert [(first, data) for first, data, _ in iter_line_blocks(path, 3, skip_lines=5)] == [(6, b"d\ne")]
    unfinished = tmp_path / "unfinished.ndjson"  # no newline after the last line
    unfinished.write_bytes(b"a\nb")
    assert [list(iter_line_blocks(unfinished, 1, skip)) for skip in (1, 2)] == [[(2, b"b", None)], []]
    cut = tmp_path / "cut.zst"
    cut.write_bytes(path.read_bytes()[:-3])
    *_, (first, data, error) = iter_line_blocks(cut, 3)
    assert error.reason == "truncated .zst (stream ends mid-frame)" and error.line == first + len(data.split(b"\n"))


def test_truncated_zst_and_non_utf8(tmp_path):
    full = tmp_path / "full.zst"
    with open_text(full) as out:
        for i in range(3000):
            out.write(json.dumps({"i": i, "pad": "x" * 200}) + "\n")
    cut = tmp_path / "cut.zst"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    rows = list(iter_json_lines(cut))
    good = [o["i"] for _, o, e in rows if e is None]
    assert good == list(range(len(good))) and 0 < len(good) < 3000
    assert rows[-1][2].reason == "truncated .zst (stream ends mid-frame)"
    assert str(rows[-1][2]).startswith(f"{cut}:{rows[-1][0]}:")

    latin = tmp_path / "latin.ndjson"
    latin.write_bytes(b'{"t": "ok"}\n{"t": "caf\xe9"}\n')
    (_, first, _), (line, _, error) = iter_json_lines(latin)
    assert first == {"t": "ok"} and line == 2 and error.reason.startswith("not UTF-8")


def test_what_orjson_refuses_reads_as_before(tmp_path):
    """NaN goes to the stdlib fallback and is read; a malformed line still gets the stdlib's column."""
    path = tmp_path / "odd.ndjson"
    path.write_text('{"score": NaN}\n{"score": 1,}\n')
    (_, nan, _), (_, _, error) = iter_json_lines(path)
    assert nan["score"] != nan["score"]
    assert error.reason == "malformed JSON (Expecting property name enclosed in double quotes at column 13)"


def test_what_the_stdlib_reads_but_cannot_be_stored_is_an_error(tmp_path):
    """A lone surrogate escape (SQLite and Arrow cannot store it), an integer of over 4,300 digits and nesting
    deeper than the stack are line errors; a surrogate pair beside a NaN reads as before."""
    path = tmp_path / "odd.ndjson"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(f'{{"body": "a \\ud800"}}\n{{"n": {"1" * 5000}}}\n{deep}\n{{"t": "\\ud83d\\ude00", "v": NaN}}\n')
    rows = list(iter_json_lines(path))
    reasons = [e.reason.split(" (")[0] for _, _, e in rows[:3]]
    assert reasons == ["unencodable text", "unreadable JSON", "unreadable JSON"]
    assert rows[0][2].reason == "unencodable text (lone surrogate '\\ud800')"
    assert rows[3][1]["t"] == "\U0001f600" and rows[3][2] is None
