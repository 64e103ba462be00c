"""SWE agentic / agentless / proof adapters: every real file in those folders goes through the registry the way
ingest runs it (detect → convert → validate), with per-file counts and the structure each shape must keep;
bad records reject with the right reason and field."""

from __future__ import annotations

import copy
import csv
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from curate.adapters import RecordContext, agentic, detect
from curate.adapters.agentic.swe_smith import parse_inline_call
from curate.schema import Sample, SampleError, from_row, to_row, validate

AGENTIC_NAMES = {adapter.name for adapter in agentic.ADAPTERS}
FOLDERS = ("swe_agentic", "swe_agentless", "math_proofs")


def load_records(path: Path) -> list[dict[str, Any]]:
    """Plain readers: CSV rows, JSONL lines, a JSON list of records, one object per file (.traj), and a file whose
    top level is a list of role/content messages handed over as {"messages": [...]} (as the ingest reader does)."""
    if path.suffix == ".csv":
        with path.open(newline="") as f:
            return list(csv.DictReader(f))
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    if isinstance(data, dict):
        return [data]
    if data and all(isinstance(m, dict) and set(m) <= {"role", "content"} for m in data):
        return [{"messages": data}]
    return data


def run(record: dict[str, Any], index: int = 0, source: str = "inline", domain: str = "swe_agentic") -> list[Sample]:
    samples = list(detect(record).convert(record, RecordContext(source=source, index=index, domain=domain)))
    for sample in samples:
        validate(sample)
    return samples


def run_file(path: Path, domain: str) -> tuple[set[str], list[Sample], Counter]:
    """(adapters used, samples, reject reason:field counts) for a whole file."""
    used, samples, rejects = set(), [], Counter()
    for i, record in enumerate(load_records(path)):
        adapter = detect(record)
        used.add(adapter.name)
        try:
            samples.extend(run(record, i, str(path), domain))
        except SampleError as err:
            rejects[f"{err.reason}:{err.field}"] += 1
    return used, samples, rejects


# path: (adapter, records, samples, rejects by reason:field)
REAL_FILES = {
    "swe_agentic/adp_nebius_SWE-agent-trajectories_sample_raw.json": ("nebius_swe_agent", 5, 5, {}),
    "swe_agentic/adp_swe-gym_openhands_sampled_trajectories_sample_raw.json": ("swe_gym_openhands", 5, 5, {}),
    "swe_agentic/adp_swe-smith_sample_raw.json": ("swe_smith", 5, 5, {}),
    "swe_agentic/adp_mini-coder_sample_raw.json": ("mini_swe_agent", 1, 1, {}),
    "swe_agentic/minisweagent_github_issue.traj.json": ("mini_swe_agent", 1, 1, {}),
    "swe_agentic/sweagent_traj/6e44b9__sweagenttestrepo-1c2844.traj": ("swe_agent_traj", 1, 1, {}),
    "swe_agentic/sweagent_traj/pydicom__pydicom-1458.traj": ("swe_agent_traj", 1, 1, {}),
    "swe_agentic/sweagent_traj/swe-agent__test-repo-i1.traj": ("swe_agent_traj", 1, 1, {}),
    "swe_agentic/sweagent_traj/all_preds.jsonl": ("swe_patch_prediction", 1, 0, {"no_prompt:": 1}),
    "swe_agentless/agentless_loc_outputs_first25.jsonl": ("agentless_localization", 25, 75, {}),
    "swe_agentless/agentless_repair_output_0_processed_first10.jsonl": ("swe_patch_prediction", 10, 0,
                                                                         {"no_prompt:": 10}),
    "swe_agentless/nemogym_swerl_gen__example.jsonl": ("swerl_gen_prompt", 5, 5, {}),
    "swe_agentless/nemogym_swerl_llm_judge__example.jsonl": ("swerl_llm_judge_prompt", 5, 5, {}),
    "math_proofs/proofnet_test.jsonl": ("proofnet", 186, 185, {"empty_field:nl_proof": 1}),
    "math_proofs/proofnet_valid.jsonl": ("proofnet", 185, 184, {"empty_field:nl_proof": 1}),
    "math_proofs/imo_proofbench.csv": ("imo_proofbench", 60, 60, {}),
    # 25 problems with one solution, 13 with two, 2 with three
    "math_proofs/olympiadbench_oe_solutions_first40.jsonl": ("olympiadbench", 40, 57, {}),
    "math_proofs/nemogym_proof_genselect__example.jsonl": ("proof_genselect", 5, 5, {}),
    "math_proofs/nemogym_math_proof_judgement__example.jsonl": ("math_proof_judgement", 5, 5, {}),
    "math_proofs/nemogym_proof_verification__example.jsonl": ("proof_verification", 5, 5, {}),
    "math_proofs/nemogym_proof_judge__example.jsonl": ("proof_judge_prompt", 5, 5, {}),
}
# NeMo-Gym rollouts (request + response.output) belong to the generic Responses adapter in curate/adapters/chat.
ROLLOUT_FILES = (
    "swe_agentless/nemogym_swerl_gen__example_rollouts.jsonl",
    "swe_agentless/nemogym_swerl_llm_judge__example_rollouts.jsonl",
    "math_proofs/nemogym_proof_judge__example_rollouts.jsonl",
)
PROMPT_ONLY = {"swerl_gen_prompt", "swerl_llm_judge_prompt", "proof_genselect", "math_proof_judgement",
               "proof_verification", "proof_judge_prompt"}


