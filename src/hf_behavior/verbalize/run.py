"""`hf-behavior verbalize`: scene-by-scene verbalization sidecars for a folder of images and videos.

One process:   hf-behavior verbalize --media-dir media/ --out sidecars/ --captioner llava-hf/llava-1.5-7b-hf \
                   --asr openai/whisper-small
Many (GPUs):   accelerate launch -m hf_behavior.verbalize --media-dir ... (same arguments)
Many (CPUs):   accelerate launch --multi_gpu --num_processes 4 -m hf_behavior.verbalize --cpu ...

The media list is split across processes with accelerate's ``split_between_processes``; every media id
gets one ``<out>/<id>.json`` (see the package docstring for the schema), written atomically, and a re-run
only does the ids without a "done" sidecar. A file that cannot be read is recorded as "failed" with its
error; the run goes on and ends with a summary, and exits non-zero when more than ``--max-failure-rate`` of the
media it tried failed. A video's corrupt packets are skipped and counted (``stats.bad_packets``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from tqdm.auto import tqdm

from .keyframes import select_keyframes
from .replay import load_heatmap, replay_per_scene

if TYPE_CHECKING:  # annotations only: the stages' libraries are imported where they run (`verbalize --help` is instant)
    import torch

    from .asr import Transcriber
    from .captions import Captioner
    from .colors import Segmenter


@dataclass
class VisualConfig:
    threshold: float = 27.0
    min_scene_len: int = 15
    max_scene_seconds: float = 10.0
    analysis_width: int = 256
    keyframe_side: int = 672
    decode_workers: int | None = None  # decoders per video at once (None: every core this process may use)
    skip_deblocking: bool = False  # scene detection only; see scenes.open_video_stream


# ---------------------------------------------------------------- files


def discover_media(media_dir: str | Path) -> tuple[list[Path], dict[str, str]]:
    """Image and video files under ``media_dir`` (sorted), and the files skipped with the reason."""
    from .scenes import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

    media, skipped, seen = [], {}, {}
    for path in sorted(Path(media_dir).rglob("*")):
        suffix = path.suffix.lower()
        if not path.is_file() or suffix not in VIDEO_EXTENSIONS | IMAGE_EXTENSIONS:
            continue
        if path.stem in seen:
            skipped[str(path)] = f"duplicate media id {path.stem!r} (already {seen[path.stem].name})"
            continue
        seen[path.stem] = path
        media.append(path)
    return media, skipped


def sidecar_path(out_dir: str | Path, media_id: str) -> Path:
    return Path(out_dir) / f"{media_id}.json"


def is_done(path: Path) -> bool:
    """A sidecar counts only when it parses and says "done" (a failed or unreadable one is redone)."""
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("status") == "done"
    except (OSError, ValueError, AttributeError):
        return False


def write_sidecar(out_dir: str | Path, sidecar: dict) -> Path:
    """Atomic: a reader (or a killed run) sees either the old file or the complete new one."""
    target = sidecar_path(out_dir, sidecar["media_id"])
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(sidecar, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, target)
    return target


# ---------------------------------------------------------------- records and stages


def new_record(path: Path) -> dict:
    from .scenes import IMAGE_EXTENSIONS

    kind = "image" if path.suffix.lower() in IMAGE_EXTENSIONS else "video"
    return {
        "media_id": path.stem, "media_path": str(path.resolve()), "kind": kind, "status": "done", "error": None,
        "duration": None, "asr": None, "scenes": [], "stats": {"frames_decoded": 0, "bad_packets": 0, "seconds": 0.0},
    }


def fail(record: dict, error: BaseException) -> None:
    record["status"] = "failed"
    record["error"] = f"{type(error).__name__}: {error}"


def ok(records: list[dict]) -> list[dict]:
    return [record for record in records if record["status"] == "done"]


def charge(records: list[dict], seconds: float, weights: list[float] | None = None) -> None:
    """Spread a batched stage's time over the records it served."""
    weights = weights or [1.0] * len(records)
    for record, weight in zip(records, weights):
        record["stats"]["seconds"] += seconds * weight / max(sum(weights), 1e-9)


