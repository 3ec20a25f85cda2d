"""Small, realistic raw dumps for the BLIFT tests: Pushshift NDJSON (.zst), yt-dlp info.json folders with media,
a generic JSONL file and verbalization sidecars. Each item is built to hit one filter or one kind of bad input,
so the expected funnel is known."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from hf_behavior.data.reader import open_text
from hf_behavior.synthetic_media import write_scene_video

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "data"
T2019 = 1_560_000_000  # 2019-06-08
T2017 = 1_497_000_000  # 2017-06-09


def image(path: Path, seed: int) -> None:
    pixels = np.random.default_rng(seed).integers(0, 255, (24, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def submission(post_id: str, subreddit: str = "pics", url: str | None = None, **extra) -> dict:
    post = {
        "id": post_id, "subreddit": subreddit, "title": f"Sunset over the harbour {post_id}", "author": "photo_fan",
        "created_utc": T2019, "score": 1000, "upvote_ratio": 0.9, "over_18": False, "num_comments": 5,
        "url": url or f"https://i.redd.it/{post_id}.jpg", "domain": "i.redd.it",
    }  # fmt: skip
    post.update(extra)
    return {k: v for k, v in post.items() if v is not None}


def comment(link: str, body: str, score: int, author: str = "someone") -> dict:
    return {"id": f"c{abs(hash((link, body))) % 10**8}", "link_id": f"t3_{link}", "body": body, "score": score, "author": author}


GOOD_COMMENTS = [
    ("The colours in this shot are absolutely stunning", 500),
    ("I visited this harbour last summer with my family", 300),
    ("What camera did you use for this picture?", 200),
]

REDDIT_POSTS = [  # (post, expected fate)
    (submission("p1"), "kept"),
    (submission("p2", "videos", "https://www.youtube.com/watch?v=vidRedd0001"), "kept"),
    (submission("p3", created_utc=T2017), "posted before 2018-01-01"),
    (submission("p4", over_18=True), "nsfw flag"),
    (submission("p5", url="https://imgur.com/abc.jpg"), "media not a Reddit-hosted image or a YouTube video"),
    (submission("p6", author="AutoModerator"), "bot author"),
    (submission("p7", upvote_ratio=None), "missing field 'upvote_ratio'"),
    (submission("p8"), "media file not found"),
    (submission("p9"), "duplicate media"),
    (submission("p10"), "fewer than 2 comments"),
    (submission("p1", title="The same post id again"), "same post id seen before"),
    (submission("p1"), "same post id seen before"),  # the very same line again (Pushshift repeats some)
    (submission("p12", url="https://[::1/p12.jpg"), "unreadable url"),
]


def write_reddit(root: Path) -> dict[str, Path]:
    media = root / "reddit_media"
    media.mkdir(parents=True)
    for post_id in ("p1", "p3", "p4", "p6", "p7", "p10"):
        image(media / f"{post_id}.png", seed=int(post_id[1:]))
    image(media / "p9.png", seed=1)  # same bytes as p1: duplicate media
    write_scene_video(media / "vidRedd0001.mp4")  # a real clip: its duration (6 s) is read from it
    submissions = root / "RS_2019-06.zst"
    with open_text(submissions) as out:
        for post, _ in REDDIT_POSTS[:5]:
            out.write(json.dumps(post) + "\n")
        out.write('{"id": "broken", "title": \n')  # malformed JSON: line 6
        for post, _ in REDDIT_POSTS[5:]:
            out.write(json.dumps(post) + "\n")
    # a non-UTF-8 line (line 12) goes into a plain file appended as a second submissions dump
    latin = root / "RS_extra.ndjson"
    latin.write_bytes(json.dumps(submission("p11")).encode()[:-2] + b', "title": "caf\xe9"}\n')
    comments = root / "RC_2019-06.ndjson"
    rows = [comment("p1", text, score) for text, score in GOOD_COMMENTS]
    rows += [
        comment("p1", "The colours in this shot are absolutely stunning!!", 450),  # TF-IDF duplicate of the best
        comment("p1", "so good", 900),  # 2 words
        comment("p1", "[deleted]", 50, author="[deleted]"),
        comment("p1", "Thanks for posting, I am a bot", 10, author="helper_bot"),
        comment("p2", "This video made my whole day so much better", 40),
        comment("p2", "The ending of this clip is hilarious", 30),
        comment("p10", "Only one real comment on this one", 5),
        comment("p3", "An old post that was filtered out", 5),
    ]
    comments.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"link_id": "t3_p1"}\n')  # last: no body
    return {"submissions": [submissions, latin], "comments": [comments], "media": media}


KNOWN_VIDEO_ID = "BKPQkjRF4yY"


def info(video_id: str, **extra) -> dict:
    data = {
        "id": video_id, "title": "Gatorade | Make Your Own Footsteps with Suni Lee", "channel": "Gatorade",
        "uploader_id": "@Gatorade", "upload_date": "20230615", "duration": 31.2, "view_count": 120000,
        "like_count": 1800, "categories": ["People & Blogs"], "language": "en",
        "webpage_url": f"https://www.youtube.com/watch?v={video_id}",
        "heatmap": [
            {"start_time": 0.0, "end_time": 10.0, "value": 1.0},
            {"start_time": 10.0, "end_time": 20.0, "value": 0.5},
            {"start_time": 20.0, "end_time": 31.2, "value": 0.25},
        ],
        "comments": [
            {"id": "y1", "text": "Suni Lee is such an inspiration to young gymnasts", "like_count": 900, "author": "@a", "parent": "root"},
            {"id": "y2", "text": "This ad gave me chills from start to finish", "like_count": 700, "author": "@b", "parent": "root"},
            {"id": "y3", "text": "Love how they filmed the backyard training scenes", "like_count": 500, "author": "@c", "parent": "root"},
            {"id": "y4", "text": "Great ad", "like_count": 10000, "author": "@d", "parent": "root"},
            {"id": "y5", "text": "I agree, totally", "like_count": 50, "author": "@e", "parent": "y1"},
            {"id": "y6", "text": "Gatorade always makes the best sports commercials ever", "like_count": 300, "author": "@f", "parent": "root"},
        ],
    }  # fmt: skip
    data.update(extra)
    return data


YOUTUBE_VIDEOS = [
    (info(KNOWN_VIDEO_ID), "kept"),
    (info("yt_views_10k", view_count=10_000), "views <= 10,000"),
    (info("yt_views_10k1", view_count=10_001), "kept"),
    (info("yt_music_01", categories=["Music"]), "excluded category 'Music'"),
    (info("yt_german_01", language="de"), "language 'de' not in ['en']"),
    (info("yt_failed_01"), "verbalization failed"),
]

SCENES = [
    {"index": 0, "start": 0.0, "end": 10.0, "keyframes": [1.5], "caption": "A woman looking off into the distance",
     "keywords": ["cosmetic", "eyebrow", "face"], "foreground_colors": ["black", "mud green", "gray"],
     "background_colors": ["dark brown", "black"], "tone": "neutral", "asr": None, "replay": None},
    {"index": 1, "start": 10.0, "end": 31.2, "keyframes": [14.0], "caption": "a woman balancing on a skateboard in a yard",
     "keywords": ["athletic", "balance", "yard"], "foreground_colors": ["black", "olive"],
     "background_colors": ["gray"], "tone": "warm", "asr": None, "replay": None},
]  # fmt: skip


def sidecar(media_id: str, kind: str = "video", status: str = "done", scenes=SCENES, asr="Make your own footsteps."):
    return {
        "media_id": media_id, "media_path": f"/abs/{media_id}", "kind": kind, "status": status,
        "error": None if status == "done" else "RuntimeError: could not decode stream",
        "duration": 31.2 if kind == "video" else None, "asr": asr if kind == "video" else None,
        "scenes": scenes if status == "done" else [], "stats": {"frames_decoded": 10, "seconds": 0.1},
    }  # fmt: skip


def write_youtube(root: Path) -> Path:
    folder = root / "youtube"
    folder.mkdir(parents=True)
    for data, _ in YOUTUBE_VIDEOS:
        (folder / f"{data['id']}.info.json").write_text(json.dumps(data))
        (folder / f"{data['id']}.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + data["id"].encode())
    (folder / "yt_broken_01.info.json").write_text('{"id": "yt_broken_01",\n "title": }')
    (folder / "yt_nomedia1.info.json").write_text(json.dumps(info("yt_nomedia1")))
    return folder


def write_sidecars(root: Path) -> Path:
    folder = root / "sidecars"
    folder.mkdir(parents=True)
    image_scene = [{**SCENES[0], "start": 0.0, "end": 0.0, "caption": "A golden sunset over boats in a harbour"}]
    docs = [sidecar(KNOWN_VIDEO_ID), sidecar("yt_failed_01", status="failed"), sidecar("p1", "image", scenes=image_scene)]
    for doc in docs:
        (folder / f"{doc['media_id']}.json").write_text(json.dumps(doc))
    return folder


def write_generic(root: Path) -> Path:
    folder = root / "generic"
    folder.mkdir(parents=True)
    image(folder / "ig_001.png", seed=42)
    items = [
        {"id": "ig_001", "platform": "instagram", "kind": "image", "title": "Morning coffee by the window",
         "author": "cafe_daily", "created": "2022-03-01T08:30:00Z", "media_path": "ig_001.png", "views": 5000,
         "likes": 400, "comments": [{"text": "This looks so cozy and warm", "likes": 12},
                                    {"text": "Where is this lovely cafe located?", "likes": 8}]},
        {"id": "ig_002", "platform": "instagram", "kind": "image", "media_path": "ig_002.png"},  # no title
    ]  # fmt: skip
    path = folder / "instagram.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    return path


def write_all(root: Path) -> dict:
    """Every raw format in `root`; returns the CLI arguments that build from them."""
    reddit = write_reddit(root)
    youtube = write_youtube(root)
    return {
        "reddit_submissions": [str(p) for p in reddit["submissions"]],
        "reddit_comments": [str(p) for p in reddit["comments"]],
        "reddit_media": [str(reddit["media"])],
        "youtube": [str(youtube)],
        "generic": [str(write_generic(root))],
        "sidecar_dir": str(write_sidecars(root)),
    }


def cli_args(paths: dict, out: Path, *extra: str) -> list[str]:
    args = ["build-blift", "-o", str(out)]
    for key, value in paths.items():
        flag = "--" + key.replace("_", "-")
        args += [flag, *value] if isinstance(value, list) else [flag, value]
    return args + list(extra)


def rle_string(runs: list[int]) -> str:
    """COCO compressed RLE (pycocotools `rleToString`), to test our decoder against the format."""
    out = []
    for i, value in enumerate(runs):
        value -= runs[i - 2] if i > 2 else 0
        more = True
        while more:
            c, value = value & 0x1F, value >> 5
            more = value != -1 if c & 0x10 else value != 0
            out.append(chr((c | 0x20 if more else c) + 48))
    return "".join(out)


def write_salicon(root: Path, height: int = 90, width: int = 120) -> dict:
    """One image whose fixations cluster on the dog (upper-right tile); a car (polygon) and a frisbee
    (compressed RLE) elsewhere; and one image without fixations (skipped)."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    hot = np.clip(rng.normal((15, 100), 4, size=(60, 2)).round().astype(int), 1, None)  # 1-based (row, col)
    cold = np.array([[80, 10], [45, 60]])
    fixations = {
        "images": [{"id": 1, "file_name": "COCO_1.jpg", "height": height, "width": width},
                   {"id": 2, "file_name": "COCO_2.jpg", "height": height, "width": width}],
        "annotations": [{"image_id": 1, "worker_id": 1, "fixations": hot.tolist()},
                        {"image_id": 1, "worker_id": 2, "fixations": cold.tolist()}],
    }  # fmt: skip
    frisbee = np.zeros((height, width), dtype=bool)
    frisbee[40:55, 50:70] = True
    flat = frisbee.flatten(order="F").astype(int)
    changes = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.concatenate([[0], changes, [flat.size]])).tolist()
    instances = {
        "categories": [{"id": 1, "name": "dog"}, {"id": 2, "name": "car"}, {"id": 3, "name": "frisbee"}],
        "annotations": [
            {"image_id": 1, "category_id": 2, "segmentation": [[0, 60, 40, 60, 40, 89, 0, 89]]},
            {"image_id": 1, "category_id": 1, "segmentation": [[88, 5, 115, 5, 115, 30, 88, 30]]},
            {"image_id": 1, "category_id": 3, "segmentation": {"counts": rle_string(runs), "size": [height, width]}},
        ],
    }  # fmt: skip
    (root / "fixations.json").write_text(json.dumps(fixations))
    (root / "instances.json").write_text(json.dumps(instances))
    return {"salicon_fixations": str(root / "fixations.json"), "coco_instances": str(root / "instances.json"),
            "salicon_images": str(root)}  # fmt: skip


