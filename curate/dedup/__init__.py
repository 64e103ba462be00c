"""Exact + near-duplicate removal (DESIGN §5) as four datatrove pipelines; see `steps` for the algorithm."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.dedup.minhash import MinhashDedupBuckets

from curate.dedup.common import CommonShingleCount
from curate.dedup.shingles import distinguishing_text, exact_key, jaccard, shingles
from curate.dedup.steps import KEEP_POLICIES, DedupCluster, DedupSettings, DedupSignature, DuplicateDrop
from curate.documents import SampleShardReader, StageWriter


@dataclass
class PipelinePlan:
    """One datatrove pipeline of a stage: run it with `tasks` tasks, in order, after the previous plan finished."""

    name: str
    pipeline: list[PipelineStep]
    tasks: int


def dedup_plans(in_files: list[Path], stage_dir: Path, settings: DedupSettings) -> list[PipelinePlan]:
    """[template shingle counts (per shard)] → signatures (per shard) → buckets (one task per band) → clusters
    (one task) → drop + write (per shard)."""
    work = str(stage_dir / "work")
    files = [str(f) for f in in_files]
    plans = []
    if settings.near and settings.common_shingles:
        plans.append(PipelinePlan("common", [SampleShardReader(files), CommonShingleCount(work, settings)], len(files)))
    plans.append(PipelinePlan("signatures", [SampleShardReader(files), DedupSignature(work, settings)], len(files)))
    if settings.near:
        config = settings.minhash_config()
        plans.append(PipelinePlan("buckets", [MinhashDedupBuckets(f"{work}/sigs", f"{work}/buckets", config=config)],
                                  settings.num_buckets))
    plans.append(PipelinePlan("clusters", [DedupCluster(work, settings)], 1))
    plans.append(PipelinePlan("drop", [SampleShardReader(files), DuplicateDrop(work), StageWriter(stage_dir)],
                              len(files)))
    return plans


__all__ = ["KEEP_POLICIES", "DedupSettings", "PipelinePlan", "dedup_plans", "distinguishing_text", "exact_key",
           "jaccard", "shingles"]
