"""Readers: every input kind streams records with their numbers; bad bytes become Unreadable, never exceptions."""

from __future__ import annotations

import gzip
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from curate.readers import Source, Unreadable, excerpt_of, iter_records, resolve_sources, split_jsonl
from curate.readers.json_readers import jsonl_runs

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def read_all(path: Path, max_record_bytes: int = 64 << 20) -> list[tuple[int, object]]:
    [source] = resolve_sources([str(path)])
    return list(iter_records(source, max_record_bytes))


def reasons(items: list[tuple[int, object]]) -> dict[int, str]:
    return {i: item.reason for i, item in items if isinstance(item, Unreadable)}


def test_jsonl_records_are_numbered_by_line_and_blank_lines_skipped(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\n\n   \n{"a": 2}\n{"a": 3}')  # no trailing newline on the last record
    assert read_all(path) == [(0, {"a": 1}), (3, {"a": 2}), (4, {"a": 3})]


@pytest.mark.parametrize("parts", [2, 3, 8])
def test_split_jsonl_ranges_read_exactly_the_whole_file(tmp_path: Path, parts: int) -> None:
    rng = random.Random(parts)
    lines = [b"" if rng.random() < 0.05 else b"{bad" if rng.random() < 0.05 else
             json.dumps({"i": i, "pad": "x" * rng.randrange(3000)}).encode() for i in range(2000)]
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n")
    [source] = resolve_sources([str(path)])
    whole = list(iter_records(source, max_record_bytes=2000))  # some lines are over the limit, some ranges cut them
    ranges = split_jsonl(source, parts, min_part_bytes=1000)
    assert len(ranges) == parts and ranges[0].start == 0 and ranges[-1].end == path.stat().st_size
    assert [item for r in ranges for item in iter_records(r, max_record_bytes=2000)] == whole
    assert split_jsonl(source, parts, min_part_bytes=path.stat().st_size) == [source]


def test_jsonl_bad_lines_are_unreadable_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": \n{"s": "caf\xe9"}\n' + b'{"big": "' + b"x" * 5000 + b'"}\n{"a": 4}\n')
    items = read_all(path, max_record_bytes=1024)
    assert reasons(items) == {1: "malformed_json", 2: "invalid_utf8", 3: "record_too_large"}
    assert items[0] == (0, {"a": 1}) and items[4] == (4, {"a": 4})
    too_large = items[3][1]
    assert isinstance(too_large, Unreadable) and "5012 bytes" in too_large.message
    assert len(too_large.excerpt) <= 1000


def test_compressed_jsonl_reads_like_plain(tmp_path: Path) -> None:
    body = b"".join(json.dumps({"i": i}).encode() + b"\n" for i in range(50))
    (tmp_path / "a.jsonl").write_bytes(body)
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(body))
    (tmp_path / "a.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(body))
    plain = read_all(tmp_path / "a.jsonl")
    assert len(plain) == 50
    assert read_all(tmp_path / "a.jsonl.gz") == plain
    assert read_all(tmp_path / "a.jsonl.zst") == plain


def test_json_array_streams_elements(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"i": i, "x": 0.5} for i in range(5)], indent=2))
    assert read_all(path) == [(i, {"i": i, "x": 0.5}) for i in range(5)]


def test_cut_off_json_array_keeps_the_records_before_the_cut(tmp_path: Path) -> None:
    text = json.dumps([{"i": i} for i in range(6)])
    path = tmp_path / "cut.json"
    path.write_text(text[: text.index('{"i": 4}') + 4])
    items = read_all(path)
    assert [item for _, item in items[:4]] == [{"i": i} for i in range(4)]
    assert reasons(items) == {4: "truncated_json"}


def test_json_array_element_over_the_limit_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"i": 0}, {"big": "x" * 300_000}, {"i": 2}]))
    items = read_all(path, max_record_bytes=100_000)
    assert reasons(items) == {1: "record_too_large"}
    assert items[2] == (2, {"i": 2})


def test_whole_file_object_is_one_record(tmp_path: Path) -> None:
    traj = {"trajectory": [{"action": "ls", "observation": "a.py"}], "history": [], "info": {}}
    path = tmp_path / "run.traj"
    path.write_text(json.dumps(traj, indent=2))
    assert read_all(path) == [(0, traj)]


def test_list_of_messages_is_one_conversation(tmp_path: Path) -> None:
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                {"role": "assistant", "content": "a"}]
    path = tmp_path / "x.traj.json"
    path.write_text(json.dumps(messages))
    assert read_all(path) == [(0, {"messages": messages})]
    mixed = tmp_path / "mixed.json"  # message-like dicts followed by something else stay separate records
    mixed.write_text(json.dumps([*messages, {"foo": 1}]))
    assert [item for _, item in read_all(mixed)] == [*messages, {"foo": 1}]


def test_jsonl_saved_as_json_reads_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    path.write_text('{"a": 1}\n{"a": 2}\n')
    assert read_all(path) == [(0, {"a": 1}), (1, {"a": 2})]


