import duckdb
import polars as pl
import pyarrow as pa
import pytest

from curate.sample_io import iter_samples, write_samples
from curate.schema import SAMPLE_SCHEMA, Message, Sample, SampleError, ToolCall, samples_table, to_row, validate


def _tool_sample(**over) -> Sample:
    messages = [
        Message("system", "You can call tools."),
        Message("user", "Weather in Paris?"),
        Message("assistant", "", reasoning_content="Need the tool.",
                tool_calls=[ToolCall("get_weather", {"city": "Paris", "days": [1, 2]}, id="c1")]),
        Message("tool", '{"temp": 21}', tool_call_id="c1", name="get_weather"),
        Message("assistant", "It is 21°C in Paris."),
    ]
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    kw = dict(id="s1", domain="tool_calling", source="t.jsonl", messages=messages, tools=tools, meta={"k": 1})
    kw.update(over)
    return Sample(**kw)


def test_parquet_round_trip_and_queryable(tmp_path):
    s = _tool_sample()
    path = tmp_path / "samples" / "part.parquet"
    assert write_samples(path, [s, _tool_sample(id="s2")]) == 2
    back = list(iter_samples(tmp_path))
    assert back[0] == s
    df = pl.read_parquet(path)
    assert df["messages"].list.len().to_list() == [5, 5]
    n_calls = duckdb.execute(
        f"SELECT count(*) FROM (SELECT unnest(messages) AS m FROM '{path}') WHERE m.role = 'tool'"
    ).fetchone()[0]
    assert n_calls == 2


@pytest.mark.parametrize(
    "messages, reason, field",
    [
        ([Message("user", "hi"), Message("robot", "x")], "unknown_role", "messages[1].role"),
        ([Message("user", "hi"), Message("assistant", "  ")], "empty_assistant", "messages[1]"),
        ([Message("user", "hi"), Message("tool", "r"), Message("assistant", "x")], "orphan_tool_result",
         "messages[1]"),
        ([Message("user", "hi")], "no_assistant", "messages"),
        ([Message("user", 3), Message("assistant", "x")], "bad_type", "messages[0].content"),
    ],
)
def test_validate_names_reason_and_field(messages, reason, field):
    with pytest.raises(SampleError) as err:
        validate(_tool_sample(messages=messages, tools=[]))
    assert (err.value.reason, err.value.field) == (reason, field)


def test_tool_result_must_match_a_call_id():
    s = _tool_sample()
    s.messages[3].tool_call_id = "other"
    with pytest.raises(SampleError, match="matches no earlier call"):
        validate(s)
    validate(_tool_sample())


def test_samples_table_is_the_canonical_row_form() -> None:
    call = ToolCall("calc", {"expr": "6*7", "nested": {"a": [1, None]}}, "c1")
    samples = [
        Sample(id="a", domain="chat", source="s", tools=[{"type": "function", "function": {"name": "calc"}}],
               meta={"k": [1, 2]}, messages=[
            Message("system", "be terse"), Message("user", "q"),
            Message("assistant", "", "thinking", tool_calls=[call, ToolCall("noop", {})]),
            Message("tool", "42", tool_call_id="c1", name="calc"), Message("assistant", "42", tool_calls=[])]),
        Sample(id="b", domain="math", source="t", messages=[Message("user", "é"), Message("assistant", "ok")]),
    ]
    expected = pa.Table.from_pylist([to_row(s) for s in samples], schema=SAMPLE_SCHEMA)
    assert samples_table(samples).equals(expected)
    assert samples_table([]).equals(SAMPLE_SCHEMA.empty_table())
