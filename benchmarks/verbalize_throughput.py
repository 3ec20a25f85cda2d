"""Decode + scene-detection throughput: ours (decord, small frames, batches) vs PySceneDetect's own pipeline.

Both sides run the same ContentDetector (default threshold and minimum scene length) on the same generated
720p clips in this run; the peer is `scenedetect.detect(path, ContentDetector())`, i.e. `open_video` with the
default backend (OpenCV) and the SceneManager's automatic downscaling.

    uv run python benchmarks/verbalize_throughput.py --clips 3 --seconds 10
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from scenedetect import ContentDetector, detect

from hf_behavior.verbalize.scenes import detect_scenes, iter_frame_batches, probe_video, scaled_size


def write_clip(path: Path, seconds: float, fps: int, width: int, height: int, shot_seconds: float, seed: int) -> None:
    """A clip of shots (textured background + a moving disc), hard cut every ``shot_seconds``."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, 3)
    ys, xs = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        frames_per_shot = int(shot_seconds * fps)
        for number in range(int(seconds * fps)):
            if number % frames_per_shot == 0:
                base = (base + rng.integers(80, 177, 3)) % 256  # every channel jumps: an unambiguous cut
                texture = rng.integers(-25, 25, (height // 8, width // 8, 1)).repeat(8, 0).repeat(8, 1)
                colour = rng.integers(0, 256, 3)
            frame = np.clip(base + texture, 0, 255).astype(np.uint8)
            step = number % frames_per_shot
            cx, cy = int(width * (0.2 + 0.6 * step / frames_per_shot)), height // 2
            frame[(xs - cx) ** 2 + (ys - cy) ** 2 < (height // 6) ** 2] = colour
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        container.mux(stream.encode())


def ours(path: Path) -> tuple[int, list[tuple[int, int]]]:
    info = probe_video(path)
    width, height = scaled_size(info.width, info.height, 256)
    detection = detect_scenes(iter_frame_batches(path, width, height, batch_size=64), info.fps)
    return detection.num_frames, detection.scenes


def peer(path: Path) -> tuple[int, list[tuple[int, int]]]:
    scenes = detect(str(path), ContentDetector())
    return scenes[-1][1].frame_num if scenes else 0, [(a.frame_num, b.frame_num) for a, b in scenes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--shot-seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=2, help="alternating timed passes per side")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        clips = [Path(folder) / f"clip{i}.mp4" for i in range(args.clips)]
        for seed, clip in enumerate(clips):
            write_clip(clip, args.seconds, args.fps, 1280, 720, args.shot_seconds, seed)
        ours(clips[0]), peer(clips[0])  # warm both (imports, codec init)
        timings = {"ours": 0.0, "peer": 0.0}
        frames = {"ours": 0, "peer": 0}
        scenes = {}
        for _ in range(args.repeats):
            for name, function in (("ours", ours), ("peer", peer)):
                for clip in clips:
                    started = time.perf_counter()
                    count, found = function(clip)
                    timings[name] += time.perf_counter() - started
                    frames[name] += count
                    scenes[name, clip.name] = found
        rates = {name: frames[name] / timings[name] for name in timings}
        agree = sum(scenes["ours", c.name] == scenes["peer", c.name] for c in clips)
        expected = int(args.seconds / args.shot_seconds)
        print(f"{args.clips} clips x {args.seconds:g} s of 1280x720 @ {args.fps} fps, {args.repeats} passes each")
        print(f"ours (decord 256-wide batches + ContentDetector): {rates['ours']:.1f} frames/s")
        print(f"PySceneDetect detect() (OpenCV backend, auto downscale): {rates['peer']:.1f} frames/s")
        print(f"ratio ours / PySceneDetect: {rates['ours'] / rates['peer']:.2f}x (target >= 1.5x)")
        print(f"identical scene lists on {agree}/{len(clips)} clips; scenes per clip: "
              f"ours {[len(scenes['ours', c.name]) for c in clips]}, "
              f"peer {[len(scenes['peer', c.name]) for c in clips]}, painted {expected}")


if __name__ == "__main__":
    main()