# ---- dumps written as the real ones are, for the build's CLI cases (test_realistic_dumps.py) ----------------------


def pushshift_submission(post_id: str, **extra) -> dict:
    """A submission line with the fields a Pushshift dump carries (most of them unused by the build)."""
    post = {
        "id": post_id, "name": f"t3_{post_id}", "subreddit": "pics", "subreddit_id": "t5_2qh0u", "author": "photo_fan",
        "author_fullname": "t2_8x1k2", "title": f"My grandfather's harbour at dusk {post_id}", "selftext": "",
        "created_utc": T2019, "retrieved_on": T2019 + 86_400, "score": 4821, "upvote_ratio": 0.96, "ups": 4821,
        "num_comments": 212, "over_18": False, "spoiler": False, "stickied": False, "locked": False,
        "is_self": False, "is_video": False, "domain": "i.redd.it", "url": f"https://i.redd.it/{post_id}.jpg",
        "permalink": f"/r/pics/comments/{post_id}/my_grandfathers_harbour/", "thumbnail": "https://b.thumbs.redditmedia.com/x.jpg",
        "link_flair_text": None, "author_flair_text": None, "distinguished": None, "removed_by_category": None,
        "gilded": 0, "total_awards_received": 0, "media": None, "secure_media": None,
    }  # fmt: skip
    post.update(extra)
    return post


