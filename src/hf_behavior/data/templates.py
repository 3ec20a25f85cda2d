"""Instruction templates of BLIFT as chat messages (transformers multimodal chat format).

Every function takes one record — a `Record` or a mapping with the same keys, e.g. a row of the exported
dataset — and returns `[{"role": ..., "content": [blocks]}]` with the system prompt as a system message and the
media block (`{"type": "video"|"image", "path"|"url": ...}`) at the end of the user turn, where the paper puts
`<video>` / `<image>`. A function returns None when the record lacks what its instruction needs (e.g. the
no-behaviour template without a scene description), and the builder skips the record for that config.

- `behavior_messages` / `behavior_prompt_messages`: Listing 1 (with / without the assistant answer).
- `no_behavior_messages`: Listing 8 (Ad-LLaVA).
- `likes_messages`, `titles_messages`, `comments_messages`: the Table-10 single-behaviour ablations.
- `content_simulation_messages`, `behavior_simulation_messages`: the M3L masked caption / likes prompts.
- `salicon_object_messages`, `salicon_region_messages`: Listings 6 and 7.

Answers are read back by `hf_behavior.evaluation.parsing.parse_behavior_answer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache

from .records import Record

SYSTEM_PROMPT = (
    "You are an AI visual assistant. You are given a detailed description of a media, followed by the actual "
    "media. Answer all questions as if you are seeing the media."
)
SALICON_SYSTEM_PROMPT = "You are an AI visual assistant. Answer all questions as you are seeing the media"
REGION_NAMES = (
    "upper-left", "upper-center", "upper-right",
    "middle-left", "middle-center", "middle-right",
    "bottom-left", "bottom-center", "bottom-right",
)  # fmt: skip
NUM_COMMENTS = 5
UNIX_EPOCH_DAY = date(1970, 1, 1).toordinal()


def _fields(record) -> Mapping:
    """A record's fields by name: a `Record`'s own attribute dict, or the mapping itself. Each public function
    takes it once and reads it with `.get` (a dict look-up; `getattr` after an `isinstance` per read cost more), or
    `_get` for a field whose default is not None."""
    return vars(record) if isinstance(record, Record) else record


def _get(fields: Mapping, name: str, default):
    """`fields[name]`, or `default` when it is missing or None."""
    value = fields.get(name)
    return default if value is None else value


def _replay(scenes: list[dict]) -> list[float] | None:
    values = [scene.get("replay") for scene in scenes]
    return values if values and all(v is not None for v in values) else None


def one_line(text: str) -> str:
    """`text` with its whitespace runs made single spaces and its ends trimmed (a comment, ASR or title quoted on one
    line). Text that needs none of it (no space at either end, none doubled, no other whitespace: `isprintable` is
    False for every whitespace character but the space) is returned as it is, unsplit: splitting and joining each
    comment was a fifth of Listing 1's time."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def format_number(value: float) -> str:
    """Two decimals at most, no trailing zeros: 3.25, 94, 0.5. Below 10,000 (percentages, replay values) `%.2f` gives
    the same digits as rounding and then `g` (6 significant digits) does, with one decimal conversion instead of two."""
    if 0 <= value < 10_000:
        return ("%.2f" % value).rstrip("0").rstrip(".")
    return format(round(float(value), 2), "g")


def media_block(record) -> dict:
    fields = _fields(record)
    return _media_block(fields, _get(fields, "media_kind", "video"))


def _media_block(fields: Mapping, kind: str) -> dict:
    path = fields.get("media_path")
    return {"type": kind, "path": path} if path else {"type": kind, "url": fields.get("media_url")}


def _chat(user_text: str, media: dict, answer: str | None, system: str | None = SYSTEM_PROMPT) -> list[dict]:
    messages = [] if system is None else [{"role": "system", "content": [{"type": "text", "text": system}]}]
    messages.append({"role": "user", "content": [{"type": "text", "text": user_text}, media]})
    if answer is not None:
        messages.append({"role": "assistant", "content": [{"type": "text", "text": answer}]})
    return messages


# ---- user turn ---------------------------------------------------------------------------------------------


def intro(record, with_title: bool = True) -> str:
    """First sentence(s): what the media is and where it was posted, then the ASR when there is one."""
    fields = _fields(record)
    return _intro(fields, _get(fields, "media_kind", "video"), with_title)


