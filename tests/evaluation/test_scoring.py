"""Label-logit zero-shot scoring and comment-span perplexity equal hand computations on a tiny model."""

import math

import pytest
import torch
from conftest import ANSWER, frames
from transformers import LlamaTokenizer

from hf_behavior.evaluation.metrics import perplexity
from hf_behavior.evaluation.parsing import comment_spans
from hf_behavior.evaluation.prompts import behavior_messages
from hf_behavior.evaluation.scoring import classify, continuation_logprobs, label_logprobs, span_nlls
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
