"""Ingest throughput against its limit: records/s of `ingest()` vs plain `json.loads` over the same JSONL.

    python -m bench.ingest [--records 200000] [--workers 4] [--workdir /tmp/cascade-bench-ingest]

The anchor (`json.loads` on every line, nothing else) is measured in the same run on the same file, so the printed
ratio is comparable across machines. Target: ratio ≥ 0.3.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import time
from pathlib import Path

from curate.ingest import AdaptRecords, ReadRecords, ingest
from curate.readers import iter_records, resolve_sources


def make_record(rng: random.Random, i: int) -> dict:
    """An OpenAI-messages record of realistic size: system, user, reasoning assistant, and sometimes a tool loop."""
    words = [f"w{rng.randrange(5000)}" for _ in range(rng.randrange(60, 160))]
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": f"Problem {i}: " + " ".join(words[:40])},
    ]
    if i % 4 == 0:
        messages += [
            {"role": "assistant", "content": "", "tool_calls": [{
                "id": f"call_{i}", "type": "function",
                "function": {"name": "search", "arguments": json.dumps({"query": " ".join(words[:5])})}}]},
            {"role": "tool", "tool_call_id": f"call_{i}", "content": " ".join(words[5:30])},
        ]
    messages.append({"role": "assistant", "content": "<think>\n" + " ".join(words) + "\n</think>\n" +
                     " ".join(words[:20])})
    return {"messages": messages}


def write_corpus(path: Path, records: int) -> int:
    rng = random.Random(0)
    with path.open("w") as f:
        for i in range(records):
            f.write(json.dumps(make_record(rng, i)) + "\n")
    return path.stat().st_size


def time_json_loads(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    count = 0
    with path.open("rb") as f:
        for line in f:
            json.loads(line)
            count += 1
    return time.perf_counter() - start, count


def time_stages(path: Path, workdir: Path) -> dict[str, float]:
    """Seconds for the pipeline cut after each stage, to show where the time goes."""
    [source] = resolve_sources([str(path)])
    seconds = {}
    start = time.perf_counter()
    for _ in iter_records(source):
        pass
    seconds["read (orjson, bounded lines)"] = time.perf_counter() - start
    for name, steps in (("read → datatrove Documents", [ReadRecords([source])]),
                        ("read + adapt + validate", [ReadRecords([source]), AdaptRecords("chat", workdir / "stages")])):
        start = time.perf_counter()
        data = None
        for step in steps:
            data = step(data)
        for _ in data:
            pass
        seconds[name] = time.perf_counter() - start
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cascade-bench-ingest"))
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                        help="also time ingest(workers=N): the file split into line-aligned ranges (1 = skip)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    corpus = args.workdir / "corpus.jsonl"
    size = write_corpus(corpus, args.records)
    print(f"corpus: {args.records:,} records, {size / 1e6:.1f} MB")

    anchor_s, count = time_json_loads(corpus)
    stages = time_stages(corpus, args.workdir)
    start = time.perf_counter()
    ledger = ingest([str(corpus)], "chat", args.workdir / "out", progress=False)
    ingest_s = time.perf_counter() - start
    assert ledger["in"] == count == ledger["kept"], ledger

    stages["ingest() = read + adapt + write Parquet"] = ingest_s
    start = time.perf_counter()
    ingest([str(corpus)], "chat", args.workdir / "out-forced", fmt="openai_messages", progress=False)
    stages["ingest(fmt='openai_messages'), no detection"] = time.perf_counter() - start
    if args.workers > 1:
        start = time.perf_counter()
        ingest([str(corpus)], "chat", args.workdir / "out-workers", progress=False, workers=args.workers)
        stages[f"ingest(workers={args.workers}), incl. process start"] = time.perf_counter() - start
    anchor_rate = count / anchor_s
    print(f"{'json.loads (anchor)':<46} {anchor_rate:>10,.0f} records/s  {anchor_s:6.2f} s")
    for name, seconds in stages.items():
        print(f"{name:<46} {count / seconds:>10,.0f} records/s  {seconds:6.2f} s  {anchor_s / seconds:.2f}x")
    print(f"ratio ingest() / json.loads: {anchor_s / ingest_s:.2f}x  (target >= 0.3x)")
    shutil.rmtree(args.workdir)


if __name__ == "__main__":  # datatrove's LocalPipelineExecutor spawns workers that re-import this module
    main()