def _intro(fields: Mapping, kind: str, with_title: bool) -> str:
    title, channel = _get(fields, "title", ""), fields.get("channel")
    subreddit, brand = fields.get("subreddit"), _get(fields, "brand", False)
    titled = f' is titled "{title}"' if with_title else ""
    if brand and channel:
        text = f"The {kind} advertisement{titled} for the brand {channel}." if with_title else (
            f"The {kind} advertisement is for the brand {channel}.")
    elif subreddit:
        text = f"The {kind} posted on r/{subreddit}{titled}." if with_title else f"The {kind} is posted on r/{subreddit}."
    elif channel:
        text = f"The {kind}{titled} and was posted by {channel}." if with_title else f"The {kind} was posted by {channel}."
    else:
        text = f"The {kind}{titled}." if with_title else f"The {kind} is given."
    asr = fields.get("asr")
    if asr and kind == "video":
        text += f' The audio in the {"ad" if brand else "video"} says "{one_line(asr)}".'
    return text


def _user_text(fields: Mapping, kind: str, questions: tuple[str, ...], describe: bool, with_title: bool = True) -> str:
    return _intro(fields, kind, with_title) + _request(kind, questions, describe)


@cache
def _request(kind: str, questions: tuple[str, ...], describe: bool) -> str:
    """The user turn after the intro: the task and its questions, the same for every record of a kind and of the
    same behaviour, so built once each."""
    text = f" Analyze this {kind} deeply"
    if describe:
        text += ", then " + ("write scene by scene description of the video" if kind == "video" else "write a description of the image")
    if questions:
        noun = "questions" if len(questions) > 1 or ", and " in questions[0] else "question"
        text += f" and answer the following {noun}. " + " ".join(questions)
    else:
        text += "."
    return text


@cache
def _behavior_questions(kind: str, likes: bool, comments: bool, replay: bool) -> tuple[str, ...]:
    questions = []
    if likes and comments:
        questions.append(
            f"What percentage of viewers would like this {kind}, and what would be the top-{NUM_COMMENTS} "
            f"popular comments on this {kind}?"
        )
    elif likes:
        questions.append(f"What percentage of viewers would like this {kind}?")
    elif comments:
        questions.append(f"What would be the top-{NUM_COMMENTS} popular comments on this {kind}?")
    if replay:
        questions.append("What would the replay graph values for each scene be?")
    return tuple(questions)


# ---- assistant turn ----------------------------------------------------------------------------------------


def _clause(text: str) -> str:
    """A caption as the object of "The scene shows ...": first letter lower-cased (not acronyms), no final stop."""
    text = one_line(str(text)).rstrip(".")
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and (len(first) == 1 or first[1:].islower()):
        text = text[0].lower() + text[1:]
    return text


def describe_scene(scene: Mapping, unit: str = "scene") -> str:
    """One scene of Listing 1: caption, foreground/background colours, tone, tags (missing parts left out), on one
    line, so that the parser reads a scene as its line whatever its text says."""
    parts = []
    if scene.get("caption"):
        parts.append(f"The {unit} shows {_clause(scene['caption'])}.")
    fg, bg = scene.get("foreground_colors") or [], scene.get("background_colors") or []
    if fg and bg:
        parts.append(f"The foreground colors of the {unit} are {one_line(', '.join(fg))}, and the background colors "
                     f"are {one_line(', '.join(bg))}.")
    elif fg or bg:
        parts.append(f"The {'foreground' if fg else 'background'} colors of the {unit} are {one_line(', '.join(fg or bg))}.")
    if scene.get("tone"):
        parts.append(f"The dominant tone of the {unit} is {one_line(scene['tone'])}.")
    if scene.get("keywords"):
        parts.append(f"This {unit} is categorized by the tags: {one_line(', '.join(scene['keywords']))}.")
    return " ".join(parts)


def scene_descriptions(record) -> str | None:
    fields = _fields(record)
    return _scene_text(fields.get("scenes"), _get(fields, "media_kind", "video"))


