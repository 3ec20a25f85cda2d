"""BLIFT build throughput: the full `build-blift` pipeline (ingest + filters + TF-IDF dedup + templates + parquet)
against the floor of bare NDJSON decoding (zstd + UTF-8 + json.loads of every line, our reader) of the same dump,
in the same run.

    uv run python benchmarks/build_throughput.py --posts 200000 --num-proc 2

Prints posts/s for both, their ratio (target >= 0.25, and >= 5,000 posts/s on 2 cores), the build's CPU time, and
its peak RSS (largest process) for two dump sizes (target: not growing with the dump size). Each measurement runs in
its own process. The floor is measured before and after the build and the faster of the two is used, so a busy
machine during one of them cannot flatter the ratio. The floor parses with the stdlib's `json.loads`, as it did
before the build moved to orjson; the ratio to our orjson reader decoding the same dump is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hf_behavior.data.reader import iter_json_lines, iter_lines, open_text

WORDS = ("sunset harbour boat camera light colour sky city street dog cat mountain river friend family summer winter "
         "photo picture beautiful amazing stunning old new red blue green golden quiet busy morning night").split()  # fmt: skip
START = 1_546_300_800  # 2019-01-01


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def write_dump(folder: Path, posts: int, comments_per_post: int = 3, seed: int = 0) -> tuple[Path, Path]:
    """r/pics-style submissions and comments (.zst); about 1 in 10 posts is filtered out on the way."""
    rng = random.Random(seed)
    submissions, comments = folder / "RS.zst", folder / "RC.zst"
    with open_text(submissions) as rs, open_text(comments) as rc:
        for i in range(posts):
            post_id = f"b{i:07d}"
            rs.write(json.dumps({
                "id": post_id, "subreddit": "pics", "title": sentence(rng, 8), "author": f"user{rng.randrange(10**5)}",
                "created_utc": START + i * 60, "score": rng.randrange(1, 50_000), "upvote_ratio": 0.8 + rng.random() / 5,
                "over_18": rng.random() < 0.02, "url": f"https://i.redd.it/{post_id}.jpg", "domain": "i.redd.it",
                "num_comments": comments_per_post, "selftext": "",
            }) + "\n")  # fmt: skip
            for j in range(comments_per_post):
                rc.write(json.dumps({
                    "id": f"c{i:07d}{j}", "link_id": f"t3_{post_id}", "body": sentence(rng, rng.randrange(2, 25)),
                    "score": rng.randrange(0, 5000), "author": f"user{rng.randrange(10**5)}", "created_utc": START + i * 60,
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


def child_build(submissions: str, comments: str, out: str, num_proc: int) -> None:
    from hf_behavior.data.export import add_arguments, run

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([
        "-o", out, "--reddit-submissions", submissions, "--reddit-comments", comments, "--allow-url-media",
        "--configs", "blift", "--num-proc", str(num_proc),
    ])  # fmt: skip
    start, cpu = time.perf_counter(), _cpu_seconds()
    code = run(args)
    if code:
        raise SystemExit(f"build-blift exited with {code}")
    print(json.dumps({"seconds": time.perf_counter() - start, "cpu": _cpu_seconds() - cpu}))


def _cpu_seconds() -> float:
    """User + system time of this process and its finished workers."""
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


def measure(*child_args: str) -> tuple[dict, float]:
    """Run this script as a child; its JSON result line and its peak RSS in MiB (largest process of its tree)."""
    proc = subprocess.Popen([sys.executable, __file__, *child_args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"child {child_args[:2]} failed with status {status}")
    return json.loads(output.decode().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--num-proc", type=int, default=2)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "build":
            child_build(*rest[:3], int(rest[3]))
        else:
            (child_decode if kind == "decode" else child_parse)(rest)
        return

    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for posts in (args.posts // 2, args.posts):
            folder = Path(tmp) / f"dump{posts}"
            folder.mkdir()
            rs, rc = write_dump(folder, posts)
            before, _ = measure("--child", "decode", str(rs), str(rc))
            build, rss = measure("--child", "build", str(rs), str(rc), str(folder / "out"), str(args.num_proc))
            after, _ = measure("--child", "decode", str(rs), str(rc))
            parse, _ = measure("--child", "parse", str(rs), str(rc))
            funnel = json.loads((folder / "out" / "funnel.json").read_text())
            floor = posts / min(before["seconds"], after["seconds"])
            full = posts / build["seconds"]
            print(f"dump: {posts:,} posts + {before['lines'] - posts:,} comments (.zst); kept {funnel['kept']['posts']:,} posts")
            print(f"  bare NDJSON decoding (floor): {floor:,.0f} posts/s "
                  f"({before['seconds']:.1f} s before, {after['seconds']:.1f} s after the build; the faster is used)")
            print(f"  full build-blift pipeline:    {full:,.0f} posts/s ({build['seconds']:.1f} s wall, {build['cpu']:.1f} CPU-s, "
                  f"--num-proc {args.num_proc})")
            print(f"  ratio full / floor: {full / floor:.2f} (target >= 0.25; absolute target >= 5,000 posts/s)")
            print(f"  (our reader with orjson, as the build parses: {posts / parse['seconds']:,.0f} posts/s after the build; "
                  f"ratio to it {full * parse['seconds'] / posts:.2f})")
            rows.append((posts, rss))
    for posts, mib in rows:
        print(f"peak RSS of the build (largest process) at {posts:,} posts: {mib:,.0f} MiB")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
