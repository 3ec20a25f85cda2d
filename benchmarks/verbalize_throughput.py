"""Decode + scene-detection throughput: ours (key-frame spans decoded on all cores at once, planes shrunk before
colour conversion) vs PySceneDetect's own pipeline, on the same generated 720p H.264 clips in this run.

The peer is `scenedetect.detect(path, ContentDetector())`: `open_video` with the default backend (OpenCV) and
the SceneManager's automatic downscaling to ~256 px. Ours computes the same ContentDetector score and cut rule
on a ~256 px copy of each frame; the script checks that both find the same scenes on every clip and, in an
untimed pass, how far our per-frame scores are from the ones PySceneDetect writes to its stats file.
The sides take turns clip by clip (who goes first rotates); the machine may be shared, so the spread over
passes is printed along with each side's CPU time per frame (all threads), which other jobs disturb less.

The clips last a minute by default, as BLIFT's videos do (the YouTube filter keeps up to 500 s): ours splits a
video at its key frames, and a 10-s clip with a key frame every 2 s leaves 5 spans for the cores to share.

    uv run python benchmarks/verbalize_throughput.py                          # 2 clips x 60 s, 2 passes
    uv run python benchmarks/verbalize_throughput.py --clips 3 --seconds 10 --repeats 3   # short clips
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np
from scenedetect import ContentDetector, detect

from hf_behavior.verbalize.scenes import SceneDetection, detect_scenes, probe_video, scaled_size


def write_clip(path: Path, seconds: float, fps: int, width: int, height: int, shot_seconds: float, seed: int) -> None:
    """H.264 (libx264 veryfast, CRF 23, ~2 Mbit/s at 720p, like a web upload): shots of a slowly panning and
    zooming textured scene with film grain and a moving disc, with a hard cut every ``shot_seconds``."""
    rng = np.random.default_rng(seed)
    frames_per_shot = int(shot_seconds * fps)
    grain = [rng.normal(0, 4.0, (height, width, 1)).astype(np.float32) for _ in range(8)]

    def field(cell: int, amplitude: float, channels: int, interpolation: int = cv2.INTER_CUBIC) -> np.ndarray:
        cells = rng.normal(0, amplitude, (height // cell + 2, width // cell + 2, channels)).astype(np.float32)
        return cv2.resize(cells, (width, height), interpolation=interpolation).reshape(height, width, channels)

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for number in range(int(seconds * fps)):
            step = number % frames_per_shot
            if step == 0:  # a new shot: other colours, other texture, other camera move
                scene = (rng.uniform(40, 215, 3).astype(np.float32) + field(120, 45, 1) + field(160, 20, 3)
                         + field(3, 25, 1, cv2.INTER_LINEAR))
                disc = tuple(int(c) for c in rng.integers(0, 256, 3))
                direction = rng.uniform(-1, 1, 2)
            zoom, (dx, dy) = 1.0 + 0.002 * step, direction * 1.7 * step
            camera = np.array([[zoom, 0, (1 - zoom) * width / 2 + dx], [0, zoom, (1 - zoom) * height / 2 + dy]])
            frame = cv2.warpAffine(scene, camera, (width, height), borderMode=cv2.BORDER_REFLECT) + grain[number % 8]
            frame = np.clip(frame, 0, 255).astype(np.uint8)
            centre = (int(width * (0.2 + 0.6 * step / frames_per_shot)), height // 2)
            cv2.circle(frame, centre, height // 6, disc, -1, lineType=cv2.LINE_AA)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        container.mux(stream.encode())


def ours(path: Path, skip_deblocking: bool = False) -> SceneDetection:
    info = probe_video(path)
    width, height = scaled_size(info.width, info.height, 256)
    return detect_scenes(path, width, height, info.fps, skip_deblocking=skip_deblocking)


def peer(path: Path) -> list[tuple[int, int]]:
    return [(start.frame_num, end.frame_num) for start, end in detect(str(path), ContentDetector())]


def peer_scores(path: Path, num_frames: int) -> np.ndarray:
    """PySceneDetect's per-frame content_val from its stats file (frame 0 has none: 0)."""
    with tempfile.TemporaryDirectory() as folder:
        stats = Path(folder) / "stats.csv"
        detect(str(path), ContentDetector(), stats_file_path=stats)
        with stats.open() as file:
            rows = list(csv.DictReader(file))
    scores = np.zeros(num_frames)
    scores[[int(row["Frame Number"]) - 1 for row in rows]] = [float(row["content_val"]) for row in rows]
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--shot-seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=2, help="timed passes over all clips per side")
    args = parser.parse_args()

    sides = {
        "ours": lambda clip: ours(clip).scenes,
        "ours --skip-deblocking": lambda clip: ours(clip, skip_deblocking=True).scenes,
        "PySceneDetect": peer,
    }
    with tempfile.TemporaryDirectory() as folder:
        clips = [Path(folder) / f"clip{i}.mp4" for i in range(args.clips)]
        for seed, clip in enumerate(clips):
            write_clip(clip, args.seconds, args.fps, 1280, 720, args.shot_seconds, seed)
        megabits = sum(clip.stat().st_size for clip in clips) * 8 / 1e6 / (args.clips * args.seconds)

        detections = {clip: ours(clip) for clip in clips}  # also warms both sides up (imports, codecs)
        undeblocked = {clip: ours(clip, skip_deblocking=True) for clip in clips}
        peer(clips[0])
        frames = sum(detection.num_frames for detection in detections.values())
        wall = {name: [] for name in sides}
        cpu = {name: [] for name in sides}
        scenes = {}
        for repeat in range(args.repeats):
            for name in sides:
                wall[name].append(0.0)
                cpu[name].append(0.0)
            for number, clip in enumerate(clips):  # sides interleaved clip by clip, first one rotating
                names = list(sides)
                for name in names[(repeat + number) % len(names) :] + names[: (repeat + number) % len(names)]:
                    wall_start, cpu_start = time.perf_counter(), time.process_time()
                    scenes[name, clip] = sides[name](clip)
                    wall[name][-1] += time.perf_counter() - wall_start
                    cpu[name][-1] += time.process_time() - cpu_start

        their_scores = {clip: peer_scores(clip, detections[clip].num_frames) for clip in clips}
        differences = {
            name: np.concatenate([np.abs(found[clip].frame_change - their_scores[clip]) for clip in clips])
            for name, found in (("ours", detections), ("--skip-deblocking", undeblocked))
        }
        rate = {name: frames * args.repeats / sum(wall[name]) for name in sides}
        print(f"{args.clips} clips x {args.seconds:g} s of 1280x720 H.264 @ {args.fps} fps ({megabits:.1f} Mbit/s, "
              f"hard cut every {args.shot_seconds:g} s), {args.repeats} timed passes per side")
        for name in sides:
            per_pass = [frames / seconds for seconds in wall[name]]
            print(f"{name:>22}: {rate[name]:6.1f} frames/s (passes {min(per_pass):.0f}-{max(per_pass):.0f}), "
                  f"CPU {1000 * sum(cpu[name]) / (frames * args.repeats):.2f} ms/frame")
        for name in ("ours", "ours --skip-deblocking"):
            ratios = [theirs / mine for mine, theirs in zip(wall[name], wall["PySceneDetect"])]
            cpu_ratio = sum(cpu["PySceneDetect"]) / sum(cpu[name])
            print(f"ratio {name} / PySceneDetect: {rate[name] / rate['PySceneDetect']:.2f}x "
                  f"(passes {min(ratios):.2f}-{max(ratios):.2f}x; CPU time {cpu_ratio:.2f}x) (target >= 1.5x)")
        agree = {name: [scenes[name, clip] == scenes["PySceneDetect", clip] for clip in clips] for name in sides}
        counts = [len(scenes["PySceneDetect", clip]) for clip in clips]
        print(f"identical scene lists: ours {sum(agree['ours'])}/{len(clips)}, --skip-deblocking "
              f"{sum(agree['ours --skip-deblocking'])}/{len(clips)}; scenes per clip {counts}, "
              f"painted {int(args.seconds / args.shot_seconds)}")
        print("|our score - PySceneDetect's| per frame (threshold 27): " + ", ".join(
            f"{name} mean {found.mean():.3f} max {found.max():.3f}" for name, found in differences.items()))
        if not all(all(flags) for flags in agree.values()):
            raise SystemExit("scene lists differ from PySceneDetect's")


if __name__ == "__main__":
    main()
