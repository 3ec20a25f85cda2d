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
def label_logprobs(
    model, processor, conversations: Sequence[list[dict]], labels: Sequence[str], length_normalize: bool = False
) -> torch.Tensor:
    """[num_conversations, num_labels]: log-probability of each label as the assistant's answer.

    The label is scored as the chat template renders an answer (" " + label), summed over all its tokens, so
    multi-token labels compete on the joint probability of their tokens; `length_normalize` divides each sum by the
    label's token count (the mean log-probability per token). Each conversation (media and prompt) is encoded once:
    one pass over the left-padded prompts keeps their KV cache, which is repeated once per label for a single batched
    pass over the label tokens, so the vision tower and the video decoder see each record once, not once per label.
    """
    tokenizer = processor.tokenizer
    padding_side, tokenizer.padding_side = tokenizer.padding_side, "left"  # every prompt ends at the last column
    try:
        batch = encode_prompts(processor, conversations).to(model.device)
    finally:
        tokenizer.padding_side = padding_side
    prompt_mask = batch.pop("attention_mask")
    prompt_lengths = prompt_mask.sum(dim=1)
    prompt = model(
        **batch,
        attention_mask=prompt_mask,
        position_ids=(prompt_mask.cumsum(dim=1) - 1).clamp(min=0),
        use_cache=True,
        logits_to_keep=1,
    )
    first_logprobs = torch.log_softmax(prompt.logits[:, -1].float(), dim=-1)  # [records, vocab]: each label's 1st token

    # each label's tokens as they follow its record's prompt in one tokenization (not " " + label alone: LLaMA's
    # SentencePiece would add a '▁' token); the prompt's last line decides them, so it is tokenized once per line
    prompt_texts = processor.apply_chat_template(list(conversations), add_generation_prompt=True, tokenize=False)
    tokens_after: dict[tuple[str, str], list[int]] = {}
    label_ids = []
    for text in prompt_texts:
        last_line = text[text.rfind("\n") + 1 :]
        for label in labels:
            if (last_line, label) not in tokens_after:
                tokens_after[last_line, label] = continuation_tokens(tokenizer, last_line, [(" " + label, True)])[0]
            label_ids.append(tokens_after[last_line, label])
    if any(not ids for ids in label_ids):
        raise ValueError(f"a label tokenizes to nothing: {[label for label, ids in zip(labels, label_ids) if not ids]}")
    records, num_labels, width = len(conversations), len(labels), max(len(ids) for ids in label_ids)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    ids = torch.full((records * num_labels, width), pad_id, dtype=torch.long)  # row r * num_labels + l
    label_mask = torch.zeros((records * num_labels, width), dtype=torch.long)
    for row, tokens in enumerate(label_ids):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        label_mask[row, : len(tokens)] = 1
    ids, label_mask = ids.to(model.device), label_mask.to(model.device)

    # first token of every label: read off the prompt's last logits
    scores = first_logprobs.repeat_interleave(num_labels, dim=0).gather(1, ids[:, :1])[:, 0]  # [records * labels]
    if width > 1:  # the other tokens: one pass over records x labels rows on the prompt's cache, repeated per label
        cache = prompt.past_key_values
        cache.batch_repeat_interleave(num_labels)
        rows_mask = torch.cat([prompt_mask.repeat_interleave(num_labels, dim=0), label_mask[:, :-1]], 1)
        positions = prompt_lengths.repeat_interleave(num_labels).unsqueeze(1) + torch.arange(width - 1, device=ids.device)
        logits = model(
            input_ids=ids[:, :-1], attention_mask=rows_mask, position_ids=positions, past_key_values=cache, use_cache=True
        ).logits
        rest = torch.log_softmax(logits.float(), dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        scores = scores + (rest * label_mask[:, 1:]).sum(dim=1)
    if length_normalize:
        scores = scores / label_mask.sum(dim=1)
    scores = scores.view(records, num_labels)
    return scores.cpu()


def classify(
    model, processor, conversations: Sequence[list[dict]], labels: Sequence[str], length_normalize: bool = False
) -> list[str]:
    """Zero-shot prediction: the label with the highest (summed, or length-normalised) log-probability."""
    scores = label_logprobs(model, processor, conversations, labels, length_normalize)
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
