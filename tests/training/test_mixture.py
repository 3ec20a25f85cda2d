"""The behaviour/instruct mixture: LLaVA JSON conversion, counted skips, ratio and fractional-epoch sample counts."""

import json
import logging
import pickle
from collections import Counter

import numpy as np
import pytest
from datasets import Dataset, Features, Value, load_from_disk
from PIL import Image

from hf_behavior.data.mixture import (
    MIXTURE_FEATURES,
    llava_to_messages,
    load_llava_json,
    memory_mapped,
    mix,
    parse_ratio,
)
from hf_behavior.synthetic_media import write_scene_video
from hf_behavior.training.tiny_data import training_samples
from hf_behavior.tiny import build_tiny_processor


def text(value):
    return {"type": "text", "text": value}


def chat(question: str, answer: str) -> list[dict]:
    return [{"role": "user", "content": [text(question)]}, {"role": "assistant", "content": [text(answer)]}]


def behavior_set(n: int) -> Dataset:
    """BLIFT-like rows: extra columns, a platform `source`, the BLIFT `messages` feature."""
    rows = {
        "id": [f"b{k}" for k in range(n)],
        "source": ["reddit_images"] * n,
        "likes": list(range(n)),
        "messages": [chat(f"behaviour {k}", "ok") for k in range(n)],
    }
    return Dataset.from_dict(rows, features=Features({**MIXTURE_FEATURES, "likes": Value("int64")}))


def instruct_set(n: int) -> Dataset:
    return Dataset.from_dict({"id": [f"i{k}" for k in range(n)], "messages": [chat(f"question {k}", "a") for k in range(n)]})


def is_behavior(row_id: str) -> bool:
    return row_id.startswith("b")


# ---- ratio and epochs ------------------------------------------------------------------------------------------

# (ratio, behaviour rows per epoch for 10 instruct rows)
RATIOS = [("1:1", 10), ("1:2", 5), ("2:1", 20)]


@pytest.mark.parametrize("ratio,per_epoch", RATIOS)
@pytest.mark.parametrize("epochs", [1.0, 2.2])
def test_ratio_and_fractional_epochs_give_expected_counts(ratio, per_epoch, epochs):
    mixed = mix(behavior_set(30), instruct_set(10), ratio=ratio, epochs=epochs, seed=3)
    size = per_epoch + 10
    whole = int(epochs)
    assert len(mixed) == whole * size + round((epochs - whole) * size)  # 1.0: 20/15/30; 2.2: 44/33/66
    ids = mixed["id"]
    for k in range(whole):
        epoch = ids[k * size : (k + 1) * size]
        behaviour = [i for i in epoch if is_behavior(i)]
        assert sorted(i for i in epoch if not is_behavior(i)) == sorted(f"i{j}" for j in range(10))
        assert len(behaviour) == per_epoch and len(set(behaviour)) == per_epoch  # drawn without replacement
    assert mixed.column_names == ["id", "messages", "source"]
    sources = Counter(mixed["source"][: whole * size])
    assert sources == {"reddit_images": whole * per_epoch, "instruct": whole * 10}  # BLIFT keeps its own source


def test_epochs_are_fresh_draws_and_shuffled():
    mixed = mix(behavior_set(100), instruct_set(10), ratio="1:1", epochs=3, seed=0)
    epochs = [mixed["id"][k * 20 : (k + 1) * 20] for k in range(3)]
    behaviour_draws = [frozenset(i for i in epoch if is_behavior(i)) for epoch in epochs]
    assert len(set(behaviour_draws)) == 3
    assert len({tuple(epoch) for epoch in epochs}) == 3
    assert epochs[0][:10] != sorted(epochs[0][:10])  # not behaviour-then-instruct blocks


