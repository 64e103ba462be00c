"""Recipes: the shipped ones validate; mistakes are ValueErrors naming the key path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from curate.recipe import load_recipe, parse_recipe
from tests.conftest import PROJECT_ROOT

RECIPES = PROJECT_ROOT / "recipes"
MINIMAL = {"name": "r", "sources": [{"path": "data.jsonl", "domain": "math"}]}


def test_shipped_recipes_validate(tmp_path):
    cascade = load_recipe(RECIPES / "cascade2_sft.yaml")
    assert cascade.name == "nemotron-cascade-2-sft" and len(cascade.sources) == 13
    assert {s.hub.split("/")[1] for s in cascade.sources} == {"Nemotron-Cascade-2-SFT-Data"}
    assert cascade.sources[0].spec.startswith("hf://nvidia/") and cascade.sources[0].samples == 1_900_000
    assert cascade.executor.kind == "slurm" and cascade.executor.options["partition"] == "cpu"
    assert cascade.pack["seq_len"] == 262_144 and cascade.dedup.keep == "longest"
    assert "python_code" in cascade.filters["code_reasoning"] and "python_code" not in cascade.filters["chat"]
    from trainer.config import TrainConfig

    # The trainer fills data.packed_dir with the build's folder (trainer/launch.py); everything else is the recipe's.
    train = TrainConfig.from_dict({**cascade.train, "data": {"packed_dir": "runs/x"}})
    assert train.optim.lr == 5e-5 and train.batch.global_rows == 64

    from datatrove.executor import SlurmPipelineExecutor  # the options are datatrove's: constructing checks them

    slurm = SlurmPipelineExecutor(pipeline=[], tasks=2, workers=cascade.executor.workers,
                                  logging_dir=str(tmp_path / "slurm"), **cascade.executor.options)
    assert (slurm.partition, slurm.cpus_per_task) == ("cpu", 4)

    demo = load_recipe(RECIPES / "demo.yaml", demo_root="/somewhere/demo_corpus")
    assert demo.demo_corpus and demo.sources[0].path == "/somewhere/demo_corpus/code_reasoning/opencodereasoning.jsonl"
    assert demo.decontam.benchmarks[0].path == str(RECIPES / "demo_corpus/benchmarks/demo_benchmarks.jsonl")
    assert len(demo.sha256) == 64


def test_relative_paths_resolve_against_the_recipe(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({**MINIMAL, "decontam": {"benchmarks": [
        {"name": "b", "path": "bench/b.jsonl", "field": "problem"}]}}))
    recipe = load_recipe(path)
    assert recipe.sources[0].path == str(tmp_path / "data.jsonl")
    assert recipe.decontam.benchmarks[0].path == str(tmp_path / "bench/b.jsonl")
    assert recipe.seed == 0 and recipe.executor.kind == "local" and recipe.executor.workers == 1


@pytest.mark.parametrize(("patch", "message"), [
    ({"mix": {"code_reasoning": {"weight": "high"}, "total": 10}}, r"mix\.code_reasoning\.weight: expected a number"),
    ({"mix": {"math": {"weight": 1.0}}}, r"mix\.math\.weight: weights need mix\.total"),
    ({"mix": {"math": {"count": 5, "epochs": 2.0}}}, r"mix\.math: give one of weight, count or epochs"),
    ({"mix": {"maths": {"count": 5}}}, r"mix\.maths: unknown domain"),
    ({"mix": {"math": {"cap": -1}}}, r"mix\.math\.cap: must be >= 0"),
    ({"sources": [{"path": "a.jsonl"}]}, r"sources\[0\]\.domain: required"),
    ({"sources": [{"path": "a.jsonl", "hub": "o/n", "domain": "math"}]}, r"sources\[0\]: give exactly one of"),
    ({"sources": [{"path": "a.jsonl", "domain": "poetry"}]}, r"sources\[0\]\.domain: unknown domain 'poetry'"),
    ({"sources": []}, r"sources: expected a non-empty list"),
    ({"dedup": {"keep": "best"}}, r"dedup\.keep: expected one of first, longest, score"),
    ({"dedup": {"keep": "score"}}, r"dedup\.score_field: required"),
    ({"dedup": {"threshold": 1.5}}, r"dedup\.threshold: must be in"),
    ({"dedup": {"n_gram": 5}}, r"dedup\.n_gram: unknown setting"),
    ({"dedup": {"scope_keys": {"swe": ["stage"]}}}, r"dedup\.scope_keys\.swe: unknown domain"),
    ({"dedup": {"scope_keys": {"swe_agentless": "stage"}}}, r"dedup\.scope_keys\.swe_agentless: expected a list"),
    ({"dedup": {"common_shingles": ["sw"]}}, r"dedup\.common_shingles\[0\]: unknown domain"),
    ({"decontam": {"benchmarks": [{"name": "b", "path": "b.jsonl"}]}}, r"decontam\.benchmarks\[0\]\.field: required"),
    ({"decontam": {"n": "13"}}, r"decontam\.n: expected an integer"),
    ({"filters": {"math": {"proof": {"min_chars": 1.5}}}}, r"filters\.math\.proof\.min_chars: expected an integer"),
    ({"executor": {"kind": "k8s"}}, r"executor\.kind: expected one of local, slurm, ray"),
    ({"executor": {"workers": 0}}, r"executor\.workers: must be >= 1"),
    ({"seed": "x"}, r"seed: expected an integer"),
    ({"seed": -1}, r"seed: must be >= 0, got -1"),
    ({"tokenizer": "qwen"}, r"tokenizer: expected a mapping"),
    ({"sourcez": []}, r"sourcez: unknown recipe key"),
])
def test_errors_name_the_key_path(patch, message):
    with pytest.raises(ValueError, match=message):
        parse_recipe({**MINIMAL, **patch}, Path("/base"))


def test_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ValueError, match=r"bad\.yaml: not valid YAML"):
        load_recipe(bad)
    bad.write_text(yaml.safe_dump({**MINIMAL, "mix": {"math": {"count": "many"}}}))
    with pytest.raises(ValueError, match=r"bad\.yaml: mix\.math\.count: expected an integer"):
        load_recipe(bad)
    evil = tmp_path / "evil.yaml"
    evil.write_text("name: !!python/object/apply:os.system ['true']\nsources: []\n")
    with pytest.raises(ValueError, match="not valid YAML"):  # safe_load only: no object construction
        load_recipe(evil)
