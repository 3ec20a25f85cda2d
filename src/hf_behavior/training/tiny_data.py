"""A tiny, real training setup written to a folder: the inputs `recipes/behavior_llava/tiny_cpu.yaml` points at.

    hf-behavior tiny-data tiny_data/     # then, from the same folder's parent:
    accelerate launch recipes/sft_blift.py --config recipes/behavior_llava/tiny_cpu.yaml

Everything is generated offline: yt-dlp style `.info.json` files with real (tiny) videos and verbalization sidecars,
built into BLIFT by the real `build-blift` pipeline; a LLaVA-JSON instruct set with text-only, image and video
samples (LLaMA-VID's SFT format); and a tiny random BehaviorLlava checkpoint with its processor.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from ..synthetic_media import write_scene_video

PALETTE = [(220, 30, 30), (30, 60, 220), (40, 180, 60), (240, 200, 40), (150, 40, 160), (20, 20, 20), (230, 230, 230)]
TOPICS = ["sunrise yoga on the beach", "a tiny kitchen makeover", "street food in the old town", "training a puppy",
          "building a wooden canoe", "the first snow in the mountains", "a cycling trip across the valley",
          "restoring an old guitar"]  # fmt: skip
COMMENT_OPENERS = ["I watched this three times and", "My grandmother always said that", "Honestly the music here",
                   "Whoever filmed the opening shot", "This reminded me of the summer when",
                   "The colours in the second scene"]  # fmt: skip
COMMENT_ENDINGS = ["it still makes me smile", "deserves far more views", "made my whole week better",
                   "is pure talent and patience", "we tried the very same thing", "look like a painting"]  # fmt: skip


def youtube_info(index: int) -> dict:
    """One yt-dlp `.info.json` document that passes the paper's YouTube filters, with its own comments and likes."""
    topic = TOPICS[index % len(TOPICS)]
    comments = [
        {"id": f"c{index}_{k}", "text": f"{COMMENT_OPENERS[(index + k) % 6]} {topic} {COMMENT_ENDINGS[(2 * index + k) % 6]}",
         "like_count": 900 - 150 * k, "author": f"@viewer{k}", "parent": "root"}
        for k in range(4)
    ]  # fmt: skip
    return {
        "id": f"tinyvid{index:04d}", "title": f"Vlog {index}: {topic}", "channel": f"Channel {index % 3}",
        "upload_date": "20230615", "duration": 6.0, "view_count": 20_000 + 5_000 * index,
        "like_count": 200 + 180 * index, "categories": ["People & Blogs"], "language": "en",
        "heatmap": [{"start_time": 2.0 * s, "end_time": 2.0 * (s + 1), "value": round(1.0 - 0.3 * s, 2)} for s in range(3)],
        "comments": comments,
    }  # fmt: skip


def sidecar(info: dict, colours: list[tuple[int, int, int]]) -> dict:
    """What `hf-behavior verbalize` writes for the video: one scene per solid colour."""
    scenes = [
        {"index": s, "start": 2.0 * s, "end": 2.0 * (s + 1), "keyframes": [2.0 * s + 1.0],
         "caption": f"a frame filled with colour {colour}", "keywords": ["colour", "plain", "frame"],
         "foreground_colors": ["red" if colour[0] > 128 else "blue"], "background_colors": ["gray"],
         "tone": "warm" if colour[0] > colour[2] else "cool", "asr": None, "replay": None}
        for s, colour in enumerate(colours)
    ]  # fmt: skip
    return {"media_id": info["id"], "kind": "video", "status": "done", "error": None, "duration": info["duration"],
            "asr": f"welcome to {info['title'].lower()}", "scenes": scenes, "stats": {}}  # fmt: skip


def instruct_records(media: Path, count: int) -> list[dict]:
    """LLaVA-JSON samples cycling through LLaMA-VID's three kinds: ShareGPT text-only, image QA, video QA."""
    records = []
    for index in range(count):
        kind = ("text", "image", "video")[index % 3]
        colour = PALETTE[index % len(PALETTE)]
        record = {"id": f"instruct{index:04d}", "conversations": []}
        if kind == "image":
            record["image"] = f"images/instruct{index:04d}.png"
            Image.fromarray(np.full((48, 64, 3), colour, dtype=np.uint8)).save(media / record["image"])
            question = "<image>\nWhat colour fills this picture?"
        elif kind == "video":
            record["video"] = f"videos/instruct{index:04d}.mp4"
            write_scene_video(media / record["video"], seconds_per_scene=1, colours=[colour, PALETTE[index % 5 + 1]])
            question = "<video>\nDescribe what happens in this video."
        else:
            question = f"Give me one tip about {TOPICS[index % len(TOPICS)]}."
        record["conversations"] = [
            {"from": "human", "value": question},
            {"from": "gpt", "value": f"It shows colour {colour}, answer number {index}."},
        ]
        records.append(record)
    return records