def _scene_text(scenes: list[dict] | None, kind: str) -> str | None:
    if not scenes:
        return None
    if kind == "image":
        return "The description of the image is:\n" + describe_scene(scenes[0], "image")
    lines = [f"Scene {i}: {describe_scene(scene)}" for i, scene in enumerate(scenes, start=1)]
    return "The scene-by-scene descriptions are:\n" + "\n".join(lines)


def _behavior_answer(kind: str, like_percent: float | None, comments: list[dict], replay: list[float] | None) -> str:
    """The answer's behaviour part: the like percentage, the top comments and the replay values (None or empty:
    not answered)."""
    lines = []
    if like_percent is not None:
        liked = f"The {kind} will be liked by {format_number(like_percent)}% of viewers"
        lines.append(liked + (", and the popular comments could be:" if comments else "."))
    elif comments:
        lines.append(f"The popular comments on the {kind} could be:")
    lines += [f'{i}. "{one_line(c["text"])}"' for i, c in enumerate(comments, start=1)]
    if replay is not None:
        lines.append("The replay values for each scene would be:")
        lines += [f"Scene {i}: {format_number(v)}" for i, v in enumerate(replay, start=1)]
    return "\n".join(lines)


def _behavior_chat(record, likes: bool, comments: bool, replay: bool, answer: bool = True, with_title: bool = True,
                   extra_answer: str | None = None):  # fmt: skip
    """Each behaviour asked for that the record has is asked (and answered); None when there is none of them."""
    fields = _fields(record)
    kind, scenes = _get(fields, "media_kind", "video"), fields.get("scenes")
    ratio = fields.get("like_ratio") if likes else None
    like_percent = None if ratio is None else 100.0 * ratio
    top = (fields.get("comments") or [])[:NUM_COMMENTS] if comments else []
    replay_values = _replay(scenes) if replay and scenes else None
    likes, comments, replay = like_percent is not None, bool(top), replay_values is not None
    if not (likes or comments or replay or extra_answer):
        return None
    described = _scene_text(scenes, kind)
    questions = _behavior_questions(kind, likes, comments, replay)
    if extra_answer is not None:
        questions = (f"What would be the title of this {kind}?", *questions)
    user = _user_text(fields, kind, questions, describe=described is not None, with_title=with_title)
    media = _media_block(fields, kind)
    if not answer:
        return _chat(user, media, None)
    behavior = _behavior_answer(kind, like_percent, top, replay_values)
    body = [part for part in (described, extra_answer, behavior) if part]
    return _chat(user, media, "\n".join(body))


# ---- public templates --------------------------------------------------------------------------------------


def behavior_messages(record) -> list[dict] | None:
    """Listing 1: scene-by-scene description, likes %, top-5 comments, replay value per scene."""
    return _behavior_chat(record, likes=True, comments=True, replay=True)


def behavior_prompt_messages(record) -> list[dict] | None:
    """Listing 1's system + user turns only (what a model is asked at inference)."""
    return _behavior_chat(record, likes=True, comments=True, replay=True, answer=False)


def no_behavior_messages(record) -> list[dict] | None:
    """Listing 8 (Ad-LLaVA): the same media and description, no behaviour asked or answered."""
    fields = _fields(record)
    kind = _get(fields, "media_kind", "video")
    scenes = _scene_text(fields.get("scenes"), kind)
    if scenes is None:
        return None
    return _chat(_user_text(fields, kind, (), describe=True), _media_block(fields, kind), scenes)


def likes_messages(record) -> list[dict] | None:
    """Table 10, BLIFT[Likes/Views]: only the like percentage is asked."""
    return _behavior_chat(record, likes=True, comments=False, replay=False)


def comments_messages(record) -> list[dict] | None:
    """Table 10, BLIFT[Comments]: only the top comments are asked."""
    return _behavior_chat(record, likes=False, comments=True, replay=False)


def titles_messages(record) -> list[dict] | None:
    """Table 10, BLIFT[Titles]: the title is withheld from the prompt and asked for."""
    fields = _fields(record)
    answer = f'The title of the {_get(fields, "media_kind", "video")} would be "{one_line(_get(fields, "title", ""))}".'
    return _behavior_chat(fields, likes=False, comments=False, replay=False, with_title=False, extra_answer=answer)


