"""Template shingles: word n-grams that many samples of a domain share, left out of near-duplicate comparison.

SWE and agent prompts embed long fixed templates (task instructions, repository trees) in the first user turn, so
two different issues can share 75-95% of their shingles (measured on the nebius and Agentless samples in
../shared/realdata) — the failure DESIGN §5 describes. For the recipe's `dedup.common_shingles` domains, a first
pass counts in how many samples (a deterministic sample: the first `common_sample` per domain per shard) each
shingle occurs; shingles seen in at least `common_min_docs` of them are template and are dropped before MinHash
and before Jaccard verification. The price: in those domains a near-duplicate cluster of `common_min_docs` or
more samples also reads as template (exact copies are still caught by the exact hash).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from curate.dedup.shingles import distinguishing_text, shingles
from curate.documents import sample_of

COUNT_SCHEMA = pa.schema([("scope", pa.string()), ("shingle", pa.uint64()), ("docs", pa.int64())])


class CommonShingleCount(PipelineStep):
    """Per task: document frequency of each shingle over the first samples of each scope of the template domains."""

    type = "🫂 - DEDUP"
    name = "🎯 dedup template shingles"

    def __init__(self, work_dir: str, settings) -> None:  # settings: DedupSettings (import cycle)
        super().__init__()
        self.work_dir, self.settings = work_dir, settings

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> None:
        domains = set(self.settings.common_shingles)
        seen: dict[str, list[np.ndarray]] = {}
        for doc in data:
            sample = sample_of(doc)
            if sample.domain not in domains:
                continue
            scope = self.settings.scope(sample)
            arrays = seen.setdefault(scope, [])
            if len(arrays) < self.settings.common_sample:
                content = distinguishing_text(sample, sample.domain in self.settings.include_answer)
                arrays.append(shingles(content, self.settings.n_grams, scope))
        tables = []
        for scope, arrays in sorted(seen.items()):
            values, counts = np.unique(np.concatenate(arrays), return_counts=True)
            tables.append(pa.table({"scope": pa.array([scope] * len(values)), "shingle": values,
                                    "docs": counts.astype(np.int64)}, schema=COUNT_SCHEMA))
        out = Path(self.work_dir) / "common"
        out.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.concat_tables(tables) if tables else COUNT_SCHEMA.empty_table(),
                       out / f"{rank:05d}.parquet", compression="zstd")


def load_common(work_dir: str | Path, min_docs: int) -> dict[str, np.ndarray]:
    """Scope -> sorted template shingles (document frequency >= min_docs over all tasks' samples)."""
    folder = Path(work_dir) / "common"
    files = sorted(folder.glob("*.parquet"))
    if not files:
        return {}
    table = pa.concat_tables([pq.read_table(f) for f in files])
    out = {}
    for scope in sorted(set(table["scope"].to_pylist())):
        rows = table.filter(pc.equal(table["scope"], scope))
        values, inverse = np.unique(rows["shingle"].to_numpy(), return_inverse=True)
        docs = np.bincount(inverse, weights=rows["docs"].to_numpy())
        out[scope] = values[docs >= min_docs]
    return out


def without(shingle_set: np.ndarray, common: np.ndarray | None) -> np.ndarray:
    return shingle_set if common is None or common.size == 0 else np.setdiff1d(shingle_set, common, assume_unique=True)