def pushshift_comment(post_id: str, comment_id: str, body: str, score: int = 10, parent: str | None = None, **extra) -> dict:
    """A comment line as Pushshift writes it: `parent_id` is the submission (t3_) for a top-level comment and another
    comment (t1_) for a reply."""
    line = {
        "id": comment_id, "name": f"t1_{comment_id}", "link_id": f"t3_{post_id}", "parent_id": parent or f"t3_{post_id}",
        "subreddit": "pics", "subreddit_id": "t5_2qh0u", "author": f"user_{comment_id}", "author_fullname": "t2_abc",
        "body": body, "score": score, "ups": score, "created_utc": T2019 + 600, "retrieved_on": T2019 + 90_000,
        "controversiality": 0, "gilded": 0, "stickied": False, "distinguished": None, "author_flair_text": None,
        "is_submitter": False, "permalink": f"/r/pics/comments/{post_id}/x/{comment_id}/",
    }  # fmt: skip
    line.update(extra)
    return line


REAL_COMMENTS = [
    "The light on the water at that hour is something else entirely",
    "My family fished out of a harbour just like this one for decades",
    "This looks like it belongs on the wall of a museum somewhere",
]
SURVIVORS = ("rp1", "rp2", "rp_emoji")  # the submissions that pass the post filters; only they have media


