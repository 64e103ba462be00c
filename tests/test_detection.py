"""Auto-detection skips an adapter for a record with none of its `detect_keys`, without calling `detect`. That is
sound only if no record lacking them is ever detected: checked on every real record, the demo corpus and the
crafted and random near-misses of the columnar tests, by gated detection agreeing with trying every adapter in
order, and by removing an adapter's keys from every record it detects."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from curate.adapters import all_adapters, detect
from curate.demo_data import write_demo_corpus
from curate.readers import iter_records, resolve_sources
from curate.schema import SampleError
from tests.test_ingest_columnar import CRAFTED, _random_record


@pytest.fixture(scope="module")
def records(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    demo = tmp_path_factory.mktemp("demo")
    write_demo_corpus(demo)
    files = [p for p in realdata.rglob("*") if p.is_file() and "benchmarks" not in p.parts
             and p.suffix in {".jsonl", ".json", ".csv", ".traj"}] + [p for p in demo.rglob("*") if p.is_file()]
    out = [item for path in files for source in resolve_sources([str(path)]) for _, item in iter_records(source)]
    rng = random.Random(0)
    out += CRAFTED + [_random_record(rng) for _ in range(500)]
    return [r for r in out if isinstance(r, dict)]


def _first_detecting(record: dict) -> str:
    return next((a.name for a in all_adapters() if a.detect(record)), "unknown_shape")


def test_gated_detection_equals_trying_every_adapter(records: list[dict]) -> None:
    assert len(records) > 1000
    shapes = set()
    for record in records:
        try:
            got = detect(record).name
        except SampleError as err:
            got = err.reason
        assert got == _first_detecting(record), record
        shapes.add(got)
    assert len(shapes) >= 20  # the corpus reaches most shapes


def test_an_adapter_never_detects_a_record_without_its_keys(records: list[dict]) -> None:
    exercised = set()
    for adapter in all_adapters():
        if adapter.detect_keys is None:
            continue
        for record in records:
            if adapter.detect(record):
                exercised.add(adapter.name)
                assert not adapter.detect({k: v for k, v in record.items() if k not in adapter.detect_keys})
    assert len(exercised) >= 20, sorted(exercised)