def per_record(stage: Callable[[dict], None], records: list[dict]) -> None:
    """Run a one-record stage on each healthy record; an exception fails that record only."""
    for record in ok(records):
        started = time.perf_counter()
        try:
            stage(record)
        except Exception as error:  # noqa: BLE001 - any bad media file is recorded, not fatal
            fail(record, error)
        record["stats"]["seconds"] += time.perf_counter() - started


def analyse_visual(record: dict, config: VisualConfig) -> None:
    """Scenes with their keyframes (timestamps and PIL images in ``_keyframe_images``)."""
    from .scenes import detect_scenes, probe_video, read_frames, scaled_size

    path = record["media_path"]
    if record["kind"] == "image":
        if Path(path).stat().st_size == 0:
            raise ValueError(f"{path}: file is empty (0 bytes)")
        with Image.open(path) as image:
            picture = image.convert("RGB")
        record["scenes"] = [{"index": 0, "start": 0.0, "end": 0.0, "keyframes": [0.0]}]
        record["_keyframe_images"] = [[picture]]
        record["stats"]["frames_decoded"] = 1
        return
    info = probe_video(path)
    width, height = scaled_size(info.width, info.height, config.analysis_width)
    detection = detect_scenes(path, width, height, info.fps, threshold=config.threshold,
                              min_scene_len=config.min_scene_len, workers=config.decode_workers,
                              skip_deblocking=config.skip_deblocking)
    keyframes = select_keyframes(detection.scenes, detection.frame_change, info.fps, config.max_scene_seconds,
                                 detection.frame_detail)
    side_width = round(info.width * min(1.0, config.keyframe_side / max(info.width, info.height)))
    frames, keyframe_decodes = read_frames(path, detection, [i for indices in keyframes for i in indices],
                                           *scaled_size(info.width, info.height, side_width))
    record["duration"] = round(detection.num_frames / info.fps, 3)
    record["scenes"] = [
        {
            "index": number, "start": round(start / info.fps, 3), "end": round(end / info.fps, 3),
            "keyframes": [round(index / info.fps, 3) for index in indices],
        }
        for number, ((start, end), indices) in enumerate(zip(detection.scenes, keyframes))
    ]
    record["_keyframe_images"] = [[Image.fromarray(frames[index]) for index in indices] for indices in keyframes]
    record["_has_audio"] = info.has_audio
    record["stats"]["frames_decoded"] = detection.num_frames + keyframe_decodes
    record["stats"]["bad_packets"] = detection.bad_packets


def add_colors(records: list[dict], segmenter: Segmenter | None = None) -> None:
    from .colors import describe_colors

    def colors(record: dict) -> None:
        for scene, images in zip(record["scenes"], record["_keyframe_images"]):
            scene.update(describe_colors(images, segmenter(images) if segmenter else None))

    per_record(colors, records)


def add_captions(records: list[dict], captioner: Captioner) -> dict:
    """Caption every keyframe of the healthy records in shared batches; one caption + keywords per scene."""
    from .captions import MAX_KEYWORDS

    served = ok(records)
    images = [image for record in served for scene_images in record["_keyframe_images"] for image in scene_images]
    counts = {"answers": len(images), "unparsed": 0}
    if not images:
        return counts
    started = time.perf_counter()
    try:
        answers = iter(captioner(images))
    except Exception as error:  # noqa: BLE001 - the batch's media are recorded as failed, the run goes on
        for record in served:
            fail(record, error)
        return counts
    charge(served, time.perf_counter() - started, [sum(map(len, r["_keyframe_images"])) for r in served])
    for record in served:
        for scene, scene_images in zip(record["scenes"], record["_keyframe_images"]):
            scene_answers = [next(answers) for _ in scene_images]
            counts["unparsed"] += sum(not answer.parsed for answer in scene_answers)
            captions = list(dict.fromkeys(answer.caption for answer in scene_answers))
            keywords = list(dict.fromkeys(k for answer in scene_answers for k in answer.keywords))
            scene["caption"] = "; ".join(captions)
            scene["keywords"] = keywords[:MAX_KEYWORDS]
    return counts


