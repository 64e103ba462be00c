"""The corpus under construction: its files, the entries in them, and the ledger of what was planted where."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from curate.demo_data.benchmarks import BENCHMARK_FILE
from curate.demo_data.text import jaccard, shingle_set

UNRELATED_MAX_JACCARD = 0.5  # generated samples of one domain stay far below it


@dataclass(eq=False)
class Entry:
    """One raw record (a dict, or a raw line for a broken JSONL record) and the id parts of its samples (None: the
    record yields one sample, id'd by the record's position alone; see curate.adapters.chat.common.record_sample_id).
    """

    record: Any
    parts: list[str] | None = None
    samples: int = 1


@dataclass
class CorpusFile:
    path: str  # relative to out_dir, posix
    format: str  # the adapter that reads it
    domain: str
    container: str = "jsonl"  # jsonl | json (one array)
    entries: list[Entry] = field(default_factory=list)

    def keys(self, entry: Entry) -> list[str]:
        """`<file>::<record index>[/<part>]` per sample, the record key ingest gives it."""
        index = self.entries.index(entry)
        if entry.parts is None:
            return [f"{self.path}::{index}"]
        return [f"{self.path}::{index}/{part}" for part in entry.parts]

    def render(self) -> bytes:
        items = [e.record for e in self.entries]
        if self.container == "json":
            return (json.dumps(items, ensure_ascii=False, indent=1) + "\n").encode()
        lines = [item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) for item in items]
        return ("\n".join(lines) + "\n").encode()


class Corpus:
    """Collects files and what was planted; keeps generated prompts of one domain apart (no accidental dups)."""

    def __init__(self, seed: int):
        self.seed = seed
        self.files: list[CorpusFile] = []
        self.pairs: list[tuple[str, CorpusFile, Entry, Entry]] = []  # (exact|near, file, kept, duplicate)
        self.contaminated: list[tuple[CorpusFile, Entry, str]] = []
        self.broken: list[tuple[CorpusFile, Entry, str, str, str | None]] = []
        self._seen: dict[str, list[set]] = {}

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{name}")

    def file(self, path: str, fmt: str, domain: str, container: str = "jsonl") -> CorpusFile:
        f = CorpusFile(path, fmt, domain, container)
        self.files.append(f)
        return f

    def distinct(self, domain: str, *texts: str) -> bool:
        """Register `texts` (distinguishing prompts) if each is far from every earlier one of the domain."""
        sets = [shingle_set(t) for t in texts]
        seen = self._seen.setdefault(domain, [])
        if any(jaccard(s, other) >= UNRELATED_MAX_JACCARD for s in sets for other in seen):
            return False
        if any(jaccard(a, b) >= UNRELATED_MAX_JACCARD for i, a in enumerate(sets) for b in sets[i + 1:]):
            return False
        seen.extend(sets)
        return True

    def fresh(self, domain: str, make: Callable[[], Any], prompts: Callable[[Any], list[str]]) -> Any:
        """Draw from `make` until its prompts are distinct within the domain (the templates are wide enough)."""
        for _ in range(200):
            item = make()
            if self.distinct(domain, *prompts(item)):
                return item
        raise AssertionError(f"demo corpus: templates for {domain} keep producing near-duplicate prompts")

    def fill(self, f: CorpusFile, rng: random.Random, originals: list[Entry],
             copies: list[tuple[str, Entry, Entry]], extra: Sequence[Entry] = ()) -> None:
        """Write `originals` in order with each planted copy (kind, original, copy) at a random later position,
        and `extra` entries (broken or contaminated, already recorded) at random positions."""
        entries = list(originals)
        for kind, original, copy_ in copies:
            entries.insert(rng.randint(entries.index(original) + 1, len(entries)), copy_)
            self.pairs.append((kind, f, original, copy_))
        for entry in extra:
            entries.insert(rng.randint(0, len(entries)), entry)
        f.entries = entries

    def broken_entry(self, f: CorpusFile, record: Any, reason: str, stage: str, check: str | None = None,
                     parts: list[str] | None = None, samples: int = 0) -> Entry:
        """A record that must not reach training: rejected by ingest (`stage: ingest`, no samples) or surviving
        ingest and dropped by the filter `check` (`stage: filter`)."""
        entry = Entry(record, parts, samples if stage == "filter" else 0)
        self.broken.append((f, entry, reason, stage, check))
        return entry

    def contaminated_entry(self, f: CorpusFile, record: Any, benchmark: str, parts: list[str] | None = None,
                           samples: int = 1) -> Entry:
        entry = Entry(record, parts, samples)
        self.contaminated.append((f, entry, benchmark))
        return entry

    def manifest(self) -> dict[str, Any]:
        planted: dict[str, list] = {"exact_duplicates": [], "near_duplicates": [], "contaminated": [], "broken": []}
        for kind, f, kept, dup in self.pairs:
            target = planted["exact_duplicates" if kind == "exact" else "near_duplicates"]
            target.extend([a, b] for a, b in zip(f.keys(kept), f.keys(dup), strict=True))
        for f, entry, benchmark in self.contaminated:
            planted["contaminated"].extend({"key": k, "benchmark": benchmark} for k in f.keys(entry))
        for f, entry, reason, stage, check in self.broken:
            planted["broken"].append({"key": f.keys(entry)[0], "file": f.path, "index": f.entries.index(entry),
                                      "expected_reason": reason, "stage": stage, "check": check})
        return {
            "seed": self.seed,
            "files": [{"path": f.path, "format": f.format, "domain": f.domain, "records": len(f.entries),
                       "samples": sum(e.samples for e in f.entries)} for f in self.files],
            "benchmarks": {"path": BENCHMARK_FILE, "field": "problem"},
            "planted": planted,
        }

