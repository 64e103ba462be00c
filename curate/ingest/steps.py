"""The read and adapt steps of ingest: raw records (or blocks of raw JSONL lines) in, canonical samples out, every
record counted in the task's ledger part and every reject written with its reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from curate.adapters import Adapter, RecordContext, by_name, detect
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
)
from curate.schema import SAMPLE_SCHEMA, Sample, SampleError, check_storable, samples_table, validate

PROGRESS_EVERY = 2048
PARTS_DIR = "ledger_parts"


class IngestError(ValueError):
    """`--strict` mode: the first reject stops the run, naming file, record and field."""


def shard_name(rank: int) -> str:
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
        self._not_columnar: set[str] = set()

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        forced = None if self.fmt == "auto" else by_name(self.fmt)
        ledger = Ledger()
        with RejectWriter(self.out_dir / "rejects" / shard_name(rank)) as rejects:
            for document in data or ():
                meta = document.metadata
                source = meta["source"]
                tally = ledger.file(source)
                if "block" in meta:
                    table = self._adapt_block(source, meta.pop("block"), tally, rejects, forced)
                    if table.num_rows:
                        yield Document(text=document.id, id=document.id, metadata={"source": source, "table": table})
                    continue
                index = meta["index"]
                for sample in self._adapt_record(source, index, meta.pop("record"), tally, rejects, forced):
                    # later steps only read the sample; text must just be non-empty for datatrove
                    yield Document(text=sample.id, id=sample.id,
                                   metadata={"source": source, "index": index, "sample": sample})
        ledger.save_part(self.out_dir / PARTS_DIR / f"{rank:05d}.json")

    def _adapt_block(self, source: str, block: LineBlock, tally: FileTally, rejects: RejectWriter,
                     forced: Adapter | None) -> pa.Table:
        assert self.fmt in ("auto", OPENAI_MESSAGES), "build_pipeline reads blocks only where fmt allows it"
        table, taken = SAMPLE_SCHEMA.empty_table(), []
        if source not in self._not_columnar:
            table, taken = convert_block(block, source, self.domain, lambda record: pick_adapter(record, forced))
            if len(taken) < len(block.lines) // 2:  # mostly another shape, or odd lines: read the rest per record
                self._not_columnar.add(source)
        tally.records_in += len(taken)
        tally.kept += len(taken)
        tally.samples_out += len(taken)
        if len(taken) == len(block.lines):
            return table
        positions, samples = list(taken), []
        handed_back = sorted(set(range(len(block.lines))) - set(taken))
        for k in handed_back:
            converted = self._adapt_record(source, block.numbers[k], parse_line(block.lines[k]), tally, rejects,
                                           forced)
            positions += [k] * len(converted)
            samples += converted
        if not samples:
            return table
        merged = pa.concat_tables([table, samples_table(samples)])
        return merged.take(np.argsort(np.array(positions), kind="stable"))

    def _adapt_record(self, source: str, index: int, record: Any, tally: FileTally, rejects: RejectWriter,
                      forced: Adapter | None) -> list[Sample]:
        """The record's samples, counted in `tally`; a record that cannot convert is written to `rejects`."""
        tally.records_in += 1
        try:
            samples = self._convert(record, RecordContext(source, index, self.domain), forced)
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

    def _convert(self, record: Any, ctx: RecordContext, forced: Adapter | None) -> list[Sample]:
        """`forced`: the adapter `--format` names, or None to auto-detect."""
        if isinstance(record, Unreadable):
            raise _UnreadableError(record)
        adapter = None
        try:
            adapter = pick_adapter(record, forced)
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


def pick_adapter(record: Any, forced: Adapter | None = None) -> Adapter:
    """The adapter `--format` forced, if the record has its shape, or the registry's auto-detected one."""
    if forced is None:
        return detect(record)  # raises the registry's bad_type / unknown_shape reject
    if not (isinstance(record, dict) and forced.detect(record)):
        keys = ", ".join(sorted(record)[:12]) if isinstance(record, dict) else type(record).__name__
        raise SampleError("shape_mismatch", f"record does not have the {forced.name} shape (keys: {keys})")
    return forced


class _UnreadableError(SampleError):
    def __init__(self, unreadable: Unreadable):
        super().__init__(unreadable.reason, unreadable.message)
        self.excerpt = unreadable.excerpt


