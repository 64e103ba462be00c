"""Ingest throughput against its limit: records/s of `ingest()` vs plain `json.loads` over the same JSONL.

    python -m bench.ingest [--records 200000] [--repeat 3] [--workers 2] [--meta-keys] [--odd 0.02] [--workdir DIR]

The anchor (`json.loads` on every line, nothing else) is measured in the same run on the same file, so the printed
ratio is comparable across machines. Each figure is the best of `--repeat` runs. Target: ratio ≥ 0.3.
Also shown: reading lines alone, the per-record path (`columnar=False`, what every non-JSONL source takes) and
`ingest(workers=N)`, which splits the file across processes. `--meta-keys` gives every record the metadata keys
published sets carry (uuid, license, ...), which the columnar path reads again per record for detection and meta.
`--odd SHARE` gives that share of records a user turn as a list of text parts, a line pyarrow refuses and the
columnar path walks past.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from curate.ingest import ingest
from curate.readers import iter_line_blocks, resolve_sources


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


def write_corpus(path: Path, records: int, meta_keys: bool = False, odd: float = 0.0) -> int:
    rng = random.Random(0)
    with path.open("w") as f:
        for i in range(records):
            record = make_record(rng, i)
            if rng.random() < odd:
                user = record["messages"][1]
                user["content"] = [{"type": "text", "text": user["content"]}]
            if meta_keys:
                record.update(uuid=f"{i:08x}", license="cc-by-4.0", used_in=["nano_v3"], reasoning="on")
            f.write(json.dumps(record) + "\n")
    return path.stat().st_size


def best_of(repeat: int, run: Callable[[], object]) -> float:
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return min(seconds)


def json_loads_all(path: Path) -> int:
    count = 0
    with path.open("rb") as f:
        for line in f:
            json.loads(line)
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--meta-keys", action="store_true", help="records also carry uuid, license, used_in, ...")
    parser.add_argument("--odd", type=float, default=0.0, help="share of records with list content")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cascade-bench-ingest"))
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                        help="also time ingest(workers=N): the file split into line-aligned ranges (1 = skip)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    corpus = args.workdir / "corpus.jsonl"
    size = write_corpus(corpus, args.records, args.meta_keys, args.odd)
    keys = " with metadata keys" if args.meta_keys else ""
    keys += f", {args.odd:.1%} with list content" if args.odd else ""
    print(f"corpus: {args.records:,} records{keys}, {size / 1e6:.1f} MB; best of {args.repeat} runs each")
    [source] = resolve_sources([str(corpus)])
    count = json_loads_all(corpus)

    def run_ingest(out: str, **options: object) -> Callable[[], object]:
        def run() -> None:
            ledger = ingest([str(corpus)], "chat", args.workdir / out, progress=False, **options)
            assert ledger["in"] == count == ledger["kept"], ledger
        return run

    anchor_s = best_of(args.repeat, lambda: json_loads_all(corpus))
    timings = {
        "read lines (chunked, no parsing)": best_of(args.repeat, lambda: sum(1 for _ in iter_line_blocks(source))),
        "ingest(columnar=False): per-record path": best_of(args.repeat, run_ingest("per-record", columnar=False)),
        "ingest(): columnar path": best_of(args.repeat, run_ingest("columnar")),
    }
    if args.workers > 1:
        timings[f"ingest(workers={args.workers}), incl. process start"] = best_of(
            args.repeat, run_ingest("workers", workers=args.workers))
    print(f"{'json.loads (anchor)':<46} {count / anchor_s:>10,.0f} records/s  {anchor_s:6.2f} s")
    for name, seconds in timings.items():
        print(f"{name:<46} {count / seconds:>10,.0f} records/s  {seconds:6.2f} s  {anchor_s / seconds:.2f}x")
    print(f"ratio ingest() / json.loads: {anchor_s / timings['ingest(): columnar path']:.2f}x  (target >= 0.3x)")
    shutil.rmtree(args.workdir)


if __name__ == "__main__":  # datatrove's LocalPipelineExecutor spawns workers that re-import this module
    main()
