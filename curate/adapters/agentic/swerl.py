"""SWE-RL style task prompts from NeMo-Gym: agentless repair generation (`swerl_gen`) and the pick-the-correct-
patch judge (`swerl_llm_judge`). Both are RL prompts: no response in the record, references in meta."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curate.adapters.agentic.common import gym_prompt, is_gym_prompt, make_sample, require
from curate.adapters.base import Adapter, RecordContext
from curate.adapters.text import loads_json
from curate.schema import Sample


class SWERLGenPromptAdapter(Adapter):
    """A repair prompt (issue + relevant files, answer as SEARCH/REPLACE edits) → prompt-only sample. meta keeps
    what a reward needs: instance_id, repo, the reference patch and test patch, FAIL_TO_PASS / PASS_TO_PASS
    (parsed from their JSON strings), the relevant file contents (parsed), the evaluation image and the rest of
    the SWE-bench instance under meta.instance. Rollouts of these prompts (with `response`) are left to the
    generic Responses adapter."""

    name = "swerl_gen_prompt"
    priority = 20
    detect_keys = frozenset({"responses_create_params"})

    def detect(self, record: dict[str, Any]) -> bool:
        return is_gym_prompt(record) and isinstance(record.get("instance"), dict) and "instance_id" in record[
            "instance"]

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        messages, tools = gym_prompt(record)
        instance = dict(require(record, "instance", dict))
        require(instance, "instance_id", str, "instance.instance_id")
        metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
        tests = {key: loads_json(instance.pop(key, None), f"instance.{key}") for key in ("FAIL_TO_PASS",
                                                                                           "PASS_TO_PASS")}
        meta = {
            "prompt_only": True,
            "instance_id": instance.pop("instance_id"),
            "repo": instance.pop("repo", None),
            "reference_patch": instance.pop("patch", None),
            "test_patch": instance.pop("test_patch", None),
            **tests,
            "relevant_file_contents": loads_json(metadata.get("relevant_file_contents"),
                                                 "metadata.relevant_file_contents"),
            "image": metadata.get("image"),
            "dataset_name": record.get("dataset_name"),
            "dataset_split": record.get("dataset_split"),
            "instance": instance,
        }
        yield make_sample(ctx, messages, tools=tools, meta=meta)


class SWERLJudgePromptAdapter(Adapter):
    """A patch-choice question (which candidate diff fixes the issue) → prompt-only sample; meta keeps
    expected_answer, the options, grading_mode, instance_id and repo."""

    name = "swerl_llm_judge_prompt"
    priority = 20
    detect_keys = frozenset({"responses_create_params"})

    def detect(self, record: dict[str, Any]) -> bool:
        return is_gym_prompt(record) and isinstance(record.get("options"), list) and "expected_answer" in record

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        messages, tools = gym_prompt(record)
        metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
        meta = {
            "prompt_only": True,
            "expected_answer": require(record, "expected_answer", str),
            "options": record["options"],
            "grading_mode": record.get("grading_mode"),
            "instance_id": record.get("instance_id"),
            "repo": metadata.get("repo"),
            "dataset_name": record.get("dataset_name"),
            "dataset_split": record.get("dataset_split"),
        }
        yield make_sample(ctx, messages, tools=tools, meta=meta)
