"""`hf-behavior build-blift`: raw Reddit / YouTube / generic dumps -> filtered records -> BLIFT configs as parquet
+ a dataset card, so that `load_dataset("<out>", "<config>")` works offline; `--push-to-hub` uploads the folder.

    hf-behavior build-blift -o blift/ \\
        --reddit-submissions RS_2021-06.zst --reddit-comments RC_2021-06.zst --reddit-media media/reddit \\
        --youtube downloads/youtube --sidecar-dir sidecars/ --num-proc 2

Every input is checked before any work (a missing file or folder, `--num-proc 0`, a filter value of the wrong type:
a usage error, exit 2). A re-run with the same output folder resumes: ingest continues from its last checkpoint,
finished filter shards, finished configs and the rendered tables of configs not yet written are kept; the staged
work of input files that did not change is reused when others were added, removed or changed (a corrected comments
path keeps the submissions staged). It is refused (exit 2) when the filters or other settings differ from the first
run's: `--overwrite` starts over. The work folder (`.work`) is removed after a build that succeeded unless
`--keep-work`.

Exit codes: 0 built; 1 a build that keeps no post, too much bad input (per unit: posts, comments) or a truncated
or corrupt `.zst` (unless `--allow-truncated-inputs`); 2 a usage error.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import multiprocessing
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from functools import cache, partial
from pathlib import Path

from typing import TYPE_CHECKING

from ..resources import resource_path

if TYPE_CHECKING:  # the build's libraries are imported by `run`: `build-blift --help` needs none of them
    from .pipeline import Inputs
    from .report import Funnel

BUILDERS = {name: resource_path(f"dataset_builder/{name}.py") for name in ("blift", "salicon")}
CARD_TEMPLATE = resource_path("model_cards/blift_dataset.md")
BLIFT_CONFIGS = (
    "reddit_images", "reddit_videos", "youtube_videos", "blift", "blift_no_behavior", "blift_likes",
    "blift_titles", "blift_comments", "content_simulation", "behavior_simulation",
)  # fmt: skip
SALICON_CONFIGS = ("salicon_object", "salicon_region")
WORK = ".work"


def _file(text: str) -> str:
    """An argument that must name an existing file (argparse turns the error into a usage error, exit 2)."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: a folder, expected a file")
    return text


def _folder(text: str) -> str:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such folder")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: a file, expected a folder")
    return text


def _file_or_folder(text: str) -> str:
    if not Path(text).exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file or folder")
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of at least 1")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a fraction in [0, 1]")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", required=True, help="output folder (parquet per config + README.md)")
    src = parser.add_argument_group("inputs")
    src.add_argument("--reddit-submissions", nargs="+", default=[], type=_file,
                     help="Pushshift submissions NDJSON (.zst ok)")
    src.add_argument("--reddit-comments", nargs="+", default=[], type=_file, help="Pushshift comments NDJSON (.zst ok)")
    src.add_argument("--reddit-media", nargs="+", default=[], type=_folder,
                     help="folders of downloaded <post id>/<youtube id> media")
    src.add_argument("--youtube", nargs="+", default=[], type=_file_or_folder,
                     help="yt-dlp .info.json files or folders (media beside)")
    src.add_argument("--generic", nargs="+", default=[], type=_file, help="generic JSONL files (docs/generic_jsonl.md)")
    src.add_argument("--sidecar-dir", type=_folder,
                     help="verbalization sidecars <media_id>.json (hf-behavior verbalize)")
    src.add_argument("--brand-channels", type=_file,
                     help="text file, one channel name per line: 'advertisement' wording")
    src.add_argument("--salicon-fixations", type=_file, help="SALICON fixations JSON (salicon_* configs)")
    src.add_argument("--coco-instances", type=_file, help="COCO instances JSON for the SALICON images (salicon_object)")
    src.add_argument("--salicon-images", default=".", type=_folder, help="folder of the SALICON/COCO images")
    flt = parser.add_argument_group("filters")
    flt.add_argument("--filter-config", type=_file,
                     help="YAML: {reddit|youtube|generic: {field: value}} over the paper defaults")
    flt.add_argument("--filter", action="append", default=[], metavar="FAMILY.FIELD=VALUE",
                     help="one override, read as the field's type (lists: comma-separated)")
    flt.add_argument("--allow-url-media", action="store_true", help="keep posts whose media file is missing (URL)")
    run_ = parser.add_argument_group("run")
    run_.add_argument("--configs", nargs="+", choices=BLIFT_CONFIGS + SALICON_CONFIGS, help="default: all with inputs")
    run_.add_argument("--num-proc", type=_positive_int, default=1,
                      help="processes for parsing, filtering and writing parquet")
    run_.add_argument("--max-error-rate", type=_fraction, default=0.05,
                      help="fail when a larger fraction of the posts (or of the comments) is bad input")
    run_.add_argument("--allow-truncated-inputs", action="store_true",
                      help="build from the lines before the cut of a truncated or corrupt .zst (named in the report)")
    run_.add_argument("--overwrite", action="store_true", help="discard a previous (partial) build in --output")
    run_.add_argument("--keep-work", action="store_true",
                      help="keep the work folder (.work: staging, records) after success")
    run_.add_argument("--license", default="other", help="license id for the card (content belongs to its authors)")
    hub = parser.add_argument_group("hub")
    hub.add_argument("--push-to-hub", metavar="REPO_ID", help="upload the folder as a dataset repo")
    hub.add_argument("--private", action="store_true")
    hub.add_argument("--token", help="Hub token (default: the logged-in one)")


