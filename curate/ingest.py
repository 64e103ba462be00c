"""Ingest: raw records from many sources → canonical samples, rejects with reasons, and a ledger that adds up.

The pipeline is three datatrove steps — read records, adapt them, write samples — so the same steps run in-process
(the default) or on datatrove's executors. A task takes every `world_size`-th source and writes its own shards
(`samples/NNNNN.parquet`, `rejects/NNNNN.parquet`) and ledger part; `ingest()` merges the parts into ledger.json.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from curate.adapters import Adapter, RecordContext, all_adapters, by_name, detect
from curate.adapters.chat.openai_columnar import ADAPTER as OPENAI_MESSAGES
from curate.adapters.chat.openai_columnar import convert_block
from curate.ledger import FileTally, Ledger, RejectWriter
from curate.readers import (
    DEFAULT_MAX_RECORD_BYTES,
    LineBlock,
    Source,
    Unreadable,
    excerpt_of,
    iter_line_blocks,
    iter_records,
    parse_line,
    resolve_sources,
    split_jsonl,
)
from curate.sample_io import BATCH_ROWS, PARQUET_OPTIONS
from curate.schema import DOMAINS, SAMPLE_SCHEMA, Sample, SampleError, check_storable, samples_table, validate

PROGRESS_EVERY = 2048
MIN_SPLIT_BYTES = 8 << 20  # a JSONL file is cut into ranges for several tasks only when each gets at least this
PARTS_DIR = "ledger_parts"
OWNED_DIRS = ("samples", "rejects", PARTS_DIR)  # cleared at the start of every run


class IngestError(ValueError):
    """`--strict` mode: the first reject stops the run, naming file, record and field."""


def _shard_name(rank: int) -> str:
    return f"{rank:05d}.parquet"


class ReadRecords(PipelineStep):
    """Yields one Document per raw record (metadata: its source, number and the record), or, with `blocks`, one
    per block of raw JSONL lines for the columnar path (metadata: its source and the `LineBlock`)."""

    name = "read records"
    type = "📖 - READER"

    def __init__(self, sources: list[Source], max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
                 progress: bool = False, blocks: bool = False):
        super().__init__()
        self.sources = sources
        self.max_record_bytes = max_record_bytes
        self.progress = progress
        self.blocks = blocks

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        mine = self.sources[rank::world_size]
        if not (self.progress and world_size == 1):
            for source in mine:
                yield from self._documents(source)
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns = (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} records"),
                   TimeElapsedColumn())
        with Progress(*columns, transient=True) as bar:
            for source in mine:
                task = bar.add_task(source.label[-60:], total=None)
                count = 0
                for document in self._documents(source):
                    block = document.metadata.get("block")
                    count += len(block.lines) if block is not None else 1
                    if block is not None or count % PROGRESS_EVERY == 0:
                        bar.update(task, completed=count)
                    yield document
                bar.remove_task(task)

    def _documents(self, source: Source) -> DocumentsPipeline:
        """The record travels in metadata; the text is only the (non-empty) id datatrove wants, since dumping every
        record as JSON cost more than parsing it. Rejects get their excerpt from the record itself."""
        if self.blocks and source.kind == "jsonl":
            for item in iter_line_blocks(source, self.max_record_bytes):
                if isinstance(item, LineBlock):
                    ident = f"{source.label}#{item.numbers[0]}+"
                    yield Document(text=ident, id=ident, metadata={"source": source.label, "block": item})
                else:
                    yield self._record_document(source, *item)
            return
        for index, item in iter_records(source, self.max_record_bytes):
            yield self._record_document(source, index, item)

    @staticmethod
    def _record_document(source: Source, index: int, item: Any) -> Document:
        ident = f"{source.label}#{index}"
        return Document(text=ident, id=ident, metadata={"source": source.label, "index": index, "record": item})


class AdaptRecords(PipelineStep):
    """Turns each raw record into validated samples, or into one reject row with a reason code.

    A record converts whole or not at all: if any sample it yields fails validation, the record is rejected. A
    block of JSONL lines goes through the columnar OpenAI-messages path, and the lines it hands back through the
    per-record path; the block's samples come out as one table, in line order.
    """

    name = "adapt to canonical samples"
    type = "🔀 - ADAPT"

    def __init__(self, domain: str, out_dir: Path, fmt: str = "auto", strict: bool = False):
        super().__init__()
        self.domain = domain
        self.out_dir = Path(out_dir)
        self.fmt = fmt
        self.strict = strict

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        forced = None if self.fmt == "auto" else by_name(self.fmt)
        adapters = forced or all_adapters()  # the registry's order, resolved once per task rather than per record
        ledger = Ledger()
        with RejectWriter(self.out_dir / "rejects" / _shard_name(rank)) as rejects:
            for document in data or ():
                meta = document.metadata
                source = meta["source"]
                tally = ledger.file(source)
                if "block" in meta:
                    table = self._adapt_block(source, meta.pop("block"), tally, rejects, adapters)
                    if table.num_rows:
                        yield Document(text=document.id, id=document.id, metadata={"source": source, "table": table})
                    continue
                index = meta["index"]
                for sample in self._adapt_record(source, index, meta.pop("record"), tally, rejects, adapters):
                    # later steps only read the sample; text must just be non-empty for datatrove
                    yield Document(text=sample.id, id=sample.id,
                                   metadata={"source": source, "index": index, "sample": sample})
        ledger.save_part(self.out_dir / PARTS_DIR / f"{rank:05d}.json")

    def _adapt_block(self, source: str, block: LineBlock, tally: FileTally, rejects: RejectWriter,
                     adapters: Adapter | list[Adapter]) -> pa.Table:
        if self.fmt in ("auto", OPENAI_MESSAGES):
            table, taken = convert_block(block, source, self.domain, lambda record: _pick_adapter(record, adapters))
        else:
            table, taken = SAMPLE_SCHEMA.empty_table(), []
        tally.records_in += len(taken)
        tally.kept += len(taken)
        tally.samples_out += len(taken)
        if len(taken) == len(block.lines):
            return table
        positions, samples = list(taken), []
        handed_back = sorted(set(range(len(block.lines))) - set(taken))
        for k in handed_back:
            converted = self._adapt_record(source, block.numbers[k], parse_line(block.lines[k]), tally, rejects,
                                           adapters)
            positions += [k] * len(converted)
            samples += converted
        if not samples:
            return table
        merged = pa.concat_tables([table, samples_table(samples)])
        return merged.take(np.argsort(np.array(positions), kind="stable"))

    def _adapt_record(self, source: str, index: int, record: Any, tally: FileTally, rejects: RejectWriter,
                      adapters: Adapter | list[Adapter]) -> list[Sample]:
        """The record's samples, counted in `tally`; a record that cannot convert is written to `rejects`."""
        tally.records_in += 1
        try:
            samples = self._convert(record, RecordContext(source, index, self.domain), adapters)
        except SampleError as err:
            tally.rejected += 1
            tally.by_reason[err.reason] += 1
            excerpt = err.excerpt if isinstance(err, _UnreadableError) else excerpt_of(record)
            rejects.write(source, index, err.reason, err.field, err.detail, excerpt)
            if self.strict:
                where = f", field {err.field}" if err.field else ""
                raise IngestError(f"{source}: record {index}{where}: {err.detail} [{err.reason}]") from err
            return []
        tally.kept += 1
        tally.samples_out += len(samples)
        return samples

    def _convert(self, record: Any, ctx: RecordContext, adapters: Adapter | list[Adapter]) -> list[Sample]:
        """`adapters` is the one forced by `--format`, or the registry's list to auto-detect from."""
        if isinstance(record, Unreadable):
            raise _UnreadableError(record)
        adapter = None
        try:
            adapter = _pick_adapter(record, adapters)
            samples = list(adapter.convert(record, ctx))
        except SampleError:
            raise
        except Exception as err:  # an adapter bug on odd data must not stop the run; the reject names it
            where = adapter.name if adapter else "detection"
            raise SampleError("adapter_error", f"{where}: {type(err).__name__}: {err}") from err
        if not samples:
            raise SampleError("no_samples", f"{adapter.name} produced no sample from this record")
        for k, sample in enumerate(samples):
            try:
                validate(sample)
                check_storable(sample)
            except SampleError as err:
                prefix = f"samples[{k}]." if len(samples) > 1 else ""
                raise SampleError(err.reason, err.detail, prefix + err.field) from err
        return samples


