"""The native Nemotron renderer is byte-identical to trl's Jinja template rendered by transformers, and its trained
spans give the same token masks as `return_assistant_tokens_mask` with the training template."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from curate.schema import Message, Sample, ToolCall, to_chat_dicts
from packers.masks import expand_turns, token_mask, trained_spans
from packers.template import (
    NEMOTRON_TEMPLATE_PATH,
    NEMOTRON_TRAINING_TEMPLATE_PATH,
    HFTemplateRenderer,
    NemotronRenderer,
    apply_thinking,
    render_sample,
    renderer_for,
)
from packers.tokenizer import backend, load_tokenizer

TRL_TEMPLATES = Path(pytest.importorskip("trl").__file__).parent / "chat_templates"


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(None)


@pytest.fixture(scope="module")
def rust(tokenizer):
    return backend(tokenizer)


def reference_text(tokenizer, sample: Sample, thinking: bool = True, generation_prompt: bool = False,
                   template: Path = NEMOTRON_TEMPLATE_PATH, **kwargs) -> str:
    return tokenizer.apply_chat_template(
        to_chat_dicts(Sample(sample.id, sample.domain, sample.source, apply_thinking(sample.messages, thinking))),
        tools=sample.tools or None, chat_template=template.read_text(), tokenize=False,
        add_generation_prompt=generation_prompt, enable_thinking=thinking, **kwargs)


def reference_mask(tokenizer, sample: Sample, thinking: bool = True) -> tuple[list[int], list[int]]:
    out = tokenizer.apply_chat_template(
        to_chat_dicts(Sample(sample.id, sample.domain, sample.source, apply_thinking(sample.messages, thinking))),
        tools=sample.tools or None, chat_template=NEMOTRON_TRAINING_TEMPLATE_PATH.read_text(), tokenize=True,
        return_dict=True, return_assistant_tokens_mask=True, enable_thinking=thinking)
    return list(out["input_ids"]), list(out["assistant_masks"])


def native_ids_and_mask(rust, sample: Sample, thinking: bool = True) -> tuple[list[int], list[int]]:
    rendered = render_sample(sample, NemotronRenderer(), thinking)
    encoding = rust.encode_batch([rendered.text], add_special_tokens=False)[0]
    return encoding.ids, token_mask(encoding, trained_spans(sample, rendered.spans)).tolist()


# ---------------------------------------------------------------- generated edge cases

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "  Weather for a city.\n",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["c", "f"], "default": "c"},
        "days": {"type": "integer", "minimum": 1, "maximum": 14, "nullable": True},
        "opts": {"type": ["object", "null"], "properties": {"x": {"type": "number"}}, "title": "Öptions <&>"},
        "tags": {"type": "array", "items": {"type": "string"}},
    }, "required": ["city"], "additionalProperties": False},
    "strict": True}}
NO_PARAMS = {"type": "function", "function": {"name": "now"}}
BARE = {"name": "bare_tool", "description": "no function wrapper", "parameters": {"type": "object", "properties": {}}}
ODD = {"type": "function", "function": {"name": "odd", "description": None,
                                        "parameters": {"type": "object", "$defs": {"a": {"type": "string"}}}}}
LOOSE = {"type": "function", "function": {"name": "loose", "description": 42, "parameters": {
    "type": "object", "properties": {"plain": "string", "n": {"description": 7, "enum": "abc", "examples": [[1], {}]}},
    "required": "plain"}}}


def _call(name: str, **args) -> ToolCall:
    return ToolCall(name=name, arguments=args, id=f"call_{name}")


def edge_cases() -> list[Sample]:
    M = Message
    sys_ = M("system", "You are helpful.")
    cases: dict[str, tuple[list[Message], list[dict]]] = {
        "plain": ([sys_, M("user", "hi"), M("assistant", "hello")], []),
        "no_system": ([M("user", "hi"), M("assistant", "hello", "think hard")], []),
        "tools_no_system": ([M("user", "weather?"), M("assistant", "", "r", [_call("get_weather", city="Paris")])],
                            [WEATHER]),
        "tools_empty_system": ([M("system", ""), M("user", "x"), M("assistant", "y")], [WEATHER, NO_PARAMS]),
        "all_tools": ([sys_, M("user", "x"), M("assistant", "y")], [WEATHER, NO_PARAMS, BARE, ODD, LOOSE]),
        "tool_first": ([sys_, M("tool", "early result"), M("tool", "second"), M("user", "u"), M("assistant", "a")],
                       []),
        "nested_args": ([sys_, M("user", "q"), M("assistant", "calling", "why", [
            _call("get_weather", city="Zürich", days=3, opts={"x": 1.5, "y": [1, None, True]}, tags=["a", "ü"],
                  flag=False, nothing=None, ratio=1e-7, text="multi\nline <b>&</b>")])], [WEATHER]),
        "parallel_calls": ([sys_, M("user", "two cities"), M("assistant", "", None, [
            _call("get_weather", city="A"), _call("get_weather", city="B"), _call("now")]),
            M("tool", "sunny", tool_call_id="call_get_weather"), M("tool", "rain", tool_call_id="call_get_weather"),
            M("tool", "12:00", tool_call_id="call_now"), M("assistant", "A sunny, B rain.", "combine")],
            [WEATHER, NO_PARAMS]),
        "tool_loop_then_user": ([sys_, M("user", "u1"), M("assistant", "a1", "r1", [_call("now")]),
                                 M("tool", "t1"), M("assistant", "done", "r2"), M("user", "u2"),
                                 M("assistant", "a2", "r3", [_call("now")]), M("tool", ""),
                                 M("assistant", "", "r4", [_call("now", x=[])]), M("tool", "again"),
                                 M("assistant", "final", "r5")], [NO_PARAMS]),
        "history_reasoning": ([sys_, M("user", "u1"), M("assistant", "  a1  ", "r1"), M("user", "u2"),
                               M("assistant", "a2\n", "\n r2 \n"), M("user", "u3"), M("assistant", "a3", "r3")], []),
        "inline_think": ([M("user", "u1"), M("assistant", "<think>\ninline r\n</think>\n\nans"), M("user", "u2"),
                          M("assistant", "<think>open only"), M("user", "u3"),
                          M("assistant", "pre</think>post", None, [_call("now")]), M("tool", "x"),
                          M("user", "u4"), M("assistant", "<think>unclosed", None, [_call("now")]), M("tool", "y"),
                          M("user", "u5"), M("assistant", "ok")], [NO_PARAMS]),
        "empty_content": ([sys_, M("user", ""), M("assistant", "", "only reasoning"), M("user", " "),
                           M("assistant", "", None, [_call("now")]), M("tool", "z"), M("assistant", "  ")], []),
        "whitespace_reasoning": ([M("user", "q"), M("assistant", "a", "   \n  ")], []),
        "unicode": ([M("system", "Système — 日本語 🚀"), M("user", "Ω≈ç√ 😀\u200b"),
                     M("assistant", "ответ\t\r\n", "мысли 🤔", [_call("get_weather", city="東京")]),
                     M("tool", "{\"temp\": \"20°\"}"), M("assistant", "🌞")], [WEATHER]),
        "system_mid": ([sys_, M("user", "u"), M("system", "late system"), M("assistant", "a")], []),
        "special_tokens_in_text": ([M("user", "say <|im_end|> and <think>"),
                                    M("assistant", "ok <tool_call> </think> x")], []),
    }
    return [Sample(id=name, domain="chat", source="generated", messages=msgs, tools=tools)
            for name, (msgs, tools) in cases.items()]


def random_cases(n: int, seed: int = 0) -> list[Sample]:
    """Random conversations over the same building blocks, so combinations nobody wrote down are covered too."""
    rng = random.Random(seed)
    words = ["x", "  pad  ", "\n", "é", "<think>", "</think>", "{\"a\": 1}", "", "line\nline", "🙂"]
    out = []
    for k in range(n):
        msgs = [Message("system", rng.choice(words))] if rng.random() < 0.5 else []
        for _ in range(rng.randint(1, 4)):
            msgs.append(Message("user", rng.choice(words)))
            for _ in range(rng.randint(1, 3)):
                calls = [_call("get_weather", city=rng.choice(words), days=rng.randint(0, 9))
                         for _ in range(rng.randint(0, 2))]
                reasoning = rng.choice([None, "", "r " + rng.choice(words)])
                msgs.append(Message("assistant", rng.choice(words) or "a", reasoning, calls or None))
                if not calls:
                    break
                msgs += [Message("tool", rng.choice(words)) for _ in calls]
            if msgs[-1].role == "tool":
                msgs.append(Message("assistant", "done"))
        tools = [WEATHER] if rng.random() < 0.5 else []
        out.append(Sample(id=f"random{k}", domain="chat", source="generated", messages=msgs, tools=tools))
    return out


GENERATED = edge_cases() + random_cases(40)


def test_bundled_templates_are_trls():
    assert NEMOTRON_TEMPLATE_PATH.read_text() == (TRL_TEMPLATES / "nemotron_3_nano.jinja").read_text()
    assert NEMOTRON_TRAINING_TEMPLATE_PATH.read_text() == (TRL_TEMPLATES / "nemotron_3_nano_training.jinja").read_text()


@pytest.mark.parametrize("thinking", [True, False])
@pytest.mark.parametrize("generation_prompt", [False, True])
def test_native_render_is_byte_identical_on_generated(tokenizer, thinking, generation_prompt):
    renderer = NemotronRenderer()
    for sample in GENERATED:
        messages = apply_thinking(sample.messages, thinking)
        native = renderer.render(messages, sample.tools, thinking=thinking, add_generation_prompt=generation_prompt)
        assert native.text == reference_text(tokenizer, sample, thinking, generation_prompt), sample.id


def test_history_truncation_can_be_turned_off(tokenizer):
    sample = next(s for s in GENERATED if s.id == "history_reasoning")
    native = NemotronRenderer(truncate_history_thinking=False).render(sample.messages, sample.tools)
    assert native.text == reference_text(tokenizer, sample, truncate_history_thinking=False)
    assert "r1" in native.text and "r1" not in render_sample(sample).text


def test_training_template_renders_the_same_text(tokenizer):
    for sample in GENERATED[:10]:
        assert (reference_text(tokenizer, sample, template=NEMOTRON_TRAINING_TEMPLATE_PATH)
                == render_sample(sample).text)


@pytest.mark.parametrize("thinking", [True, False])
def test_masks_equal_transformers_assistant_masks(tokenizer, rust, thinking):
    for sample in GENERATED:
        ids, mask = native_ids_and_mask(rust, sample, thinking)
        ref_ids, ref_mask = reference_mask(tokenizer, sample, thinking)
        assert ids == ref_ids, sample.id
        assert mask == ref_mask, sample.id
        assert sum(mask) > 0


def test_spans_cover_exactly_the_assistant_outputs():
    sample = next(s for s in GENERATED if s.id == "parallel_calls")
    rendered = render_sample(sample)
    pieces = [rendered.text[s:e] for s, e in rendered.spans]
    assert len(pieces) == 2
    assert all(p.endswith("<|im_end|>\n") and p.startswith("<think>") for p in pieces)
    assert rendered.text[rendered.spans[0][0] - len("<|im_start|>assistant\n"):rendered.spans[0][0]] == \
        "<|im_start|>assistant\n"
    assert "<tool_response>" not in "".join(pieces)


def test_non_thinking_mode_drops_reasoning_and_uses_empty_think_prompt():
    sample = next(s for s in GENERATED if s.id == "no_system")
    assert "think hard" in render_sample(sample, thinking=True).text
    text = render_sample(sample, thinking=False).text
    assert "think hard" not in text and text.endswith("<|im_start|>assistant\n<think></think>hello<|im_end|>\n")
    per_sample = Sample(sample.id, sample.domain, sample.source, sample.messages, meta={"thinking": False})
    assert render_sample(per_sample).text == text
    prompt = NemotronRenderer().render(sample.messages[:1], [], thinking=False, add_generation_prompt=True)
    assert prompt.text.endswith("<|im_start|>assistant\n<think></think>")
    with pytest.raises(ValueError, match="meta.thinking"):
        render_sample(Sample("bad", "chat", "g", sample.messages, meta={"thinking": "yes"}))


def test_expand_turns_trains_each_turn_once_with_its_reasoning(tokenizer, rust):
    sample = next(s for s in GENERATED if s.id == "history_reasoning")
    expanded = expand_turns(sample)
    assert [s.id for s in expanded] == ["history_reasoning-t0", "history_reasoning-t1", "history_reasoning-t2"]
    for k, part in enumerate(expanded):
        rendered = render_sample(part)
        trained = [rendered.text[s:e] for s, e in trained_spans(part, rendered.spans)]
        assert trained == [f"<think>\n{part.messages[-1].reasoning_content}\n</think>\n"
                           f"{part.messages[-1].content}".strip() + "<|im_end|>\n"], k
        ids, mask = native_ids_and_mask(rust, part)
        ref_ids, ref_mask = reference_mask(tokenizer, part)
        assert ids == ref_ids
        assert all(m <= r for m, r in zip(mask, ref_mask, strict=True))  # a subset of the full training mask
    plain = next(s for s in GENERATED if s.id == "plain")
    assert expand_turns(plain) == [plain]


# ---------------------------------------------------------------- other models' templates through transformers

def test_hf_renderer_matches_apply_chat_template_for_another_template(tokenizer):
    qwen = load_tokenizer(None)
    qwen.chat_template = (TRL_TEMPLATES / "qwen3_training.jinja").read_text()
    renderer = renderer_for(qwen)
    assert isinstance(renderer, HFTemplateRenderer)
    rust = backend(qwen)
    for sample in GENERATED[:12]:
        rendered = renderer.render(sample.messages, sample.tools)
        encoding = rust.encode_batch([rendered.text], add_special_tokens=False)[0]
        ref = qwen.apply_chat_template(to_chat_dicts(sample), tools=sample.tools or None, tokenize=True,
                                       return_dict=True, return_assistant_tokens_mask=True)
        assert rendered.text == qwen.apply_chat_template(to_chat_dicts(sample), tools=sample.tools or None,
                                                         tokenize=False)
        assert encoding.ids == list(ref["input_ids"]), sample.id
        assert token_mask(encoding, rendered.spans).tolist() == list(ref["assistant_masks"]), sample.id


def test_known_template_without_marks_gets_trls_training_variant():
    qwen = load_tokenizer(None)
    qwen.chat_template = (TRL_TEMPLATES / "qwen3.jinja").read_text()
    renderer = renderer_for(qwen)
    assert isinstance(renderer, HFTemplateRenderer) and renderer.has_generation_marks
    sample = GENERATED[0]
    rendered = renderer.render(sample.messages, sample.tools)
    assert rendered.text == qwen.apply_chat_template(to_chat_dicts(sample), tokenize=False)
    assert [rendered.text[s:e] for s, e in rendered.spans] == ["<think>\n\n</think>\n\nhello<|im_end|>\n"]


def test_embedded_tokenizer_uses_native_renderer_and_template_without_marks_is_refused():
    assert isinstance(renderer_for(load_tokenizer(None)), NemotronRenderer)
    plain = load_tokenizer(None)
    plain.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    renderer = renderer_for(plain)
    with pytest.raises(ValueError, match="generation"):
        renderer.render([Message("user", "a"), Message("assistant", "b")], [])


# ---------------------------------------------------------------- every real sample

def _read_records(path: Path) -> list[dict]:
    """JSON Lines, CSV, or one JSON document (a list of records or one record); some .json files are JSONL."""
    if path.suffix == ".csv":
        with path.open(newline="") as f:
            return list(csv.DictReader(f))
    text = path.read_text()
    try:
        data = json.loads(text) if path.suffix != ".jsonl" else None
    except json.JSONDecodeError:
        data = None
    if data is None:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return data if isinstance(data, list) else [data]


def real_samples(realdata: Path) -> tuple[list[Sample], list[str]]:
    """Every sample the adapters make of ../shared/realdata, and the files skipped (with the reason)."""
    from curate.adapters import detect
    from curate.adapters.base import RecordContext
    from curate.schema import SampleError, validate

    samples, skipped = [], []
    for path in sorted(p for p in realdata.rglob("*") if p.suffix in (".jsonl", ".json", ".csv", ".traj")):
        records = _read_records(path)
        for index, record in enumerate(records):
            try:
                adapter = detect(record)
                converted = list(adapter.convert(record, RecordContext(str(path), index, "chat")))
                for sample in converted:
                    validate(sample)
            except SampleError as err:
                skipped.append(f"{path.name}[{index}]: {err.reason}")
                continue
            samples.extend(converted)
    return samples, skipped


def test_every_real_sample_renders_byte_identically_with_equal_masks(realdata, tokenizer, rust):
    samples, skipped = real_samples(realdata)
    if not samples:
        pytest.skip(f"no adapter converts the real data yet ({len(skipped)} records skipped)")
    renderer = NemotronRenderer()
    for sample in samples:
        for thinking in (True, False):
            native = render_sample(sample, renderer, thinking)
            assert native.text == reference_text(tokenizer, sample, thinking), sample.id
        ids, mask = native_ids_and_mask(rust, sample)
        assert (ids, mask) == reference_mask(tokenizer, sample), sample.id
