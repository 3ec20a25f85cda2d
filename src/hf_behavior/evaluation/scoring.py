"""Teacher-forced scoring of assistant continuations: label log-probabilities and comment-span perplexity.

A prompt (a chat conversation with media) is rendered with the processor's chat template and generation prompt; the
continuation is a list of `(text, scored)` segments appended after it. Prompt and continuation are tokenized as one
text, as the model reads them, and the scored tokens are those whose characters overlap a scored segment: a text
tokenized alone may differ (LLaMA's SentencePiece gives " amusement" alone a leading '▁' token it does not have
after "ASSISTANT:"). Rows are right-padded into one forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

Segment = tuple[str, bool]


def load_chat_model(path: str, device: str | None = None):
    """(model, processor) of any chat VLM: through AutoModelForImageTextToText, else AutoModelForCausalLM."""
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText, AutoProcessor

    import hf_behavior  # noqa: F401  (registers BehaviorLlava with the Auto classes)

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        model = AutoModelForImageTextToText.from_pretrained(path)
    except ValueError:  # a config the image-text-to-text mapping does not know: a plain causal LM
        model = AutoModelForCausalLM.from_pretrained(path)
    return model.to(device).eval(), AutoProcessor.from_pretrained(path)


def encode_prompts(processor, conversations: Sequence[list[dict]]):
    """The processor's batch encoding of the prompts (media included), ending with the generation prompt."""
    return processor.apply_chat_template(
        list(conversations),
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
        return_tensors="pt",
        processor_kwargs={"padding": True},
    )


@torch.no_grad()
def generate_answers(
    model, processor, conversations: Sequence[list[dict]], max_new_tokens: int = 256, **generate_kwargs
) -> list[str]:
    """Greedy (unless `generate_kwargs` say otherwise) answers to a batch of chats: left padding, new tokens only."""
    processor.tokenizer.padding_side = "left"
    batch = encode_prompts(processor, conversations).to(model.device)
    generate_kwargs = {"do_sample": False, "pad_token_id": processor.tokenizer.pad_token_id, **generate_kwargs}
    output = model.generate(**batch, max_new_tokens=max_new_tokens, **generate_kwargs)
    return processor.batch_decode(output[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)


@torch.no_grad()
def continuation_logprobs(
    model, processor, conversations: Sequence[list[dict]], continuations: Sequence[Sequence[Segment]]
) -> list[torch.Tensor]:
    """For each row, the log-probability of every token of its scored segments given all that precedes it."""
    if len(conversations) != len(continuations):
        raise ValueError(f"{len(conversations)} conversations but {len(continuations)} continuations")
    tokenizer = processor.tokenizer
    batch = encode_prompts(processor, conversations)
    prompt_texts = processor.apply_chat_template(list(conversations), add_generation_prompt=True, tokenize=False)
    rows, scored_masks = [], []
    for prompt_ids, prompt_mask, prompt_text, segments in zip(
        batch["input_ids"], batch["attention_mask"], prompt_texts, continuations
    ):
        ids, scored = continuation_tokens(tokenizer, prompt_text, segments)
        rows.append(prompt_ids[prompt_mask.bool()].tolist() + ids)
        scored_masks.append([False] * int(prompt_mask.sum()) + scored)

    length = max(len(ids) for ids in rows)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    input_ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(rows), length), dtype=torch.long)
    scored = torch.zeros((len(rows), length), dtype=torch.bool)
    for i, (ids, mask) in enumerate(zip(rows, scored_masks)):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        attention_mask[i, : len(ids)] = 1
        scored[i, : len(ids)] = torch.tensor(mask)

    media_inputs = {key: value for key, value in batch.items() if key not in ("input_ids", "attention_mask")}
    device = model.device
    inputs = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in media_inputs.items()}
    logits = model(input_ids=input_ids.to(device), attention_mask=attention_mask.to(device), **inputs).logits
    logprobs = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    targets = input_ids[:, 1:].to(device)
    token_logprobs = logprobs.gather(-1, targets.unsqueeze(-1)).squeeze(-1).cpu()
    target_scored = scored[:, 1:]
    return [token_logprobs[i][target_scored[i]] for i in range(len(rows))]


def continuation_tokens(tokenizer, prompt_text: str, segments: Sequence[Segment]) -> tuple[list[int], list[bool]]:
    """The continuation's tokens in the joint tokenization of prompt + continuation, and which of them are scored
    (their characters overlap a scored segment)."""
    text, spans = prompt_text, []
    for piece, is_scored in segments:
        if is_scored:
            spans.append((len(text), len(text) + len(piece)))
        text += piece
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, scored = [], []
    for token_id, (start, end) in zip(encoding["input_ids"], encoding["offset_mapping"]):
        if end <= len(prompt_text):
            continue
        if start < len(prompt_text):
            raise ValueError(
                f"the continuation {text[len(prompt_text):][:40]!r} merges with the end of the prompt into one token "
                f"({tokenizer.convert_ids_to_tokens(token_id)!r}), so it cannot be scored apart from the prompt: "
                "start the continuation at a token boundary (e.g. with a space)."
            )
        ids.append(token_id)
        scored.append(any(start < span_end and end > span_start for span_start, span_end in spans))
    return ids, scored


@torch.no_grad()
def label_logprobs(model, processor, conversations: Sequence[list[dict]], labels: Sequence[str]) -> torch.Tensor:
    """[num_conversations, num_labels]: summed log-probability of each label as the assistant's answer.

    The label is scored as the chat template renders an answer (" " + label), summed over all its tokens, so
    multi-token labels compete on the joint probability of their tokens.
    """
    rows = [conversation for conversation in conversations for _ in labels]
    continuations = [[(" " + label, True)] for _ in conversations for label in labels]
    scores = continuation_logprobs(model, processor, rows, continuations)
    return torch.stack([score.sum() for score in scores]).view(len(conversations), len(labels))


def classify(model, processor, conversations: Sequence[list[dict]], labels: Sequence[str]) -> list[str]:
    """Zero-shot prediction: the label with the highest summed log-probability."""
    scores = label_logprobs(model, processor, conversations, labels)
    return [labels[index] for index in scores.argmax(dim=-1).tolist()]


def span_segments(text: str, spans: Sequence[tuple[int, int]], prefix: str = " ") -> list[Segment]:
    """Split an assistant answer into unscored / scored segments around the character spans to score.

    `prefix` is what the chat template puts before an assistant answer (" " for the Vicuna template).
    """
    segments: list[Segment] = []
    cursor = 0
    for start, end in spans:
        segments += [(text[cursor:start], False), (text[start:end], True)]
        cursor = end
    segments.append((text[cursor:], False))
    if segments and prefix:
        segments[0] = (prefix + segments[0][0], False)
    return [segment for segment in segments if segment[0]]


def span_nlls(
    model, processor, conversations: Sequence[list[dict]], answers: Sequence[str], spans
) -> list[list[float]]:
    """Per-token negative log-likelihood of the given character spans of each reference answer."""
    continuations = [span_segments(answer, answer_spans) for answer, answer_spans in zip(answers, spans)]
    return [(-scores).tolist() for scores in continuation_logprobs(model, processor, conversations, continuations)]