def _pick_adapter(record: Any, adapters: Adapter | list[Adapter]) -> Adapter:
    if isinstance(adapters, Adapter):
        if not (isinstance(record, dict) and adapters.detect(record)):
            keys = ", ".join(sorted(record)[:12]) if isinstance(record, dict) else type(record).__name__
            raise SampleError("shape_mismatch", f"record does not have the {adapters.name} shape (keys: {keys})")
        return adapters
    if isinstance(record, dict):
        for adapter in adapters:
            if adapter.detect(record):
                return adapter
    return detect(record)  # raises the registry's bad_type / unknown_shape reject


class _UnreadableError(SampleError):
    def __init__(self, unreadable: Unreadable):
        super().__init__(unreadable.reason, unreadable.message)
        self.excerpt = unreadable.excerpt


class WriteSamples(PipelineStep):
    """Canonical samples to `samples/NNNNN.parquet` (one shard per task); documents pass through. Samples and
    block tables are written in row groups of exactly BATCH_ROWS, so the file does not depend on which path
    converted a record. An empty shard is still a valid file with the schema."""

    name = "write samples"
    type = "💽 - WRITER"

    def __init__(self, out_dir: Path):
        super().__init__()
        self.out_dir = Path(out_dir)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        path = self.out_dir / "samples" / _shard_name(rank)
        path.parent.mkdir(parents=True, exist_ok=True)
        samples: list[Sample] = []
        tables: list[pa.Table] = []  # converted, not yet written, in order; `samples` come after them
        buffered = 0
        with _BackgroundWriter(path) as writer:
            for document in data or ():
                table = document.metadata.get("table")
                if table is not None:
                    if samples:
                        tables.append(samples_table(samples))
                        samples = []
                    tables.append(table)
                    buffered += table.num_rows
                else:
                    samples.append(document.metadata["sample"])
                    buffered += 1
                if buffered >= BATCH_ROWS:
                    tables = _write_row_groups(writer, [*tables, samples_table(samples)] if samples else tables)
                    samples, buffered = [], sum(t.num_rows for t in tables)
                yield document
            if samples:
                tables.append(samples_table(samples))
            _write_row_groups(writer, tables, last=True)


