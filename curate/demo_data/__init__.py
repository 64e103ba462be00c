"""The embedded demo corpus: a small, realistic, deterministic set of raw files in published shapes.

`write_demo_corpus(out_dir, seed)` writes the five seed kinds (Python competitive-coding reasoning traces, Python
tool-call samples, NL math proofs, SWE agentic trajectories, SWE agentless samples) the way their datasets publish
them, so `cascade ingest` / `cascade build` have real work to do offline: every file goes through a real adapter,
and the corpus plants what each curation stage must find — exact duplicates, near duplicates, prompts copied from
public benchmarks, and broken records — listing each in `planted.json` so tests can check that exactly those are
removed. Everything is templated from a seeded `random.Random` (stdlib only, no network, no ../shared).

Keys in the manifest name samples the way ingest ids them: `"<file>::<record key>"`, where the record key is what
`curate.adapters.chat.common.record_sample_id` passes to `curate.schema.sample_id`: the record's position in the
file, plus `/<part>` where a record yields several samples (`<stage>/<k>` for Agentless, `<k>` per OlympiadBench
solution). `sample_id_for(out_dir, key)` turns one into the sample id.

Each kind lives in its own module with a `build(corpus)` that adds its files to the shared `Corpus` ledger.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from curate.demo_data import code_reasoning, math_proofs, swe_agentic, swe_agentless, tool_calling
from curate.demo_data.benchmarks import BENCHMARK_FILE, BENCHMARK_PROBLEMS
from curate.demo_data.corpus import Corpus
from curate.schema import sample_id

__all__ = ["BENCHMARK_PROBLEMS", "sample_id_for", "write_demo_corpus"]

# the manifest lists their files in this order (each file draws from its own seeded stream)
KINDS = (code_reasoning, tool_calling, math_proofs, swe_agentic, swe_agentless)


def write_demo_corpus(out_dir: Path, seed: int = 0) -> dict[str, Any]:
    """Write the demo corpus under `out_dir` and return its manifest (also written as `out_dir/planted.json`).

    The same seed gives byte-identical files. Existing files of the corpus are overwritten; nothing else is touched.
    """
    out_dir = Path(out_dir)
    corpus = Corpus(seed)
    for kind in KINDS:
        kind.build(corpus)
    for f in corpus.files:
        target = out_dir / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.render())
    bench = out_dir / BENCHMARK_FILE
    bench.parent.mkdir(parents=True, exist_ok=True)
    bench.write_text("".join(json.dumps(b, ensure_ascii=False) + "\n" for b in BENCHMARK_PROBLEMS), encoding="utf-8")
    manifest = corpus.manifest()
    (out_dir / "planted.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def sample_id_for(out_dir: Path, key: str) -> str:
    """The sample id ingest gives the sample `key` names when the corpus file is read from `out_dir`.

    Ingest ids a sample by the source label it read the file under (the path as given, or a folder's file path):
    pass the same `out_dir` spelling as the ingest sources used.
    """
    path, _, record_key = key.partition("::")
    return sample_id(str(Path(out_dir) / path), record_key)
