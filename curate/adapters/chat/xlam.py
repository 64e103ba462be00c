"""xLAM / APIGen function calling: `query`, `answers` (JSON string list of {name, arguments}), `tools` (JSON
string of {name, description, parameters}).

The source has no final answer: the sample ends with the assistant's tool calls, which is a valid sample.
xLAM writes parameters as {param: {type, description, default}} rather than JSON Schema; they are rewritten
to {type: object, properties, required} so every renderer sees one schema form.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curate.adapters.base import Adapter, RecordContext
from curate.adapters.chat.common import make_sample
from curate.adapters.text import CallLinker, loads_json, parse_tools, tool_call_from_dict
from curate.schema import Message, Sample, SampleError


def xlam_parameters_to_schema(parameters: Any) -> Any:
    """{param: {type, description, default?}} → JSON Schema object; anything already a schema is kept.

    A parameter is required unless it has a default or its type says `optional` (xLAM writes "str, optional").
    """
    if not isinstance(parameters, dict) or "properties" in parameters or parameters.get("type") == "object":
        return parameters
    if not all(isinstance(spec, dict) for spec in parameters.values()):
        return parameters
    properties, required = {}, []
    for name, spec in parameters.items():
        prop = {k: v for k, v in spec.items() if k != "default" or v not in ("", None)}
        properties[name] = prop
        optional = "default" in spec or "optional" in str(spec.get("type", "")).lower()
        if not optional:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


class XLAMAdapter(Adapter):
    name = "xlam"
    priority = 40

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