def test_small_behaviour_set_is_repeated_in_whole_passes_never_fewer():
    mixed = mix(behavior_set(7), instruct_set(10), ratio="2:1", epochs=1, seed=1)
    counts = Counter(i for i in mixed["id"] if is_behavior(i))
    assert sum(counts.values()) == 20  # 2 whole passes over 7 + 6 drawn without replacement
    assert set(counts) == {f"b{k}" for k in range(7)} and sorted(Counter(counts.values()).items()) == [(2, 1), (3, 6)]


def test_no_instruct_data_means_an_epoch_of_all_behaviour():
    empty = behavior_set(8).select([]).select_columns(["messages"])
    mixed = mix(behavior_set(8), empty, ratio="1:1", epochs=1.5, seed=0)
    assert len(mixed) == 12 and sorted(mixed["id"][:8]) == sorted(f"b{k}" for k in range(8))
    rows = Dataset.from_dict({"id": ["x"], "messages": [[{"role": "user", "content": [text("q")]}]]})
    assert mix(rows, empty)["source"] == ["behavior"]  # a behaviour set without `source` is labelled


def test_mix_is_deterministic_for_a_seed():
    first = mix(behavior_set(30), instruct_set(10), ratio="1:2", epochs=2.2, seed=7)
    again = mix(behavior_set(30), instruct_set(10), ratio="1:2", epochs=2.2, seed=7)
    other = mix(behavior_set(30), instruct_set(10), ratio="1:2", epochs=2.2, seed=8)
    assert first["id"] == again["id"] and first["messages"] == again["messages"]
    assert first["id"] != other["id"]


def test_bad_ratio_epochs_and_empty_behaviour_are_errors():
    for bad in ("1:0", "0:1", "one:1", "1", "1:2:3", "1.5:1"):
        with pytest.raises(ValueError, match="two positive integers"):
            parse_ratio(bad)
    with pytest.raises(ValueError, match="base-60"):
        parse_ratio(61)  # what YAML makes of an unquoted `ratio: 1:1`
    assert parse_ratio(" 2 : 1 ") == (2, 1)
    with pytest.raises(ValueError, match="epochs"):
        mix(behavior_set(3), instruct_set(3), epochs=0)
    with pytest.raises(ValueError, match="behaviour dataset is empty"):
        mix(behavior_set(0), instruct_set(3))


# ---- LLaVA JSON --------------------------------------------------------------------------------------------------

SHAREGPT = {"id": "sg1", "conversations": [
    {"from": "human", "value": "Hi there"}, {"from": "gpt", "value": "Hello!"},
    {"from": "human", "value": "Tell a joke"}, {"from": "gpt", "value": "No."},
]}  # fmt: skip
IMAGE_QA = {"id": "000000033471", "image": "coco/train2017/000000033471.jpg", "conversations": [
    {"from": "human", "value": "<image>\nWhat are the colors of the bus?"}, {"from": "gpt", "value": "White and red."},
    {"from": "human", "value": "Where is it?"}, {"from": "gpt", "value": "On a street."},
]}  # fmt: skip
VIDEO_QA = {"id": "v_k_ZXmr8pmrs", "video": "videochatgpt_tune/v_k_ZXmr8pmrs.mp4", "conversations": [
    {"from": "human", "value": "What happens in the video?\n<image>"}, {"from": "gpt", "value": "A man cooks."},
]}  # fmt: skip