def test_every_real_file_is_covered(realdata: Path) -> None:
    on_disk = {str(p.relative_to(realdata)) for folder in FOLDERS for p in (realdata / folder).rglob("*")
               if p.is_file() and p.name != "SOURCE.txt" and not p.name.endswith("_args.json")}
    assert on_disk == set(REAL_FILES) | set(ROLLOUT_FILES)


@pytest.mark.parametrize("rel", sorted(REAL_FILES))
def test_real_file_converts(realdata: Path, rel: str) -> None:
    adapter, n_records, n_samples, rejects = REAL_FILES[rel]
    path = realdata / rel
    domain = "math_proof" if rel.startswith("math_proofs") else rel.split("/")[0]
    used, samples, got_rejects = run_file(path, domain)
    assert used == {adapter}
    assert len(load_records(path)) == n_records
    assert len(samples) == n_samples
    assert dict(got_rejects) == rejects
    assert len({s.id for s in samples}) == len(samples)
    for sample in samples:
        assert sample.domain == domain and sample.source == str(path)
        assert bool(sample.meta.get("prompt_only")) == (adapter in PROMPT_ONLY)
        assert from_row(to_row(sample)) == sample


def test_ids_are_stable_and_source_scoped(realdata: Path) -> None:
    path = realdata / "swe_agentic/adp_swe-smith_sample_raw.json"
    first = [s.id for s in run_file(path, "swe_agentic")[1]]
    assert first == [s.id for s in run_file(path, "swe_agentic")[1]]
    record = load_records(path)[0]
    assert run(record, source="a.json")[0].id != run(record, source="b.json")[0].id


@pytest.mark.parametrize("rel", ROLLOUT_FILES)
def test_rollouts_go_to_the_generic_responses_adapter(realdata: Path, rel: str) -> None:
    records = load_records(realdata / rel)
    assert not any(adapter.detect(r) for r in records for adapter in agentic.ADAPTERS)
    _, samples, rejects = run_file(realdata / rel, "swe_agentless")
    truncated = sum(bool(r["response"].get("incomplete_details")) for r in records)
    assert len(samples) == len(records) - truncated and sum(rejects.values()) == truncated


# ------------------------------------------------------------------ SWE agentic structure

