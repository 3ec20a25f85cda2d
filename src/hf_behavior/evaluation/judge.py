"""LLM-as-judge for dense captions with the paper's Listings 2-4 (correctness, detail, quality; scores 1-10).

The paper used GPT-4V; here the judge is any chat VLM whose processor speaks the transformers multimodal chat
format (`load_judge(path)`, the same loader `hf-behavior eval --model` uses), so a local open model (or our own)
can stand in. Answers the judge gives without a
1-10 score are counted per criterion, never averaged in as zeros.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from .prompts import JUDGE_CRITERIA, JUDGE_SYSTEM
from .scoring import generate_answers, load_chat_model

load_judge = load_chat_model  # any chat VLM can judge

SCORE_RE = re.compile(r"(?<![\d.])(10|[1-9])(?:\s*/\s*10)?(?!\d|\.\d)")
ANSWER_FORMAT = "Reply with the score only, a whole number from 1 to 10."


def judge_messages(media: dict, caption: str, criterion: str) -> list[dict]:
    """The chat sent to the judge: the listing as instruction, the image, then the caption to grade."""
    if criterion not in JUDGE_CRITERIA:
        raise ValueError(f"unknown judge criterion {criterion!r}; choose from {sorted(JUDGE_CRITERIA)}")
    text = f"{JUDGE_CRITERIA[criterion]}\n\nCaption: {caption}\n\n{ANSWER_FORMAT}"
    return [
        {"role": "system", "content": [{"type": "text", "text": JUDGE_SYSTEM}]},
        {"role": "user", "content": [media, {"type": "text", "text": text}]},
    ]


def parse_score(answer: str) -> int | None:
    """The first whole number 1-10 in the judge's answer ("8", "Score: 7/10"); None if there is none."""
    match = SCORE_RE.search(answer or "")
    return int(match.group(1)) if match else None


def judge_captions(
    judge_model,
    judge_processor,
    media: Sequence[dict],
    captions: Sequence[str],
    criteria: Sequence[str] = tuple(JUDGE_CRITERIA),
    max_new_tokens: int = 8,
    **generate_kwargs,
) -> list[dict]:
    """Per caption, `{criterion: score or None, criterion + "_answer": raw judge text}`."""
    conversations = [judge_messages(block, caption, c) for block, caption in zip(media, captions) for c in criteria]
    answers = generate_answers(judge_model, judge_processor, conversations, max_new_tokens, **generate_kwargs)
    results = []
    for i in range(len(captions)):
        row = {}
        for j, criterion in enumerate(criteria):
            answer = answers[i * len(criteria) + j]
            row[criterion], row[f"{criterion}_answer"] = parse_score(answer), answer
        results.append(row)
    return results


def judge_metrics(rows: Sequence[dict], criteria: Sequence[str] = tuple(JUDGE_CRITERIA)) -> dict:
    """Mean score per criterion over the parsable judgements, and how many were not parsable."""
    result: dict = {"n": len(rows)}
    unparsable = 0
    for criterion in criteria:
        values = [row[criterion] for row in rows if row.get(criterion) is not None]
        result[criterion] = sum(values) / len(values) if values else math.nan
        unparsable += len(rows) - len(values)
    result["n_unparsable"] = unparsable
    return result