@pytest.mark.parametrize("name", ["lines.json.gz", "lines.json", "lines.json.zst"])
def test_jsonl_saved_as_json_with_a_long_first_line_reads_line_by_line(tmp_path: Path, name: str) -> None:
    records = [{"i": i, "pad": "x" * (1_200_000 if i == 0 else 10)} for i in range(6)]  # > the 1 MiB read buffer
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    compress = {".gz": gzip.compress, ".zst": zstandard.ZstdCompressor().compress}.get(Path(name).suffix, bytes)
    (tmp_path / name).write_bytes(compress(data))
    assert read_all(tmp_path / name) == list(enumerate(records))


def test_json_object_file_with_an_oversized_first_line(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"big": "x" * 300_000}) + "\n" + json.dumps({"i": 1}) + "\n")
    items = read_all(path, max_record_bytes=100_000)
    assert reasons(items) == {0: "record_too_large"} and items[1] == (1, {"i": 1})
    path.write_text(json.dumps({"big": "x" * 300_000}, indent=2))  # one pretty-printed object over the limit
    assert reasons(read_all(path, max_record_bytes=100_000)) == {0: "record_too_large"}


BIG = 123456789012345678901234567890


@pytest.mark.parametrize("name", ["big.json", "big.json.gz", "big.jsonl"])
def test_integers_past_64_bits_keep_their_digits_and_the_rest_of_the_file(tmp_path: Path, name: str) -> None:
    records = [{"i": 0}, {"i": 1, "big": BIG, "neg": -BIG, "u64": (1 << 64) - 1, "f": 1.5}, {"i": 2}]
    text = json.dumps(records) if ".json" in name and "jsonl" not in name else "".join(
        json.dumps(r) + "\n" for r in records)
    (tmp_path / name).write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    expected = [{"i": 0}, {"i": 1, "big": str(BIG), "neg": str(-BIG), "u64": (1 << 64) - 1, "f": 1.5}, {"i": 2}]
    assert read_all(tmp_path / name) == list(enumerate(expected))


def test_empty_files_yield_nothing(tmp_path: Path) -> None:
    for name in ("e.jsonl", "e.csv", "e.jsonl.gz", "e.json"):
        (tmp_path / name).write_bytes(gzip.compress(b"") if name.endswith(".gz") else b"")
        assert read_all(tmp_path / name) == []
    (tmp_path / "blank.json").write_text("\n" * 10_000)
    assert read_all(tmp_path / "blank.json") == []


def test_csv_rows_become_dicts_and_bad_rows_are_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b'Problem,Solution\n"Show 1+1=2.","Multi\nline, with comma"\nx,y,z\n"caf\xe9",ok\n'
                     b'big,"' + b"x" * 3000 + b'"\nfine,row\n')
    items = read_all(path, max_record_bytes=1000)
    assert items[0] == (0, {"Problem": "Show 1+1=2.", "Solution": "Multi\nline, with comma"})
    assert reasons(items) == {1: "malformed_csv", 2: "invalid_utf8", 3: "record_too_large"}
    assert items[4] == (4, {"Problem": "fine", "Solution": "row"})


