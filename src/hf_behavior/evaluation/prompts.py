"""Prompts used at evaluation time: the Listing-1 behaviour question and the Listings 2-4 judge instructions.

The Listing-1 user turn is the one `hf_behavior.data.templates` builds for training, but that builder asks only the
questions whose answers the record holds (it returns None for new content with no likes yet) and takes media as
paths; inference asks every behaviour question here, reusing the templates' `intro` sentence, about any media block.
"""

from __future__ import annotations

from hf_behavior.data.templates import SYSTEM_PROMPT as BEHAVIOR_SYSTEM
from hf_behavior.data.templates import intro


def behavior_question(
    media_type: str = "video",
    title: str | None = None,
    channel: str | None = None,
    asr: str | None = None,
    brand: bool = False,
    subreddit: str | None = None,
    ask_replay: bool | None = None,
) -> str:
    """The Listing-1 user text (without the media placeholder), worded as `hf_behavior.data.templates` words it for
    training (its `intro` writes the first sentences); missing fields drop their sentence. The replay question is
    asked for videos unless `ask_replay` says otherwise."""
    if media_type not in ("video", "image"):
        raise ValueError(f"media_type must be 'video' or 'image', got {media_type!r}")
    kind = media_type
    record = {"media_kind": kind, "title": title or "", "channel": channel, "asr": asr, "brand": brand,
              "subreddit": subreddit}
    text = intro(record, with_title=bool(title))
    describe = (
        "write scene by scene description of the video" if kind == "video" else "write a description of the image"
    )
    text += (
        f" Analyze this {kind} deeply, then {describe} and answer the following questions. What percentage of viewers "
        f"would like this {kind}, and what would be the top-5 popular comments on this {kind}?"
    )
    if ask_replay if ask_replay is not None else kind == "video":
        text += " What would the replay graph values for each scene be?"
    return text


def behavior_messages(media: dict, media_type: str = "video", **question_kwargs) -> list[dict]:
    """System + user turn of Listing 1; `media` is a content block such as {"type": "video", "path": ...}."""
    return [
        {"role": "system", "content": [{"type": "text", "text": BEHAVIOR_SYSTEM}]},
        {
            "role": "user",
            "content": [{"type": "text", "text": behavior_question(media_type, **question_kwargs)}, media],
        },
    ]


JUDGE_SYSTEM = "You are a great critique for analyzing images and captions."
# Listings 2-4 of the paper, verbatim apart from spacing.
JUDGE_CRITERIA = {
    "correctness": (
        "Assess the performance of a dense image captioning model based on the correctness of the captions "
        "generated.\n\nPlease assess the correctness of the provided caption in relation to the image. Consider "
        "whether the caption accurately identifies and describes the main subjects or objects depicted in the image. "
        "Assess whether the caption correctly interprets the relationships between elements within the image, such "
        "as actions, interactions, or spatial arrangements. Focus on the precision and accuracy of the information "
        "presented in the caption. Provide a score reflecting the level of correctness, ranging from 1 (low "
        "correctness) to 10 (high correctness)."
    ),
    "detail": (
        "Assess the performance of a dense image captioning model based on the detail of the captions generated.\n\n"
        "Evaluate the level of detail captured in the provided caption. Consider how well the caption describes "
        "specific attributes, features, or aspects of the image, including colors, shapes, textures, sizes, and any "
        "other relevant details. Assess whether the caption provides comprehensive information about the scene "
        "depicted in the image, covering both prominent and subtle elements. Pay attention to the depth and "
        "specificity of the details conveyed in the caption. Provide a score indicating the richness of detail, "
        "ranging from 1 (low detail) to 10 (high detail)."
    ),
    "quality": (
        "Assess the performance of a dense image captioning model based on the quality of the captions generated."
        "\n\nAssess whether the caption is concise yet descriptive, providing meaningful and engaging information "
        "about the image. Evaluate the caption's ability to evoke a clear mental image corresponding to the visual "
        "content. Additionally, consider if the caption is insightful or imaginative in its description. Provide a "
        "score reflecting the overall quality of the caption, ranging from 1 (low quality) to 10 (high quality)."
    ),
}
