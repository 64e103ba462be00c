"""`cascade inspect`: canonical samples (or rejects) shown the way a person reads a conversation, or as JSON lines.

Reasoning and long tool results are folded to their first lines ("… N more lines"); tool calls print as the
function name and its arguments as indented JSON. Raw text is never read as rich markup.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
from rich.console import Console, Group, RenderableType
from rich.json import JSON
from rich.rule import Rule
from rich.text import Text

from curate.ledger import is_rejects_file
from curate.sample_io import BATCH_ROWS, sample_files
from curate.schema import Message, Sample, from_row

REASONING_LINES = 3
CONTENT_LINES = 40
TOOL_RESULT_LINES = 12
EXCERPT_CHARS = 300
ROLE_STYLES = {"system": "magenta", "user": "green", "assistant": "cyan", "tool": "yellow"}


def _parquet_files(path: Path, rejects: bool) -> list[Path]:
    """The shards to show: a file as given; under a run dir its samples/ (or rejects/ with `rejects`)."""
    if path.is_file() and path.suffix != ".parquet":
        raise ValueError(f"{path}: inspect reads .parquet samples or rejects; run `cascade ingest` on raw files first")
    if path.is_dir() and rejects:
        files = sorted((path / "rejects").glob("*.parquet")) if (path / "rejects").is_dir() else []
        if not files:
            raise FileNotFoundError(f"no rejects shards under {path}/rejects")
        return files
    return sample_files(path)


def _rows(files: list[Path]) -> Iterator[dict[str, Any]]:
    for f in files:
        for batch in pq.ParquetFile(f).iter_batches(batch_size=BATCH_ROWS):
            yield from batch.to_pylist()


def select_samples(files: list[Path], domain: str | None = None, sample_id: str | None = None) -> Iterator[Sample]:
    """Samples matching every given filter (`sample_id` matches a full id or its prefix), decoded lazily."""
    for row in _rows(files):
        if domain is not None and row["domain"] != domain:
            continue
        if sample_id is not None and not row["id"].startswith(sample_id):
            continue
        yield from_row(row)


def fold(text: str, keep: int) -> Text:
    """The first `keep` lines of `text`, then a dim "… N more lines" marker if any were hidden."""
    lines = text.splitlines()
    shown = Text("\n".join(lines[:keep]))
    if len(lines) > keep:
        shown.append(f"\n… {len(lines) - keep} more lines", style="dim italic")
    return shown


def render_message(msg: Message, full: bool = False) -> RenderableType:
    header = Text(f"▌{msg.role}", style=f"bold {ROLE_STYLES.get(msg.role, 'white')}")
    if msg.role == "tool":
        header.append(f"  ← {msg.name or 'result'}" + (f" [{msg.tool_call_id}]" if msg.tool_call_id else ""),
                      style="dim")
    parts: list[RenderableType] = [header]
    if msg.reasoning_content:
        reasoning = Text(msg.reasoning_content) if full else fold(msg.reasoning_content, REASONING_LINES)
        reasoning.stylize("dim italic")
        parts += [Text("thinking:", style="italic"), reasoning]
    if msg.content:
        keep = TOOL_RESULT_LINES if msg.role == "tool" else CONTENT_LINES
        parts.append(Text(msg.content) if full else fold(msg.content, keep))
    for call in msg.tool_calls or ():
        parts.append(Text(f"→ {call.name}" + (f"  [{call.id}]" if call.id else ""), style="bold"))
        parts.append(JSON(orjson.dumps(call.arguments).decode(), indent=2))
    return Group(*parts)


def render_sample(sample: Sample, full: bool = False) -> RenderableType:
    title = f"{sample.id} · {sample.domain} · {sample.source}"
    parts: list[RenderableType] = [Rule(Text(title, style="bold"), align="left")]
    if sample.tools:
        names = ", ".join(t.get("function", {}).get("name", "?") for t in sample.tools)
        parts.append(Text(f"tools: {names}", style="dim"))
    if sample.meta:
        parts.append(Text(f"meta: {orjson.dumps(sample.meta).decode()[:EXCERPT_CHARS]}", style="dim"))
    for msg in sample.messages:
        parts += [Text(""), render_message(msg, full)]
    return Group(*parts)


def render_reject(row: dict[str, Any]) -> RenderableType:
    header = Text(f"{row['source']} #{row['record']}  ", style="bold")
    header.append(row["reason"], style="bold red")
    if row["field"]:
        header.append(f"  at {row['field']}", style="yellow")
    excerpt = Text(row["excerpt"][:EXCERPT_CHARS] + ("…" if len(row["excerpt"]) > EXCERPT_CHARS else ""),
                   style="dim")
    return Group(Rule(style="red"), header, Text(row["message"]), excerpt)


BUILD_DROP_FIELDS = ("stage", "filter", "reason", "detail", "extra")  # columns build stages add to a dropped sample


def is_build_rejects_file(path: Path) -> bool:
    """Build stages (curate/documents.py) write a dropped sample whole, plus why it was dropped."""
    names = set(pq.read_schema(path).names)
    return {"messages", "reason"} <= names


def render_build_reject(sample: Sample, row: dict[str, Any], full: bool = False) -> RenderableType:
    header = Text(" · ".join(str(row[k]) for k in ("stage", "filter") if row.get(k)) + "  ", style="bold")
    header.append(row.get("reason") or "?", style="bold red")
    parts: list[RenderableType] = [header]
    if row.get("detail"):
        parts.append(Text(row["detail"]))
    if row.get("extra") and row["extra"] != "{}":
        parts.append(Text(row["extra"][:EXCERPT_CHARS], style="dim"))
    return Group(*parts, render_sample(sample, full))


def _show_build_rejects(files: list[Path], console: Console, domain: str | None, sample_id: str | None,
                        stop: int | None, as_json: bool, full: bool) -> int:
    shown = 0
    for row in _rows(files):
        if shown == stop:
            break
        if (domain is not None and row["domain"] != domain) or (sample_id and not row["id"].startswith(sample_id)):
            continue
        sample = from_row(row)
        if as_json:
            why = {k: row.get(k) for k in BUILD_DROP_FIELDS if k in row}
            console.file.write(orjson.dumps({**asdict(sample), **why}).decode() + "\n")
        else:
            console.print(render_build_reject(sample, row, full))
        shown += 1
    return shown


def inspect(path: Path, console: Console, domain: str | None = None, sample_id: str | None = None,
            limit: int = 5, as_json: bool = False, rejects: bool = False, full: bool = False) -> int:
    """Show up to `limit` (0 = all) samples or rejects from `path`; returns how many were shown."""
    files = _parquet_files(Path(path), rejects)
    stop = limit or None
    if is_build_rejects_file(files[0]):
        return _show_build_rejects(files, console, domain, sample_id, stop, as_json, full)
    if is_rejects_file(files[0]):
        rows = list(islice(_rows(files), stop))
        if as_json:
            for row in rows:
                console.file.write(orjson.dumps(row).decode() + "\n")
        else:
            for row in rows:
                console.print(render_reject(row))
        return len(rows)
    shown = 0
    for sample in islice(select_samples(files, domain, sample_id), stop):
        if as_json:
            console.file.write(orjson.dumps(asdict(sample)).decode() + "\n")
        else:
            console.print(render_sample(sample, full))
        shown += 1
    return shown
