"""Agentless outputs: localization (three prompt/response stages per instance), repair generations, and
patch-only predictions (Agentless' processed repair output, SWE-bench `all_preds.jsonl`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curate.adapters.agentic.common import make_sample, require, require_text, single_turn
from curate.adapters.base import Adapter, RecordContext
from curate.schema import Sample, SampleError

# record key of each localization stage → (stage name in meta and ids, key of that stage's parsed result)
LOC_STAGES = {
    "file_traj": ("file_level", "found_files"),
    "related_loc_traj": ("related_elements", "found_related_locs"),
    "edit_loc_traj": ("edit_location", "found_edit_locs"),
}


def _responses(traj: dict[str, Any], field: str) -> list[str]:
    """A stage's responses: one string, or a list of samples (Agentless `--num_samples`)."""
    response = traj.get("response")
    responses = [response] if isinstance(response, str) else response
    if not isinstance(responses, list) or not all(isinstance(r, str) for r in responses):
        raise SampleError("bad_type", "response must be a string or a list of strings", f"{field}.response")
    return responses


class AgentlessLocalizationAdapter(Adapter):
    """One sample per stage per response: file-level, related-element and edit-location localization, each the
    stage's prompt as the user turn and the model's answer. Each sample's id part is `<stage>/<k>`; meta.stage
    names the stage and meta.found holds what Agentless parsed out of the answer (files / elements / edit
    locations). A stage Agentless skipped (empty traj) yields nothing; a record with no stage at all is a reject.
    """

    name = "agentless_localization"
    priority = 20
    detect_keys = frozenset({"instance_id"})

    def detect(self, record: dict[str, Any]) -> bool:
        return "instance_id" in record and any(key in record for key in LOC_STAGES)

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        instance_id = require_text(record, "instance_id")
        produced = 0
        for key, (stage, found_key) in LOC_STAGES.items():
            traj = record.get(key)
            if not traj:
                continue
            if not isinstance(traj, dict):
                raise SampleError("bad_type", f"{key} must be an object, got {type(traj).__name__}", key)
            prompt = require_text(traj, "prompt", f"{key}.prompt")
            for k, response in enumerate(_responses(traj, key)):
                if not response.strip():
                    continue
                meta = {"instance_id": instance_id, "stage": stage, "found": record.get(found_key),
                        "usage": traj.get("usage"), "sample_index": k}
                messages = single_turn(prompt, response, f"{key}.response")
                yield make_sample(ctx, messages, part=f"{stage}/{k}", meta=meta)
                produced += 1
        if not produced:
            raise SampleError("no_response", "no localization stage has a prompt and a non-empty response",
                              "file_traj")


class AgentlessRepairAdapter(Adapter):
    """Agentless repair `output.jsonl`: `traj` lists one {prompt, response} per generation. One sample per
    generation with a non-empty response, id part `repair/<k>`, meta.stage = "repair"."""

    name = "agentless_repair"
    priority = 20
    detect_keys = frozenset({"instance_id"})

    def detect(self, record: dict[str, Any]) -> bool:
        return "instance_id" in record and isinstance(record.get("traj"), list) and (
            "raw_output" in record or "all_generations" in record)

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        instance_id = require_text(record, "instance_id")
        produced = 0
        for k, step in enumerate(require(record, "traj", list)):
            field = f"traj[{k}]"
            if not isinstance(step, dict):
                raise SampleError("bad_type", f"traj entry must be an object, got {type(step).__name__}", field)
            response = step.get("response")
            if not isinstance(response, str) or not response.strip():
                continue
            prompt = require_text(step, "prompt", f"{field}.prompt")
            meta = {"instance_id": instance_id, "stage": "repair", "usage": step.get("usage"), "sample_index": k}
            yield make_sample(ctx, single_turn(prompt, response, f"{field}.response"), part=f"repair/{k}",
                              meta=meta)
            produced += 1
        if not produced:
            raise SampleError("no_response", "no repair generation has a non-empty response", "traj")


class PatchPredictionAdapter(Adapter):
    """Patch-only records: Agentless' processed repair output (`model_patch`, `raw_model_patch`,
    `original_file_content`) and SWE-bench predictions (`model_name_or_path`, `instance_id`, `model_patch`).

    They make no sample. The record holds the model's patch but not the prompt that produced it (the issue text
    and code context live in the repair `output.jsonl` traj, or in SWE-bench itself), and writing an issue
    text for it would be inventing data. Every such record is rejected with reason `no_prompt`, so the ledger
    says why the file contributed nothing; ingest the repair `output.jsonl` (AgentlessRepairAdapter) instead.
    """

    name = "swe_patch_prediction"
    priority = 30
    detect_keys = frozenset({"instance_id"})

    def detect(self, record: dict[str, Any]) -> bool:
        content_keys = ("messages", "traj", "trajectory", "prompt", "responses_create_params", "response")
        return "instance_id" in record and "model_patch" in record and not any(k in record for k in content_keys)

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        yield from ()  # a generator like every adapter's convert, so the reject surfaces where samples would
        raise SampleError("no_prompt", "a patch prediction without the prompt that produced it is not a training "
                          "example; ingest Agentless' repair output.jsonl (prompt/response traj) instead", "")
