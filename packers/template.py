"""The Nemotron-Cascade-2 (= Nemotron-3-Nano) chat template, rendered natively, and any HF template via transformers.

`NemotronRenderer` mirrors `nemotron_3_nano.jinja` (shipped in trl, copied to packers/assets/) line by line as
transformers renders it (trim_blocks + lstrip_blocks, its own `tojson`: unsorted keys, no HTML escaping, non-ASCII
kept), and also returns the character spans that the training variant wraps in `{% generation %}` — the assistant
output from after `<|im_start|>assistant\\n` to `<|im_end|>\\n` inclusive (DESIGN §3). tests/test_template.py holds
it byte-equal to the Jinja reference. `HFTemplateRenderer` renders any other tokenizer's own template through
transformers, so users of other models get the same text + spans interface.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from curate.schema import Message, Sample, to_chat_dicts

ASSETS = Path(__file__).parent / "assets"
NEMOTRON_TEMPLATE_PATH = ASSETS / "nemotron_3_nano.jinja"
NEMOTRON_TRAINING_TEMPLATE_PATH = ASSETS / "nemotron_3_nano_training.jinja"

IM_START, IM_END = "<|im_start|>", "<|im_end|>"
EMPTY_THINK = "<think></think>"
TOOLS_INSTRUCTIONS = (
    "\n\nIf you choose to call a function ONLY reply in the following format with NO suffix:\n\n<tool_call>\n"
    "<function=example_function_name>\n<parameter=example_parameter_1>\nvalue_1\n</parameter>\n"
    "<parameter=example_parameter_2>\nThis is the value for the second parameter\nthat can span\nmultiple lines\n"
    "</parameter>\n</function>\n</tool_call>\n\n<IMPORTANT>\nReminder:\n- Function calls MUST follow the specified "
    "format: an inner <function=...></function> block must be nested within <tool_call></tool_call> XML tags\n"
    "- Required parameters MUST be specified\n- You may provide optional reasoning for your function call in natural "
    "language BEFORE the function call, but NOT after\n- If there is no function call available, answer the question "
    "like normal with your current knowledge and do not tell the user about function calls\n</IMPORTANT>"
)
_GENERATION_TAG = re.compile(r"\{%-?\s*generation\s*-?%\}")


@dataclass(frozen=True, slots=True)
class Rendered:
    """Rendered text and the [start, end) character spans that are trained (one per assistant turn)."""

    text: str
    spans: tuple[tuple[int, int], ...]


class Renderer(Protocol):
    def render(self, messages: list[Message], tools: list[dict[str, Any]], *, thinking: bool = True,
               add_generation_prompt: bool = False) -> Rendered: ...


def tojson(value: Any) -> str:
    """transformers' `tojson` filter: json.dumps with unsorted keys, default separators, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False)


def _is_sequence(value: Any) -> bool:
    """Jinja's `is sequence and is not string` for JSON values (mappings are tested before this)."""
    return isinstance(value, list | tuple)


def _json_or_str(value: Any) -> str:
    return tojson(value) if isinstance(value, dict) or _is_sequence(value) else str(value)


def _extra_keys(obj: Any, handled: tuple[str, ...]) -> str:
    """The template's `render_extra_keys` macro: every unhandled key as `\\n<key>value</key>`."""
    if not isinstance(obj, dict):
        return ""
    return "".join(f"\n<{key}>{_json_or_str(value)}</{key}>" for key, value in obj.items() if key not in handled)


def _render_tool(tool: dict[str, Any]) -> str:
    fn = tool["function"] if isinstance(tool, dict) and "function" in tool else tool
    parts = [f"\n<function>\n<name>{fn.get('name', '')}</name>"]
    if "description" in fn:
        parts.append(f"\n<description>{str(fn['description']).strip()}</description>")
    parts.append("\n<parameters>")
    params = fn.get("parameters")
    if isinstance(params, dict) and isinstance(params.get("properties"), dict):
        for name, fields in params["properties"].items():
            parts.append(f"\n<parameter>\n<name>{name}</name>")
            if isinstance(fields, dict):
                if "type" in fields:
                    parts.append(f"\n<type>{fields['type']}</type>")
                if "description" in fields:
                    parts.append(f"\n<description>{str(fields['description']).strip()}</description>")
                if "enum" in fields:
                    parts.append(f"\n<enum>{tojson(fields['enum'])}</enum>")
            parts.append(_extra_keys(fields, ("name", "type", "description", "enum")))
            parts.append("\n</parameter>")
    parts.append(_extra_keys(params, ("type", "properties", "required")))
    if isinstance(params, dict) and "required" in params:
        parts.append(f"\n<required>{tojson(params['required'])}</required>")
    parts.append("\n</parameters>")
    parts.append(_extra_keys(fn, ("type", "name", "description", "parameters")))
    parts.append("\n</function>")
    return "".join(parts)


