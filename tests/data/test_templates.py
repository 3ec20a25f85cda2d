import random

from hf_behavior.data import templates as T
from hf_behavior.data.records import Record
from hf_behavior.evaluation.parsing import comment_spans, parse_behavior_answer

from .dumps import SCENES

LISTING1_USER = (
    'The video advertisement is titled "Gatorade | Make Your Own Footsteps with Suni Lee" for the brand Gatorade. '
    'The audio in the ad says "Make your own footsteps.". Analyze this video deeply, then write scene by scene '
    "description of the video and answer the following questions. What percentage of viewers would like this video, "
    "and what would be the top-5 popular comments on this video? What would the replay graph values for each scene be?"
)
LISTING1_ANSWER = """The scene-by-scene descriptions are:
Scene 1: The scene shows a woman looking off into the distance. The foreground colors of the scene are black, mud green, gray, and the background colors are dark brown, black. The dominant tone of the scene is neutral. This scene is categorized by the tags: cosmetic, eyebrow, face.
Scene 2: The scene shows a woman balancing on a skateboard in a yard. The foreground colors of the scene are black, olive, and the background colors are gray. The dominant tone of the scene is warm. This scene is categorized by the tags: athletic, balance, yard.
The video will be liked by 1.5% of viewers, and the popular comments could be:
1. "Suni Lee is such an inspiration to young gymnasts"
2. "This ad gave me chills from start to finish"
The replay values for each scene would be:
Scene 1: 1
Scene 2: 0.37"""


def known_record(**changes) -> Record:
    fields = dict(
        key="youtube:BKPQkjRF4yY", source="youtube_videos", platform="youtube", post_id="BKPQkjRF4yY",
        media_id="BKPQkjRF4yY", media_kind="video", title="Gatorade | Make Your Own Footsteps with Suni Lee",
        origin="t:1", channel="Gatorade", brand=True, media_path="/m/BKPQkjRF4yY.mp4", views=120000, likes=1800,
        like_ratio=0.015, asr="Make your own footsteps.", created_utc=1686787200,
        comments=[{"text": "Suni Lee is such an inspiration to young gymnasts", "score": 900},
                  {"text": "This ad gave me  chills\nfrom start to finish", "score": 700}],
        scenes=[{**SCENES[0], "replay": 1.0}, {**SCENES[1], "replay": 0.3679}],
    )  # fmt: skip
    fields.update(changes)
    return Record(**fields)


def test_listing1_exact_text():
    messages = T.behavior_messages(known_record())
    assert [m["role"] for m in messages] == ["system", "user", "assistant"]
    assert messages[0]["content"] == [{"type": "text", "text": T.SYSTEM_PROMPT}]
    assert messages[1]["content"] == [
        {"type": "text", "text": LISTING1_USER},
        {"type": "video", "path": "/m/BKPQkjRF4yY.mp4"},
    ]
    assert messages[2]["content"] == [{"type": "text", "text": LISTING1_ANSWER}]


def test_prompt_messages_are_listing1_without_answer():
    assert T.behavior_prompt_messages(known_record()) == T.behavior_messages(known_record())[:2]
    row = {k: v for k, v in known_record().__dict__.items()}  # a dataset row works as well as a Record
    assert T.behavior_prompt_messages(row) == T.behavior_prompt_messages(known_record())


def test_answer_parses_back_with_the_evaluation_parser():
    parsed = parse_behavior_answer(LISTING1_ANSWER)
    assert parsed["like_percent"] == 1.5
    assert parsed["comments"] == ["Suni Lee is such an inspiration to young gymnasts", "This ad gave me chills from start to finish"]
    assert parsed["replay"] == [1.0, 0.37]
    assert len(parsed["scenes"]) == 2 and parsed["scenes"][1].startswith("The scene shows a woman balancing")
    empty = parse_behavior_answer("no numbers here")
    assert (empty["like_percent"], empty["comments"], empty["replay"], empty["scenes"]) == (None, [], [], [])


def test_reddit_image_wording_and_url_media():
    record = known_record(
        source="reddit_images", platform="reddit", media_kind="image", subreddit="pics", channel=None, brand=False,
        media_path=None, media_url="https://i.redd.it/p1.jpg", title="Sunset", like_ratio=0.9, asr="ignored",
        scenes=[{"caption": "Boats in a harbour", "tone": "warm"}],
    )  # fmt: skip
    system, user, assistant = T.behavior_messages(record)
    assert user["content"][0]["text"] == (
        'The image posted on r/pics is titled "Sunset". Analyze this image deeply, then write a description of the '
        "image and answer the following questions. What percentage of viewers would like this image, and what would "
        "be the top-5 popular comments on this image?"
    )
    assert user["content"][1] == {"type": "image", "url": "https://i.redd.it/p1.jpg"}
    assert assistant["content"][0]["text"].startswith(
        "The description of the image is:\nThe image shows boats in a harbour. The dominant tone of the image is warm.\n"
        "The image will be liked by 90% of viewers"
    )


