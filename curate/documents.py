"""The bridge between canonical samples and datatrove `Document`s (DESIGN §1).

A Document's `text` is a plain-text view of the sample (what text filters, MinHash and decontamination read) and
its metadata holds the structured `Sample` itself, so domain filters never re-parse text. This module also owns
the word tokenizer every text-level stage shares: datatrove's English tokenizer needs spacy, which we do not ship.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.word_tokenizers import WordTokenizer

from curate.sample_io import BATCH_ROWS, iter_samples
from curate.schema import SAMPLE_SCHEMA, Sample, to_row

SAMPLE_KEY = "sample"
DROP_KEY = "drop"  # set by a check step on a sample it rejects: {"stage", "filter", "reason", "detail", ...}

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_COMBINING_RE = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_SENT_RE = re.compile(r"[^.!?\n]+[.!?]*", re.UNICODE)


class PlainWordTokenizer(WordTokenizer):
    """Words are runs of word characters: punctuation and whitespace separate them; no spacy, no models."""

    def __init__(self) -> None:
        super().__init__("plain")

    def word_tokenize(self, text: str) -> list[str]:
        return _WORD_RE.findall(text)

    def sent_tokenize(self, text: str) -> list[str]:
        return [s.strip() for s in _SENT_RE.findall(text) if s.strip()]

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _SENT_RE.finditer(text) if m.group().strip()]


def normalize_words(text: str) -> list[str]:
    """Lower-cased, accent-folded word list: the unit of exact hashing, shingling and n-gram decontamination."""
    text = text.lower()
    if not text.isascii():
        text = _COMBINING_RE.sub("", unicodedata.normalize("NFKD", text))
    return _WORD_RE.findall(text)


def _render_message(role: str, content: str, reasoning: str | None, calls: list | None) -> str:
    parts = []
    if reasoning:
        parts.append(reasoning)
    if content:
        parts.append(content)
    for call in calls or []:
        parts.append(f"{call.name}({orjson.dumps(call.arguments).decode()})")
    return f"{role}: " + "\n".join(parts)


def render_text(sample: Sample) -> str:
    """Every turn as `role: text`, reasoning and tool calls included; tool schemas are left out."""
    return "\n\n".join(
        _render_message(m.role, m.content, m.reasoning_content, m.tool_calls) for m in sample.messages
    )


def prompt_text(sample: Sample) -> str:
    """The user turns: what a benchmark problem would leak into."""
    return "\n\n".join(m.content for m in sample.messages if m.role == "user" and m.content)


def final_answer(sample: Sample) -> str:
    """Content of the last assistant turn (the answer after any reasoning)."""
    for m in reversed(sample.messages):
        if m.role == "assistant":
            return m.content
    return ""


def meta_flag(value: object) -> bool:
    """A boolean meta flag as sources write it: True, "True", "true", "1", 1 — and "False" is false."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y")
    return bool(value)


def to_document(sample: Sample) -> Document:
    text = render_text(sample) or sample.id  # datatrove steps treat empty text as a missing document
    return Document(text=text, id=sample.id, metadata={SAMPLE_KEY: sample})


def sample_of(doc: Document) -> Sample:
    return doc.metadata[SAMPLE_KEY]


def drop(doc: Document, stage: str, check: str, reason: str, detail: str = "", **extra: object) -> None:
    """Mark a document rejected; later checks skip it and the stage writer routes it to rejects."""
    doc.metadata[DROP_KEY] = {"stage": stage, "filter": check, "reason": reason, "detail": detail, **extra}


def dropped(doc: Document) -> bool:
    return DROP_KEY in doc.metadata


# ---------------------------------------------------------------- stage input / output steps

REJECT_SCHEMA = SAMPLE_SCHEMA.append(pa.field("stage", pa.string())).append(pa.field("filter", pa.string())) \
    .append(pa.field("reason", pa.string())).append(pa.field("detail", pa.string())) \
    .append(pa.field("extra", pa.string()))
DUPLICATE_FILTER = "dedup"  # drops marked by this check are duplicates, not rejects (the ledger counts them apart)


class SampleShardReader(PipelineStep):
    """Task `rank` reads shards rank, rank + world_size, ...: with tasks == shards, one shard per task."""

    type = "📖 - READER"
    name = "🧾 sample shards"

    def __init__(self, files: list[str]):
        super().__init__()
        self.files = [str(f) for f in files]

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for path in self.files[rank::world_size]:
            for sample in iter_samples(path):
                self.stat_update("documents")
                yield to_document(sample)


class _RowWriter:
    def __init__(self, path: Path, schema: pa.Schema, batch_rows: int = BATCH_ROWS):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")
        self.schema, self.batch_rows, self.rows, self.count = schema, batch_rows, [], 0

    def write(self, row: dict) -> None:
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


class StageWriter(PipelineStep):
    """Routes each document to `samples/`, `rejects/` or `duplicates/` of the stage folder, one file per task.

    Every task writes all three files (empty ones too), so a stage's file list does not depend on the data and a
    re-run of a task overwrites exactly what a killed run left behind.
    """

    type = "💽 - WRITER"
    name = "🗂 stage writer"

    def __init__(self, out_dir: str | Path):
        super().__init__()
        self.out_dir = str(out_dir)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> None:
        out = Path(self.out_dir)
        kept = _RowWriter(out / "samples" / f"{rank:05d}.parquet", SAMPLE_SCHEMA)
        rejects = _RowWriter(out / "rejects" / f"{rank:05d}.parquet", REJECT_SCHEMA)
        duplicates = _RowWriter(out / "duplicates" / f"{rank:05d}.parquet", REJECT_SCHEMA)
        try:
            for doc in data:
                row = to_row(sample_of(doc))
                mark = doc.metadata.get(DROP_KEY)
                if mark is None:
                    kept.write(row)
                    self.stat_update("kept")
                    continue
                extra = {k: v for k, v in mark.items() if k not in ("stage", "filter", "reason", "detail")}
                row.update(stage=mark["stage"], filter=mark["filter"], reason=mark["reason"], detail=mark["detail"],
                           extra=orjson.dumps(extra, option=orjson.OPT_SORT_KEYS).decode())
                (duplicates if mark["filter"] == DUPLICATE_FILTER else rejects).write(row)
                self.stat_update(mark["reason"])
        finally:
            for w in (kept, rejects, duplicates):
                w.close()
