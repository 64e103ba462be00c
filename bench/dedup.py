"""Near-duplicate detection: quality on a labelled set and throughput against datatrove's MinHash pipeline.

A generated corpus of base texts plus one variant per base — word edits, adjacent-token swaps or sentence
reorderings, at intensities spread so the variants' true Jaccard (word 5-gram shingles of the normalised text,
what dedup verifies) covers ~0.3-1.0. A variant is a true duplicate iff its Jaccard to its base is >= the
threshold. Both pipelines run in this process on the same texts, one worker each:
  ours      curate.dedup (datatrove signature stage with our shingler, datatrove buckets, verified clusters, drop)
  datatrove MinhashDedupSignature → Buckets → Cluster → Filter, default 14 x 8 config, run directly on JSONL
            (with a plain word tokenizer: its English tokenizer needs spacy)
Prints precision/recall (document level) for both and the throughput ratio datatrove_seconds / our_seconds.
Targets: precision >= 0.97, recall >= 0.95, ratio >= 1.0.

    .venv/bin/python bench/dedup.py [--bases 3000] [--words 300] [--threshold 0.7]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from curate.build import run_plan
from curate.dedup import DedupSettings, dedup_plans, jaccard, shingles
from curate.documents import PlainWordTokenizer
from curate.recipe import ExecutorSettings
from curate.sample_io import write_samples
from curate.schema import Message, Sample

VOCAB = [f"{c}{v}{n}" for c in "bdfgklmnprstvz" for v in "aeiou" for n in range(30)]


def base_text(rng: random.Random, words: int) -> str:
    out, sentence = [], []
    for _ in range(words):
        sentence.append(rng.choice(VOCAB))
        if len(sentence) >= rng.randint(12, 24):
            out.append(" ".join(sentence) + ".")
            sentence = []
    return " ".join(out + ([" ".join(sentence) + "."] if sentence else []))


def variant(rng: random.Random, text: str) -> tuple[str, str]:
    kind = rng.choice(("edit", "swap", "reorder"))
    words = text.split()
    if kind == "edit":
        for i in rng.sample(range(len(words)), rng.randint(1, max(1, len(words) // 12))):
            words[i] = rng.choice(VOCAB)
        return kind, " ".join(words)
    if kind == "swap":
        for i in rng.sample(range(len(words) - 1), rng.randint(1, max(1, len(words) // 15))):
            words[i], words[i + 1] = words[i + 1], words[i]
        return kind, " ".join(words)
    sentences = [s for s in text.split(".") if s.strip()]
    for _ in range(rng.randint(1, max(1, len(sentences) // 2))):
        i, j = rng.randrange(len(sentences)), rng.randrange(len(sentences))
        sentences[i], sentences[j] = sentences[j], sentences[i]
    return kind, ".".join(sentences) + "."


def make_corpus(bases: int, words: int, seed: int) -> tuple[list[tuple[str, str]], dict[str, tuple[str, float, str]]]:
    """[(id, text)] with bases first, and variant id -> (base id, true Jaccard, kind)."""
    rng = random.Random(seed)
    docs, labels = [], {}
    base_docs = [(f"b{i:06d}", base_text(rng, words)) for i in range(bases)]
    variants = []
    for bid, text in base_docs:
        kind, vtext = variant(rng, text)
        vid = f"v{bid[1:]}"
        labels[vid] = (bid, jaccard(shingles(text, 5, "chat"), shingles(vtext, 5, "chat")), kind)
        variants.append((vid, vtext))
    docs = base_docs + variants
    return docs, labels


def write_inputs(docs: list[tuple[str, str]], root: Path, shards: int) -> tuple[list[Path], Path]:
    parquet_files = []
    jsonl_dir = root / "jsonl"
    jsonl_dir.mkdir(parents=True)
    for k in range(shards):
        part = docs[k::shards]
        path = root / "parquet" / f"{k:05d}.parquet"
        write_samples(path, (Sample(i, "chat", "bench", [Message("user", t), Message("assistant", "ok")])
                             for i, t in part))
        parquet_files.append(path)
        with (jsonl_dir / f"{k:05d}.jsonl").open("w") as f:
            for i, t in part:
                f.write(json.dumps({"id": i, "text": t}) + "\n")
    return parquet_files, jsonl_dir


def run_ours(files: list[Path], root: Path, threshold: float) -> tuple[float, set[str]]:
    stage = root / "ours"
    start = time.perf_counter()
    for plan in dedup_plans(files, stage, DedupSettings(threshold=threshold)):
        run_plan(plan, root / "ours_logs", ExecutorSettings(workers=1))
    seconds = time.perf_counter() - start
    removed = {r for f in sorted((stage / "duplicates").glob("*.parquet")) for r in pq.read_table(f)["id"].to_pylist()}
    return seconds, removed


def run_datatrove(jsonl_dir: Path, root: Path, shards: int) -> tuple[float, set[str]]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    config = MinhashConfig(hash_config=HashConfig(precision=64, hash_fc="xxhash"))
    work, logs = root / "dt", root / "dt_logs"
    stages = [
        ([JsonlReader(str(jsonl_dir)), MinhashDedupSignature(f"{work}/sigs", config=config,
                                                             language=PlainWordTokenizer())], shards),
        ([MinhashDedupBuckets(f"{work}/sigs", f"{work}/buckets", config=config)], config.num_buckets),
        ([MinhashDedupCluster(f"{work}/buckets", f"{work}/remove", config=config)], 1),
        ([JsonlReader(str(jsonl_dir)), MinhashDedupFilter(f"{work}/remove",
                                                          exclusion_writer=JsonlWriter(f"{work}/removed")),
          JsonlWriter(f"{work}/kept")], shards),
    ]
    start = time.perf_counter()
    for k, (pipeline, tasks) in enumerate(stages):
        LocalPipelineExecutor(pipeline, tasks=tasks, workers=1, logging_dir=str(logs / str(k))).run()
    seconds = time.perf_counter() - start
    removed = set()
    for f in (work / "removed").glob("*.jsonl.gz"):
        with gzip.open(f, "rt") as fh:
            removed.update(json.loads(line)["id"] for line in fh)
    return seconds, removed


def scores(removed: set[str], labels: dict[str, tuple[str, float, str]], threshold: float) -> dict[str, float]:
    positives = {v for v, (_, j, _) in labels.items() if j >= threshold}
    true_pos = len(removed & positives)
    precision = true_pos / len(removed) if removed else 1.0
    recall = true_pos / len(positives) if positives else 1.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "removed": len(removed),
            "positives": len(positives)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bases", type=int, default=3000)
    parser.add_argument("--words", type=int, default=300)
    parser.add_argument("--threshold", type=float, default=0.7)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import logging

    from loguru import logger

    logger.remove()
    logging.disable(logging.INFO)
    root = Path(tempfile.mkdtemp(prefix="bench-dedup-"))
    try:
        docs, labels = make_corpus(args.bases, args.words, args.seed)
        files, jsonl_dir = write_inputs(docs, root, args.shards)
        jaccards = sorted(j for _, j, _ in labels.values())
        print(f"{len(docs)} documents ({args.bases} bases + variants, ~{args.words} words); variant Jaccard "
              f"min {jaccards[0]:.2f} median {jaccards[len(jaccards) // 2]:.2f} max {jaccards[-1]:.2f}; "
              f"threshold {args.threshold}")
        ours_s, ours_removed = run_ours(files, root, args.threshold)
        dt_s, dt_removed = run_datatrove(jsonl_dir, root, args.shards)
        ours, dt = scores(ours_removed, labels, args.threshold), scores(dt_removed, labels, args.threshold)
        by_kind = {}
        for kind in ("edit", "swap", "reorder"):
            subset = {v: lab for v, lab in labels.items() if lab[2] == kind}
            by_kind[kind] = scores(ours_removed & set(subset) | (ours_removed - set(labels)), subset, args.threshold)
        ratio = dt_s / ours_s
        result = {"ours": {**ours, "seconds": round(ours_s, 2), "docs_per_s": round(len(docs) / ours_s, 1)},
                  "datatrove": {**dt, "seconds": round(dt_s, 2), "docs_per_s": round(len(docs) / dt_s, 1)},
                  "ours_by_kind": by_kind, "throughput_ratio": round(ratio, 2)}
        print(json.dumps(result, indent=2))
        ok = ours["precision"] >= 0.97 and ours["recall"] >= 0.95 and ratio >= 1.0
        print(f"{'PASS' if ok else 'FAIL'}: precision {ours['precision']} (>= 0.97), recall {ours['recall']} "
              f"(>= 0.95), throughput {ratio:.2f}x datatrove (>= 1.0)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