class _BackgroundWriter:
    """A ParquetWriter fed by one thread, so encoding a row group overlaps parsing the next block (pyarrow
    releases the GIL in both). Writes keep their order; at most `depth` row groups wait, so memory stays bounded."""

    def __init__(self, path: Path, depth: int = 4):
        self._writer = pq.ParquetWriter(path, SAMPLE_SCHEMA, **PARQUET_OPTIONS)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-samples")
        self._pending: deque[Future] = deque()
        self._depth = depth

    def write_table(self, table: pa.Table) -> None:
        while len(self._pending) >= self._depth:
            self._pending.popleft().result()
        self._pending.append(self._thread.submit(self._writer.write_table, table))

    def __enter__(self) -> _BackgroundWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._thread.shutdown()
            self._writer.close()


def _write_row_groups(writer: _BackgroundWriter, tables: list[pa.Table], last: bool = False) -> list[pa.Table]:
    """Writes every full BATCH_ROWS row group of `tables` (and, when `last`, the rest); returns what is left."""
    if not tables:
        return []
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    while table.num_rows >= BATCH_ROWS or (last and table.num_rows):
        rows = min(BATCH_ROWS, table.num_rows)
        writer.write_table(table.slice(0, rows).combine_chunks())
        table = table.slice(rows)
    return [table] if table.num_rows else []


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
    _run(pipeline, out_dir, tasks)

    ledger = Ledger([s.label for s in resolved])
    for part in sorted((out_dir / PARTS_DIR).glob("*.json")):
        ledger.merge(Ledger.load_part(part))
    shutil.rmtree(out_dir / PARTS_DIR)
    summary = ledger.as_dict(domain=domain, format=fmt)
    written = sum(pq.ParquetFile(f).metadata.num_rows for f in (out_dir / "samples").glob("*.parquet"))
    assert written == summary["samples_out"], f"wrote {written} samples, ledger counts {summary['samples_out']}"
    (out_dir / "ledger.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    return summary