def test_no_behavior_listing8_and_ablations():
    record = known_record()
    user, answer = (m["content"][0]["text"] for m in T.no_behavior_messages(record)[1:])
    assert user.endswith("Analyze this video deeply, then write scene by scene description of the video.")
    assert "liked" not in answer and "comments" not in answer and answer == LISTING1_ANSWER.split("\nThe video will")[0]
    assert T.no_behavior_messages(known_record(scenes=[])) is None

    likes = T.likes_messages(record)[2]["content"][0]["text"]
    assert likes.endswith("The video will be liked by 1.5% of viewers.") and '1. "' not in likes
    comments = T.comments_messages(record)[2]["content"][0]["text"]
    assert "liked by" not in comments and 'The popular comments on the video could be:\n1. "Suni' in comments
    titles = T.titles_messages(record)
    assert "Gatorade | Make" not in titles[1]["content"][0]["text"]
    assert titles[1]["content"][0]["text"].endswith("What would be the title of this video?")
    assert titles[2]["content"][0]["text"].endswith('The title of the video would be "Gatorade | Make Your Own Footsteps with Suni Lee".')


def test_m3l_simulation_prompts():
    content = T.content_simulation_messages(known_record())
    assert content[0]["role"] == "user"
    text = content[0]["content"][0]["text"]
    assert "Username is Gatorade.," in text and "Release Date is 2023-06-15," in text
    assert "Release Time" not in text  # date-only upload_date
    assert text.endswith("Likes received is 1800.\n\nPredicted Caption: [MASK]")
    assert content[1]["content"][0]["text"] == "Predicted Caption: Gatorade | Make Your Own Footsteps with Suni Lee"
    behavior = T.behavior_simulation_messages(known_record(created_utc=1686787200 + 3723))
    text = behavior[0]["content"][0]["text"]
    assert "Release Time is 01:02:03," in text and "Caption is Gatorade | Make Your Own Footsteps with Suni Lee." in text
    assert behavior[1]["content"][0]["text"] == "Predicted Number of likes : 1800"
    assert T.behavior_simulation_messages(known_record(likes=None)) is None


def test_salicon_listings():
    image = {"media_kind": "image", "media_path": "/coco/1.jpg"}
    messages = T.salicon_object_messages(image, ["dog", "frisbee", "car"])
    assert messages[1]["content"][0]["text"].startswith("The objects in this image in no particular order are car, dog, frisbee.")
    assert messages[2]["content"][0]["text"] == "dog\nfrisbee\ncar"
    assert messages[0]["content"][0]["text"] == T.SALICON_SYSTEM_PROMPT
    region = T.salicon_region_messages(image, list(T.REGION_NAMES))
    assert '"upper-left", "upper-center"' in region[1]["content"][0]["text"]
    assert region[1]["content"][1] == {"type": "image", "path": "/coco/1.jpg"}


def test_one_line_is_split_and_join_with_a_fast_path_for_text_already_so():
    texts = ["plain words", "", " ", "a  b", " lead", "trail ", "tab\there", "line\nbreak", "nbsp\u00a0here",
             "ideographic\u3000space", "file\x1cseparator", "unit\x1fsep", "next\x85line", "para\u2029sep",
             "zero\u200bwidth", "émoji 🎉 ok", "mongolian\u180evowel"]  # fmt: skip
    for text in texts:
        assert T.one_line(text) == " ".join(text.split()), repr(text)
    # the fast path's premise: no whitespace character but the space is printable
    assert [chr(c) for c in range(0x110000) if chr(c).isspace() and chr(c).isprintable()] == [" "]


def test_format_number_keeps_round_then_g():
    rng = random.Random(0)
    values = [0, 0.0, -0.0, 94, 3.25, 0.5, 2.675, 0.005, 0.015, 9999.995, 9999.994, 1e-9, 12345.678, 1e7, -3.456,
              True, *(rng.uniform(0, 100) for _ in range(3000)), *(rng.uniform(0, 10_000) for _ in range(3000)),
              *(rng.randrange(0, 10**6) / 1000 for _ in range(3000))]  # fmt: skip
    for value in values:
        assert T.format_number(value) == format(round(float(value), 2), "g"), value


# ---- round trip: whatever the text says, parsing the written answer gives back the record's fields ----------

ADVERSARIAL = [
    '"', '""', "“", "”", "'", "replay value:", "The replay values for each scene would be:", "Scene 3:",
    "scene 12: 0.5", "Scene 1: 7", "liked by 5%", "The video will be liked by 99% of viewers", "50%", "two percent",
    "comments could be:", "and the popular comments could be:", '1. "', '2) ', "3.", "The description of the image is:",
    'The title of the video would be "', "\n", "\r\n", "\u2028", "\x85", "\t", "\x0b", "  ", " ", "\u00a0", "\u200b",
    "é", "🎉", "日本語", "مرحبا", "\u05d0\u05d1", "e\u0301", "\U0001f469\u200d\U0001f4bb", "\x00", "\\", "{}", "%",
]  # fmt: skip


