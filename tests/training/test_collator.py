"""Issue 5, shown 2: only assistant tokens carry loss; broken media and over-long samples are dropped and counted."""

import numpy as np
import pytest
from PIL import Image
from transformers import LlamaTokenizer

from hf_behavior.synthetic_media import write_scene_video
from hf_behavior.tiny import build_tiny_processor, build_tiny_sentencepiece_tokenizer
from hf_behavior.training.collator import IGNORE_INDEX, BehaviorLlavaCollator


@pytest.fixture(scope="module", params=["bpe", "sentencepiece"])
def processor(request):
    """Both tokenizer families: byte-level BPE and LLaMA's legacy SentencePiece."""
    return build_tiny_processor(tokenizer=request.param)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    root = tmp_path_factory.mktemp("media")
    Image.fromarray(np.full((48, 64, 3), (200, 40, 40), dtype=np.uint8)).save(root / "red.png")
    write_scene_video(root / "cuts.mp4")
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    return root


def turn(role, *blocks):
    return {"role": role, "content": [{"type": "text", "text": b} if isinstance(b, str) else b for b in blocks]}


ANSWERS = ["A red square on a plain background.", "The video will be liked by 2.5% of viewers."]


def two_turn_chat(media):
    return [
        turn("system", "You are an AI visual assistant."),
        turn("user", "What is shown in the image?", {"type": "image", "path": str(media / "red.png")}),
        turn("assistant", ANSWERS[0]),
        turn("user", {"type": "video", "path": str(media / "cuts.mp4")}, "What percentage of viewers would like it?"),
        turn("assistant", ANSWERS[1]),
    ]


def trained_runs(input_ids, labels):
    """The contiguous runs of tokens that carry loss, as token id lists."""
    runs, current = [], []
    for token, label in zip(input_ids.tolist(), labels.tolist()):
        if label != IGNORE_INDEX:
            assert label == token
            current.append(token)
        elif current:
            runs.append(current)
            current = []
    return runs + ([current] if current else [])


def test_only_assistant_tokens_carry_loss(processor, media):
    text_only = {"id": "t", "messages": [turn("user", "Describe the video."), turn("assistant", "A cat, a dog and a car.")]}
    collator = BehaviorLlavaCollator(processor)
    batch = collator([{"id": "mm", "messages": two_turn_chat(media)}, text_only])
    tokenizer = processor.tokenizer
    eos = [tokenizer.eos_token_id]

    # Each assistant answer as the template renders it (" " + text), then </s>; nothing else.
    runs = trained_runs(batch["input_ids"][0], batch["labels"][0])
    assert [tokenizer.decode(run).strip() for run in runs] == [answer + tokenizer.eos_token for answer in ANSWERS]
    assert all(run[-1:] == eos for run in runs)
    text_only_runs = trained_runs(batch["input_ids"][1], batch["labels"][1])
    assert [tokenizer.decode(run).strip() for run in text_only_runs] == ["A cat, a dog and a car." + tokenizer.eos_token]
    if isinstance(tokenizer, LlamaTokenizer):  # inside the chat the answer has no extra leading '▁' token
        alone = tokenizer(" " + ANSWERS[0], add_special_tokens=False)["input_ids"]
        assert tokenizer.convert_ids_to_tokens(alone[0]) == "▁" and runs[0] == alone[1:] + eos
    else:
        assert runs[0] == tokenizer(" " + ANSWERS[0], add_special_tokens=False)["input_ids"] + eos

    placeholders = (batch["input_ids"] == processor.image_token_id) | (batch["input_ids"] == processor.video_token_id)
    assert placeholders[0].sum() > 0 and (batch["labels"][placeholders] == IGNORE_INDEX).all()
    assert (batch["labels"][batch["attention_mask"] == 0] == IGNORE_INDEX).all()
    assert batch["attention_mask"][1, -1] == 0  # right padding for training
    assert not collator.skipped