def test_llava_records_become_chat_messages(tmp_path):
    assert llava_to_messages(SHAREGPT) == [
        {"role": "user", "content": [text("Hi there")]},
        {"role": "assistant", "content": [text("Hello!")]},
        {"role": "user", "content": [text("Tell a joke")]},
        {"role": "assistant", "content": [text("No.")]},
    ]
    assert llava_to_messages(IMAGE_QA, media_root=tmp_path) == [
        {"role": "user", "content": [
            {"type": "image", "path": str(tmp_path / "coco/train2017/000000033471.jpg")},
            text("What are the colors of the bus?"),
        ]},
        {"role": "assistant", "content": [text("White and red.")]},
        {"role": "user", "content": [text("Where is it?")]},
        {"role": "assistant", "content": [text("On a street.")]},
    ]  # fmt: skip
    # LLaMA-VID marks video with <image>; the record's `video` field decides the block, which stays after the text
    assert llava_to_messages(VIDEO_QA) == [
        {"role": "user", "content": [text("What happens in the video?"), {"type": "video", "path": VIDEO_QA["video"]}]},
        {"role": "assistant", "content": [text("A man cooks.")]},
    ]
    untagged = {"id": "u", "video": "/abs/clip.mp4", "conversations": [
        {"from": "system", "value": "Be brief."}, {"from": "user", "value": "Describe <video> please"},
        {"from": "assistant", "value": "ok"},
    ]}  # fmt: skip
    assert llava_to_messages(untagged, media_root=tmp_path) == [
        {"role": "system", "content": [text("Be brief.")]},
        {"role": "user", "content": [text("Describe"), {"type": "video", "path": "/abs/clip.mp4"}, text("please")]},
        {"role": "assistant", "content": [text("ok")]},
    ]
    no_token = {"id": "n", "image": "a.jpg", "conversations": [
        {"from": "gpt", "value": "dropped, as LLaVA does"}, {"from": "human", "value": "What is it?"},
        {"from": "gpt", "value": "A cat."},
    ]}  # fmt: skip
    first_turn = {"role": "user", "content": [{"type": "image", "path": "a.jpg"}, text("What is it?")]}
    assert llava_to_messages(no_token)[0] == first_turn


BAD = {
    "no-conv": ({"id": "no-conv", "image": "a.jpg"}, "no conversations"),
    "bot": ({"id": "bot", "conversations": [{"from": "bot", "value": "x"}, {"from": "gpt", "value": "y"}]}, "unknown role"),
    "orphan": ({"id": "orphan", "conversations": [{"from": "human", "value": "<image>\nhi"}, {"from": "gpt", "value": "y"}]},
               "media token without media"),
    "twice": ({"id": "twice", "conversations": [{"from": "human", "value": "a"}, {"from": "human", "value": "b"},
                                                 {"from": "gpt", "value": "c"}]}, "not alternating"),
    "unanswered": ({"id": "unanswered", "conversations": [{"from": "human", "value": "a"}]}, "no assistant turn"),
    "two-media": ({"id": "two-media", "image": "a.jpg", "conversations": [
        {"from": "human", "value": "<image> <image>"}, {"from": "gpt", "value": "c"}]}, "several media tokens"),
}  # fmt: skip


@pytest.mark.parametrize("record_id", sorted(BAD))
def test_malformed_record_error_names_record_and_problem(record_id):
    record, problem = BAD[record_id]
    with pytest.raises(ValueError, match=f"record {record_id}: {problem}"):
        llava_to_messages(record)


def test_load_llava_json_counts_bad_records(tmp_path, caplog):
    lines = [json.dumps(r) for r in (SHAREGPT, IMAGE_QA, VIDEO_QA)] + [json.dumps(r) for r, _ in BAD.values()]
    lines.insert(2, "{not json")
    jsonl = tmp_path / "mix.jsonl"
    jsonl.write_text("\n".join(lines) + "\n")
    with caplog.at_level(logging.WARNING, logger="hf_behavior.data.mixture"):
        ds = load_llava_json(jsonl, media_root="/data")
    assert ds["id"] == ["sg1", "000000033471", "v_k_ZXmr8pmrs"] and set(ds["source"]) == {"instruct"}
    assert ds.features == MIXTURE_FEATURES
    assert ds[2]["messages"][0]["content"][1] == {"type": "video", "path": "/data/videochatgpt_tune/v_k_ZXmr8pmrs.mp4"}
    summary = caplog.records[-1].getMessage()
    assert str(jsonl) in summary and "skipped 7 of 10 records" in summary
    assert "1 invalid JSON" in summary and "1 unknown role" in summary and "line 3 (invalid JSON" in summary

    as_list = tmp_path / "mix.json"
    as_list.write_text(json.dumps([SHAREGPT, IMAGE_QA, VIDEO_QA, 7]))
    assert load_llava_json(as_list, media_root="/data")["messages"] == ds["messages"]
    only_bad = tmp_path / "bad.json"
    only_bad.write_text(json.dumps([r for r, _ in BAD.values()]))
    with pytest.raises(ValueError, match=f"{only_bad}: no usable LLaVA record"):
        load_llava_json(only_bad)


