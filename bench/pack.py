"""Packing benchmark: plan speed against TRL's whole-set BFD, 5M-sample planning, and flat peak RSS out of core.

    .venv/bin/python bench/pack.py [--samples 200000] [--plan-samples 5000000] [--corpus-tokens 25000000]

1. The same lengths (a 5-domain SFT mix) go to TRL `pack_dataset(strategy="bfd")` with one map batch (the whole
   set) and to `plan_packing`. TRL materialises token lists, so the lengths are scaled to seq_len 4,096 with the same
   ratio to capacity as at 262,144; TRL's default 1,000-row windows are shown for the fill they lose.
2. `plan_packing` on 5M lengths at seq_len 262,144.
3. `pack_tokens` on a corpus of 1× and 4× the tokens, each in a fresh subprocess; peak RSS should not grow.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from packers.plan import lower_bound_rows, plan_packing  # noqa: E402

FULL_SEQ_LEN = 262144
# (domain, share of samples, median length at 262,144, lognormal sigma)
MIX = [
    ("chat", 0.35, 1500, 0.9),
    ("math", 0.25, 6000, 0.8),
    ("code_reasoning", 0.20, 12000, 0.7),
    ("tool_calling", 0.12, 3000, 0.8),
    ("swe_agentic", 0.08, 40000, 0.7),
]


def mix_lengths(n: int, seq_len: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Lengths ≤ seq_len of the 5-domain mix, scaled so their ratio to seq_len is the one they have at 262,144."""
    scale = seq_len / FULL_SEQ_LEN
    domain_of = rng.choice(len(MIX), size=n, p=[share for _, share, _, _ in MIX])
    median = np.array([m for _, _, m, _ in MIX])[domain_of] * scale
    sigma = np.array([s for _, _, _, s in MIX])[domain_of]
    lengths = np.maximum(1, rng.lognormal(np.log(median), sigma).astype(np.int64))
    keep = lengths <= seq_len  # oversize samples would be dropped by one packer and truncated by the other
    return lengths[keep], domain_of[keep]


def bench_vs_trl(n: int, rng: np.random.Generator) -> list[list[str]]:
    from datasets import Dataset, disable_progress_bars
    from trl import data_utils as trl_data_utils
    from trl import pack_dataset

    disable_progress_bars()
    seq_len = 4096
    lengths, _ = mix_lengths(n, seq_len, rng)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int32)
    input_ids = pa.ListArray.from_arrays(pa.array(offsets), pa.array(np.zeros(offsets[-1], dtype=np.int32)))
    dataset = Dataset(pa.table({"input_ids": input_ids}))
    bound = lower_bound_rows(int(lengths.sum()), seq_len)

    start = time.perf_counter()
    trl_whole = pack_dataset(dataset, seq_len, strategy="bfd", map_kwargs={"batch_size": len(dataset)})
    trl_seconds = time.perf_counter() - start
    trl_windowed = pack_dataset(dataset, seq_len, strategy="bfd")  # TRL's default: BFD inside 1,000-row windows
    start = time.perf_counter()
    trl_core_rows = trl_data_utils._pack_bfd(pa.table({"input_ids": input_ids}), seq_len).num_rows
    trl_core_seconds = time.perf_counter() - start
    start = time.perf_counter()
    plan = plan_packing(lengths, seq_len, seed=0)
    ours_seconds = time.perf_counter() - start
    full_lengths, _ = mix_lengths(n, FULL_SEQ_LEN, rng)
    start = time.perf_counter()
    full_plan = plan_packing(full_lengths, FULL_SEQ_LEN, seed=0)
    full_seconds = time.perf_counter() - start

    def row(name, seconds, rows, fill, note):
        shown = f"{seconds:.3f}" if seconds is not None else "-"
        return [name, f"{len(lengths):,}", f"{seq_len:,}", shown, f"{rows:,}", f"{fill:.5f}", note]

    return [
        row("TRL pack_dataset bfd, whole set", trl_seconds, len(trl_whole), bound / len(trl_whole), "anchor"),
        row("TRL pack_dataset bfd, default", None, len(trl_windowed), bound / len(trl_windowed), "1,000-row windows"),
        row(
            "TRL _pack_bfd alone (no datasets.map)",
            trl_core_seconds,
            trl_core_rows,
            bound / trl_core_rows,
            f"its segment-tree loop; cascade is {trl_core_seconds / ours_seconds:.0f}× faster",
        ),
        row(
            "cascade plan_packing",
            ours_seconds,
            plan.num_rows,
            plan.fill_vs_lower_bound,
            f"[bold]{trl_seconds / ours_seconds:.0f}× faster[/bold] (target ≥ 20×)",
        ),
        [
            "cascade plan_packing, unscaled",
            f"{len(full_lengths):,}",
            f"{FULL_SEQ_LEN:,}",
            f"{full_seconds:.3f}",
            f"{full_plan.num_rows:,}",
            f"{full_plan.fill_vs_lower_bound:.5f}",
            "same mix at 262,144",
        ],
    ]


def bench_plan_5m(n: int, rng: np.random.Generator) -> list[str]:
    lengths, _ = mix_lengths(n, FULL_SEQ_LEN, rng)
    start = time.perf_counter()
    plan = plan_packing(lengths, FULL_SEQ_LEN, seed=0)
    seconds = time.perf_counter() - start
    verdict = "ok" if seconds < 30 and plan.fill_vs_lower_bound >= 0.999 else "MISSED"
    return [
        f"{len(lengths):,}",
        f"{FULL_SEQ_LEN:,}",
        f"{seconds:.2f}",
        f"{plan.num_rows:,}",
        f"{plan.fill_vs_lower_bound:.6f}",
        f"{verdict} (target < 30 s, ≥ 0.999)",
    ]


