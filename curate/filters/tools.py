"""Tool calls: each names a declared tool, passes its required parameters, and matches its JSON schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema
import orjson
from datatrove.data import Document

from curate.filters.base import Failure, SampleCheck
from curate.schema import Sample

# Published tool schemas (glaive, BFCL) use Python type names; map them onto JSON Schema so they validate.
_TYPE_ALIASES = {"dict": "object", "float": "number", "int": "integer", "tuple": "array", "list": "array",
                 "str": "string", "bool": "boolean"}


@dataclass
class ToolCallSettings:
    require_calls: bool = False  # at least one tool call in the sample
    check_types: bool = True  # validate argument values against the parameter schema


def normalize_schema(schema: Any) -> Any:
    """Copy of a parameter schema with Python type names mapped to JSON Schema and `any` types dropped."""
    if isinstance(schema, list):
        return [normalize_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            if value.lower() == "any":
                continue
            out[key] = _TYPE_ALIASES.get(value.lower(), value.lower())
        elif key in ("properties", "definitions", "$defs") and isinstance(value, dict):
            out[key] = {k: normalize_schema(v) for k, v in value.items()}
        elif key == "required" and not isinstance(value, list):
            continue  # some sources put `required: true` on a property; it carries no schema meaning there
        else:
            out[key] = normalize_schema(value)
    return out


class ToolCallCheck(SampleCheck):
    key = "tool_calls"
    name = "🛠 tool calls"
    Settings = ToolCallSettings

    def __init__(self, settings_by_domain, stage: str = "filter"):
        super().__init__(settings_by_domain, stage)
        self._validators: dict[bytes, Any] = {}

    def _validator(self, parameters: dict) -> Any:
        key = orjson.dumps(parameters, option=orjson.OPT_SORT_KEYS)
        if key not in self._validators:
            schema = normalize_schema(parameters)
            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
            cls.check_schema(schema)
            self._validators[key] = cls(schema)
        return self._validators[key]

    def check(self, sample: Sample, doc: Document, settings: ToolCallSettings) -> Failure | None:
        declared = {t["function"]["name"]: t["function"] for t in sample.tools}
        n_calls = 0
        for i, m in enumerate(sample.messages):
            for j, call in enumerate(m.tool_calls or []):
                n_calls += 1
                where = f"messages[{i}].tool_calls[{j}]"
                fn = declared.get(call.name)
                if fn is None:
                    return "undeclared_tool", f"{where} calls {call.name!r}, not among {sorted(declared)}"
                parameters = fn.get("parameters") or {}
                missing = [p for p in parameters.get("required") or [] if p not in call.arguments]
                if isinstance(parameters.get("required"), list) and missing:
                    return "missing_required_param", f"{where} ({call.name}) lacks {', '.join(map(str, missing))}"
                if settings.check_types and parameters:
                    try:
                        validator = self._validator(parameters)
                    except jsonschema.SchemaError as e:
                        return "invalid_tool_schema", f"tool {call.name!r}: {e.message}"
                    error = jsonschema.exceptions.best_match(validator.iter_errors(call.arguments))
                    if error is not None:
                        at = ".".join(map(str, error.absolute_path)) or "arguments"
                        return "argument_type_mismatch", f"{where} ({call.name}) {at}: {error.message}"
        if settings.require_calls and n_calls == 0:
            return "no_tool_calls", "the sample makes no tool call"
        return None