def test_nebius_roles_patch_and_outcome(realdata: Path) -> None:
    records = load_records(realdata / "swe_agentic/adp_nebius_SWE-agent-trajectories_sample_raw.json")
    for record in records:
        (sample,) = run(record)
        raw_roles = [step["role"] for step in record["trajectory"]]
        assert [m.role for m in sample.messages] == [{"ai": "assistant"}.get(r, r) for r in raw_roles]
        assert sample.messages[0].content == record["trajectory"][0]["system_prompt"]
        assert [m.content for m in sample.messages[1:]] == [s["text"] for s in record["trajectory"][1:]]
        assert sample.meta["patch"] == record["generated_patch"]
        assert sample.meta["resolved"] is record["target"]
        assert sample.meta["instance_id"] == record["instance_id"]
        assert not sample.tools and "untrained_turns" not in sample.meta


def test_nebius_mask_false_turns_are_listed() -> None:
    record = {"instance_id": "x_1", "target": False, "trajectory": [
        {"role": "system", "text": None, "system_prompt": "SYS"},
        {"role": "user", "text": "issue"},
        {"role": "ai", "text": "ls", "mask": False},
        {"role": "user", "text": "a.py"},
        {"role": "ai", "text": "submit", "mask": True},
    ]}
    (sample,) = run(record)
    assert sample.meta["untrained_turns"] == [2] and sample.meta["resolved"] is False


def test_swe_gym_tool_calls_ids_and_schemas(realdata: Path) -> None:
    records = load_records(realdata / "swe_agentic/adp_swe-gym_openhands_sampled_trajectories_sample_raw.json")
    for record in records:
        (sample,) = run(record)
        raw_calls = [c for m in record["messages"] if m["role"] == "assistant" for c in m["tool_calls"] or []]
        calls = [c for m in sample.messages for c in m.tool_calls or []]
        assert [(c.id, c.name, c.arguments) for c in calls] == [
            (c["id"], c["function"]["name"], json.loads(c["function"]["arguments"])) for c in raw_calls]
        call_ids = {c.id for c in calls}
        results = [m for m in sample.messages if m.role == "tool"]
        assert results and all(m.tool_call_id in call_ids for m in results)
        assert [t["function"]["name"] for t in sample.tools] == ["execute_bash", "finish", "str_replace_editor"]
        assert all(t["type"] == "function" and "parameters" in t["function"] for t in sample.tools)
        assert sample.meta["resolved"] is record["resolved"]
        assert sample.meta["patch"] == record["test_result"]["git_patch"]
    assert sum(len(m["tool_calls"] or []) for r in records for m in r["messages"]) == 87


def _normalise_call_text(text: str) -> str:
    """SWE-smith text with every parameter value written on its own lines, as the Nemotron XML format renders it."""
    text = re.sub(r"<parameter=([^>\s]+)>\n?(.*?)\n?</parameter>", r"<parameter=\1>\n\2\n</parameter>", text,
                  flags=re.DOTALL)
    return re.sub(r"\s*<function=", "\n<function=", text).strip()


def test_swe_smith_calls_become_structured_and_lossless(realdata: Path) -> None:
    records = load_records(realdata / "swe_agentic/adp_swe-smith_sample_raw.json")
    structured = []
    for record in records:
        (sample,) = run(record)
        raw = record["messages"]
        assert len(sample.messages) == len(raw)
        for i, (msg, src) in enumerate(zip(sample.messages, raw, strict=True)):
            if msg.role == "assistant":
                (call,) = msg.tool_calls
                assert call.id == f"call_{i}"
                block = f"<function={call.name}>\n" + "".join(
                    f"<parameter={k}>\n{v}\n</parameter>\n" for k, v in call.arguments.items()) + "</function>"
                assert _normalise_call_text(src["content"]) == _normalise_call_text(f"{msg.content}\n{block}")
            if msg.role == "tool":
                prev = sample.messages[i - 1]
                assert msg.tool_call_id == prev.tool_calls[0].id and msg.name == prev.tool_calls[0].name
                assert src["role"] == "user" and msg.content == src["content"]
        structured.append(sample.meta["structured_calls"])
        assert sample.meta["text_calls"] == 0 and sample.meta["resolved"] is True
        assert sample.meta["patch"] == record["patch"] and sample.meta["instance_id"] == record["instance_id"]
    assert structured == [15, 23, 18, 22, 38]