@cache
def _load_builder(name: str):
    path = BUILDERS[name]
    if not path.is_file():
        raise FileNotFoundError(f"builder script {path} not found (run from a source checkout of hf-behavior)")
    spec = importlib.util.spec_from_file_location(f"hf_behavior_builder_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # datasets re-imports the builder's module by name
    spec.loader.exec_module(module)
    return module


def done_marker(work: Path, config: str) -> Path:
    """Written when a config's parquet is in place (its row count): a re-run keeps the config."""
    return work / "done" / f"{config}.json"


def info_dir(work: Path, config: str) -> Path:
    """A built config's `dataset_info` (features, sizes), which the card carries."""
    return work / "done" / config


def build_config(builder_cls, config: str, out: Path, work: Path, num_proc: int, shards: int, **config_kwargs) -> int:
    """Run one builder config into `out/<config>/train-*.parquet`; returns its row count (0: folder removed)."""
    marker = done_marker(work, config)
    if marker.is_file():
        return json.loads(marker.read_text())["rows"]
    build_dir = work / "builds" / config
    shutil.rmtree(build_dir, ignore_errors=True)
    builder = builder_cls(config_name=config, cache_dir=str(work / "cache"), **config_kwargs)
    workers = min(num_proc, shards) if num_proc > 1 and shards > 1 else None
    builder.download_and_prepare(
        output_dir=str(build_dir), file_format="parquet", num_proc=workers, download_mode="force_redownload"
    )
    rows = builder.info.splits["train"].num_examples if builder.info.splits else 0
    info_dir(work, config).mkdir(parents=True, exist_ok=True)
    builder.info.write_to_directory(str(info_dir(work, config)))
    target = out / config
    shutil.rmtree(target, ignore_errors=True)
    if rows:
        target.mkdir(parents=True)
        files = sorted(build_dir.glob("*.parquet"))
        for i, path in enumerate(files):
            shutil.move(path, target / f"train-{i:05d}-of-{len(files):05d}.parquet")
    shutil.rmtree(build_dir, ignore_errors=True)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"rows": rows}))
    return rows


def _build_blift_configs(
    configs: list[str], out: Path, work: Path, num_proc: int, shards: list[str], rendering: dict
) -> dict[str, int]:
    """`build_config` of BLIFT configs: with `num_proc` > 1, several at once, in one process each (a config's own
    build in `num_proc` processes starts a pool and has a serial start and end: two cores were 1.6 busy); else one
    after another. Their row counts."""
    build = partial(build_config, _load_builder("blift").Blift, out=out, work=work, shards=len(shards),
                    record_files=shards, **rendering)  # fmt: skip
    if num_proc == 1 or len(configs) == 1:
        return {config: build(config, num_proc=num_proc) for config in configs}
    from datasets import disable_progress_bars  # the processes' bars would overwrite each other: one bar here
    from tqdm.auto import tqdm

    from .pipeline import processes

    with processes(min(num_proc, len(configs)), disable_progress_bars) as pool:
        counts = pool.map(partial(build, num_proc=1), configs)
        counts = list(tqdm(counts, total=len(configs), desc="writing configs", unit=" configs"))
    return dict(zip(configs, counts))


