"""Every real record file under ../shared/realdata (all kinds but benchmarks; not the `*_args.json` run configs)
ingests through the CLI with exit 0, the ledger adds up per file, and the kept counts are the ones observed.

Rejects here are records that cannot be SFT examples: an empty proof, a patch whose prompt is not in the record,
a generation cut off by max_output_tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cli import app

DOMAINS = {"code_reasoning": "code_reasoning", "tool_calls": "tool_calling", "math_proofs": "math_proof",
           "swe_agentic": "swe_agentic", "swe_agentless": "swe_agentless"}
READABLE = {".json", ".jsonl", ".csv", ".traj"}

# kind/file → (records in, records kept, samples out, {reject reason: count})
EXPECTED: dict[str, tuple[int, int, int, dict[str, int]]] = {
    "code_reasoning/adp_code_feedback_sample_raw.json": (10, 10, 10, {}),
    "code_reasoning/nemogym_code_gen__example.jsonl": (5, 5, 5, {}),
    "code_reasoning/nemogym_code_gen__example_rollouts.jsonl": (5, 5, 5, {}),
    "code_reasoning/nemogym_competitive_coding_challenges__example.jsonl": (5, 5, 5, {}),
    "code_reasoning/nemogym_competitive_coding_challenges__example_rollouts.jsonl": (5, 5, 5, {}),
    "code_reasoning/nemogym_evalplus__example_rollouts.jsonl": (5, 5, 5, {}),
    "tool_calls/adp_toucan_1_5m_sample_raw.json": (1, 1, 1, {}),
    "tool_calls/llamafactory_glaive_toolcall_en_demo.json": (300, 300, 300, {}),
    "tool_calls/llamafactory_reason_tool_use_demo_50.jsonl": (50, 50, 50, {}),
    "tool_calls/nemogym_example_single_tool_call__example_rollouts.jsonl": (5, 5, 5, {}),
    "tool_calls/nemogym_single_step_tool_use_with_argument_comparison__example.jsonl": (5, 5, 5, {}),
    "tool_calls/nemogym_single_step_tool_use_with_argument_comparison__example_rollouts.jsonl": (5, 5, 5, {}),
    "tool_calls/nemogym_single_step_tool_use_with_argument_comparison__parallel_example.jsonl": (5, 5, 5, {}),
    "math_proofs/imo_proofbench.csv": (60, 60, 60, {}),
    "math_proofs/nemogym_math_proof_judgement__example.jsonl": (5, 5, 5, {}),
    "math_proofs/nemogym_proof_genselect__example.jsonl": (5, 5, 5, {}),
    "math_proofs/nemogym_proof_judge__example.jsonl": (5, 5, 5, {}),
    "math_proofs/nemogym_proof_judge__example_rollouts.jsonl": (5, 5, 5, {}),
    "math_proofs/nemogym_proof_verification__example.jsonl": (5, 5, 5, {}),
    # OlympiadBench: one sample per reference solution (some problems carry several).
    "math_proofs/olympiadbench_oe_solutions_first40.jsonl": (40, 40, 57, {}),
    # ProofNet: one record in each split has an empty nl_proof.
    "math_proofs/proofnet_test.jsonl": (186, 185, 185, {"empty_field": 1}),
    "math_proofs/proofnet_valid.jsonl": (185, 184, 184, {"empty_field": 1}),
    "swe_agentic/adp_mini-coder_sample_raw.json": (1, 1, 1, {}),
    "swe_agentic/adp_nebius_SWE-agent-trajectories_sample_raw.json": (5, 5, 5, {}),
    "swe_agentic/adp_swe-gym_openhands_sampled_trajectories_sample_raw.json": (5, 5, 5, {}),
    "swe_agentic/adp_swe-smith_sample_raw.json": (5, 5, 5, {}),
    "swe_agentic/minisweagent_github_issue.traj.json": (1, 1, 1, {}),
    "swe_agentic/sweagent_traj/6e44b9__sweagenttestrepo-1c2844.traj": (1, 1, 1, {}),
    # SWE-agent predictions: a patch without the prompt that produced it.
    "swe_agentic/sweagent_traj/all_preds.jsonl": (1, 0, 0, {"no_prompt": 1}),
    "swe_agentic/sweagent_traj/pydicom__pydicom-1458.traj": (1, 1, 1, {}),
    "swe_agentic/sweagent_traj/swe-agent__test-repo-i1.traj": (1, 1, 1, {}),
    # Agentless localisation: three prompt/response samples (file, related, edit location) per instance.
    "swe_agentless/agentless_loc_outputs_first25.jsonl": (25, 25, 75, {}),
    # Agentless processed repair outputs hold the patch but not the issue/prompt (that lives in output.jsonl).
    "swe_agentless/agentless_repair_output_0_processed_first10.jsonl": (10, 0, 0, {"no_prompt": 10}),
    "swe_agentless/nemogym_swerl_gen__example.jsonl": (5, 5, 5, {}),
    # Three rollouts stopped at max_output_tokens: their answers are cut off.
    "swe_agentless/nemogym_swerl_gen__example_rollouts.jsonl": (5, 2, 2, {"truncated_generation": 3}),
    "swe_agentless/nemogym_swerl_llm_judge__example.jsonl": (5, 5, 5, {}),
    "swe_agentless/nemogym_swerl_llm_judge__example_rollouts.jsonl": (5, 5, 5, {}),
}


def record_files(root: Path, kind: str) -> list[Path]:
    return sorted(p for p in (root / kind).rglob("*")
                  if p.is_file() and p.suffix in READABLE and not p.name.endswith("_args.json"))


def test_expected_table_covers_every_file(realdata: Path) -> None:
    found = {p.relative_to(realdata).as_posix() for kind in DOMAINS for p in record_files(realdata, kind)}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("kind", sorted(DOMAINS))
def test_every_realdata_file_ingests_and_adds_up(realdata: Path, tmp_path: Path, kind: str) -> None:
    files = record_files(realdata, kind)
    out = tmp_path / kind
    result = CliRunner().invoke(app, ["ingest", *map(str, files), "--domain", DOMAINS[kind], "--out", str(out)],
                                terminal_width=200)
    assert result.exit_code == 0, result.output
    ledger = json.loads((out / "ledger.json").read_text())
    assert ledger["in"] == ledger["kept"] + ledger["rejected"]
    observed = {}
    for label, tally in ledger["per_file"].items():
        assert tally["in"] == tally["kept"] + tally["rejected"], label
        key = Path(label).relative_to(realdata).as_posix()
        observed[key] = (tally["in"], tally["kept"], tally["samples_out"], tally["by_reason"])
    assert observed == {key: value for key, value in EXPECTED.items() if key.startswith(f"{kind}/")}

    rejects = pq.read_table(out / "rejects" / "00000.parquet").to_pylist()
    assert len(rejects) == ledger["rejected"]
    assert all(r["excerpt"] and r["message"] for r in rejects)
    assert pq.ParquetFile(out / "samples" / "00000.parquet").metadata.num_rows == ledger["samples_out"]
