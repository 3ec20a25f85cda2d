"""Video loading: our decord loader (BehaviorLlavaVideoProcessor) vs transformers' `load_video`, same 720p clips.

    uv run python benchmarks/video_loading.py [--clips 3] [--seconds 10] [--fps 1]

Both sample one frame per second (`--fps`) from the same generated 1280x720 MPEG-4 clips; prints decoded
frames/s for each and the ratio (target >= 2x).
"""

import argparse
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from transformers.video_utils import load_video

from hf_behavior.models.behavior_llava.video_processing_behavior_llava import load_video_frames


def write_720p_clip(path: Path, seconds: int, fps: int = 30, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        base = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)
        for index in range(seconds * fps):
            frame = np.roll(base, shift=index * 8, axis=1)  # moving texture: realistic inter-frame coding
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def measure(load, clips: list[Path]) -> tuple[float, int]:
    start = time.perf_counter()
    frames = sum(load(clip) for clip in clips)
    return frames / (time.perf_counter() - start), frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--fps", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clips = [write_720p_clip(Path(tmp) / f"clip{i}.mp4", args.seconds, seed=i) for i in range(args.clips)]
        ours, ours_frames = measure(lambda clip: len(load_video_frames(clip, fps=args.fps)[0]), clips)
        peer, peer_frames = measure(lambda clip: len(load_video(str(clip), fps=args.fps)[0]), clips)
    print(f"clips: {args.clips} x {args.seconds} s of 1280x720 @ 30 fps, sampling {args.fps} fps")
    print(f"ours (decord, BehaviorLlavaVideoProcessor):  {ours:8.1f} frames/s ({ours_frames} frames)")
    print(f"peer (transformers.video_utils.load_video):  {peer:8.1f} frames/s ({peer_frames} frames)")
    print(f"ratio ours/peer: {ours / peer:.2f}x (target >= 2x)")


if __name__ == "__main__":
    main()
