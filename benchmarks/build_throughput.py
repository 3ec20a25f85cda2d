"""BLIFT build throughput: the full `build-blift` pipeline (ingest + filters + TF-IDF dedup + templates + parquet)
against the floor of bare NDJSON decoding (zstd + UTF-8 + json.loads of every line, our reader) of the same dump,
in the same run.

    uv run python benchmarks/build_throughput.py --posts 200000 --num-proc 2
    uv run python benchmarks/build_throughput.py --unselected-share 0.9   # most posts of other subreddits, as real dumps
    uv run python benchmarks/build_throughput.py --all-configs   # every BLIFT config, as build-blift does by default
    uv run python benchmarks/build_throughput.py --rounds 3   # floor, build, floor three times: the median ratio
    uv run python benchmarks/build_throughput.py --pushshift-fields   # lines as long as a real dump's

Prints posts/s for both, their ratio (target >= 0.25, and >= 5,000 posts/s on 2 cores), the build's CPU time, and
its peak RSS (largest process) for two dump sizes (target: not growing with the dump size). The build's clock starts
after its libraries are imported (`build-blift` imports them in `run`, no longer at the CLI's start), as it did when
they came with the package: the figures compare with the earlier ones. Each measurement runs in
its own process. The floor is measured before and after the build and the faster of the two is used, so a busy
machine during one of them cannot flatter the ratio. Each measurement prints the share of CPU time the hypervisor
stole meanwhile: on a shared VM it swings from 0 to over 50% within minutes, and a run with much of it is no
measurement of ours; even without it, the floor of one 100k-post dump took 2.0 s before a build and 3.3 s after it,
so `--rounds` repeats the whole measurement and prints each round's ratio and their median. The floor parses with
the stdlib's `json.loads`, as it did before the build moved to orjson; the ratio to our orjson reader decoding the
same dump is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hf_behavior.data.reader import iter_json_lines, iter_lines, open_text

WORDS = ("sunset harbour boat camera light colour sky city street dog cat mountain river friend family summer winter "
         "photo picture beautiful amazing stunning old new red blue green golden quiet busy morning night").split()  # fmt: skip
START = 1_546_300_800  # 2019-01-01
COMMENTS_PER_POST = 3
# the other fields of a 2021 Pushshift line (values typical of r/pics), which the build reads past: with them a
# submission line is ~2.8 KB and a comment ~1 KB, as in the real dumps, instead of ~0.3 KB each
PUSHSHIFT_SUBMISSION = {
    "all_awardings": [], "allow_live_comments": False, "author_flair_css_class": None, "author_flair_richtext": [],
    "author_flair_text": None, "author_flair_type": "text", "author_fullname": "t2_5x8k2l",
    "author_patreon_flair": False, "author_premium": False, "awarders": [], "can_mod_post": False,
    "contest_mode": False, "gildings": {}, "is_crosspostable": True, "is_meta": False, "is_original_content": False,
    "is_reddit_media_domain": True,
    "is_robot_indexable": True, "is_self": False, "is_video": False, "link_flair_background_color": "",
    "link_flair_richtext": [], "link_flair_text_color": "dark", "link_flair_type": "text", "locked": False,
    "media_only": False, "no_follow": False, "num_crossposts": 0, "parent_whitelist_status": "all_ads", "pinned": False,
    "post_hint": "image", "pwls": 6, "removed_by_category": None, "retrieved_on": 1_622_000_000, "send_replies": True,
    "spoiler": False, "stickied": False, "subreddit_id": "t5_2qh0u", "subreddit_subscribers": 29_000_000,
    "subreddit_type": "public",
    "thumbnail": "https://b.thumbs.redditmedia.com/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789.jpg",
    "thumbnail_height": 140, "thumbnail_width": 140, "total_awards_received": 0, "treatment_tags": [],
    "whitelist_status": "all_ads", "wls": 6,
    "preview": {"enabled": True, "images": [{
        "id": "Xy7kP2mQ9rT4vW8zA1bC3dE5fG6hJ0kL", "variants": {},
        "source": {
            "url": "https://preview.redd.it/abcdefghijklmnop.jpg?auto=webp&s=0123456789abcdef0123456789abcdef01234567",
            "width": 3024, "height": 4032,
        },
        "resolutions": [{"url": f"https://preview.redd.it/abcdefghijklmnop.jpg?width={w}&crop=smart&auto=webp"
                                "&s=0123456789abcdef0123456789abcdef01234567", "width": w, "height": w * 4 // 3}
                        for w in (108, 216, 320, 640, 960, 1080)],
    }]},
}  # fmt: skip
PUSHSHIFT_COMMENT = {
    "all_awardings": [], "associated_award": None, "author_flair_background_color": None,
    "author_flair_css_class": None, "author_flair_richtext": [], "author_flair_template_id": None,
    "author_flair_text": None, "author_flair_text_color": None, "author_flair_type": "text",
    "author_fullname": "t2_3j9x1q", "author_patreon_flair": False, "author_premium": False, "awarders": [],
    "collapsed_because_crowd_control": None, "comment_type": None, "controversiality": 0, "distinguished": None,
    "edited": False, "gilded": 0, "gildings": {}, "is_submitter": False, "locked": False, "no_follow": True,
    "retrieved_on": 1_622_000_000, "score_hidden": False, "send_replies": True, "stickied": False,
    "subreddit_id": "t5_2qh0u", "subreddit_name_prefixed": "r/pics", "subreddit_type": "public",
    "top_awarded_type": None, "total_awards_received": 0, "treatment_tags": [],
}  # fmt: skip


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def write_dump(
    folder: Path, posts: int, comments_per_post: int = COMMENTS_PER_POST, seed: int = 0, unselected: float = 0.0,
    pushshift_fields: bool = False,
) -> tuple[Path, Path]:
    """r/pics-style submissions and comments (.zst); about 1 in 10 posts is filtered out on the way. With
    `unselected` > 0, that share of the posts is of r/AskReddit (not selected, as most of a monthly Pushshift dump),
    and every comment names its subreddit, as Pushshift's do. With `pushshift_fields`, every line also carries the
    other fields of a real dump's line (`PUSHSHIFT_SUBMISSION`, `PUSHSHIFT_COMMENT`)."""
    rng = random.Random(seed)
    submissions, comments = folder / "RS.zst", folder / "RC.zst"
    with open_text(submissions) as rs, open_text(comments) as rc:
        for i in range(posts):
            post_id = f"b{i:07d}"
            subreddit = "AskReddit" if unselected and rng.random() < unselected else "pics"
            tagged = {"subreddit": subreddit} if unselected else {}
            rs.write(json.dumps({
                "id": post_id, "subreddit": subreddit, "title": sentence(rng, 8), "author": f"user{rng.randrange(10**5)}",
                "created_utc": START + i * 60, "score": rng.randrange(1, 50_000), "upvote_ratio": 0.8 + rng.random() / 5,
                "over_18": rng.random() < 0.02, "url": f"https://i.redd.it/{post_id}.jpg", "domain": "i.redd.it",
                "num_comments": comments_per_post, "selftext": "", **(PUSHSHIFT_SUBMISSION if pushshift_fields else {}),
            }) + "\n")  # fmt: skip
            for j in range(comments_per_post):
                rc.write(json.dumps({
                    "id": f"c{i:07d}{j}", "link_id": f"t3_{post_id}", "parent_id": f"t3_{post_id}",
                    "body": sentence(rng, rng.randrange(2, 25)),
                    "score": rng.randrange(0, 5000), "author": f"user{rng.randrange(10**5)}", "created_utc": START + i * 60,
                    **tagged, **(PUSHSHIFT_COMMENT if pushshift_fields else {}),
                }) + "\n")  # fmt: skip
    return submissions, comments