def add_asr(records: list[dict], transcriber: Transcriber | None) -> None:
    """Whole-media transcript and per-scene text; media without an audio track keep ``asr: null``."""
    from .asr import load_audio, scene_transcripts

    for record in ok(records):
        record["asr"] = None
        for scene in record["scenes"]:
            scene["asr"] = None
    if transcriber is None:
        return

    def audio(record: dict) -> None:
        record["_audio"] = load_audio(record["media_path"]) if record.get("_has_audio") else None

    per_record(audio, records)
    served = [record for record in ok(records) if record.get("_audio") is not None and len(record["_audio"])]
    if not served:
        return
    started = time.perf_counter()
    try:
        outputs = transcriber([record["_audio"] for record in served])
    except Exception as error:  # noqa: BLE001
        for record in served:
            fail(record, error)
        return
    charge(served, time.perf_counter() - started, [len(record["_audio"]) for record in served])
    for record, output in zip(served, outputs):
        record["asr"] = output["text"].strip() or None
        spans = [(scene["start"], scene["end"]) for scene in record["scenes"]]
        for scene, text in zip(record["scenes"], scene_transcripts(output.get("chunks", []), spans, record["duration"])):
            scene["asr"] = text


def add_replay(records: list[dict], info_dir: str | Path | None = None) -> None:
    def replay(record: dict) -> None:
        heatmap = load_heatmap(record["media_path"], info_dir) if record["kind"] == "video" else None
        spans = [(scene["start"], scene["end"]) for scene in record["scenes"]]
        for scene, value in zip(record["scenes"], replay_per_scene(heatmap, spans)):
            scene["replay"] = value

    per_record(replay, records)


SCENE_KEYS = ("index", "start", "end", "keyframes", "caption", "keywords", "foreground_colors",
              "background_colors", "tone", "asr", "replay")


def to_sidecar(record: dict) -> dict:
    """The public record: schema keys only; a failed record carries no half-made scenes."""
    done = record["status"] == "done"
    return {
        "media_id": record["media_id"], "media_path": record["media_path"], "kind": record["kind"],
        "status": record["status"], "error": record["error"], "duration": record["duration"],
        "asr": record["asr"] if done else None,
        "scenes": [{key: scene.get(key) for key in SCENE_KEYS} for scene in record["scenes"]] if done else [],
        "stats": {"frames_decoded": record["stats"]["frames_decoded"], "bad_packets": record["stats"]["bad_packets"],
                  "seconds": round(record["stats"]["seconds"], 3)},
    }


@dataclass
class Models:
    captioner: Captioner
    transcriber: Transcriber | None = None
    segmenter: Segmenter | None = None


def verbalize_batch(paths: list[Path], models: Models, config: VisualConfig, info_dir=None) -> tuple[list[dict], dict]:
    """All stages over a batch of media; model calls are shared across the batch."""
    records = [new_record(path) for path in paths]
    per_record(lambda record: analyse_visual(record, config), records)
    add_colors(records, models.segmenter)
    counts = add_captions(records, models.captioner)
    add_asr(records, models.transcriber)
    add_replay(records, info_dir)
    return [to_sidecar(record) for record in records], counts


