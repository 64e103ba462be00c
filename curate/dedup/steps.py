"""Exact and near-duplicate removal as datatrove steps: signatures → buckets → verified clusters → drop.

Signatures and buckets are datatrove's MinHash stages (our signature step only swaps in the fast shingler and
a side table per task); clustering is ours because it (1) merges exact-hash groups, (2) verifies every LSH
candidate by true Jaccard against the sample it would be dropped for, and (3) picks the kept sample by policy
instead of by union-find root. Every duplicate row records its cluster id and the id it duplicates.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
from datatrove.utils.hashing import HashConfig

from curate.dedup.common import load_common, without
from curate.dedup.shingles import distinguishing_text, exact_key, jaccard, shingles
from curate.documents import DUPLICATE_FILTER, PlainWordTokenizer, drop, sample_of
from curate.schema import Sample

KEEP_POLICIES = ("first", "longest", "score")
META_SCHEMA = pa.schema([("idx", pa.int64()), ("id", pa.string()), ("domain", pa.string()), ("scope", pa.string()),
                         ("exact", pa.string()),
                         ("length", pa.int64()), ("score", pa.float64()), ("content", pa.string())])
CLUSTER_SCHEMA = pa.schema([("idx", pa.int64()), ("id", pa.string()), ("domain", pa.string()),
                            ("cluster_id", pa.string()), ("kept_id", pa.string()), ("kind", pa.string()),
                            ("jaccard", pa.float64())])


@dataclass
class DedupSettings:
    exact: bool = True
    near: bool = True
    n_grams: int = 5
    # 20 bands x 5 rows puts the LSH S-curve at ~0.55, so pairs at the 0.7 verification threshold are candidates
    # with p ≈ 0.98; verification removes the extra candidates (datatrove's 14 x 8 finds a 0.75 pair with p ≈ 0.77).
    num_buckets: int = 20
    hashes_per_bucket: int = 5
    threshold: float = 0.7  # true Jaccard of shingle sets at or above which a candidate is a duplicate
    include_answer: list[str] = field(default_factory=list)  # domains whose final answer is distinguishing too
    keep: str = "first"  # first (input order) | longest (rendered chars) | score (meta[score_field], highest)
    score_field: str | None = None
    seed: int = 1
    # Domains whose prompts embed shared templates: shingles common to many samples are ignored (see `common`).
    common_shingles: list[str] = field(
        default_factory=lambda: ["swe_agentic", "swe_agentless", "terminal_agent", "conversational_agent"])
    common_min_docs: int = 4
    common_sample: int = 2000  # samples per scope per shard that the template count reads
    # Samples compare only within their domain and, for domains named here, within equal values of these meta
    # keys (Agentless: one sample per localisation stage of an instance; stages are different tasks).
    scope_keys: dict[str, list[str]] = field(default_factory=lambda: {"swe_agentless": ["stage"]})

    def scope(self, sample: Sample) -> str:
        keys = self.scope_keys.get(sample.domain, [])
        return "\x1f".join([sample.domain, *(f"{k}={sample.meta.get(k)}" for k in keys)])

    def minhash_config(self) -> MinhashConfig:
        return MinhashConfig(n_grams=self.n_grams, num_buckets=self.num_buckets,
                             hashes_per_bucket=self.hashes_per_bucket, seed=self.seed,
                             hash_config=HashConfig(precision=64, hash_fc="xxhash"))


class DedupSignature(MinhashDedupSignature):
    """datatrove's signature stage over the distinguishing content, plus a per-task table for exact keys."""

    name = "🎯 dedup signatures"

    def __init__(self, work_dir: str, settings: DedupSettings):
        super().__init__(f"{work_dir}/sigs", config=settings.minhash_config(), language=PlainWordTokenizer())
        self.work_dir, self.settings = work_dir, settings
        self._common: dict[str, np.ndarray] | None = None

    def get_shingles(self, text: str) -> np.ndarray:
        if self._common is None:
            self._common = load_common(self.work_dir, self.settings.common_min_docs)
        scope, _, content = text.partition("\x00")
        return without(shingles(content, self.settings.n_grams, scope), self._common.get(scope)).reshape(-1, 1)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> None:
        rows: list[dict] = []

        def views() -> DocumentsPipeline:
            for idx, doc in enumerate(data):
                sample = sample_of(doc)
                content = distinguishing_text(sample, sample.domain in self.settings.include_answer)
                score = sample.meta.get(self.settings.score_field) if self.settings.score_field else None
                scope = self.settings.scope(sample)
                rows.append({"idx": idx, "id": sample.id, "domain": sample.domain, "scope": scope,
                             "exact": exact_key(scope, content), "length": len(doc.text),
                             "score": float(score) if isinstance(score, int | float) else math.nan,
                             "content": content})
                yield Document(text=f"{scope}\x00{content}", id=sample.id)

        if self.settings.near:
            super().run(views(), rank, world_size)
        else:
            for _ in views():
                pass
        path = Path(self.work_dir) / "meta" / f"{rank:05d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=META_SCHEMA), path, compression="zstd")


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:
            self.parent[x], x = root, self.parent.get(x, x)
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        self.parent.setdefault(ra, ra)
        self.parent.setdefault(rb, rb)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