def test_swe_smith_unparseable_call_stays_text() -> None:
    good = "Let me look.\n\n<function=bash>\n<parameter=command>ls</parameter>\n</function>"
    assert parse_inline_call(good)[1].arguments == {"command": "ls"}
    assert parse_inline_call("<function=bash>\n<parameter=command>\nls -la\n</parameter>\n</function>")[
        1].arguments == {"command": "ls -la"}
    for bad in (good + "\nand some words after",  # text after the call
                good.replace("<parameter=command>", "stray <parameter=command>"),  # text between parameters
                good + "\n" + good[len("Let me look.\n\n"):],  # two calls
                "<function=bash>\n<parameter=a>1</parameter>\n<parameter=a>2</parameter>\n</function>"):
        assert parse_inline_call(bad) is None
    record = {"traj_id": "t", "patch": "", "messages": [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "fix it"},
        {"role": "assistant", "content": good + "\nand some words after"},
        {"role": "user", "content": "OBSERVATION:\nx"},
        {"role": "assistant", "content": good},
        {"role": "user", "content": "OBSERVATION:\na.py"},
    ]}
    (sample,) = run(record)
    assert [m.role for m in sample.messages] == ["system", "user", "assistant", "user", "assistant", "tool"]
    assert sample.messages[2].content == record["messages"][2]["content"] and not sample.messages[2].tool_calls
    assert sample.meta["structured_calls"] == 1 and sample.meta["text_calls"] == 1


def test_swe_agent_traj_history_and_function_calls(realdata: Path) -> None:
    fc = load_records(realdata / "swe_agentic/sweagent_traj/6e44b9__sweagenttestrepo-1c2844.traj")[0]
    (sample,) = run(fc)
    calls = [c for m in sample.messages for c in m.tool_calls or []]
    results = [m for m in sample.messages if m.role == "tool"]
    assert len(calls) == len(results) == 4
    assert [m.tool_call_id for m in results] == [c.id for c in calls]
    assert calls[0].name == "find_file" and calls[0].arguments == {"file_name": "missing_colon.py"}
    assert sample.meta["patch"] == fc["info"]["submission"] and sample.meta["exit_status"] == "submitted"
    assert sample.meta["instance_id"] == "SWE-agent__test-repo-i1" and sample.meta["model"] == "gpt-4o"

    old = load_records(realdata / "swe_agentic/sweagent_traj/pydicom__pydicom-1458.traj")[0]
    (sample,) = run(old)
    assert [m.role for m in sample.messages] == [m["role"] for m in old["history"]]
    assistant = [m.content for m in sample.messages if m.role == "assistant"]
    assert assistant == [step["response"] for step in old["trajectory"]]
    assert sample.meta["steps"] == 12 and not any(m.tool_calls for m in sample.messages)


def test_mini_swe_agent_shapes(realdata: Path) -> None:
    (coder,) = run(load_records(realdata / "swe_agentic/adp_mini-coder_sample_raw.json")[0])
    raw = load_records(realdata / "swe_agentic/adp_mini-coder_sample_raw.json")[0]
    assert [m.content for m in coder.messages] == [m["content"] for m in raw["messages"]]
    assert coder.meta["patch"] == raw["patch"] and coder.meta["verified"] is True
    (issue,) = run(load_records(realdata / "swe_agentic/minisweagent_github_issue.traj.json")[0])
    assert len(issue.messages) == 22 and issue.messages[3].content.startswith("<returncode>")
    v2 = {"trajectory_format": "mini-swe-agent-1.1", "info": {"exit_status": "Submitted", "submission": "diff"},
          "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "fix"},
                       {"role": "assistant", "content": "THOUGHT: done\n\n```bash\nsubmit\n```", "extra": {}}]}
    assert detect(v2).name == "mini_swe_agent"
    (sample,) = run(v2)
    assert sample.meta["patch"] == "diff" and sample.meta["exit_status"] == "Submitted"


