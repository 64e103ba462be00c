"""What every reader shares: a record that could not be read, one input stream, and raw-byte helpers."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson

DEFAULT_MAX_RECORD_BYTES = 64 << 20
EXCERPT_BYTES = 1000
_SKIP_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A record that could not be parsed; becomes a reject with this reason code."""

    reason: str
    message: str
    excerpt: str = ""


@dataclass(frozen=True, slots=True)
class Source:
    """One input stream. `kind` is the reader; `path` the file/folder or hub id; `split` for datasets.

    A plain JSONL file may be split into byte ranges [start, end) that begin on line starts; `first_line` is the
    line number at `start`, so record numbers stay those of the whole file.
    """

    label: str
    kind: str
    path: str
    split: str | None = None
    config: str | None = None
    start: int = 0
    end: int | None = None
    first_line: int = 0


Item = dict[str, Any] | Unreadable


def excerpt_of(raw: bytes | str | Any) -> str:
    """A short, printable view of a raw record for the rejects file."""
    if isinstance(raw, bytes):
        return raw[:EXCERPT_BYTES].decode("utf-8", errors="replace")
    if not isinstance(raw, str):
        try:
            raw = orjson.dumps(raw, option=orjson.OPT_NON_STR_KEYS, default=str)[:EXCERPT_BYTES].decode(
                "utf-8", errors="replace")
        except TypeError:
            raw = repr(raw)
    return raw[:EXCERPT_BYTES]


def open_binary(path: str) -> BinaryIO:
    """A buffered binary stream, transparently decompressing .gz and .zst."""
    lowered = path.lower()
    if lowered.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if lowered.endswith(".zst"):
        import zstandard

        raw = open(path, "rb")  # noqa: SIM115 - closed through the wrapper
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, closefd=True), 1 << 20)
    return open(path, "rb", buffering=1 << 20)  # noqa: SIM115


def _skip_bom(stream: BinaryIO) -> None:
    """Files saved by Windows tools often start with a UTF-8 byte-order mark that JSON parsers refuse."""
    if stream.peek(3)[:3] == b"\xef\xbb\xbf":  # type: ignore[attr-defined]
        stream.read(3)