class DedupCluster(PipelineStep):
    """One task: exact groups + verified near clusters → `clusters/{rank}.parquet` (members, kept id, Jaccard)."""

    type = "🫂 - DEDUP"
    name = "🎯 dedup clusters"

    def __init__(self, work_dir: str, settings: DedupSettings):
        super().__init__()
        self.work_dir, self.settings = work_dir, settings

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> None:
        assert world_size == 1, "clustering needs the whole corpus in one task"
        work = Path(self.work_dir)
        meta_files = sorted((work / "meta").glob("*.parquet"))
        columns = ["idx", "id", "domain", "scope", "exact", "length", "score"]
        tables = [pq.read_table(f, columns=columns) for f in meta_files]
        ranks = [int(f.stem) for f in meta_files]
        # A global node number per document, in input order (shard rank, then position): "first" means lowest.
        offsets = np.cumsum([0] + [t.num_rows for t in tables])
        meta = pa.concat_tables(tables).to_pydict() if tables else {k: [] for k in META_SCHEMA.names}
        node_rank = np.repeat(ranks, [t.num_rows for t in tables]).tolist()
        order = self._keep_order(meta)  # node -> sort key, lower is kept

        assigned: dict[int, tuple[int, str, float]] = {}  # duplicate node -> (node it duplicates, kind, jaccard)
        if self.settings.exact:
            groups: dict[str, list[int]] = {}
            for node, key in enumerate(meta["exact"]):
                if key is not None:  # no words to compare (see exact_key): never a duplicate
                    groups.setdefault(key, []).append(node)
            for members in groups.values():
                members.sort(key=order.__getitem__)
                for node in members[1:]:
                    assigned[node] = (members[0], "exact", 1.0)
        if self.settings.near:
            self._near(work, meta, offsets, ranks, order, assigned)

        def final_keeper(node: int) -> int:
            while node in assigned:
                node = assigned[node][0]
            return node

        clusters: dict[int, list[int]] = {}
        for node in assigned:
            clusters.setdefault(final_keeper(node), []).append(node)
        rows_by_rank: dict[int, list[dict]] = {r: [] for r in ranks}
        for number, keeper in enumerate(sorted(clusters, key=order.__getitem__)):
            cluster_id = f"dup{number:07d}"
            for node in [keeper, *sorted(clusters[keeper], key=order.__getitem__)]:
                source, kind, sim = assigned.get(node, (node, "kept", 1.0))
                rows_by_rank[node_rank[node]].append({
                    "idx": node - int(offsets[ranks.index(node_rank[node])]), "id": meta["id"][node],
                    "domain": meta["domain"][node], "cluster_id": cluster_id, "kept_id": meta["id"][keeper],
                    "kind": kind, "jaccard": round(sim, 6)})
        for r, rows in rows_by_rank.items():
            rows.sort(key=lambda row: row["idx"])
            path = work / "clusters" / f"{r:05d}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(rows, schema=CLUSTER_SCHEMA), path, compression="zstd")
            self.stat_update("duplicates", value=sum(row["kind"] != "kept" for row in rows))

    def _keep_order(self, meta: dict) -> list[tuple]:
        policy = self.settings.keep
        if policy == "longest":
            return [(-n, i) for i, n in enumerate(meta["length"])]
        if policy == "score":
            return [(-(s if s == s else -math.inf), i) for i, s in enumerate(meta["score"])]
        return [(i,) for i in range(len(meta["id"]))]

    def _near(self, work: Path, meta: dict, offsets: np.ndarray, ranks: list[int], order: list[tuple],
              assigned: dict[int, tuple[int, str, float]]) -> None:
        """Group LSH candidate pairs into components; in keep order, each member joins the first kept sample it
        truly resembles (Jaccard ≥ threshold, same scope) or becomes a kept sample itself."""
        rank_offset = {r: int(offsets[i]) for i, r in enumerate(ranks)}
        uf = _UnionFind()
        for dups in sorted((work / "buckets").glob("*.dups")):
            raw = dups.read_bytes()
            for f1, d1, f2, d2 in struct.iter_unpack("<4I", raw):
                a, b = rank_offset[f1] + d1, rank_offset[f2] + d2
                a, b = (assigned[a][0] if a in assigned else a), (assigned[b][0] if b in assigned else b)
                uf.union(a, b)
        components: dict[int, list[int]] = {}
        for node in list(uf.parent):
            components.setdefault(uf.find(node), []).append(node)
        candidates = sorted({n for members in components.values() if len(members) > 1 for n in members})
        content = self._load_content(work, ranks, offsets, candidates)
        common = load_common(work, self.settings.common_min_docs)
        n = self.settings.n_grams
        for members in components.values():
            if len(members) < 2:
                continue
            kept: list[tuple[int, np.ndarray]] = []
            for node in sorted(members, key=order.__getitem__):
                scope = meta["scope"][node]
                sh = without(shingles(content[node], n, scope), common.get(scope))
                match = next(((k, sim) for k, ksh in kept if meta["scope"][k] == scope
                              and (sim := jaccard(sh, ksh)) >= self.settings.threshold), None)
                if match is None:
                    kept.append((node, sh))
                else:
                    assigned[node] = (match[0], "near", match[1])
                self.stat_update("verified_candidates")

    @staticmethod
    def _load_content(work: Path, ranks: list[int], offsets: np.ndarray, nodes: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        wanted = np.asarray(nodes, dtype=np.int64)
        for i, r in enumerate(ranks):
            lo, hi = int(offsets[i]), int(offsets[i + 1])
            local = wanted[(wanted >= lo) & (wanted < hi)] - lo
            if local.size:
                column = pq.read_table(work / "meta" / f"{r:05d}.parquet", columns=["content"])["content"]
                for k in local.tolist():
                    out[lo + k] = column[k].as_py()
        return out


class DuplicateDrop(PipelineStep):
    """Marks this task's duplicates (from the cluster step) so the stage writer routes them to `duplicates/`."""

    type = "🫂 - DEDUP"
    name = "🎯 dedup drop"

    def __init__(self, work_dir: str):
        super().__init__()
        self.work_dir = work_dir

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        table = pq.read_table(Path(self.work_dir) / "clusters" / f"{rank:05d}.parquet").to_pylist()
        by_idx = {row["idx"]: row for row in table if row["kind"] != "kept"}
        for idx, doc in enumerate(data):
            row = by_idx.get(idx)
            if row is not None:
                assert row["id"] == doc.id, f"dedup tables out of step with shard {rank}: {row['id']} != {doc.id}"
                drop(doc, "dedup", DUPLICATE_FILTER, f"{row['kind']}_duplicate", f"duplicate of {row['kept_id']}",
                     cluster_id=row["cluster_id"], kept_id=row["kept_id"], jaccard=row["jaccard"])
                self.stat_update(f"{row['kind']}_duplicate")
            yield doc