# ------------------------------------------------------------------ agentless and SWE-RL

def test_agentless_localization_three_stages_per_instance(realdata: Path) -> None:
    records = load_records(realdata / "swe_agentless/agentless_loc_outputs_first25.jsonl")
    for record in records:
        samples = run(record)
        assert [s.meta["stage"] for s in samples] == ["file_level", "related_elements", "edit_location"]
        assert len({s.id for s in samples}) == 3
        assert all(s.meta["instance_id"] == record["instance_id"] for s in samples)
        file_level, _, edit = samples
        assert file_level.messages[0].content == record["file_traj"]["prompt"]
        assert file_level.messages[1].content == record["file_traj"]["response"]
        assert file_level.meta["found"] == record["found_files"]
        assert edit.messages[1].content == record["edit_loc_traj"]["response"][0]


def test_agentless_repair_traj_and_missing_stages() -> None:
    record = {"instance_id": "a__b-1", "raw_output": ["x"], "traj": [
        {"prompt": "issue + code", "response": "### a.py\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE"},
        {"prompt": "issue + code", "response": ""},
        {"prompt": "issue + code", "response": "second try"},
    ]}
    samples = run(record)
    assert [s.meta["sample_index"] for s in samples] == [0, 2] and samples[0].meta["stage"] == "repair"
    loc = {"instance_id": "a__b-1", "file_traj": {}, "related_loc_traj": {}, "edit_loc_traj": {}}
    with pytest.raises(SampleError) as err:
        run(loc)
    assert (err.value.reason, err.value.field) == ("no_response", "file_traj")


def test_swerl_prompts_keep_references(realdata: Path) -> None:
    gen = load_records(realdata / "swe_agentless/nemogym_swerl_gen__example.jsonl")[0]
    (sample,) = run(gen)
    assert [m.role for m in sample.messages] == ["user"]
    assert sample.messages[0].content == gen["responses_create_params"]["input"][0]["content"]
    assert sample.meta["instance_id"] == gen["instance"]["instance_id"]
    assert sample.meta["reference_patch"] == gen["instance"]["patch"]
    assert sample.meta["FAIL_TO_PASS"] == json.loads(gen["instance"]["FAIL_TO_PASS"])
    assert sample.meta["relevant_file_contents"] == json.loads(gen["metadata"]["relevant_file_contents"])
    judge = load_records(realdata / "swe_agentless/nemogym_swerl_llm_judge__example.jsonl")[0]
    (sample,) = run(judge)
    assert sample.meta["expected_answer"] == judge["expected_answer"] and sample.meta["options"] == judge["options"]


# ------------------------------------------------------------------ proofs

def test_proof_sources_keep_their_references(realdata: Path) -> None:
    proofnet = load_records(realdata / "math_proofs/proofnet_test.jsonl")[0]
    (sample,) = run(proofnet, domain="math_proof")
    assert [m.content for m in sample.messages] == [proofnet["nl_statement"], proofnet["nl_proof"]]
    assert sample.meta["formal_statement"] == proofnet["formal_statement"]
    imo = load_records(realdata / "math_proofs/imo_proofbench.csv")[0]
    (sample,) = run(imo, domain="math_proof")
    assert [m.content for m in sample.messages] == [imo["Problem"], imo["Solution"]]
    assert sample.meta["grading_guidelines"] == imo["Grading guidelines"] and sample.meta["level"] == "IMO-easy"
    olympiad = next(r for r in load_records(realdata / "math_proofs/olympiadbench_oe_solutions_first40.jsonl")
                    if len(r["solution"]) == 2)
    samples = run(olympiad, domain="math")
    assert [s.messages[1].content for s in samples] == olympiad["solution"]
    assert all(s.meta["final_answer"] == olympiad["final_answer"] for s in samples)
    genselect = load_records(realdata / "math_proofs/nemogym_proof_genselect__example.jsonl")[0]
    (sample,) = run(genselect, domain="math_proof")
    assert sample.meta["correct_index"] == genselect["correct_index"] and sample.meta["proof_2"] == genselect[
        "proof_2"]