def render_system(system: str, tools: list[dict[str, Any]]) -> str:
    """The always-present system block, with the XML tools listing when tools are given."""
    out = [f"{IM_START}system\n{system}"]
    if tools:
        if system:
            out.append("\n\n")
        out.append("# Tools\n\nYou have access to the following functions:\n\n<tools>")
        out.extend(_render_tool(tool) for tool in tools)
        out.append("\n</tools>")
        out.append(TOOLS_INSTRUCTIONS)
    out.append(f"{IM_END}\n")
    return "".join(out)


def _assistant_content(msg: Message) -> str:
    """Reasoning folded into content as `<think>\\n…\\n</think>\\n`; an answer without one gets `<think></think>`."""
    if isinstance(msg.reasoning_content, str) and msg.reasoning_content.strip():
        return f"<think>\n{msg.reasoning_content}\n</think>\n{msg.content or ''}"
    content = msg.content or ""
    if "<think>" not in content and "</think>" not in content:
        content = EMPTY_THINK + content
    return content


def _render_tool_calls(msg: Message) -> str:
    out = []
    for call in msg.tool_calls or ():
        out.append(f"<tool_call>\n<function={call.name}>\n")
        for key, value in call.arguments.items():
            out.append(f"<parameter={key}>\n{_json_or_str(value)}\n</parameter>\n")
        out.append("</function>\n</tool_call>\n")
    return "".join(out)


def _assistant_output(msg: Message, keep_reasoning: bool) -> str:
    """What the assistant turn says after its header (the trained part), with history truncation applied."""
    content = _assistant_content(msg)
    if msg.tool_calls:
        if not content.strip():
            head = EMPTY_THINK
        elif keep_reasoning:
            head = content.strip() + "\n"
        else:
            if "</think>" in content:
                content = content.split("</think>")[-1]
            elif "<think>" in content:
                content = content.split("<think>")[0]
            head = EMPTY_THINK + content.strip() + "\n"
        return head + _render_tool_calls(msg) + f"{IM_END}\n"
    if keep_reasoning:
        return content.strip() + f"{IM_END}\n"
    if "<think>" in content and "</think>" in content:
        content = EMPTY_THINK + content.split("</think>")[-1]
    return content.strip() + f"{IM_END}\n"


class NemotronRenderer:
    """Native, byte-identical rendering of nemotron_3_nano.jinja with the training template's generation spans."""

    def __init__(self, truncate_history_thinking: bool = True):
        self.truncate_history_thinking = truncate_history_thinking

    def render(self, messages: list[Message], tools: list[dict[str, Any]], *, thinking: bool = True,
               add_generation_prompt: bool = False) -> Rendered:
        system = ""
        if messages and messages[0].role == "system":
            system, messages = messages[0].content, messages[1:]
        last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
        parts = [render_system(system, tools)]
        size = len(parts[0])
        spans: list[tuple[int, int]] = []
        for i, msg in enumerate(messages):
            if msg.role == "assistant":
                header = f"{IM_START}assistant\n"
                keep = not (self.truncate_history_thinking and i < last_user)
                output = _assistant_output(msg, keep)
                spans.append((size + len(header), size + len(header) + len(output)))
                piece = header + output
            elif msg.role in ("user", "system"):
                piece = f"{IM_START}{msg.role}\n{msg.content}{IM_END}\n"
            elif msg.role == "tool":
                opens = i > 0 and messages[i - 1].role != "tool"
                closes = i == len(messages) - 1 or messages[i + 1].role != "tool"
                piece = ((f"{IM_START}user\n" if opens else "") + f"<tool_response>\n{msg.content}\n</tool_response>\n"
                         + (f"{IM_END}\n" if closes else ""))
            else:
                piece = f"{IM_START}{msg.role}\n{msg.content}{IM_END}\n"
            parts.append(piece)
            size += len(piece)
        if add_generation_prompt:
            parts.append(f"{IM_START}assistant\n<think>\n" if thinking else f"{IM_START}assistant\n{EMPTY_THINK}")
        return Rendered("".join(parts), tuple(spans))


