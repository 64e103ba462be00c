"""NeMo-Gym proof environments' task records: a Responses request (the full prompt) plus the references its
reward reads. They are RL prompts, so each becomes one prompt-only sample with those references in meta."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from curate.adapters.agentic.common import gym_prompt, is_gym_prompt, make_sample
from curate.adapters.base import Adapter, RecordContext
from curate.schema import Sample, SampleError


class GymProofPromptAdapter(Adapter):
    """Shared shape: a record is this environment's when it is a Gym prompt carrying all `markers`; `references`
    are copied to meta (missing ones are a reject, since the reward cannot run without them)."""

    markers: ClassVar[tuple[str, ...]]
    references: ClassVar[tuple[str, ...]]
    priority = 25
    detect_keys = frozenset({"responses_create_params"})

    def detect(self, record: dict[str, Any]) -> bool:
        return is_gym_prompt(record) and all(key in record for key in self.markers)

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        messages, tools = gym_prompt(record)
        meta: dict[str, Any] = {"prompt_only": True, "environment": self.name}
        for key in self.references:
            if record.get(key) is None:
                raise SampleError("missing_field", f"reference field {key!r} is missing", key)
            meta[key] = record[key]
        if isinstance(record.get("metadata"), dict):
            meta["metadata"] = record["metadata"]
        yield make_sample(ctx, messages, tools=tools, meta=meta)


class ProofGenSelectAdapter(GymProofPromptAdapter):
    """proof_genselect: pick the better of two model-written proofs; meta: problem, proof_1/2, score_1/2,
    correct_index."""

    name = "proof_genselect"
    markers = ("proof_1", "proof_2")
    references = ("problem", "proof_1", "proof_2", "score_1", "score_2", "correct_index")


class MathProofJudgementAdapter(GymProofPromptAdapter):
    """math_proof_judgement: judge one proof Yes/No; meta: problem, proof, expected_judgement (+ metadata)."""

    name = "math_proof_judgement"
    markers = ("proof", "expected_judgement")
    references = ("problem_id", "problem", "proof", "expected_judgement")


class ProofVerificationAdapter(GymProofPromptAdapter):
    """proof_verification: grade one proof 0 / 0.5 / 1 with a written evaluation; meta: problem, proof,
    ground_truth_judgement, ground_truth_verify_score."""

    name = "proof_verification"
    markers = ("proof", "ground_truth_judgement")
    references = ("problem", "proof", "ground_truth_judgement", "ground_truth_verify_score")


class ProofJudgePromptAdapter(GymProofPromptAdapter):
    """proof_judge (the `proof_simple_agent` environment): write a proof that an LLM judge then grades; meta:
    problem. Recognised by its agent name, because a bare `problem` field is common to many Gym environments."""

    name = "proof_judge_prompt"
    markers = ("problem",)
    references = ("problem",)
    priority = 30

    def detect(self, record: dict[str, Any]) -> bool:
        agent = record.get("agent_ref")
        return super().detect(record) and isinstance(agent, dict) and agent.get("name") == "proof_simple_agent"
