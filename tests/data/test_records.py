from hf_behavior.data.records import Record


def test_a_record_line_round_trips_what_only_the_stdlib_encoder_writes():
    """A sidecar's scene may hold an integer beyond 64 bits, which orjson refuses: the line falls back to the
    stdlib encoder and still reads back as the same record."""
    record = Record("reddit:p1", "reddit_images", "reddit", "p1", "p1", "image", "A title", "RS:1",
                    comments=[{"text": "ünïcode ✓", "score": 3}], scenes=[{"caption": "x", "frames": 2**70}])
    plain = Record("reddit:p2", "reddit_images", "reddit", "p2", "p2", "image", "Another", "RS:2", like_ratio=0.5)
    for item in (record, plain):
        line = item.to_json_line()
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        assert Record.from_json(line) == item and Record.from_json(line.decode()) == item
    assert b"1180591620717411303424" in record.to_json_line()