class HFTemplateRenderer:
    """Any tokenizer's own chat template, rendered by transformers; spans come from its `{% generation %}` marks.

    A template without generation marks gets trl's training variant when trl knows the model; otherwise masks
    cannot be derived and `render(..., need_spans=True)` raises.
    """

    def __init__(self, tokenizer: Any, chat_template: str | None = None):
        self.tokenizer = tokenizer
        template = chat_template or tokenizer.chat_template
        if not template:
            raise ValueError(f"tokenizer {tokenizer.name_or_path!r} has no chat template; pass one")
        if isinstance(template, dict):  # several named templates: the one transformers picks by default
            template = tokenizer.get_chat_template()
        if not _GENERATION_TAG.search(template):
            template = _trl_training_template(tokenizer) or template
        self.chat_template = template
        self.has_generation_marks = bool(_GENERATION_TAG.search(template))

    def render(self, messages: list[Message], tools: list[dict[str, Any]], *, thinking: bool = True,
               add_generation_prompt: bool = False) -> Rendered:
        from transformers.utils.chat_template_utils import render_jinja_template

        if not self.has_generation_marks:
            raise ValueError(
                f"the chat template of {self.tokenizer.name_or_path!r} has no {{% generation %}} marks, so "
                "assistant-only loss masks cannot be derived; pass a training template with generation marks")
        conversation = to_chat_dicts(Sample("", "chat", "", messages))
        texts, indices = render_jinja_template(
            conversations=[conversation], tools=tools or None, chat_template=self.chat_template,
            return_assistant_tokens_mask=True, add_generation_prompt=add_generation_prompt,
            **{**self.tokenizer.special_tokens_map, "enable_thinking": thinking},
        )
        return Rendered(texts[0], tuple((int(s), int(e)) for s, e in indices[0]))


def _trl_training_template(tokenizer: Any) -> str | None:
    try:
        from trl.chat_template_utils import get_training_chat_template
    except ImportError:
        return None
    try:
        return get_training_chat_template(tokenizer)
    except (ValueError, KeyError):
        return None


def is_nemotron_template(template: str | None) -> bool:
    """True for either Nemotron-3-Nano template (inference or training), which the native renderer reproduces."""
    if not isinstance(template, str):
        return False
    stripped = template.strip()
    return stripped in (NEMOTRON_TEMPLATE_PATH.read_text().strip(), NEMOTRON_TRAINING_TEMPLATE_PATH.read_text().strip())


def renderer_for(tokenizer: Any | None) -> Renderer:
    """Native renderer for the Nemotron template (or no tokenizer), transformers for every other template."""
    if tokenizer is None or is_nemotron_template(getattr(tokenizer, "chat_template", None)):
        return NemotronRenderer()
    return HFTemplateRenderer(tokenizer)


def resolve_thinking(sample: Sample, thinking: bool | None) -> bool:
    """Per-call mode wins; otherwise the sample's `meta.thinking` (default: thinking on)."""
    if thinking is not None:
        return thinking
    value = sample.meta.get("thinking", True)
    if not isinstance(value, bool):
        raise ValueError(f"sample {sample.id}: meta.thinking must be true/false, got {value!r}")
    return value


def apply_thinking(messages: list[Message], thinking: bool) -> list[Message]:
    """Non-thinking mode trains answers behind an empty `<think></think>`: drop the reasoning traces.

    The reference template itself only switches the generation prompt on `enable_thinking`; the training data of a
    non-thinking sample is the same conversation without reasoning, which is what this produces.
    """
    if thinking:
        return messages
    return [
        Message(m.role, m.content, None, m.tool_calls, m.tool_call_id, m.name) if m.reasoning_content else m
        for m in messages
    ]


def render_sample(sample: Sample, renderer: Renderer | None = None, thinking: bool | None = None) -> Rendered:
    """Render one canonical sample for training (no generation prompt), thinking mode resolved per sample."""
    mode = resolve_thinking(sample, thinking)
    return (renderer or NemotronRenderer()).render(apply_thinking(sample.messages, mode), sample.tools, thinking=mode)