# ---------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--media-dir", required=True, help="folder of images/videos (searched recursively)")
    parser.add_argument("--out", required=True, help="folder for the <media_id>.json sidecars")
    parser.add_argument("--captioner", required=True, help="image-text-to-text checkpoint (path or hub id)")
    parser.add_argument("--asr", default=None, help="speech recognition checkpoint (Whisper); none: asr is null")
    parser.add_argument("--segmenter", default=None, help="image-segmentation checkpoint for foreground colours")
    parser.add_argument("--info-dir", default=None, help="where <id>.info.json live (default: beside the media)")
    parser.add_argument("--summary-json", default=None, help="also write the run summary here as JSON")
    parser.add_argument("--threshold", type=float, default=27.0, help="ContentDetector threshold")
    parser.add_argument("--min-scene-len", type=int, default=15, help="minimum scene length in frames")
    parser.add_argument("--max-scene-seconds", type=float, default=10.0, help="one more keyframe per this many s")
    parser.add_argument("--analysis-width", type=int, default=256, help="frame width for scene detection")
    parser.add_argument("--keyframe-side", type=int, default=672, help="longest side of keyframes given to models")
    parser.add_argument("--decode-workers", type=int, default=None,
                        help="video spans decoded at once per process (default: this machine's cores shared "
                             "evenly by the processes on it)")
    parser.add_argument("--skip-deblocking", action="store_true",
                        help="scene detection decodes without the H.264/HEVC deblocking filter: ~13%% less CPU, "
                             "scores off by ~0.2-0.5 (threshold 27); keyframes are decoded in full either way")
    parser.add_argument("--media-batch-size", type=int, default=8, help="media whose model calls are batched together")
    parser.add_argument("--caption-batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=96, help="caption answer length")
    parser.add_argument("--asr-batch-size", type=int, default=8)
    parser.add_argument("--asr-chunk-seconds", type=float, default=30.0)
    parser.add_argument("--asr-max-new-tokens", type=int, default=None)
    parser.add_argument("--language", default=None, help="spoken language for Whisper (default: detected)")
    parser.add_argument("--cpu", action="store_true", help="run on CPU even when an accelerator is present")
    parser.add_argument("--max-failure-rate", type=float, default=0.5,
                        help="exit non-zero when more than this share of the media tried failed (default 0.5)")


def load_models(args: argparse.Namespace, device: torch.device) -> Models:
    import torch

    from .asr import Transcriber
    from .captions import Captioner
    from .colors import Segmenter

    dtype = torch.bfloat16 if device.type == "cuda" else None
    return Models(
        captioner=Captioner(args.captioner, device=device, batch_size=args.caption_batch_size,
                            max_new_tokens=args.max_new_tokens, dtype=dtype),
        transcriber=Transcriber(args.asr, device=device, batch_size=args.asr_batch_size,
                                chunk_length_s=args.asr_chunk_seconds, language=args.language,
                                max_new_tokens=args.asr_max_new_tokens, dtype=dtype) if args.asr else None,
        segmenter=Segmenter(args.segmenter, device=device) if args.segmenter else None,
    )


def format_summary(summary: dict) -> str:
    lines = [
        f"verbalize: {summary['media']} media over {summary['processes']} process(es) in {summary['seconds']:.1f} s"
        f" - done {len(summary['done'])}, already done {len(summary['already_done'])},"
        f" failed {len(summary['failed'])}, skipped {len(summary['skipped'])}",
        f"  throughput: {summary['media_per_second']:.2f} media/s, {summary['frames_per_second']:.1f} frames/s"
        f" ({summary['frames_decoded']} frames decoded)",
        f"  caption answers not parsable as JSON: {summary['unparsed_captions']} of {summary['captions']}"
        " (kept as captions without keywords)",
    ]
    if summary["bad_packets"]:
        lines.append(f"  corrupt packets skipped: {sum(summary['bad_packets'].values())} in "
                     f"{len(summary['bad_packets'])} video(s): " + ", ".join(summary["bad_packets"]))
    if summary["too_many_failures"]:
        lines.insert(0, f"verbalize: FAILED - {len(summary['failed'])} of {len(summary['done']) + len(summary['failed'])}"
                        f" media failed, above --max-failure-rate {summary['max_failure_rate']:.0%}")
    lines += [f"  failed {media_id}: {error}" for media_id, error in summary["failed"].items()]
    lines += [f"  skipped {name}: {reason}" for name, reason in summary["skipped"].items()]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import torch  # here, not at import: `hf-behavior verbalize --help` needs neither torch nor transformers
    from accelerate import PartialState

    if not Path(args.media_dir).is_dir():  # before any process group or model
        raise SystemExit(f"--media-dir {args.media_dir}: no such folder")
    state = PartialState(cpu=args.cpu or not torch.accelerator.is_available())
    try:
        return verbalize_folder(args, state)
    finally:
        # a gloo group left to the interpreter's exit can abort the process ("terminate called without an active
        # exception") after all the work is written, and the launcher then reports the run as failed
        state.destroy_process_group()


def verbalize_folder(args: argparse.Namespace, state) -> int:
    """Each process verbalizes its share of the folder's pending media; the main process prints the summary."""
    from accelerate.utils import gather_object

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    media, skipped = discover_media(args.media_dir)
    if not media:
        raise SystemExit(f"--media-dir {args.media_dir}: no image or video files in it"
                         + (f" ({len(skipped)} skipped)" if skipped else ""))
    already_done = [path.stem for path in media if is_done(sidecar_path(out_dir, path.stem))]
    pending = [path for path in media if path.stem not in set(already_done)]
    state.wait_for_everyone()  # every process has listed the folder before anyone writes to it
    models = load_models(args, state.device)
    local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", state.num_processes))
    decode_workers = args.decode_workers or max(1, len(os.sched_getaffinity(0)) // local_processes)
    config = VisualConfig(args.threshold, args.min_scene_len, args.max_scene_seconds, args.analysis_width,
                          args.keyframe_side, decode_workers, args.skip_deblocking)
    started = time.perf_counter()
    results, counts = [], {"answers": 0, "unparsed": 0}
    with state.split_between_processes(pending) as mine:
        progress = tqdm(total=len(mine), desc=f"verbalize [{state.process_index}]", position=state.process_index,
                        unit="media", disable=not mine)
        for first in range(0, len(mine), args.media_batch_size):
            chunk = mine[first : first + args.media_batch_size]
            sidecars, chunk_counts = verbalize_batch(chunk, models, config, args.info_dir)
            for sidecar in sidecars:
                write_sidecar(out_dir, sidecar)
                results.append((state.process_index, sidecar["media_id"], sidecar["status"], sidecar["error"],
                                sidecar["stats"]["frames_decoded"], sidecar["stats"]["bad_packets"]))
            counts = {key: counts[key] + chunk_counts[key] for key in counts}
            progress.update(len(sidecars))
        progress.close()
    results = gather_object(results)
    all_counts = gather_object([counts])
    seconds = time.perf_counter() - started
    if not state.is_main_process:
        return 0
    frames = sum(result[4] for result in results)
    failed = {media_id: error for _, media_id, status, error, *_ in results if status == "failed"}
    summary = {
        "media": len(media), "processes": state.num_processes, "seconds": round(seconds, 3),
        "done": [media_id for _, media_id, status, *_ in results if status == "done"], "failed": failed,
        "too_many_failures": len(failed) > args.max_failure_rate * len(results),
        "max_failure_rate": args.max_failure_rate,
        "bad_packets": {media_id: bad for _, media_id, _, _, _, bad in results if bad},
        "already_done": already_done, "skipped": skipped,
        "by_process": {rank: [r[1] for r in results if r[0] == rank] for rank in range(state.num_processes)},
        "frames_decoded": frames, "media_per_second": len(results) / max(seconds, 1e-9),
        "frames_per_second": frames / max(seconds, 1e-9),
        "captions": sum(c["answers"] for c in all_counts), "unparsed_captions": sum(c["unparsed"] for c in all_counts),
    }
    print(format_summary(summary), flush=True)
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return 1 if summary["too_many_failures"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hf_behavior.verbalize", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
