"""Turn what the user named (files, folders, `save_to_disk` datasets, hub ids) into sources, and cut big JSONL
files into byte ranges several tasks can read."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import orjson

from curate.readers.records import _SKIP_CHUNK, Source

HUB_PREFIX = "hf://"
COMPRESSIONS = (".gz", ".zst")
KINDS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".traj": "json", ".parquet": "parquet", ".csv": "csv"}
_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+(/[\w.-]+)?(:[\w.-]+)?$")


def _kind_of(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        suffixes = suffixes[:-1]
    return KINDS.get(suffixes[-1]) if suffixes else None


def _is_saved_dataset(folder: Path) -> bool:
    return (folder / "dataset_info.json").is_file() or (folder / "dataset_dict.json").is_file()


def _saved_dataset_sources(folder: Path, label: str) -> list[Source]:
    if (folder / "dataset_dict.json").is_file():  # a DatasetDict: one source per split, in a stable order
        splits = orjson.loads((folder / "dataset_dict.json").read_bytes())["splits"]
        return [Source(f"{label}[{split}]", "saved_dataset", str(folder), split=split) for split in sorted(splits)]
    return [Source(label, "saved_dataset", str(folder))]


def _hub_source(spec: str) -> Source:
    """`hf://ORG/NAME[/CONFIG][:SPLIT]` → a streaming `datasets.load_dataset` source (split defaults to train)."""
    ident = spec[len(HUB_PREFIX):]
    if not _HUB_ID.match(ident):
        raise ValueError(f"{spec}: a hub source is hf://ORG/NAME[/CONFIG][:SPLIT]")
    ident, _, split = ident.partition(":")
    parts = ident.split("/")
    config = parts[2] if len(parts) == 3 else None
    return Source(spec, "hub", "/".join(parts[:2]), split=split or "train", config=config)


def _expand(spec: str) -> list[Source]:
    if spec.startswith(HUB_PREFIX):
        return [_hub_source(spec)]
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"{spec}: no such file or folder (hub datasets are named hf://ORG/NAME)")
    if path.is_dir():
        if _is_saved_dataset(path):
            return _saved_dataset_sources(path, spec)
        files = sorted(p for p in path.rglob("*") if p.is_file() and _kind_of(p)
                       and not any(part.startswith(".") for part in p.relative_to(path).parts))
        if not files:
            raise ValueError(f"{spec}: folder holds no readable files ({', '.join(sorted(KINDS))})")
        return [Source(str(f), _kind_of(f), str(f)) for f in files]  # type: ignore[arg-type]
    kind = _kind_of(path)
    if kind is None:
        raise ValueError(f"{spec}: unknown file type; readable: {', '.join(sorted(KINDS))} (+ .gz/.zst)")
    return [Source(spec, kind, spec)]


def resolve_sources(specs: list[str]) -> list[Source]:
    """Expand what the user named into sources, failing before anything runs if one is missing, unknown or named
    twice (records would be counted twice and their ids collide).

    A folder is a `save_to_disk` dataset when it has datasets' metadata, else every readable file under it (sorted,
    hidden files skipped).
    """
    sources: list[Source] = []
    seen: dict[str, str] = {}
    for spec in specs:
        for source in _expand(spec):
            key = source.label if source.kind == "hub" else f"{Path(source.path).resolve()}[{source.split}]"
            if key in seen:
                raise ValueError(f"{source.label}: given twice (also as {seen[key]})")
            seen[key] = source.label
            sources.append(source)
    return sources


def split_jsonl(source: Source, parts: int, min_part_bytes: int = 8 << 20) -> list[Source]:
    """Byte ranges of a plain JSONL file, each starting on a line, so several tasks can read one big file.

    Compressed files and files smaller than two parts stay whole. Line numbers at each boundary are counted in one
    pass, so records keep the numbers (and sample ids) they have when the file is read whole.
    """
    if source.kind != "jsonl" or source.path.lower().endswith(COMPRESSIONS) or source.end is not None:
        return [source]
    size = os.path.getsize(source.path)
    parts = min(parts, size // min_part_bytes)
    if parts < 2:
        return [source]
    starts, lines = [0], [0]
    position, line_number, previous = 0, 0, b"\n"
    with open(source.path, "rb") as f:
        for k in range(1, parts):
            target = size * k // parts
            while position < target:  # count the lines that end before the target
                chunk = f.read(min(_SKIP_CHUNK, target - position))
                line_number += chunk.count(b"\n")
                position += len(chunk)
                previous = chunk[-1:]
            if previous != b"\n":  # mid-line: the range starts after this line
                while chunk := f.readline(_SKIP_CHUNK):
                    position += len(chunk)
                    previous = chunk[-1:]
                    if previous == b"\n":
                        line_number += 1
                        break
            if starts[-1] < position < size:
                starts.append(position)
                lines.append(line_number)
    ends = [*starts[1:], size]
    return [replace(source, start=a, end=b, first_line=n) for a, b, n in zip(starts, ends, lines, strict=True)]
