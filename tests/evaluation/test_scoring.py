"""Label-logit zero-shot scoring and comment-span perplexity equal hand computations on a tiny model."""

import math

import pytest
import torch
from conftest import ANSWER, frames

from hf_behavior.evaluation.metrics import perplexity
from hf_behavior.evaluation.parsing import comment_spans
from hf_behavior.evaluation.prompts import behavior_messages
from hf_behavior.evaluation.scoring import classify, label_logprobs, span_nlls


def hand_token_logprobs(model, processor, conversation, pieces):
    """Prompt encoded alone, each text piece tokenized alone and appended; log-probs of every appended token."""
    prompt = processor.apply_chat_template(
        conversation, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    )
    ids = prompt["input_ids"][0].tolist()
    scored_positions = []
    for text, scored in pieces:
        piece = processor.tokenizer(text, add_special_tokens=False)["input_ids"]
        if scored:
            scored_positions += range(len(ids), len(ids) + len(piece))
        ids += piece
    inputs = {k: v for k, v in prompt.items() if k not in ("input_ids", "attention_mask")}
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids]), **inputs).logits[0]
    return [torch.log_softmax(logits[p - 1], -1)[ids[p]].item() for p in scored_positions]


def conversations():
    image = [{"role": "user", "content": [
        {"type": "image", "image": frames(1, seed=1)[0]}, {"type": "text", "text": "What is shown in the image?"}]}]
    video = [{"role": "user", "content": [
        {"type": "video", "video": frames(3, seed=2)}, {"type": "text", "text": "Describe the video."}]}]
    return [image, video]


def test_label_scores_equal_hand_computation(tiny):
    model, processor = tiny
    labels = ["yes", "no", "a cat and a dog"]  # the last one is several tokens
    assert len(processor.tokenizer(" a cat and a dog", add_special_tokens=False)["input_ids"]) > 1
    scores = label_logprobs(model, processor, conversations(), labels)
    assert scores.shape == (2, 3)
    for row, conversation in enumerate(conversations()):
        for column, label in enumerate(labels):
            expected = sum(hand_token_logprobs(model, processor, conversation, [(" " + label, True)]))
            assert scores[row, column].item() == pytest.approx(expected, abs=1e-4)
    predicted = classify(model, processor, conversations(), labels)
    assert predicted == [labels[i] for i in scores.argmax(-1).tolist()]


def test_comment_perplexity_equals_exp_mean_nll(tiny):
    model, processor = tiny
    conversation = behavior_messages({"type": "video", "video": frames(2, seed=3)}, "video", title="Colour cuts")
    spans = comment_spans(ANSWER)
    nlls = span_nlls(model, processor, [conversation], [ANSWER], [spans])[0]

    (s1, e1), (s2, e2) = spans
    pieces = [(" " + ANSWER[:s1], False), (ANSWER[s1:e1], True), (ANSWER[e1:s2], False), (ANSWER[s2:e2], True),
              (ANSWER[e2:], False)]
    hand = [-value for value in hand_token_logprobs(model, processor, conversation, pieces)]
    n_comment_tokens = sum(len(processor.tokenizer(ANSWER[s:e], add_special_tokens=False)["input_ids"])
                           for s, e in spans)
    assert len(nlls) == len(hand) == n_comment_tokens
    assert nlls == pytest.approx(hand, abs=1e-4)
    assert perplexity([nlls])["perplexity"] == pytest.approx(math.exp(sum(hand) / len(hand)), rel=1e-4)
