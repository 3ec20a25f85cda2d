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
SCENE_VALUE_RE = re.compile(r"scene\s*(?P<index>\d+)\s*:\s*(?P<value>-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)", re.I)
SCENE_TEXT_RE = re.compile(r"scene\s*(?P<index>\d+)\s*:\s*(?P<text>.*?)(?=scene\s*\d+\s*:|$)", re.I | re.S)
IMAGE_DESCRIPTION_RE = re.compile(r"description\s+of\s+the\s+image\s+is\s*:", re.I)
LIKES_SENTENCE_RE = re.compile(r"(?:the\s+\w+\s+will\s+be\s+)?liked\s+by", re.I)

# Listing 1 as `hf_behavior.data.templates` writes it: each part on lines of its own, so quoted text (a caption, a
# comment, a title) can say "Scene 3:", "liked by 5%" or "replay value:" and never be read as structure. Each
# parser tries these first, then the loose patterns above (generated answers drift) outside quoted lines.
_LINE_END = r"[^\S\n]*$"
CANONICAL_LIKES_RE = re.compile(
    rf"^The \w+ will be liked by (?:about\s+|around\s+|roughly\s+|approximately\s+|~\s*)?{_PERCENT}", re.M | re.I
)
CANONICAL_COMMENTS_HEADER_RE = re.compile(rf"comments(?: on the \w+)? could be:{_LINE_END}", re.M)
CANONICAL_REPLAY_HEADER_RE = re.compile(rf"^The replay values for each scene would be:{_LINE_END}", re.M)
CANONICAL_COMMENT_RE = re.compile(rf'^\d+\. "(?P<text>.*)"{_LINE_END}', re.M)
CANONICAL_SCENE_RE = re.compile(r"^Scene (?P<index>\d+): (?P<text>.*)$", re.M)
CANONICAL_IMAGE_HEADER_RE = re.compile(rf"^The description of the image is:{_LINE_END}\n?", re.M)
# Lines whose text is quoted content: a scene, a numbered comment, the predicted title.
QUOTED_LINE_RE = re.compile(r"[^\S\n]*(?:scene\s*\d+\s*:|\d+\s*[.)]\s*[\"“]|the title of the \w+ would be \")", re.I)


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


def _in_quoted_line(answer: str, position: int) -> bool:
    """Whether `position` lies inside the text of a line of quoted content (a scene, a comment, the title, an image's
    description), past the line's own marker ("Scene 2:", "3. \"") that the patterns may match."""
    line_start = answer.rfind("\n", 0, position) + 1
    marker = QUOTED_LINE_RE.match(answer, line_start)
    if marker:
        return position >= marker.end()
    previous = answer[answer.rfind("\n", 0, max(line_start - 1, 0)) + 1 : line_start]
    return line_start > 0 and CANONICAL_IMAGE_HEADER_RE.fullmatch(previous) is not None


def _find(answer: str, canonical: re.Pattern, loose: re.Pattern, start: int = 0, last: bool = False):
    """The canonical match of a part of the answer, else the first (or last) loose one outside quoted lines."""
    for match in canonical.finditer(answer, start):
        if not _in_quoted_line(answer, match.start()):
            return match
    matches = [m for m in loose.finditer(answer, start) if not _in_quoted_line(answer, m.start())]
    return (matches[-1] if last else matches[0]) if matches else None


def parse_like_percent(answer: str) -> float | None:
    """The X of "liked by X% of viewers" (digits or words, '%' or 'percent'); None when absent or not in [0, 100].

    The template's own likes line wins, then a "liked by" phrase, then the first percentage, none of them inside a
    scene, a comment or the title.
    """
    answer = answer or ""
    for pattern in (CANONICAL_LIKES_RE, LIKED_BY_RE, ANY_PERCENT_RE):
        for match in pattern.finditer(answer):
            if _in_quoted_line(answer, match.start()):
                continue
            value = _to_number(match.group("number"))
            if value is not None:
                return value if 0.0 <= value <= 100.0 else None
    return None


def _comments_section(answer: str) -> tuple[int, int] | None:
    head = _find(answer, CANONICAL_COMMENTS_HEADER_RE, COMMENTS_HEADER_RE)
    if head is None:
        return None
    end = _find(answer, CANONICAL_REPLAY_HEADER_RE, REPLAY_HEADER_RE, head.end())
    return head.end(), end.start() if end else len(answer)


def comment_spans(answer: str) -> list[tuple[int, int]]:
    """Character spans of each predicted comment's text (quotes and numbering excluded), in order."""
    section = _comments_section(answer)
    if section is None:
        return []
    start, end = section
    block = answer[start:end]
    canonical = list(CANONICAL_COMMENT_RE.finditer(block))
    if canonical:  # one comment a line, its text everything between the line's first and last quote
        return [(start + m.start("text"), start + m.end("text")) for m in canonical]
    matches = list(QUOTED_COMMENT_RE.finditer(block)) or list(LINE_COMMENT_RE.finditer(block))
    return [(start + m.start("text"), start + m.end("text")) for m in matches if m.group("text").strip()]


def parse_comments(answer: str) -> list[str]:
    return [answer[start:end].strip() for start, end in comment_spans(answer)]


def parse_replay(answer: str) -> list[float]:
    """Replay value per scene, in scene order, from the "replay values ... :" section."""
    head = _find(answer, CANONICAL_REPLAY_HEADER_RE, REPLAY_HEADER_RE, last=True)
    if head is None:
        return []
    values = {int(m.group("index")): float(m.group("value")) for m in SCENE_VALUE_RE.finditer(answer, head.end())}
    return [values[index] for index in sorted(values)]


def parse_scenes(answer: str) -> list[str]:
    """Scene descriptions, from the text before the behaviour part (the replay section also says "Scene k:").

    An image answer ("The description of the image is: ...") comes back as a single scene.
    """
    ends = [_find(answer, CANONICAL_LIKES_RE, LIKES_SENTENCE_RE), _find(answer, CANONICAL_COMMENTS_HEADER_RE,
            COMMENTS_HEADER_RE), _find(answer, CANONICAL_REPLAY_HEADER_RE, REPLAY_HEADER_RE)]  # fmt: skip
    description = answer[: min((match.start() for match in ends if match), default=len(answer))]
    canonical = list(CANONICAL_SCENE_RE.finditer(description))
    if canonical:
        return [m.group("text").strip() for m in canonical]
    image = CANONICAL_IMAGE_HEADER_RE.search(description)
    if image:
        return [description[image.end() :].split("\n", 1)[0].strip()]
    scenes = [m.group("text").strip() for m in SCENE_TEXT_RE.finditer(description)
              if m.group("text").strip() and not _in_quoted_line(description, m.start())]  # fmt: skip
    image = next((m for m in IMAGE_DESCRIPTION_RE.finditer(description) if not _in_quoted_line(description, m.start())),
                 None)  # fmt: skip
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