SETTINGS_SHOWN = {  # the filter settings the card states, as a reader of the paper looks for them
    "subreddits": "subreddits", "min_date": "posted from", "languages": "languages", "min_views": "views above",
    "excluded_categories": "excluded categories", "max_duration": "longest video (s)",
    "min_comments": "comments at least", "top_k_comments": "top comments",
    "min_comment_words": "comment words at least", "max_comment_words": "comment words at most",
    "max_comment_chars": "comment characters at most",
    "tfidf_threshold": "TF-IDF dedup", "require_media": "media required",
}  # fmt: skip


def settings_table(filters: dict[str, dict]) -> str:
    """The build's filter settings as a Markdown table, one column per source family ("none": the filter is off)."""
    families = list(filters)
    lines = ["| setting | " + " | ".join(families) + " |", "|---|" + "---|" * len(families)]
    for name, label in SETTINGS_SHOWN.items():
        values = [filters[family].get(name) for family in families]
        shown = [_setting_text(value) for value in values]
        lines.append(f"| {label} | " + " | ".join(shown) + " |")
    return "\n".join(lines)


def _setting_text(value) -> str:
    if isinstance(value, list):
        return ", ".join(value)
    return "none" if value is None else f"{value:,}" if type(value) is int else str(value)


def write_card(
    out: Path, rows: dict[str, int], funnel: Funnel | None, license_id: str, descriptions: dict,
    filters: dict[str, dict] | None = None,
) -> None:  # fmt: skip
    """README.md: `configs:` YAML (what `load_dataset` reads), row counts, the funnel, the filter settings used,
    licence and ethics."""
    from datasets.info import DatasetInfo, DatasetInfosDict
    from huggingface_hub import DatasetCard, DatasetCardData

    built = [name for name, n in rows.items() if n]
    info_dirs = {name: info_dir(out / WORK, name) for name in built}
    card_data = DatasetCardData(
        language="en",
        license=license_id,
        pretty_name="BLIFT (Behavior-LLaVA instruction fine-tuning)",
        task_categories=["image-text-to-text", "video-text-to-text"],
        tags=["behavior", "receiver-behavior", "likes", "comments", "replay-graph", "hf-behavior"],
        configs=[{"config_name": n, "data_files": [{"split": "train", "path": f"{n}/train-*.parquet"}]} for n in built],
    )
    # `dataset_info` (features, split sizes) also keys `load_dataset`'s cache of a local folder: without it, two
    # builds into folders of the same name shared one cache entry, and loading the second returned the first's rows
    infos = {name: DatasetInfo.from_directory(str(path)) for name, path in info_dirs.items() if path.is_dir()}
    DatasetInfosDict(infos).to_dataset_card_data(card_data)
    table = "\n".join(f"| `{n}` | {rows[n]:,} | {descriptions.get(n, '')} |" for n in rows)
    card = DatasetCard.from_template(
        card_data,
        template_path=str(CARD_TEMPLATE),
        config_table="| config | rows | content |\n|---|---:|---|\n" + table,
        funnel_table=funnel.table() if funnel else "(no raw dumps in this build)",
        funnel_plot="funnel.png" if funnel else None,
        settings_table=settings_table(filters) if filters else "(no raw dumps in this build)",
        first_config=built[0] if built else "blift",
    )
    card.save(out / "README.md")