def _m3l_metadata(fields: Mapping, last: str) -> str:
    created = fields.get("created_utc")
    lines = [f"Username is {fields.get('channel') or fields.get('author') or 'unknown'}.,"]
    if created is not None:
        # the UTC date and time of day by arithmetic: `datetime`'s strftime was 40% of the template
        days, seconds = divmod(created, 86400)
        lines.append(f"Release Date is {date.fromordinal(UNIX_EPOCH_DAY + days).isoformat()},")
        if seconds:  # date-only sources (yt-dlp upload_date) have no time of day
            lines.append(f"Release Time is {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d},")
    lines.append(last)
    return "\n\n".join(lines)


def _m3l_chat(record, task: str, fields: str, review: str, given: str, target: str, answer) -> list[dict] | None:
    """The M3L wizard prompt (deck wording kept verbatim): task, listed fields, review hint, metadata, [MASK]."""
    post = _fields(record)
    likes = post.get("likes")
    if likes is None:
        return None
    kind = _get(post, "media_kind", "video")
    user = (
        f"You are content creating wizard. Today I challenge you to predict {task} that was posted in the past. "
        f"I'll provide you with the following information regarding the post:\n\n{fields}\n\n"
        f"{review.format(kind=kind)}\n\nNow given the {kind},\n\n"
        + _m3l_metadata(post, given.format(likes=likes, caption=one_line(_get(post, "title", ""))))
        + f"\n\n{target}: [MASK]"
    )
    return _chat(user, _media_block(post, kind), f"{target}: {answer(post)}", system=None)


def content_simulation_messages(record) -> list[dict] | None:
    """M3L content simulation: predict the post's caption (title) from username, date, time, likes and media."""
    return _m3l_chat(
        record,
        task="a caption for an post",
        fields="Username, Date of post release, Time of post release and No of likes",
        review="Review the username and date as there could be some insights relevant for the caption. Identify the "
        "material/person/objects in the {kind} and align the caption accordingly. This will help to predict a "
        "better caption.",
        given="Likes received is {likes}.",
        target="Predicted Caption",
        answer=lambda r: one_line(_get(r, "title", "")),
    )


def behavior_simulation_messages(record) -> list[dict] | None:
    """M3L behaviour simulation: predict the number of likes from username, date, time, caption and media."""
    return _m3l_chat(
        record,
        task="a the number of likes for a post",
        fields="Username Date of post release Time of post release Caption",
        review="Review the username and date as there could be some insights relevant for the number of likes. "
        "Identify the material/person/objects in the {kind} and obtain the number of likes. . This will help to "
        "predict the number of likes.",
        given="Caption is {caption}.",
        target="Predicted Number of likes ",
        answer=lambda r: r.get("likes"),
    )


def salicon_object_messages(image: Mapping, ranked_objects: list[str]) -> list[dict]:
    """Listing 6: objects listed alphabetically ("in no particular order"), answered most salient first."""
    user = (
        f"The objects in this image in no particular order are {', '.join(sorted(ranked_objects))}. Give me the "
        "order of saliency of these objects, start with the most salient object and end with the least salient "
        "object, each in a separate line. Give me the objects only and nothing else."
    )
    return _chat(user, media_block(image), "\n".join(ranked_objects), system=SALICON_SYSTEM_PROMPT)


def salicon_region_messages(image: Mapping, ranked_regions: list[str]) -> list[dict]:
    """Listing 7: the nine 3x3 tiles ranked by saliency, most salient first."""
    names = ", ".join(f'"{name}"' for name in REGION_NAMES)
    user = (
        f"Assume the given image is broken into a 3X3 grid the regions or tiles being named {names}. Rank these "
        "regions or tiles based on their saliency, give me the line separated ranking of all regions in "
        "decreasing order."
    )
    return _chat(user, media_block(image), "\n".join(ranked_regions), system=SALICON_SYSTEM_PROMPT)


CONFIG_TEMPLATES = {
    "reddit_images": behavior_messages,
    "reddit_videos": behavior_messages,
    "youtube_videos": behavior_messages,
    "blift": behavior_messages,
    "blift_no_behavior": no_behavior_messages,
    "blift_likes": likes_messages,
    "blift_titles": titles_messages,
    "blift_comments": comments_messages,
    "content_simulation": content_simulation_messages,
    "behavior_simulation": behavior_simulation_messages,
}
