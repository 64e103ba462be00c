"""Ingest: raw records from many sources → canonical samples, rejects with reasons, and a ledger that adds up.

The pipeline is three datatrove steps — read records, adapt them, write samples — so the same steps run in-process
(the default) or on datatrove's executors. A task takes every `world_size`-th source and writes its own shards
(`samples/NNNNN.parquet`, `rejects/NNNNN.parquet`) and ledger part; `ingest()` merges the parts into ledger.json.

Modules: `steps` (read and adapt), `write` (Parquet shards); this one runs the pipeline and merges the ledger.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

import orjson
import pyarrow.parquet as pq
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from curate.adapters import by_name
from curate.ingest.steps import OPENAI_MESSAGES, PARTS_DIR, AdaptRecords, IngestError, ReadRecords, pick_adapter
from curate.ingest.write import WriteSamples
from curate.ledger import Ledger
from curate.readers import DEFAULT_MAX_RECORD_BYTES, Source, resolve_sources, split_jsonl
from curate.schema import DOMAINS

__all__ = ["AdaptRecords", "IngestError", "ReadRecords", "WriteSamples", "build_pipeline", "ingest", "pick_adapter"]

MIN_SPLIT_BYTES = 8 << 20  # a JSONL file is cut into ranges for several tasks only when each gets at least this
OWNED_DIRS = ("samples", "rejects", PARTS_DIR)  # cleared at the start of every run


def build_pipeline(sources: list[Source], domain: str, out_dir: Path, fmt: str = "auto", strict: bool = False,
                   max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES, progress: bool = False,
                   columnar: bool = True) -> list[PipelineStep]:
    """`columnar`: JSONL goes through the columnar OpenAI-messages path where `fmt` allows it (same output)."""
    blocks = columnar and fmt in ("auto", OPENAI_MESSAGES)
    return [ReadRecords(sources, max_record_bytes, progress, blocks), AdaptRecords(domain, out_dir, fmt, strict),
            WriteSamples(out_dir)]


def _refuse_inputs_ingest_clears(sources: list[Source], out_dir: Path) -> None:
    """`ingest RUN/samples --out RUN` would delete its own input before reading it."""
    cleared = [(out_dir / name).resolve() for name in OWNED_DIRS]
    for source in sources:
        if source.kind == "hub":
            continue
        path = Path(source.path).resolve()
        for folder in cleared:
            if path.is_relative_to(folder):
                raise ValueError(f"{source.label}: this input lies inside {folder}, which ingest clears before "
                                 "writing; copy it elsewhere or choose another --out")


def _prepare_out_dir(out_dir: Path) -> None:
    """ingest owns these folders: stale shards from an earlier run with more tasks would otherwise linger."""
    for name in OWNED_DIRS:
        shutil.rmtree(out_dir / name, ignore_errors=True)
    (out_dir / "samples").mkdir(parents=True)


def _run(pipeline: list[PipelineStep], out_dir: Path, tasks: int) -> None:
    if tasks == 1:
        data: DocumentsPipeline = None
        for step in pipeline:
            data = step(data, rank=0, world_size=1)
        for _ in data or ():
            pass
        return
    from datatrove.executor import LocalPipelineExecutor

    LocalPipelineExecutor(pipeline, tasks=tasks, workers=tasks, logging_dir=str(out_dir / "logs"),
                          skip_completed=False).run()


def _relabeled(specs: list[str], labels: list[str]) -> list[Source]:
    """Sources labelled `labels[i]` in place of how `specs[i]` is spelled (a folder's files keep their path inside
    it): labels are hashed into sample ids, so a build passes paths that do not depend on where the data lies."""
    if len(labels) != len(specs):
        raise ValueError(f"labels: {len(labels)} given for {len(specs)} sources")
    out = []
    for spec, label in zip(specs, labels, strict=True):
        for source in resolve_sources([spec]):
            if source.label == spec:
                new = label
            elif source.kind == "saved_dataset":  # a DatasetDict's split: `spec[split]`
                new = label + source.label[len(spec):]
            else:  # a file of a folder
                new = f"{label}/{Path(source.label).relative_to(spec).as_posix()}"
            out.append(dataclasses.replace(source, label=new))
    return out


def ingest(sources: list[str], domain: str, out_dir: Path, fmt: str = "auto", strict: bool = False,
           max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES, workers: int = 1, progress: bool | None = None,
           labels: list[str] | None = None, columnar: bool = True) -> dict:
    """Ingest `sources` into `out_dir` (samples/, rejects/, ledger.json) and return the ledger.

    Raises FileNotFoundError for a missing source and ValueError for a bad domain or format, before anything runs;
    IngestError in strict mode at the first reject. `workers` > 1 splits the sources (and big plain JSONL files, by
    line-aligned byte ranges) across datatrove tasks; each task writes its own shards.
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; known domains: {', '.join(DOMAINS)}")
    if fmt != "auto":
        by_name(fmt)
    if max_record_bytes <= 0:
        raise ValueError(f"max_record_bytes must be positive, got {max_record_bytes}")
    resolved = resolve_sources(sources)
    if labels is not None:
        resolved = _relabeled(sources, labels)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir}: the output must be a folder, and this is a file")
    for spec in sources:
        if Path(spec).is_dir() and out_dir.resolve().is_relative_to(Path(spec).resolve()):
            raise ValueError(f"{out_dir}: the output folder is inside the input folder {spec}, so a later run would "
                             "read its own output back; write it elsewhere")
    _refuse_inputs_ingest_clears(resolved, out_dir)
    _prepare_out_dir(out_dir)
    if workers > 1:  # big plain JSONL files are cut into line-aligned byte ranges, so one file can use all tasks
        resolved_parts = [part for source in resolved for part in split_jsonl(source, workers, MIN_SPLIT_BYTES)]
    else:
        resolved_parts = resolved
    tasks = max(1, min(workers, len(resolved_parts)))
    show_progress = sys.stderr.isatty() if progress is None else progress
    pipeline = build_pipeline(resolved_parts, domain, out_dir, fmt, strict, max_record_bytes, show_progress, columnar)
    try:
        _run(pipeline, out_dir, tasks)
    except BaseException:  # a --strict reject or a crash: no partial shards that no ledger accounts for
        for name in OWNED_DIRS:
            shutil.rmtree(out_dir / name, ignore_errors=True)
        raise

    ledger = Ledger([s.label for s in resolved])
    for part in sorted((out_dir / PARTS_DIR).glob("*.json")):
        ledger.merge(Ledger.load_part(part))
    shutil.rmtree(out_dir / PARTS_DIR)
    summary = ledger.as_dict(domain=domain, format=fmt)
    written = sum(pq.ParquetFile(f).metadata.num_rows for f in (out_dir / "samples").glob("*.parquet"))
    assert written == summary["samples_out"], f"wrote {written} samples, ledger counts {summary['samples_out']}"
    (out_dir / "ledger.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    return summary