def push_to_hub(out: Path, repo_id: str, private: bool = False, token: str | None = None) -> str:
    """Create the dataset repo if needed and upload the folder (work files left out); returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    commit = api.upload_folder(
        repo_id=repo_id, repo_type="dataset", folder_path=str(out), ignore_patterns=[f"{WORK}/**"],
        commit_message="Upload BLIFT built with hf-behavior build-blift",
    )  # fmt: skip
    return commit.commit_url


def _plot_in_background(funnel: Funnel, path: Path) -> multiprocessing.Process:
    """Draw the funnel's plot in a forked process: matplotlib's import and drawing take a second of one core, which
    is free while the configs are written."""
    process = multiprocessing.get_context("fork").Process(target=funnel.plot, args=(path,), name=f"plot {path}")
    process.start()
    return process


def _wait(process: multiprocessing.Process) -> None:
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"{process.name} failed (exit code {process.exitcode}; its traceback is above)")


def _settings(args, inputs: Inputs, filter_configs) -> dict:
    """What a resumed build must share with the first run. The input files are not here: ingest keeps the staged
    work of those that did not change (`pipeline.ingest`)."""
    files = ("reddit_submissions", "reddit_comments", "youtube", "generic")
    return {"inputs": {k: v for k, v in asdict(inputs).items() if k not in files},
            "filters": {k: asdict(v) for k, v in filter_configs.items()},
            "salicon": [args.salicon_fixations, args.coco_instances, args.salicon_images]}  # fmt: skip


def _usage_error(message: str) -> int:
    print(f"hf-behavior build-blift: error: {message}", file=sys.stderr)
    return 2


def run(args) -> int:
    # What is allocated before the build (torch, transformers, datasets, ... imported with the package) outlives
    # it: keep the cyclic collector off it, here and in the forked workers, whose full collections otherwise
    # walked it for about a third of their time (and unshared its pages). The build allocates millions of
    # short-lived dicts and lists with no cycles: a young collection every 10,000 allocations rather than 700
    # saves ~5% of its CPU and still bounds the garbage held.
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(10_000, *thresholds[1:])
    # Arrow's buffers from the C library's allocator: pyarrow's default, mimalloc, gave a filtering process's freed
    # memory back to the system after each shard and faulted it in again for the next (41k -> 17k page faults over
    # 8 shards; the 200k benchmark's system time 2.5-2.9 -> 2.15-2.2 s). The processes inherit it.
    import pyarrow as pa

    arrow_pool = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        return _run(args)
    finally:
        pa.set_memory_pool(arrow_pool)
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _run(args) -> int:
    from . import pipeline
    from .filters import load_filter_configs

    out = Path(args.output)
    work = out / WORK
    has_raw = bool(args.reddit_submissions or args.youtube or args.generic)
    if args.reddit_comments and not args.reddit_submissions:
        return _usage_error("--reddit-comments without --reddit-submissions: the comments' posts are in those")
    if not has_raw and not args.salicon_fixations:
        return _usage_error("no inputs: give --reddit-submissions, --youtube, --generic or --salicon-fixations")
    if out.exists() and not out.is_dir():
        return _usage_error(f"--output {out}: a file, expected a folder")
    configs = args.configs or ((BLIFT_CONFIGS if has_raw else ()) + (SALICON_CONFIGS if args.salicon_fixations else ()))
    for config in configs:
        if config in SALICON_CONFIGS and not args.salicon_fixations:
            return _usage_error(f"{config} needs --salicon-fixations")
        if config in BLIFT_CONFIGS and not has_raw:
            return _usage_error(f"{config} needs raw dumps (--reddit-submissions, --youtube or --generic)")
    try:
        filter_configs = load_filter_configs(args.filter_config, args.filter)
    except ValueError as err:
        return _usage_error(str(err))
    if args.allow_url_media:
        for cfg in filter_configs.values():
            cfg.require_media = False
    brands = Path(args.brand_channels).read_text().splitlines() if args.brand_channels else []
    inputs = pipeline.Inputs(
        reddit_submissions=args.reddit_submissions, reddit_comments=args.reddit_comments, reddit_media=args.reddit_media,
        youtube=args.youtube, generic=args.generic, sidecar_dir=args.sidecar_dir,
        brand_channels=[b.strip() for b in brands if b.strip()],
    )  # fmt: skip
    if args.overwrite and out.exists():
        shutil.rmtree(out)
    work.mkdir(parents=True, exist_ok=True)
    settings_file, settings = work / "settings.json", _settings(args, inputs, filter_configs)
    previous = json.loads(settings_file.read_text()) if settings_file.is_file() else settings
    if {key: previous.get(key) for key in settings} != settings:
        print(f"build-blift: {out} holds a build of other filters or settings; use --overwrite or another --output",
              file=sys.stderr)  # fmt: skip
        return 2
    settings_file.write_text(json.dumps(settings, indent=1))

    funnel = plotting = render = None
    if has_raw:
        try:
            restaged = pipeline.ingest(inputs, filter_configs, work, args.num_proc, args.allow_truncated_inputs)
        except pipeline.TruncatedInput as err:
            print(f"build-blift: a compressed input ends early: {err}. The posts or comments after the cut are "
                  "missing; pass --allow-truncated-inputs to build from the lines before it.", file=sys.stderr)  # fmt: skip
            return 1
        if restaged:  # the records and tables filtered from the staging before are stale
            for stale in ("records", "rendered", "done"):
                shutil.rmtree(work / stale, ignore_errors=True)
    # the BLIFT configs' tables are rendered as the records are filtered, in its processes, from the records in
    # memory (a shard filtered by an earlier run is rendered by the first config built that lacks its table)
    pending = [c for c in configs if c in BLIFT_CONFIGS and not done_marker(work, c).is_file()]
    rendering = {"rendered_dir": str(work / "rendered"), "render_configs": pending}
    if has_raw:
        # the builder's module imports datasets (~0.3 s of one core) while SQLite builds finalize's comments index on
        # the other: one after the other, they left a core idle for both
        with ThreadPoolExecutor(1) as background:
            indexing = background.submit(pipeline.index_comments, work)
            if pending:
                render = partial(_load_builder("blift").keep_rendered, rendering["rendered_dir"], pending)
            indexing.result()
        funnel = pipeline.ingest_funnel(work).merge(
            pipeline.finalize(work, filter_configs, inputs.sidecar_dir, args.num_proc, render)
        )
        funnel.save(out)
        plotting = _plot_in_background(funnel, out / "funnel.png")
        print(funnel.summary())
        failure = _failure(funnel, args.max_error_rate)
        if failure:
            _wait(plotting)
            print(f"build-blift: {failure}; no config was written. See {out / 'funnel.md'}.", file=sys.stderr)
            for line in funnel.error_examples():
                print(f"  {line}", file=sys.stderr)
            return 1
        for path, (read, why) in funnel.truncated.items():
            print(f"build-blift: warning: {path}: {why}; built from the {read:,} lines before it", file=sys.stderr)

    shards = pipeline.record_shards(work)
    blift = [config for config in configs if config in BLIFT_CONFIGS]
    built = _build_blift_configs(blift, out, work, args.num_proc, shards, rendering) if blift else {}
    descriptions = {config: _load_builder("blift").DESCRIPTIONS[config] for config in blift}
    for config in configs:
        if config in SALICON_CONFIGS:
            module = _load_builder("salicon")
            kwargs = {"fixations": args.salicon_fixations, "instances": args.coco_instances, "image_dir": args.salicon_images}
            built[config] = build_config(module.Salicon, config, out, work, 1, 1, **kwargs)
            descriptions[config] = module.DESCRIPTIONS[config]
        print(f"{config}: {built[config]:,} rows")
    rows = {config: built[config] for config in configs}  # in the order asked, for the card
    shutil.rmtree(work / "rendered", ignore_errors=True)
    if plotting is not None:
        _wait(plotting)
    write_card(out, rows, funnel, args.license, descriptions, settings["filters"] if has_raw else None)
    print(f"wrote {out}/ — load with datasets.load_dataset({str(out)!r}, '<config>')")
    if args.push_to_hub:
        print(f"pushed: {push_to_hub(out, args.push_to_hub, args.private, args.token)}")
    if not args.keep_work:
        shutil.rmtree(work)  # the staging database and records: about 1.6 kB a post
    return 0


def _failure(funnel: Funnel, max_error_rate: float) -> str | None:
    """Why a build whose dumps were read must stop before writing its configs, or None: too much bad input in posts
    or in comments (each unit's own rate), or no post kept."""
    for unit, rate in funnel.error_rates().items():
        if rate > max_error_rate:
            return (f"{rate:.1%} of the {funnel.inputs[unit]:,} {unit} read are bad input (unreadable lines, missing "
                    f"fields or media, failed verbalization), above --max-error-rate {max_error_rate:.1%}")  # fmt: skip
    if funnel.kept("posts") == 0:
        return f"no post was kept of the {funnel.inputs['posts']:,} read (their drop reasons are in the funnel)"
    return None