def test_media_chunks_train_exactly_the_answers(media):
    """Tokenised by media chunks (converted LLaMA-VID checkpoints), with a tokenizer where that changes the ids: the
    assistant mask still follows the answers, and the text after each media starts with its own '▁'."""
    processor = build_tiny_processor(tokenizer=build_tiny_sentencepiece_tokenizer(legacy=False))
    one_piece = BehaviorLlavaCollator(processor)([{"id": "mm", "messages": two_turn_chat(media)}])
    processor.tokenize_media_chunks = True
    batch = BehaviorLlavaCollator(processor)([{"id": "mm", "messages": two_turn_chat(media)}])
    tokenizer = processor.tokenizer

    runs = trained_runs(batch["input_ids"][0], batch["labels"][0])
    assert [tokenizer.decode(run).strip() for run in runs] == [answer + tokenizer.eos_token for answer in ANSWERS]
    assert runs == trained_runs(one_piece["input_ids"][0], one_piece["labels"][0])
    ids = batch["input_ids"][0].tolist()
    placeholders = {processor.image_token_id, processor.video_token_id}
    after_media = [ids[i + 1] for i in range(len(ids) - 1) if ids[i] in placeholders and ids[i + 1] not in placeholders]
    assert len(after_media) == 2
    assert all(token.startswith("▁") for token in tokenizer.convert_ids_to_tokens(after_media))
    # in one piece "<video>\nWhat" gives '<0x0A>' right after the video, by chunks '▁', '<0x0A>'
    assert len(ids) == one_piece["input_ids"].shape[1] + 1
    is_media = (batch["input_ids"] == processor.image_token_id) | (batch["input_ids"] == processor.video_token_id)
    assert (batch["labels"][is_media] == IGNORE_INDEX).all()


def test_broken_video_is_dropped_and_counted(processor, media):
    broken = [turn("user", {"type": "video", "path": str(media / "broken.mp4")}, "Describe it."), turn("assistant", "x")]
    missing = [turn("user", {"type": "image", "path": str(media / "nope.png")}, "Describe it."), turn("assistant", "y")]
    collator = BehaviorLlavaCollator(processor)
    good = {"id": "good", "messages": two_turn_chat(media)}
    batch = collator([{"id": "broken", "messages": broken}, good, {"id": "missing", "messages": missing}])
    assert batch["input_ids"].shape[0] == 1
    assert int(batch["num_frames_per_video"][0]) > 0
    assert sum(collator.skipped.values()) == 2
    assert batch["collated_samples"] == {"seen": 3, "ValueError": 1, "FileNotFoundError": 1}  # out of a worker with it

    empty = collator([{"id": "broken", "messages": broken}])  # the trainer skips this step
    assert empty["input_ids"].shape == empty["labels"].shape == (0, 0)
    assert empty["collated_samples"] == {"seen": 1, "ValueError": 1}
    assert collator.skipped == {"ValueError": 2, "FileNotFoundError": 1}


def test_max_length_cuts_text_and_drops_samples_whose_media_would_be_cut(processor, media):
    long_answer = " ".join(["the scene shows a red square"] * 40)
    text = {"id": "text", "messages": [turn("user", "Describe."), turn("assistant", long_answer)]}
    late_video = {"id": "late", "messages": [
        turn("user", long_answer, {"type": "video", "path": str(media / "cuts.mp4")}), turn("assistant", "ok")]}  # fmt: skip
    early_image = {"id": "early", "messages": two_turn_chat(media)[:3]}
    full = BehaviorLlavaCollator(processor)([text])
    max_length = full["input_ids"].shape[1] // 2

    collator = BehaviorLlavaCollator(processor, max_length=max_length)
    batch = collator([text, late_video, early_image])
    assert batch["input_ids"].shape == (2, max_length)
    assert (batch["input_ids"][0] == full["input_ids"][0, :max_length]).all()
    assert collator.skipped == {"media past max_length": 1}
    assert batch["collated_samples"] == {"seen": 3, "media past max_length": 1}
    image_tokens = (batch["input_ids"][1] == processor.image_token_id).sum()
    assert image_tokens == processor.num_visual_tokens(1) and batch["pixel_values"].shape[0] == 1


def test_blift_template_answer_is_exactly_what_trains(processor, media):
    """A behaviour record's Listing-1 chat (data.templates): the trained tokens decode to the answer, with either
    tokenizer family (multi-line text, numbers, quotes)."""
    from hf_behavior.data import templates

    from data.test_templates import LISTING1_ANSWER, known_record  # tests/ is on sys.path (rootdir conftest)

    messages = templates.behavior_messages(known_record(media_path=str(media / "cuts.mp4")))
    batch = BehaviorLlavaCollator(processor)([{"id": "blift", "messages": messages}])
    (run,) = trained_runs(batch["input_ids"][0], batch["labels"][0])
    assert processor.tokenizer.decode(run).strip() == LISTING1_ANSWER + processor.tokenizer.eos_token