def test_json_array_with_invalid_utf8_keeps_the_records_before(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(b'[{"i": 0}, {"s": "caf\xe9"}, {"i": 2}]')
    items = read_all(path)
    assert items[0] == (0, {"i": 0}) and reasons(items) == {1: "invalid_utf8"}


def test_byte_order_marks_are_skipped(tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    for name, body in (("b.jsonl", b'{"a": 1}\n'), ("b.json", b'[{"a": 1}]'), ("b.csv", b"a\n1\n")):
        (tmp_path / name).write_bytes(bom + body)
        assert [item for _, item in read_all(tmp_path / name)] == [{"a": 1} if name != "b.csv" else {"a": "1"}]


def test_resolve_sources_fails_on_missing_path_and_expands_folders(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.jsonl"):
        resolve_sources([str(tmp_path / "nope.jsonl")])
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ("d/b.jsonl", "d/a.json", "d/sub/c.csv", "d/README.md"):
        (tmp_path / name).write_text("")
    labels = [Path(s.label).relative_to(tmp_path).as_posix() for s in resolve_sources([str(tmp_path / "d")])]
    assert labels == ["d/a.json", "d/b.jsonl", "d/sub/c.csv"]
    with pytest.raises(ValueError, match="unknown file type"):
        resolve_sources([str(tmp_path / "d" / "README.md")])
    with pytest.raises(ValueError, match="b.jsonl: given twice"):
        resolve_sources([str(tmp_path / "d"), str(tmp_path / "d" / "sub" / ".." / "b.jsonl")])


def test_hub_ids_parse_into_streaming_sources() -> None:
    [source] = resolve_sources(["hf://nvidia/Nemotron-Cascade-2-SFT-Data/math:train"])
    assert source == Source("hf://nvidia/Nemotron-Cascade-2-SFT-Data/math:train", "hub",
                            "nvidia/Nemotron-Cascade-2-SFT-Data", split="train", config="math")
    with pytest.raises(ValueError, match="hf://ORG/NAME"):
        resolve_sources(["hf://not a dataset"])


def test_reader_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    """~230 MB of JSONL (1 MiB records and one 80 MiB line) streams in a bounded RSS far below the file size."""
    path = tmp_path / "big.jsonl"
    record = b'{"text": "' + b"x" * (1 << 20) + b'"}\n'
    with path.open("wb") as f:
        for _ in range(75):
            f.write(record)
        f.write(b'{"text": "')
        for _ in range(80):
            f.write(b"y" * (1 << 20))
        f.write(b'"}\n')
        for _ in range(75):
            f.write(record)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so it would report the forked test process.
    script = (
        "import re, sys\n"
        "from curate.readers import Source, Unreadable, iter_records\n"
        "items = iter_records(Source('b', 'jsonl', sys.argv[1]), max_record_bytes=8 << 20)\n"
        "bad = sum(isinstance(item, Unreadable) for _, item in items)\n"
        "hwm = re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1)\n"
        "print(bad, int(hwm) * 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True,
                         cwd=PROJECT_ROOT, timeout=120).stdout.split()
    oversized, peak_rss = int(out[0]), int(out[1])
    assert oversized == 1
    assert peak_rss < 100 << 20 < path.stat().st_size // 2, f"peak RSS {peak_rss / 2**20:.0f} MiB"


def test_saved_dataset_dict_is_one_source_per_split(tmp_path: Path) -> None:
    import datasets

    rows = [{"q": f"q{i}", "a": f"a{i}"} for i in range(3)]
    datasets.DatasetDict({"train": datasets.Dataset.from_list(rows),
                          "test": datasets.Dataset.from_list(rows[:1])}).save_to_disk(str(tmp_path / "saved"))
    sources = resolve_sources([str(tmp_path / "saved")])
    assert [s.label for s in sources] == [f"{tmp_path / 'saved'}[test]", f"{tmp_path / 'saved'}[train]"]
    assert [list(iter_records(s)) for s in sources] == [[(0, rows[0])], list(enumerate(rows))]


def _readline_oracle(data: bytes, max_record_bytes: int, length: int | None) -> list[tuple[int, object]]:
    """The JSONL line semantics of a bounded `readline` loop, which `jsonl_runs` reads in chunks instead."""
    stream, out, number, consumed = io.BytesIO(data), [], 0, 0
    while length is None or consumed < length:
        line = stream.readline(max_record_bytes + 1)
        if not line:
            break
        consumed += len(line)
        if len(line) > max_record_bytes and not line.endswith(b"\n"):
            rest = stream.readline()
            consumed += len(rest)
            out.append((number, ("too large", len(line) + len(rest), excerpt_of(line))))
        elif not line.isspace():
            out.append((number, line.removesuffix(b"\n")))
        number += 1
    return out


@pytest.mark.parametrize("seed", range(6))
def test_chunked_line_reader_matches_a_bounded_readline(seed: int) -> None:
    rng = random.Random(seed)
    pieces = [b"a", b"{}", b" ", b"\r", b"\t", b"\x0b", b"\xc3\xa9", b"x" * 50]
    lines = [b"".join(rng.choice(pieces) for _ in range(rng.randrange(0, 12))) for _ in range(300)]
    data = b"\n".join(lines) + rng.choice([b"", b"\n"])
    starts = [0, *(k + 1 for k, byte in enumerate(data) if byte == 10)]
    for _ in range(20):
        limit, chunk = rng.randrange(5, 200), rng.randrange(1, 80)
        first = rng.randrange(len(starts))
        begin = starts[first] if first < len(starts) else len(data)
        length = rng.choice([None, rng.randrange(1, len(data) + 2)])
        got = []
        for number, run in jsonl_runs(io.BytesIO(data[begin:]), limit, first, length, chunk_bytes=chunk):
            if isinstance(run, Unreadable):
                size = int(run.message.split()[2])
                got.append((number, ("too large", size, run.excerpt)))
            else:
                got += [(number + k, line) for k, line in enumerate(run) if line and not line.isspace()]
        expected = [(number + first, item) for number, item in _readline_oracle(data[begin:], limit, length)]
        assert got == expected, (limit, chunk, first, length)


def test_an_oversized_line_starting_a_range_belongs_to_that_range_only() -> None:
    good = b'{"a": 1}\n' * 10
    data = good + b'{"big": "' + b"x" * 500 + b'"}\n' + good
    boundary = len(good)  # the next range starts with the oversized line
    first = list(jsonl_runs(io.BytesIO(data), 100, 0, boundary, chunk_bytes=64))
    second = list(jsonl_runs(io.BytesIO(data[boundary:]), 100, 10, None, chunk_bytes=64))
    assert not any(isinstance(run, Unreadable) for _, run in first)
    assert sum(len(run) for _, run in first) == 10
    assert [(n, run.reason) for n, run in second if isinstance(run, Unreadable)] == [(10, "record_too_large")]
