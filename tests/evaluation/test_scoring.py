"""Label-logit zero-shot scoring and comment-span perplexity equal hand computations on a tiny model."""

import math

import pytest
import torch
from conftest import ANSWER, frames
from transformers import LlamaTokenizer

from hf_behavior.evaluation.metrics import perplexity
from hf_behavior.evaluation.parsing import comment_spans
from hf_behavior.evaluation.prompts import behavior_messages
from hf_behavior.evaluation.runner import predict_batch
from hf_behavior.evaluation.scoring import (
    classify,
    continuation_logprobs,
    continuation_tokens,
    label_logprobs,
    span_nlls,
)
from hf_behavior.evaluation.tasks import TaskConfig
from hf_behavior.models.behavior_llava import video_processing_behavior_llava as video_processing
from hf_behavior.synthetic_media import write_scene_video
from hf_behavior.tiny import build_tiny_model_and_processor


@pytest.fixture(scope="module", params=["bpe", "sentencepiece"])
def tiny(request):
    """A tiny model with each tokenizer family: byte-level BPE, and LLaMA's legacy SentencePiece kept in memory
    (transformers 5.23 reloads a saved LlamaTokenizer without the legacy '▁' normalizer)."""
    model, processor = build_tiny_model_and_processor(seed=0, tokenizer=request.param)
    return model.eval(), processor


def joint_logprobs(model, processor, conversation, continuation):
    """The processor's own encoding of prompt + continuation as one text (an assistant message the model continues):
    (log-prob of every token after the prompt, their ids, the full text's ids, the full text)."""
    assert continuation.startswith(" ")  # the template puts " " before an answer
    prompt = processor.apply_chat_template(
        conversation, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    )
    messages = conversation + [{"role": "assistant", "content": continuation[1:]}]
    full = processor.apply_chat_template(
        messages, continue_final_message=True, tokenize=True, return_dict=True, return_tensors="pt"
    )
    text = processor.apply_chat_template(messages, continue_final_message=True)
    assert text == processor.apply_chat_template(conversation, add_generation_prompt=True) + continuation
    prompt_length = prompt["input_ids"].shape[1]
    ids = full["input_ids"][0]
    assert ids[:prompt_length].tolist() == prompt["input_ids"][0].tolist()
    with torch.no_grad():
        logits = model(**full).logits[0]
    logprobs = torch.log_softmax(logits[prompt_length - 1 : -1], -1).gather(-1, ids[prompt_length:, None])[:, 0]
    return logprobs, ids[prompt_length:].tolist(), ids, text


def conversations():
    image = [{"role": "user", "content": [
        {"type": "image", "image": frames(1, seed=1)[0]}, {"type": "text", "text": "What is shown in the image?"}]}]
    video = [{"role": "user", "content": [
        {"type": "video", "video": frames(3, seed=2)}, {"type": "text", "text": "Describe the video."}]}]
    return [image, video]


def test_label_scores_equal_the_joint_tokenization(tiny):
    model, processor = tiny
    labels = ["yes", "no", "a cat and a dog", "amusement"]  # "a cat and a dog" is several tokens
    assert len(processor.tokenizer(" a cat and a dog", add_special_tokens=False)["input_ids"]) > 1
    scores = label_logprobs(model, processor, conversations(), labels)
    assert scores.shape == (2, 4)
    for row, conversation in enumerate(conversations()):
        for column, label in enumerate(labels):
            expected, _, _, _ = joint_logprobs(model, processor, conversation, " " + label)
            assert scores[row, column].item() == pytest.approx(expected.sum().item(), abs=1e-4)
    predicted = classify(model, processor, conversations(), labels)
    assert predicted == [labels[i] for i in scores.argmax(-1).tolist()]


def test_a_label_counts_the_tokens_it_has_inside_the_answer(tiny):
    """LLaMA's SentencePiece gives " amusement" alone a leading '▁' that it does not have after "ASSISTANT:"."""
    model, processor = tiny
    conversation = conversations()[0]
    scored = continuation_logprobs(model, processor, [conversation], [[(" amusement", True)]])[0]
    _, inside, _, _ = joint_logprobs(model, processor, conversation, " amusement")
    alone = processor.tokenizer(" amusement", add_special_tokens=False)["input_ids"]
    assert len(scored) == len(inside)
    if isinstance(processor.tokenizer, LlamaTokenizer):
        assert processor.tokenizer.convert_ids_to_tokens(alone[0]) == "▁" and alone[1:] == inside