def training_samples(video_path: Path, image_path: Path) -> list[dict]:
    """Two behaviour-style chat samples, one about a video and one about an image (for tests and smoke runs)."""
    video_turn = [
        {"type": "text", "text": 'The video is titled "Colour cuts". What percentage of viewers would like it?'},
        {"type": "video", "path": str(video_path)},
    ]
    image_turn = [{"type": "image", "path": str(image_path)}, {"type": "text", "text": "What would people comment?"}]
    return [
        {"messages": [
            {"role": "user", "content": video_turn},
            {"role": "assistant", "content": [{"type": "text", "text": "The video will be liked by 2.5% of viewers."}]},
        ]},
        {"messages": [
            {"role": "user", "content": image_turn},
            {"role": "assistant", "content": [{"type": "text", "text": '1. "so cool"'}]},
        ]},
    ]  # fmt: skip


def write_salicon(root: Path, num_images: int = 6, height: int = 48, width: int = 64) -> dict[str, str]:
    """SALICON-style fixations (COCO layout, 1-based [row, col] points) and COCO instance polygons for a few images,
    so that the salicon_object and salicon_region configs build; returns the build-blift arguments."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images, fixations, instances = [], [], []
    for index in range(num_images):
        name = f"COCO_tiny_{index:04d}.png"
        Image.fromarray(np.full((height, width, 3), PALETTE[index % len(PALETTE)], dtype=np.uint8)).save(root / name)
        images.append({"id": index + 1, "file_name": name, "height": height, "width": width})
        centre = ((index % 3 + 0.5) * height / 3, (index // 3 % 3 + 0.5) * width / 3)
        points = np.clip(rng.normal(centre, 3, size=(30, 2)).round(), 1, (height, width)).astype(int)
        fixations.append({"image_id": index + 1, "worker_id": 1, "fixations": points.tolist()})
        for category, (x, y) in ((1, (4, 4)), (2, (width - 20, height - 20))):
            polygon = [x, y, x + 16, y, x + 16, y + 16, x, y + 16]
            instances.append({"image_id": index + 1, "category_id": category, "segmentation": [polygon]})
    (root / "fixations.json").write_text(json.dumps({"images": images, "annotations": fixations}))
    categories = [{"id": 1, "name": "cup"}, {"id": 2, "name": "dog"}]
    (root / "instances.json").write_text(json.dumps({"categories": categories, "annotations": instances}))
    return {"--salicon-fixations": str(root / "fixations.json"), "--coco-instances": str(root / "instances.json"),
            "--salicon-images": str(root)}  # fmt: skip


def write_tiny_sft_data(root: Path, num_videos: int = 6, num_instruct: int = 6) -> dict[str, Path]:
    """Write model/, blift/ (a real build: every config a shipped recipe trains on), llava/instruct.json (+ media)
    under `root`; returns their paths."""
    from .. import cli
    from ..tiny import build_tiny_model_and_processor

    root = Path(root)
    raw, sidecars = root / "raw" / "youtube", root / "raw" / "sidecars"
    for folder in (raw, sidecars, root / "llava" / "images", root / "llava" / "videos"):
        folder.mkdir(parents=True, exist_ok=True)
    for index in range(num_videos):
        info = youtube_info(index)
        colours = [PALETTE[(index + s) % len(PALETTE)] for s in range(3)]
        write_scene_video(raw / f"{info['id']}.mp4", colours=colours, size=(64 + 8 * index, 48))
        (raw / f"{info['id']}.info.json").write_text(json.dumps(info))
        (sidecars / f"{info['id']}.json").write_text(json.dumps(sidecar(info, colours)))

    salicon = [part for flag, value in write_salicon(root / "raw" / "salicon").items() for part in (flag, value)]
    build = ["build-blift", "-o", str(root / "blift"), "--youtube", str(raw), "--sidecar-dir", str(sidecars), *salicon,
             "--configs", "blift", "blift_no_behavior", "blift_likes", "blift_titles", "blift_comments",
             "salicon_object", "salicon_region"]  # fmt: skip
    if cli.main(build) != 0:
        raise RuntimeError(f"the tiny BLIFT build in {root / 'blift'} failed; see the messages above")

    instruct = root / "llava" / "instruct.json"
    instruct.write_text(json.dumps(instruct_records(root / "llava", num_instruct), indent=1))

    model, processor = build_tiny_model_and_processor(seed=0)
    model.save_pretrained(root / "model")
    processor.save_pretrained(root / "model")
    return {"model": root / "model", "blift": root / "blift", "instruct": instruct, "media_root": root / "llava"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", type=Path, help="folder to write model/, blift/ and llava/ into")


def run(args: argparse.Namespace) -> int:
    paths = write_tiny_sft_data(args.root)
    print("wrote " + ", ".join(f"{name}: {path}" for name, path in paths.items()))
    return 0