# ------------------------------------------------------------------ bad records

def test_nebius_unknown_role_is_rejected(realdata: Path) -> None:
    record = copy.deepcopy(load_records(realdata / "swe_agentic/adp_nebius_SWE-agent-trajectories_sample_raw.json")[0])
    record["trajectory"][2]["role"] = "critic"
    with pytest.raises(SampleError) as err:
        run(record)
    assert (err.value.reason, err.value.field) == ("unknown_role", "trajectory[2].role")


@pytest.mark.parametrize(("trajectory", "reason"), [(None, "missing_field"), ([], "empty_field")])
def test_traj_without_trajectory_is_rejected(realdata: Path, trajectory: list | None, reason: str) -> None:
    record = load_records(realdata / "swe_agentic/sweagent_traj/swe-agent__test-repo-i1.traj")[0]
    if trajectory is None:
        del record["trajectory"]
    else:
        record["trajectory"] = trajectory
    assert detect(record).name == "swe_agent_traj"
    with pytest.raises(SampleError) as err:
        run(record)
    assert (err.value.reason, err.value.field) == (reason, "trajectory")


def test_bad_gym_prompts_are_rejected() -> None:
    base = {"responses_create_params": {"input": [{"role": "user", "content": "judge this"}]},
            "problem_id": "p", "problem": "P", "proof": "Q", "expected_judgement": "Judgement: Yes"}
    assert run(base, domain="math_proof")[0].meta["expected_judgement"] == "Judgement: Yes"
    cases = [
        ({**base, "problem": None}, ("missing_field", "problem")),
        ({**base, "responses_create_params": {"input": [{"type": "function_call", "name": "f"}]}},
         ("unsupported_item", "responses_create_params.input[0]")),
        ({**base, "responses_create_params": {"input": [{"role": "critic", "content": "x"}]}},
         ("unknown_role", "responses_create_params.input[0].role")),
    ]
    for record, expected in cases:
        with pytest.raises(SampleError) as err:
            run(record, domain="math_proof")
        assert (err.value.reason, err.value.field) == expected


def test_empty_proof_and_bad_tool_arguments_are_rejected() -> None:
    with pytest.raises(SampleError) as err:
        run({"id": "x", "nl_statement": "Show 1=1.", "nl_proof": "  "}, domain="math_proof")
    assert (err.value.reason, err.value.field) == ("empty_field", "nl_proof")
    gym = {"instance_id": "i", "resolved": True, "tools": [], "messages": [
        {"role": "user", "content": "fix"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "execute_bash", "arguments": "{not json"}}]},
    ]}
    with pytest.raises(SampleError) as err:
        run(gym)
    assert (err.value.reason, err.value.field) == ("bad_tool_arguments", "messages[1].tool_calls[0].function.arguments")