def test_comment_perplexity_equals_exp_mean_nll(tiny):
    model, processor = tiny
    conversation = behavior_messages({"type": "video", "video": frames(2, seed=3)}, "video", title="Colour cuts")
    spans = comment_spans(ANSWER)
    nlls = span_nlls(model, processor, [conversation], [ANSWER], [spans])[0]

    # The tokens holding a comment character, found with the tokenizer's own char_to_token on prompt + answer.
    logprobs, answer_ids, _, text = joint_logprobs(model, processor, conversation, " " + ANSWER)
    encoding = processor.tokenizer(text, add_special_tokens=False)
    offset = len(text) - len(ANSWER)
    first_answer_token = len(encoding["input_ids"]) - len(answer_ids)
    positions = sorted(
        {encoding.char_to_token(offset + char) - first_answer_token for start, end in spans for char in range(start, end)}
    )
    hand = [-logprobs[p].item() for p in positions]
    assert len(nlls) == len(hand) > 0
    assert nlls == pytest.approx(hand, abs=1e-4)
    assert perplexity([nlls])["perplexity"] == pytest.approx(math.exp(sum(hand) / len(hand)), rel=1e-4)


COLOURS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 220, 40)]
EIGHT_LABELS = ["yes", "no", "a cat and a dog", "red", "blue square", "car", "the scene", "love it"]


def per_label_scores(model, processor, conversations, labels):
    """The per-label method: one full prompt (media included) for every (record, label) pair."""
    rows = [conversation for conversation in conversations for _ in labels]
    continuations = [[(" " + label, True)] for _ in conversations for label in labels]
    scores = continuation_logprobs(model, processor, rows, continuations)
    return torch.stack([score.sum() for score in scores]).view(len(conversations), len(labels))


def video_conversations(tmp_path, count=3):
    paths = [write_scene_video(tmp_path / f"clip{i}.mp4", seconds_per_scene=1, fps=2, colours=COLOURS[i:i + 2])
             for i in range(count)]
    return [[{"role": "user", "content": [{"type": "video", "path": str(path)},
                                          {"type": "text", "text": "Describe the video."}]}] for path in paths]


def test_shared_prefix_scores_equal_the_per_label_method_and_encode_media_once(tiny, tmp_path, monkeypatch):
    """Vision-tower frames = the records' frames and video decodes = records, not x 8 labels; same scores."""
    model, processor = tiny
    decodes = []
    real_load = video_processing.load_video_frames
    monkeypatch.setattr(video_processing, "load_video_frames", lambda *a, **k: decodes.append(a[0]) or real_load(*a, **k))
    vision_frames = []
    hook = model.model.vision_tower.register_forward_hook(
        lambda module, args, kwargs, output: vision_frames.append(kwargs["pixel_values"].shape[0]), with_kwargs=True)
    conversations_ = conversations() + video_conversations(tmp_path)
    try:
        shared = label_logprobs(model, processor, conversations_, EIGHT_LABELS)
        shared_passes, shared_frames, shared_decodes = len(vision_frames), sum(vision_frames), len(decodes)
        per_label = per_label_scores(model, processor, conversations_, EIGHT_LABELS)
    finally:
        hook.remove()
    assert shared.shape == (5, 8)
    assert torch.allclose(shared, per_label, atol=1e-4), (shared - per_label).abs().max()
    assert shared_decodes == 3 and len(decodes) == 3 + 3 * 8  # the per-label method decodes each video 8 times
    record_frames = sum(vision_frames[shared_passes:]) // 8
    assert shared_frames == record_frames and shared_passes == 2  # one pass for the images, one for the videos

    normalised = label_logprobs(model, processor, conversations_, EIGHT_LABELS, length_normalize=True)
    prompt_text = processor.apply_chat_template(conversations_[0], add_generation_prompt=True)
    lengths = torch.tensor([len(continuation_tokens(processor.tokenizer, prompt_text, [(" " + label, True)])[0])
                            for label in EIGHT_LABELS])
    assert lengths.max() > 1 and torch.allclose(normalised, shared / lengths, atol=1e-5)
    assert classify(model, processor, conversations_, EIGHT_LABELS, length_normalize=True) == [
        EIGHT_LABELS[i] for i in normalised.argmax(-1).tolist()]


def test_one_record_per_batch_is_one_vision_pass_per_record(tiny, tmp_path):
    model, processor = tiny
    calls = []
    hook = model.model.vision_tower.register_forward_hook(lambda *args: calls.append(1))
    try:
        for conversation in video_conversations(tmp_path, count=2):
            label_logprobs(model, processor, [conversation], EIGHT_LABELS)
    finally:
        hook.remove()
    assert len(calls) == 2


def test_a_task_can_rank_labels_by_mean_log_probability(tiny):
    model, processor = tiny
    task = TaskConfig(name="sunny", kind="zero_shot", prompt="Is it sunny? {{ labels | join(' or ') }}",
                      media_column="image", labels=EIGHT_LABELS, length_normalize=True)
    records = [{"image": frames(1, seed=1)[0], "label": "yes"}]
    (prediction,) = predict_batch(model, processor, task, records, None)
    expected = label_logprobs(model, processor, [task.conversation(records[0])], EIGHT_LABELS, length_normalize=True)[0]
    assert list(prediction["scores"].values()) == pytest.approx(expected.tolist(), abs=1e-5)
    assert prediction["prediction"] == EIGHT_LABELS[int(expected.argmax())]
