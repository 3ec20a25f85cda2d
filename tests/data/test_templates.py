import random

from hf_behavior.data import templates as T
from hf_behavior.data.records import Record
from hf_behavior.evaluation.parsing import parse_behavior_answer

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
