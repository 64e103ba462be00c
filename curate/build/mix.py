"""The mix stage's core: which rows the mix takes (plan_mix) and writing them in order as shards (write_rows)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.recipe import Recipe
from curate.schema import SAMPLE_SCHEMA


def plan_mix(domains: list[str], recipe: Recipe) -> tuple[list[int], dict[str, Any]]:
    """Row indices of the mix (with repeats for upsampling) and the mix ledger entry.

    Per domain: `count` exact, `weight` a share of `mix.total`, `epochs` a multiple of what survived; `cap` bounds
    all three; domains the mix does not name are taken once. Whole copies first, then a seeded sample.
    """
    mix = recipe.mix
    by_domain: dict[str, list[int]] = {}
    for i, d in enumerate(domains):
        by_domain.setdefault(d, []).append(i)
    weights = sum(dm.weight for dm in mix.domains.values() if dm.weight is not None)
    picks: list[int] = []
    per_domain: dict[str, dict[str, int]] = {}
    for d in sorted(by_domain):
        rows, dm = by_domain[d], mix.domains.get(d)
        n = len(rows)
        if dm is None or (dm.count is None and dm.weight is None and dm.epochs is None):
            target = n
        elif dm.count is not None:
            target = dm.count
        elif dm.weight is not None:
            target = round(mix.total * dm.weight / weights) if weights else 0
        else:
            target = round(n * dm.epochs)
        if dm is not None and dm.cap is not None:
            target = min(target, dm.cap)
        copies, rest = divmod(target, n)
        rng = np.random.default_rng([recipe.seed, sorted(by_domain).index(d) + 2])
        chosen = rows * copies + sorted(np.asarray(rows)[rng.choice(n, rest, replace=False)].tolist())
        picks.extend(chosen)
        per_domain[d] = {"available": n, "selected": n if copies else rest, "rows_out": len(chosen)}
    selected = sum(v["selected"] for v in per_domain.values())
    entry = {"in": len(domains), "kept": selected, "dropped": len(domains) - selected, "duplicates": 0,
             "dropped_by_reason": {"mix:not_selected": len(domains) - selected} if len(domains) > selected else {},
             "duplicates_by_kind": {}, "rows_out": len(picks), "per_domain": per_domain,
             "note": "kept counts distinct samples; rows_out includes upsampled copies (same id)"}
    assert entry["in"] == entry["kept"] + entry["dropped"]
    return picks, entry


def write_rows(files: list[Path], rows_in_order: np.ndarray, out_dir: Path, shard_rows: int, spill_dir: Path,
               spill_bytes: int = 64 << 20) -> None:
    """Write input rows (global indices over `files`, repeats allowed) in the given order as shards of
    `shard_rows`, streaming: one pass over the inputs spills each row to its output shard's bucket on disk, then
    each shard (at most `shard_rows` rows) is ordered in memory. Memory does not grow with the corpus."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(spill_dir, ignore_errors=True)
    num_shards = max(1, -(-len(rows_in_order) // shard_rows))
    by_row = np.argsort(rows_in_order, kind="stable")  # occurrences sorted by input row; values = output positions
    sorted_rows = rows_in_order[by_row]
    buffers: dict[int, list[pa.Table]] = {}
    buffered, chunks, offset = 0, 0, 0

    def flush() -> None:
        nonlocal buffered, chunks
        for shard, tables in buffers.items():
            path = spill_dir / f"{shard:05d}" / f"{chunks:05d}.arrow"
            path.parent.mkdir(parents=True, exist_ok=True)
            table = pa.concat_tables(tables)
            with pa.ipc.new_file(path, table.schema) as writer:
                writer.write_table(table)
        buffers.clear()
        buffered, chunks = 0, chunks + 1

    for f in files:
        for batch in pq.ParquetFile(f).iter_batches(batch_size=1024):
            lo, hi = np.searchsorted(sorted_rows, [offset, offset + batch.num_rows])
            if hi > lo:
                positions = by_row[lo:hi]
                taken = pa.Table.from_batches([batch]).take(pa.array(sorted_rows[lo:hi] - offset))
                taken = taken.append_column("_position", pa.array(positions, type=pa.int64()))
                shards = positions // shard_rows
                for shard in np.unique(shards).tolist():
                    part = taken.filter(pa.array(shards == shard))
                    buffers.setdefault(shard, []).append(part)
                    buffered += part.nbytes
                if buffered > spill_bytes:
                    flush()
            offset += batch.num_rows
    for shard in range(num_shards):
        tables = [pa.ipc.open_file(p).read_all() for p in sorted((spill_dir / f"{shard:05d}").glob("*.arrow"))]
        tables += buffers.get(shard, [])
        if tables:
            table = pa.concat_tables(tables).sort_by("_position").drop_columns(["_position"]).combine_chunks()
        else:
            table = SAMPLE_SCHEMA.empty_table()
        pq.write_table(table, out_dir / f"{shard:05d}.parquet", compression="zstd")
    shutil.rmtree(spill_dir, ignore_errors=True)

