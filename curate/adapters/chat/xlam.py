"""xLAM / APIGen function calling: `query`, `answers` (JSON string list of {name, arguments}), `tools` (JSON
string of {name, description, parameters}).

The source has no final answer: the sample ends with the assistant's tool calls, which is a valid sample.
xLAM writes parameters as {param: {type, description, default}} with Python type names rather than JSON Schema;
they are rewritten to {type: object, properties, required} with JSON Schema types so every renderer and the
tool-argument checks see one schema form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from curate.adapters.base import Adapter, RecordContext
from curate.adapters.chat.common import make_sample
from curate.adapters.text import CallLinker, loads_json, parse_tools, tool_call_from_dict
from curate.schema import Message, Sample, SampleError

_PY_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "dict": "object",
             "list": "array", "tuple": "array", "set": "array"}
_TYPE_ARGS = re.compile(r"^(\w+)\[(.*)\]$")


def _top_level_parts(text: str) -> list[str]:
    """Split at commas outside brackets: "Dict[str, int], optional" → ["Dict[str, int]", "optional"]."""
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            parts.append(text[start:k].strip())
            start = k + 1
    return [*parts, text[start:].strip()]


def xlam_type_schema(type_name: str) -> dict[str, Any]:
    """xLAM's Python type strings ("str", "List[int]", "int, optional", "Dict[str, Any]") as JSON Schema; types
    with no JSON Schema counterpart (Any, Union, Callable) leave the value unconstrained."""
    base = _top_level_parts(type_name)[0]
    match = _TYPE_ARGS.match(base)
    outer, inner = (match.group(1), match.group(2)) if match else (base, "")
    json_type = _PY_TYPES.get(outer.lower())
    if json_type is None:
        return {}
    schema: dict[str, Any] = {"type": json_type}
    if json_type == "array" and inner and len(_top_level_parts(inner)) == 1:
        items = xlam_type_schema(inner)
        if items:
            schema["items"] = items
    return schema


def xlam_parameters_to_schema(parameters: Any) -> Any:
    """{param: {type, description, default?}} → JSON Schema object; anything already a schema is kept.

    A parameter is required unless it has a default or its type says `optional` (xLAM writes "str, optional").
    The source type string is rewritten to JSON Schema so tool-argument checks and renderers see one form.
    """
    if not isinstance(parameters, dict) or "properties" in parameters or parameters.get("type") == "object":
        return parameters
    if not all(isinstance(spec, dict) for spec in parameters.values()):
        return parameters
    properties, required = {}, []
    for name, spec in parameters.items():
        prop = {k: v for k, v in spec.items() if k != "type" and (k != "default" or v not in ("", None))}
        type_name = str(spec.get("type", ""))
        properties[name] = {**xlam_type_schema(type_name), **prop}
        if "default" not in spec and "optional" not in type_name.lower():
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


class XLAMAdapter(Adapter):
    name = "xlam"
    priority = 40
    detect_keys = frozenset({"query"})

    def detect(self, record: dict[str, Any]) -> bool:
        return "query" in record and "answers" in record and "tools" in record

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        query = record["query"]
        if not isinstance(query, str) or not query.strip():
            raise SampleError("no_prompt", "query is empty or not a string", "query")
        answers = loads_json(record["answers"], "answers", reason="bad_tool_arguments")
        if not isinstance(answers, list) or not answers:
            raise SampleError("bad_tool_call", "answers must be a non-empty list of calls", "answers")
        calls = CallLinker().register([tool_call_from_dict(a, f"answers[{j}]") for j, a in enumerate(answers)])
        tools = parse_tools(record["tools"], "tools")
        for tool in tools:
            tool["function"]["parameters"] = xlam_parameters_to_schema(tool["function"].get("parameters", {}))
        messages = [Message(role="user", content=query), Message(role="assistant", content="", tool_calls=calls)]
        yield make_sample(record, ctx, self.name, messages, tools, consumed=("query", "answers", "tools"))
