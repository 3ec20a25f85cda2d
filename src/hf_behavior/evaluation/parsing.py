"""Read the fields of a Listing-1 behaviour answer back out of generated text.

The canonical answer (see `TEMPLATES.md`)::

    The scene-by-scene descriptions are:
    Scene 1: The scene shows ...
    The video will be liked by 2.5% of viewers, and the popular comments could be:
    1. "love it"
    ...
    The replay values for each scene would be:
    Scene 1: 0.8

Generated answers drift from it ("2.0 %", "two percent", comments without quotes, everything on one line), so every
parser here is tolerant, and returns `None` / `[]` rather than guessing when the field is absent.
"""

from __future__ import annotations

import re

UNITS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen".split()
    )
}
TENS = {word: 10 * (i + 2) for i, word in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
NUMBER_WORDS = UNITS | TENS | {"hundred": 100, "point": None, "and": None, "a": None}

_NUMBER_WORD_RE = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_WORD_NUMBER = rf"(?:\b(?:{_NUMBER_WORD_RE})\b[\s-]*)+"
_DIGIT_NUMBER = r"\d+(?:[.,]\d+)?"
_PERCENT = rf"(?P<number>{_DIGIT_NUMBER}|{_WORD_NUMBER})\s*(?:%|\bper\s?cent\b)"
LIKED_BY_RE = re.compile(rf"liked\s+by\s+(?:about\s+|around\s+|roughly\s+|approximately\s+|~\s*)?{_PERCENT}", re.I)
ANY_PERCENT_RE = re.compile(_PERCENT, re.I)

COMMENTS_HEADER_RE = re.compile(r"comments(?:\s+on\s+the\s+\w+)?\s+(?:could|would|will|might)\s+be\s*:?", re.I)
REPLAY_HEADER_RE = re.compile(r"replay\s+(?:values?|graph)[^:\n]*:", re.I)
QUOTED_COMMENT_RE = re.compile(r"(?:^|\s)\d+\s*[.)]\s*[\"“](?P<text>[^\"”]*)[\"”]")
LINE_COMMENT_RE = re.compile(r"^\s*\d+\s*[.)]\s*(?P<text>.+?)\s*$", re.M)
SCENE_VALUE_RE = re.compile(r"scene\s*(?P<index>\d+)\s*:\s*(?P<value>-?\d+(?:\.\d+)?)", re.I)
SCENE_TEXT_RE = re.compile(r"scene\s*(?P<index>\d+)\s*:\s*(?P<text>.*?)(?=scene\s*\d+\s*:|$)", re.I | re.S)
IMAGE_DESCRIPTION_RE = re.compile(r"description\s+of\s+the\s+image\s+is\s*:", re.I)
LIKES_SENTENCE_RE = re.compile(r"(?:the\s+\w+\s+will\s+be\s+)?liked\s+by", re.I)


def words_to_number(phrase: str) -> float | None:
    """'twenty-five' -> 25, 'two point five' -> 2.5, 'one hundred' -> 100; None when it is not a number."""
    words = [word for word in re.split(r"[\s-]+", phrase.lower().strip()) if word and word not in ("and", "a")]
    if not words or any(word not in NUMBER_WORDS for word in words):
        return None
    if "point" in words:
        whole, _, decimals = " ".join(words).partition("point")
        whole_value = words_to_number(whole) if whole.strip() else 0.0
        digits = decimals.split()
        if whole_value is None or not digits or any(word not in UNITS or UNITS[word] > 9 for word in digits):
            return None
        return float(f"{int(whole_value)}.{''.join(str(UNITS[word]) for word in digits)}")
    total, current = 0, 0
    for word in words:
        if word == "hundred":
            current = max(current, 1) * 100
        else:
            current += NUMBER_WORDS[word]
    return float(total + current)


def _to_number(text: str) -> float | None:
    text = text.strip()
    if re.fullmatch(_DIGIT_NUMBER, text):
        return float(text.replace(",", "."))
    return words_to_number(text)


def parse_like_percent(answer: str) -> float | None:
    """The X of "liked by X% of viewers" (digits or words, '%' or 'percent'); None when absent or not in [0, 100].

    A "liked by" phrase wins over any other percentage in the text; without one, the first percentage counts.
    """
    for pattern in (LIKED_BY_RE, ANY_PERCENT_RE):
        for match in pattern.finditer(answer or ""):
            value = _to_number(match.group("number"))
            if value is not None:
                return value if 0.0 <= value <= 100.0 else None
    return None


def _section(answer: str, start: re.Pattern, stop: re.Pattern | None) -> tuple[int, int] | None:
    head = start.search(answer)
    if head is None:
        return None
    end = stop.search(answer, head.end()) if stop is not None else None
    return head.end(), end.start() if end else len(answer)


def comment_spans(answer: str) -> list[tuple[int, int]]:
    """Character spans of each predicted comment's text (quotes and numbering excluded), in order."""
    section = _section(answer, COMMENTS_HEADER_RE, REPLAY_HEADER_RE)
    if section is None:
        return []
    start, end = section
    block = answer[start:end]
    matches = list(QUOTED_COMMENT_RE.finditer(block)) or list(LINE_COMMENT_RE.finditer(block))
    return [(start + m.start("text"), start + m.end("text")) for m in matches if m.group("text").strip()]


def parse_comments(answer: str) -> list[str]:
    return [answer[start:end].strip() for start, end in comment_spans(answer)]


def parse_replay(answer: str) -> list[float]:
    """Replay value per scene, in scene order, from the "replay values ... :" section."""
    section = _section(answer, REPLAY_HEADER_RE, None)
    if section is None:
        return []
    values = {int(m.group("index")): float(m.group("value")) for m in SCENE_VALUE_RE.finditer(answer[slice(*section)])}
    return [values[index] for index in sorted(values)]


def parse_scenes(answer: str) -> list[str]:
    """Scene descriptions, from the text before the likes sentence (the replay section also says "Scene k:").

    An image answer ("The description of the image is: ...") comes back as a single scene.
    """
    likes = LIKES_SENTENCE_RE.search(answer)
    description = answer[: likes.start()] if likes else answer
    for header in (REPLAY_HEADER_RE, COMMENTS_HEADER_RE):
        cut = header.search(description)
        description = description[: cut.start()] if cut else description
    scenes = [m.group("text").strip() for m in SCENE_TEXT_RE.finditer(description) if m.group("text").strip()]
    image = IMAGE_DESCRIPTION_RE.search(description)
    if not scenes and image and description[image.end() :].strip():
        scenes = [description[image.end() :].strip()]
    return scenes


def parse_behavior_answer(answer: str) -> dict:
    return {
        "like_percent": parse_like_percent(answer),
        "comments": parse_comments(answer),
        "replay": parse_replay(answer),
        "scenes": parse_scenes(answer),
        "raw": answer,
    }
