"""Benchmark decontamination (DESIGN §5): drop samples whose prompt shares a normalised word n-gram with a
benchmark problem. Every drop records the benchmark and the n-gram that matched, so a user can audit it.

Benchmark problems shorter than n words are matched whole (as a contiguous word run of their own length), so
short MBPP/AIME statements are not silently exempt; those under `min_words` are too generic and are skipped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from curate.documents import drop, dropped, normalize_words, prompt_text, render_text, sample_of


@dataclass
class BenchmarkSpec:
    name: str
    path: str  # JSONL / JSON (list or JSON lines) / CSV / Parquet
    field: str  # the problem text; a nested value contributes all its strings
    name_field: str | None = None  # a record field naming its benchmark (one file holding several); else `name`


@dataclass
class DecontamSettings:
    n: int = 13
    min_words: int = 8  # benchmark problems shorter than this are too generic to match on
    scope: str = "prompt"  # prompt (user turns) | all (every turn of the rendered sample)
    benchmarks: list[BenchmarkSpec] = field(default_factory=list)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _records(path: Path) -> Iterator[dict]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as f:
            yield from csv.DictReader(f)
    elif suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
            yield from batch.to_pylist()
    elif suffix in (".json", ".jsonl"):
        raw = path.read_bytes()
        try:
            data = orjson.loads(raw)
            yield from (data if isinstance(data, list) else [data])
        except orjson.JSONDecodeError:
            for i, line in enumerate(raw.splitlines()):
                if line.strip():
                    try:
                        yield orjson.loads(line)
                    except orjson.JSONDecodeError as e:
                        raise ValueError(f"{path}: line {i + 1} is not JSON ({e})") from e
    else:
        raise ValueError(f"{path}: unsupported benchmark format {suffix!r} (use .jsonl, .json, .csv or .parquet)")


def benchmark_texts(spec: BenchmarkSpec) -> Iterator[tuple[str, str]]:
    """(benchmark name, problem text) for every record of the spec's file."""
    path = Path(spec.path)
    if not path.is_file():
        raise ValueError(f"decontam benchmark {spec.name!r}: no such file {path}")
    for i, record in enumerate(_records(path)):
        if not isinstance(record, dict) or spec.field not in record:
            raise ValueError(f"{path}: record {i} has no field {spec.field!r} (benchmark {spec.name!r})")
        name = spec.name
        if spec.name_field is not None:
            if not isinstance(record.get(spec.name_field), str):
                raise ValueError(f"{path}: record {i} has no string field {spec.name_field!r} (benchmark name)")
            name = record[spec.name_field]
        yield name, "\n".join(_strings(record[spec.field]))


class NgramIndex:
    """Normalised word n-grams of every benchmark problem → (benchmark name, the n-gram)."""

    def __init__(self, benchmarks: list[BenchmarkSpec], n: int = 13, min_words: int = 8):
        self.n = n
        self.grams: dict[str, str] = {}
        self.short: dict[int, dict[str, str]] = {}  # whole problems under n words, by word count
        for spec in benchmarks:
            for name, text in benchmark_texts(spec):
                words = normalize_words(text)
                if len(words) < min_words:
                    continue
                if len(words) < n:
                    self.short.setdefault(len(words), {}).setdefault(" ".join(words), name)
                for i in range(len(words) - n + 1):
                    self.grams.setdefault(" ".join(words[i : i + n]), name)

    def __len__(self) -> int:
        return len(self.grams) + sum(map(len, self.short.values()))

    def match(self, text: str) -> tuple[str, str] | None:
        """The first (benchmark, n-gram) that `text` shares with a benchmark problem, or None."""
        words = normalize_words(text)
        for size, table in [(self.n, self.grams), *sorted(self.short.items())]:
            for i in range(len(words) - size + 1):
                gram = " ".join(words[i : i + size])
                if gram in table:
                    return table[gram], gram
        return None


class DecontamCheck(PipelineStep):
    """Marks samples whose prompt overlaps a benchmark; the index is built inside the task (cheap to ship)."""

    type = "🔻 - FILTER"
    name = "🧪 decontamination"

    def __init__(self, settings: DecontamSettings, stage: str = "decontam"):
        super().__init__()
        self.settings, self.stage = settings, stage
        self._index: NgramIndex | None = None

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if self._index is None:
            self._index = NgramIndex(self.settings.benchmarks, self.settings.n, self.settings.min_words)
        for doc in data:
            if not dropped(doc):
                sample = sample_of(doc)
                text = prompt_text(sample) if self.settings.scope == "prompt" else render_text(sample)
                hit = self._index.match(text)
                if hit is not None:
                    benchmark, gram = hit
                    drop(doc, self.stage, "decontam", "contaminated", f"{benchmark}: {gram!r}",
                         benchmark=benchmark, ngram=gram)
                    self.stat_update(f"contaminated_{benchmark}")
            yield doc