def adversarial_text(rng: random.Random, max_pieces: int = 8) -> str:
    """Text made of pieces that look like Listing-1 structure, line breaks of every kind, and any code point."""
    pieces = []
    for _ in range(rng.randrange(max_pieces + 1)):
        roll = rng.random()
        if roll < 0.5:
            pieces.append(rng.choice(ADVERSARIAL))
        elif roll < 0.7:
            code = rng.randrange(0x110000)
            pieces.append(chr(code) if not 0xD800 <= code < 0xE000 else "x")  # no lone surrogates: not text
        else:
            pieces.append(rng.choice(["the", "cat", "Wow", "so", "good", "a", "b", "9", "0.5", "she said"]))
    return rng.choice(["", " "]).join(pieces)


def adversarial_record(rng: random.Random) -> Record:
    kind = rng.choice(["video", "image"])
    scenes = [{"caption": adversarial_text(rng), "tone": adversarial_text(rng, 2),
               "foreground_colors": [adversarial_text(rng, 2) for _ in range(rng.randrange(3))],
               "background_colors": [adversarial_text(rng, 2) for _ in range(rng.randrange(3))],
               "keywords": [adversarial_text(rng, 3) for _ in range(rng.randrange(4))],
               "replay": rng.choice([rng.random(), rng.uniform(-5, 20_000), 1.0, 0.0])}
              for _ in range(rng.randrange(1, 5) if kind == "video" else 1)]  # fmt: skip
    if rng.random() < 0.1:
        scenes = []
    return known_record(
        media_kind=kind, title=adversarial_text(rng), asr=adversarial_text(rng), channel=adversarial_text(rng, 2),
        like_ratio=rng.choice([None, rng.random(), 0.0, 1.0, 0.015]),
        comments=[{"text": adversarial_text(rng), "score": 1} for _ in range(rng.randrange(7))],
        scenes=scenes if rng.random() < 0.9 or not scenes else [{k: v for k, v in s.items() if k != "replay"} for s in scenes],
    )  # fmt: skip


def expected_fields(record: Record, likes: bool, comments: bool, replay: bool) -> dict:
    kind, scenes = record.media_kind, record.scenes or []
    if kind == "image" and scenes:
        described = [T.describe_scene(scenes[0], "image")]
    else:
        described = [T.describe_scene(scene) for scene in scenes]
    values = [scene.get("replay") for scene in scenes]
    return {
        "like_percent": float(T.format_number(100 * record.like_ratio)) if likes and record.like_ratio is not None else None,
        "comments": [T.one_line(c["text"]) for c in record.comments[: T.NUM_COMMENTS]] if comments else [],
        "replay": [float(T.format_number(v)) for v in values] if replay and values and None not in values else [],
        "scenes": described,
    }  # fmt: skip


def test_written_answers_parse_back_to_the_same_fields_for_any_text():
    rng = random.Random(1234)
    templates = [(T.behavior_messages, True, True, True), (T.likes_messages, True, False, False),
                 (T.comments_messages, False, True, False), (T.titles_messages, False, False, False),
                 (T.no_behavior_messages, False, False, False)]  # fmt: skip
    checked = 0
    for _ in range(600):
        record = adversarial_record(rng)
        for template, likes, comments, replay in templates:
            messages = template(record)
            if messages is None:
                continue
            answer = messages[-1]["content"][0]["text"]
            parsed = parse_behavior_answer(answer)
            assert {key: parsed[key] for key in ("like_percent", "comments", "replay", "scenes")} == expected_fields(
                record, likes, comments, replay), answer
            spans = comment_spans(answer)
            assert [answer[start:end] for start, end in spans] == parsed["comments"]
            checked += 1
    assert checked > 1500


def test_issue_examples_round_trip():
    comments = ['she said "wow" twice', "the replay value: 10/10 would watch again", '"quoted" all "the" way"']
    scenes = [{"caption": "A sign reading Scene 3: the end, liked by 5% of fans", "replay": 0.5},
              {"caption": 'a poster: "The replay values for each scene would be:"', "replay": 0.25}]
    record = known_record(comments=[{"text": text, "score": 1} for text in comments], scenes=scenes, like_ratio=0.42)
    parsed = parse_behavior_answer(T.behavior_messages(record)[2]["content"][0]["text"])
    assert parsed["comments"] == comments
    assert parsed["like_percent"] == 42.0 and parsed["replay"] == [0.5, 0.25]
    assert parsed["scenes"] == ["The scene shows a sign reading Scene 3: the end, liked by 5% of fans.",
                                'The scene shows a poster: "The replay values for each scene would be:".']