def test_memory_mapped_mixture_pickles_as_file_references(tmp_path):
    """What a forkserver/spawn DataLoader worker receives: the loaded LLaVA rows as a memory-mapped file, not a copy."""
    records = [{**IMAGE_QA, "id": f"q{k}", "conversations": [
        {"from": "human", "value": f"<image>\nQuestion {k}: what is in the picture?"},
        {"from": "gpt", "value": f"Answer {k}: " + "a street with buses and people, " * 10}]} for k in range(400)]  # fmt: skip
    path = tmp_path / "llava.json"
    path.write_text(json.dumps(records))
    loaded = load_llava_json(path, media_root="/data")
    behavior_set(50).save_to_disk(tmp_path / "blift")
    blift = load_from_disk(tmp_path / "blift")  # memory-mapped, as load_dataset gives it
    in_memory, mapped = (mix(blift, instruct, "1:1", 2.2, seed=0) for instruct in (loaded, memory_mapped(loaded)))
    assert mapped.to_list() == in_memory.to_list()
    assert len(pickle.dumps(mapped)) < len(pickle.dumps(in_memory)) / 10  # 17 kB vs 247 kB here
    assert pickle.loads(pickle.dumps(mapped))[-1] == in_memory[-1]


def test_mixture_renders_and_loads_media_through_the_processor(tmp_path):
    """BLIFT-style behaviour rows + LLaVA instruct rows (text, image, video) -> the tiny processor's chat template."""
    (tmp_path / "clips").mkdir()
    video = write_scene_video(tmp_path / "clips" / "v.mp4")
    Image.fromarray(np.full((40, 50, 3), 128, dtype=np.uint8)).save(tmp_path / "img.png")
    samples = training_samples(video, tmp_path / "img.png")
    behaviour = Dataset.from_list([{"id": f"q{k}", **sample} for k, sample in enumerate(samples)])
    records = [SHAREGPT, {**IMAGE_QA, "image": "img.png"}, {**VIDEO_QA, "video": "clips/v.mp4"}]
    (tmp_path / "sft.json").write_text(json.dumps(records))
    instruct = load_llava_json(tmp_path / "sft.json", media_root=tmp_path)
    mixed = mix(behaviour, instruct, ratio="1:1", epochs=1.0, seed=0)
    assert Counter(mixed["source"]) == {"behavior": 3, "instruct": 3}

    processor = build_tiny_processor()
    rendered = {row["id"]: processor.apply_chat_template(row["messages"], tokenize=False) for row in mixed}
    assert rendered["v_k_ZXmr8pmrs"].endswith("USER: What happens in the video?\n<video> ASSISTANT: A man cooks.</s>")
    image_qa = "USER: <image>\nWhat are the colors of the bus? ASSISTANT: White and red.</s>USER: Where is it?"
    assert image_qa in rendered["000000033471"]
    assert rendered["sg1"].endswith("USER: Tell a joke ASSISTANT: No.</s>") and "<image>" not in rendered["sg1"]
    media_rows = [row["messages"] for row in mixed if row["id"] != "sg1"]
    blocks = Counter(block["type"] for chat in media_rows for message in chat for block in message["content"])
    inputs = processor.apply_chat_template(media_rows, tokenize=True, return_dict=True, processor_kwargs={"padding": True})
    assert len(inputs["input_ids"]) == 5 and len(inputs["pixel_values"]) == blocks["image"] >= 1
    assert len(inputs["num_frames_per_video"]) == blocks["video"] >= 1