def write_corpus(directory: Path, total_tokens: int, seq_len: int, rng: np.random.Generator) -> int:
    """Token shards of ~`total_tokens` random ids in the tokenizer's layout, written 2,000 samples a file."""
    directory.mkdir(parents=True)
    written, file_no = 0, 0
    while written < total_tokens:
        lengths, domain_of = mix_lengths(2000, seq_len, rng)
        offsets = pa.array(np.r_[0, np.cumsum(lengths)].astype(np.int32))
        flat = int(lengths.sum())
        table = pa.table(
            {
                "id": [f"f{file_no}-{i}" for i in range(len(lengths))],
                "domain": [MIX[d][0] for d in domain_of],
                "input_ids": pa.ListArray.from_arrays(
                    offsets, pa.array(rng.integers(0, 150_000, flat, dtype=np.int32))
                ),
                "loss_mask": pa.ListArray.from_arrays(offsets, pa.array((rng.random(flat) < 0.6).astype(np.int8))),
                "length": pa.array(lengths.astype(np.int32)),
            }
        )
        pq.write_table(table, directory / f"tokens-{file_no:04d}.parquet", row_group_size=256)
        written += flat
        file_no += 1
    return written


def peak_rss_kib() -> int:
    """This process's peak RSS (VmHWM). Not ru_maxrss: Linux carries that over from the forking parent across exec."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def materialise_child(tokens_dir: str, out_dir: str, seq_len: int) -> None:
    """Runs in a fresh process: pack, then report peak RSS before and after."""
    from packers.pack import pack_tokens

    before = peak_rss_kib()
    start = time.perf_counter()
    stats = pack_tokens(tokens_dir, out_dir, seq_len=seq_len)
    seconds = time.perf_counter() - start
    peak = peak_rss_kib()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_kib": peak,
                "import_kib": before,
                "rows": stats["rows"],
                "tokens": stats["tokens"],
                "fill": stats["fill_vs_lower_bound"],
            }
        )
    )


def bench_materialise(base_tokens: int, seq_len: int, rng: np.random.Generator) -> list[list[str]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-pack-") as tmp:
        for factor in (1, 4):
            tokens_dir = Path(tmp) / f"tokens-{factor}x"
            tokens = write_corpus(tokens_dir, base_tokens * factor, seq_len, rng)
            on_disk = sum(f.stat().st_size for f in tokens_dir.glob("*.parquet"))
            child = subprocess.run(
                [
                    sys.executable,
                    "-P",  # the child imports nothing from bench/ (a script there could shadow a stdlib module)
                    __file__,
                    "--materialise-child",
                    str(tokens_dir),
                    str(Path(tmp) / f"out-{factor}x"),
                    str(seq_len),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(child.stdout.strip().splitlines()[-1])
            rows.append(
                [
                    f"{factor}×",
                    f"{tokens:,}",
                    f"{on_disk / 2**20:,.0f}",
                    f"{result['rows']:,}",
                    f"{result['seconds']:.1f}",
                    f"{result['tokens'] / result['seconds'] / 1e6:.1f}",
                    f"{result['import_kib'] / 1024:,.0f}",
                    f"{result['peak_kib'] / 1024:,.0f}",
                ]
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--plan-samples", type=int, default=5_000_000)
    parser.add_argument("--corpus-tokens", type=int, default=25_000_000, help="tokens of the 1× corpus")
    parser.add_argument("--corpus-seq-len", type=int, default=32768, help="seq_len of the materialising runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--materialise-child", nargs=3, metavar=("TOKENS_DIR", "OUT_DIR", "SEQ_LEN"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.materialise_child:
        tokens_dir, out_dir, seq_len = args.materialise_child
        materialise_child(tokens_dir, out_dir, int(seq_len))
        return

    console = Console(width=150)
    rng = np.random.default_rng(args.seed)

    table = Table(title="1. Planning the same lengths: cascade vs TRL best-fit-decreasing")
    for column in ("packer", "samples", "seq_len", "seconds", "rows", "fill vs ⌈Σ/seq_len⌉", "note"):
        table.add_column(column, justify="left" if column in ("packer", "note") else "right")
    for row in bench_vs_trl(args.samples, rng):
        table.add_row(*row)
    console.print(table)

    table = Table(title="2. Planning 5M lengths")
    for column in ("samples", "seq_len", "seconds", "rows", "fill vs ⌈Σ/seq_len⌉", "verdict"):
        table.add_column(column, justify="right")
    table.add_row(*bench_plan_5m(args.plan_samples, rng))
    console.print(table)

    table = Table(
        title=f"3. Materialising out of core (pack_tokens in a fresh process, seq_len {args.corpus_seq_len:,})"
    )
    for column in (
        "corpus",
        "tokens",
        "input MiB",
        "rows",
        "seconds",
        "M tokens/s",
        "RSS after import MiB",
        "peak RSS MiB",
    ):
        table.add_column(column, justify="right")
    materialised = bench_materialise(args.corpus_tokens, args.corpus_seq_len, rng)
    for row in materialised:
        table.add_row(*row)
    console.print(table)
    peaks = [float(r[-1].replace(",", "")) for r in materialised]
    console.print(
        f"peak RSS 4× / 1×: {peaks[1] / peaks[0]:.2f} (flat ≈ 1.0; the 4× corpus is {materialised[1][2]} MiB on disk)"
    )


if __name__ == "__main__":
    main()