def child_decode(files: list[str]) -> None:
    """The floor: our reader's lines (zstd, split), each UTF-8-decoded and parsed by the stdlib's `json.loads`."""
    start = time.perf_counter()
    lines = sum(1 for path in files for _, raw, _ in iter_lines(path) if json.loads(raw.decode("utf-8")) is not None)
    print(json.dumps({"seconds": time.perf_counter() - start, "lines": lines}))


def child_parse(files: list[str]) -> None:
    """For comparison: our reader as the build runs it (`parse_line`: orjson, the stdlib for what it refuses)."""
    start = time.perf_counter()
    lines = sum(1 for path in files for _ in iter_json_lines(path))
    print(json.dumps({"seconds": time.perf_counter() - start, "lines": lines}))


def child_build(submissions: str, comments: str, out: str, num_proc: int, configs: str) -> None:
    from hf_behavior.data import pipeline  # noqa: F401  (the build's libraries, imported before the clock starts)
    from hf_behavior.data.export import add_arguments, run

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([
        "-o", out, "--reddit-submissions", submissions, "--reddit-comments", comments, "--allow-url-media",
        "--num-proc", str(num_proc), *(["--configs", configs] if configs != "all" else []),
    ])  # fmt: skip
    start, cpu = time.perf_counter(), _cpu_seconds()
    code = run(args)
    if code:
        raise SystemExit(f"build-blift exited with {code}")
    print(json.dumps({"seconds": time.perf_counter() - start, "cpu": _cpu_seconds() - cpu}))