@pytest.mark.parametrize("reasoning_key", ["reasoning_content", "reasoning", "thinking"])
def test_openai_shaped_trajectories_keep_reasoning_and_link_results(reasoning_key: str) -> None:
    """SWE-Gym, mini-swe-agent and SWE-agent .traj go through the chat converter: an assistant turn's separate
    reasoning field survives, and a tool result without its own name carries the name of the call it answers."""
    call = {"id": "c1", "type": "function", "function": {"name": "execute_bash", "arguments": '{"command": "ls"}'}}
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "fix the bug"},
        {"role": "assistant", "content": "listing", reasoning_key: "look at the tree first", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "a.py"},
        {"role": "assistant", "content": "done", reasoning_key: "a.py is the only file"},
    ]
    swe_gym = {"instance_id": "a__b-1", "run_id": "r0", "resolved": True, "messages": messages, "tools": []}
    mini = {"trajectory_format": "mini-swe-agent-1.1", "info": {}, "messages": messages}
    traj = {"info": {}, "trajectory": [{"action": "ls"}],
            "history": [{**m, "tool_call_ids": [m["tool_call_id"]]} if m["role"] == "tool" else m for m in messages]}
    for record, adapter in ((swe_gym, "swe_gym_openhands"), (mini, "mini_swe_agent"), (traj, "swe_agent_traj")):
        assert detect(record).name == adapter
        (sample,) = run(record)
        assistant = [m for m in sample.messages if m.role == "assistant"]
        assert [m.reasoning_content for m in assistant] == ["look at the tree first", "a.py is the only file"]
        assert [m.content for m in assistant] == ["listing", "done"]
        (result,) = [m for m in sample.messages if m.role == "tool"]
        assert (result.tool_call_id, result.name) == ("c1", "execute_bash")


SHARED_NATIVE_ID_RECORDS = {
    "nebius_swe_agent": {"instance_id": "a__b-1", "target": True, "trajectory": [
        {"role": "system", "text": None, "system_prompt": "SYS"}, {"role": "user", "text": "issue"},
        {"role": "ai", "text": "submit"}]},
    "swe_gym_openhands": {"instance_id": "a__b-1", "resolved": False, "tools": [{"name": "finish"}], "messages": [
        {"role": "user", "content": "fix"}, {"role": "assistant", "content": "done"}]},
    "mini_swe_agent": {"id": "m1", "instance_id": "a__b-1", "trajectory_format": "mini-swe-agent-1", "messages": [
        {"role": "user", "content": "fix"}, {"role": "assistant", "content": "THOUGHT: ok\n```bash\nls\n```"}]},
    "swe_agent_traj": {"info": {}, "trajectory": [{"action": "ls"}],
                       "replay_config": {"problem_statement": {"id": "a__b-1"}},
                       "history": [{"role": "user", "content": "fix"}, {"role": "assistant", "content": "ls"}]},
    "swerl_llm_judge_prompt": {"instance_id": "a__b-1", "options": ["A", "B"], "expected_answer": "A",
                               "responses_create_params": {"input": [{"role": "user", "content": "which?"}]}},
}


@pytest.mark.parametrize("adapter", sorted(SHARED_NATIVE_ID_RECORDS))
def test_trajectories_of_one_instance_get_distinct_stable_ids(adapter: str) -> None:
    """Real SWE data has many trajectories per instance_id (nebius ~25): each record's sample is id'd by its
    position in the source, so ids cannot collide, re-runs give the same ids, and the instance stays in meta."""
    record = SHARED_NATIVE_ID_RECORDS[adapter]
    assert detect(record).name == adapter
    (first,), (second,) = run(record, index=0, source="f.jsonl"), run(copy.deepcopy(record), index=1, source="f.jsonl")
    assert first.id != second.id
    assert first.id == run(copy.deepcopy(record), index=0, source="f.jsonl")[0].id
    assert first.meta["instance_id"] == second.meta["instance_id"] == "a__b-1"


def test_several_samples_of_one_record_get_distinct_ids(realdata: Path) -> None:
    """Agentless stages and OlympiadBench solutions: one record, several samples, one id each, none shared with
    the neighbouring record's samples."""
    loc = load_records(realdata / "swe_agentless/agentless_loc_outputs_first25.jsonl")[0]
    olympiad = {"id": 7, "question": "q", "solution": ["a", "b"], "final_answer": ["1"]}
    for record in (loc, olympiad):
        samples = run(record, index=0) + run(record, index=1)
        assert len({s.id for s in samples}) == len(samples) >= 4