def write_realistic_reddit(root: Path, long_comment_chars: int = 50_000) -> dict[str, Path]:
    """A month's r/pics dump: posts every filter drops (nsfw, [deleted], before 2018, AutoModerator, a gallery, another
    subreddit) beside three that pass, one titled with emoji and right-to-left text; media downloaded for the
    survivors only, as one does after a first look at the funnel. The comments hold replies (t1_ parents), a
    [deleted] one, AutoModerator's, emoji and RTL text, and one far longer than a comment should be."""
    root.mkdir(parents=True, exist_ok=True)
    posts = [
        pushshift_submission("rp1"),
        pushshift_submission("rp2", title="Fog rolling over the bridge this morning", upvote_ratio=0.88),
        pushshift_submission("rp_emoji", title="سلام 🌅 sunrise over the old port 🚢"),
        pushshift_submission("rp_nsfw", over_18=True),
        pushshift_submission("rp_deleted", author="[deleted]", removed_by_category="deleted", selftext="[deleted]"),
        pushshift_submission("rp_old", created_utc=T2017),
        pushshift_submission("rp_automod", author="AutoModerator", title="Weekly photo thread"),
        pushshift_submission("rp_gallery", url="https://www.reddit.com/gallery/rp_gallery", domain="reddit.com", is_gallery=True),
        pushshift_submission("rp_aww", subreddit="aww"),
    ]  # fmt: skip
    submissions = root / "RS_2019-06.zst"
    with open_text(submissions) as out:
        out.writelines(json.dumps(post, ensure_ascii=False) + "\n" for post in posts)
    media = root / "media"
    media.mkdir(exist_ok=True)
    for seed, post_id in enumerate(SURVIVORS):
        image(media / f"{post_id}.jpg", seed=100 + seed)
    comments = []
    for post in posts:
        pid = post["id"]
        where = {"subreddit": post["subreddit"]}
        comments += [pushshift_comment(pid, f"{pid}c{k}", f"{text} ({pid})", 100 - k, **where) for k, text in enumerate(REAL_COMMENTS)]
        comments += [
            pushshift_comment(pid, f"{pid}r1", "I completely agree with what you said here", 90, parent=f"t1_{pid}c0", **where),
            pushshift_comment(pid, f"{pid}d1", "[deleted]", 5, author="[deleted]", **where),
            pushshift_comment(pid, f"{pid}a1", "Please remember to follow the subreddit rules", 1, author="AutoModerator", **where),
        ]  # fmt: skip
    comments.append(pushshift_comment("rp1", "rp1e", "مرحبا this made my day 😍 truly lovely", 50))
    comments.append(pushshift_comment("rp1", "rp1long", "word " * (long_comment_chars // 5), 99_999))
    comments_path = root / "RC_2019-06.zst"
    with open_text(comments_path) as out:
        out.writelines(json.dumps(c, ensure_ascii=False) + "\n" for c in comments)
    return {"submissions": submissions, "comments": comments_path, "media": media}


def yt_comment(comment_id: str, text: str, likes: int, parent: str = "root") -> dict:
    """A yt-dlp `--write-comments` entry: a reply's `parent` is its comment's id."""
    return {"id": comment_id, "parent": parent, "text": text, "like_count": likes, "author": f"@{comment_id}",
            "author_id": f"UC{comment_id}", "timestamp": 1_686_800_000, "is_favorited": False, "author_is_uploader": False}  # fmt: skip


def write_realistic_youtube(root: Path) -> Path:
    """A yt-dlp download folder: a normal video whose comments have replies, a live stream still on air, a finished
    one (was_live), a video whose duration yt-dlp left null, one with its likes hidden (no like_count)."""
    folder = root / "youtube"
    folder.mkdir(parents=True)
    comments = [
        yt_comment("Ugy1", "Suni Lee is such an inspiration to young gymnasts", 900),
        yt_comment("Ugy2", "This ad gave me chills from start to finish", 700),
        yt_comment("Ugy3", "Love how they filmed the backyard training scenes", 500),
        yt_comment("Ugy1.r1", "Totally agree, she worked so hard for this", 800, parent="Ugy1"),
    ]
    videos = [
        info("ytNormal001", comments=comments),
        info("ytLiveNow01", live_status="is_live", is_live=True, duration=None, comments=comments),
        info("ytWasLive01", live_status="was_live", comments=comments),
        info("ytNoDur0001", duration=None, comments=comments),
        info("ytHidden001", like_count=None, comments=comments),
    ]
    for data in videos:
        data["live_status"] = data.get("live_status", "not_live")
        (folder / f"{data['id']}.info.json").write_text(json.dumps(data))
        (folder / f"{data['id']}.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + data["id"].encode())
    return folder