def _cpu_seconds() -> float:
    """User + system time of this process and its finished workers."""
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def _cpu_ticks() -> tuple[int, int]:
    """(stolen, all) CPU ticks of this machine so far, from /proc/stat (zeros where there is none)."""
    try:
        ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0, 0
    return (ticks[7] if len(ticks) > 7 else 0), sum(ticks)


def measure(*child_args: str) -> tuple[dict, float]:
    """Run this script as a child; its JSON result line (plus `steal`: the share of the machine's CPU time its
    hypervisor took away meanwhile, which slows a run as much as a load of that share) and its peak RSS in MiB
    (largest process of its tree)."""
    stolen, ticks = _cpu_ticks()
    proc = subprocess.Popen([sys.executable, __file__, *child_args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"child {child_args[:2]} failed with status {status}")
    result = json.loads(output.decode().strip().splitlines()[-1])
    stolen_after, ticks_after = _cpu_ticks()
    result["steal"] = (stolen_after - stolen) / max(ticks_after - ticks, 1)
    return result, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--num-proc", type=int, default=2)
    parser.add_argument("--unselected-share", type=float, default=0.0,
                        help="share of the posts in a subreddit the filters do not select (a real monthly dump: ~0.98); "
                             "the targets are for the default, 0: every post goes through the whole pipeline")  # fmt: skip
    parser.add_argument("--all-configs", action="store_true",
                        help="build every BLIFT config (build-blift's default), not only `blift` (the targets' case)")  # fmt: skip
    parser.add_argument("--pushshift-fields", action="store_true",
                        help="lines of a real dump's size: every other field of a Pushshift line too (the targets "
                             "are for the default, the fields the build reads and no more)")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=1,
                        help="floor, build, floor this many times per dump size: each round's ratio, and the median")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "build":
            child_build(*rest[:3], int(rest[3]), rest[4])
        else:
            (child_decode if kind == "decode" else child_parse)(rest)
        return

    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for posts in (args.posts // 2, args.posts):
            folder = Path(tmp) / f"dump{posts}"
            folder.mkdir()
            rs, rc = write_dump(folder, posts, unselected=args.unselected_share, pushshift_fields=args.pushshift_fields)
            configs = "all" if args.all_configs else "blift"
            print(f"dump: {posts:,} posts + {posts * COMMENTS_PER_POST:,} comments (.zst)")
            ratios, peak, out = [], 0.0, folder / "out"
            for _ in range(args.rounds):
                before, _ = measure("--child", "decode", str(rs), str(rc))
                shutil.rmtree(out, ignore_errors=True)  # else the build resumes the previous round's output
                build, rss = measure("--child", "build", str(rs), str(rc), str(out), str(args.num_proc), configs)
                peak = max(peak, rss)
                after, _ = measure("--child", "decode", str(rs), str(rc))
                floor = posts / min(before["seconds"], after["seconds"])
                full = posts / build["seconds"]
                ratios.append(full / floor)
                print(f"  bare NDJSON decoding (floor): {floor:,.0f} posts/s ({before['seconds']:.1f} s before, "
                      f"{after['seconds']:.1f} s after the build; the faster is used; steal {before['steal']:.0%} / "
                      f"{after['steal']:.0%})")
                print(f"  full build-blift pipeline:    {full:,.0f} posts/s ({build['seconds']:.1f} s wall, "
                      f"{build['cpu']:.1f} CPU-s, --num-proc {args.num_proc}, {configs} config"
                      f"{'s' if args.all_configs else ''}; steal {build['steal']:.0%})")
                print(f"  ratio full / floor: {full / floor:.2f} (target >= 0.25; absolute target >= 5,000 posts/s)")
            funnel = json.loads((out / "funnel.json").read_text())
            parse, _ = measure("--child", "parse", str(rs), str(rc))
            print(f"  kept {funnel['kept']['posts']:,} posts")
            if args.rounds > 1:
                print(f"  ratio over {args.rounds} rounds: median {statistics.median(ratios):.2f} "
                      f"(min {min(ratios):.2f}, max {max(ratios):.2f})")
            print(f"  (our reader with orjson, as the build parses: {posts / parse['seconds']:,.0f} posts/s after the "
                  f"builds; the last build's ratio to it {full * parse['seconds'] / posts:.2f})")
            rows.append((posts, peak))
    for posts, mib in rows:
        print(f"peak RSS of the build (largest process) at {posts:,} posts: {mib:,.0f} MiB")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
