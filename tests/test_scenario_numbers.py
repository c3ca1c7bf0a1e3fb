"""Numbers YAML 1.1 reads as text (``1.0e8``, ``1e12``) and large whole numbers in error
messages (review 10, finding 11).

YAML 1.1 reads a float only with a '.' in the mantissa and a sign in the exponent, so
``1.0e8`` is the text '1.0e8'. The error must say what to write instead, and that
suggestion must itself read as the same number (checked by reading it back as YAML);
whole numbers are echoed digit for digit, not rounded to ``1e+11``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bposim.cli import main
from bposim.errors import ScenarioError
from bposim.scenario.fields import Context, number, number_text_hint
from bposim.scenario.load import parse_scenario, read_yaml

SQ_TEXT = (Path(__file__).parent.parent / "scenarios" / "single_queue_erlang_c.yaml").read_text()


def _problem(text: str, path: str):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source="t.yaml")
    found = [p for p in info.value.problems if p.path == path]
    assert found, info.value.problems
    return found[0]


def _yaml_value(text: str):
    value, _lines, problems = read_yaml(f"a: {text}\n", "<t>")
    assert not problems
    return value["a"]


@pytest.mark.parametrize("written", ["1.0e8", "1e12", "1e-3", "-3e5", "2.5E4", ".5e3", "1.0e300"])
def test_exponent_text_gets_a_suggestion_that_reads_as_that_number(written):
    assert isinstance(_yaml_value(written), str)  # the YAML 1.1 trap this is about
    hint = number_text_hint(written)
    suggestions = re.findall(r"write (\S+) \(.*?\)(?:, or (\S+))?$", hint)
    assert suggestions, hint
    for suggestion in filter(None, suggestions[0]):
        read = _yaml_value(suggestion)
        assert isinstance(read, (int, float)) and not isinstance(read, bool), (suggestion, read)
        assert read == pytest.approx(float(written), rel=1e-15)


def test_exponent_text_in_a_file_names_line_and_fix():
    text = SQ_TEXT.replace("mean: 180}", "mean: 1.8e2}")
    problem = _problem(text, "queues[0].handle_time.mean")
    assert problem.line == 1 + text[:text.index("1.8e2")].count("\n")
    assert problem.message.startswith("must be a number, got the text '1.8e2'")
    assert "write 1.8e+2" in problem.message and "or 180" in problem.message


def test_quoted_number_and_plain_words():
    assert number_text_hint("12") == "; write it without quotes: 12"
    for word in ("two", "", "1e999", "nan", "inf", "1.0e+8x", "0x10"):
        assert number_text_hint(word) == ""
    ctx = Context("t.yaml")
    assert number(ctx, "two", "horizon.days", integer=True) is None
    assert ctx.problems[0].message == "must be a whole number, got the text 'two'"  # unchanged


def test_large_whole_numbers_are_echoed_exactly():
    ctx = Context("t.yaml")
    assert number(ctx, 99999999999, "q.callback.attempts", integer=True, ge=1, le=20) is None
    assert number(ctx, 2**63, "simulation.seed", integer=True, ge=0) is None  # over the 64-bit cap
    assert number(ctx, 10**400, "x", integer=True, ge=0, le=5) is None
    messages = [p.message for p in ctx.problems]
    assert messages[0] == "must be in [1, 20], got 99999999999"
    assert messages[1].endswith(f"got {2**63}")
    assert messages[2].endswith("got a number of 401 digits")


def test_cli_validate_echoes_attempts_exactly(tmp_path):
    text = SQ_TEXT.replace("    service_level:", "    callback: {offer_when_wait_over: 60, acceptance: 0.5, "
                           "attempts: 99999999999}\n    service_level:")
    file = tmp_path / "s.yaml"
    file.write_text(text)
    result = CliRunner().invoke(main, ["validate", str(file)])
    assert result.exit_code == 2, result.output
    line = 1 + text[:text.index("attempts: 99999999999")].count("\n")
    assert f"s.yaml:{line}: queues[0].callback.attempts: must be in [1, 20], got 99999999999" in result.output
