"""``bposim new``: every template is a valid, quick scenario; files are never clobbered."""

from __future__ import annotations

import os
import re

import pytest
import yaml
from click.testing import CliRunner

import bposim
from bposim.cli.new_cmd import TEMPLATE_ORDER, new_command, template_text, templates, write_template
from bposim.errors import InputError

REQUIRED = ("single-queue", "tiered-support", "multi-skill", "sourcing-mix", "outbound")


def invoke(*args, **kwargs):
    return CliRunner().invoke(new_command, [str(a) for a in args], **kwargs)


def test_list_shows_every_template_with_a_description():
    result = invoke("--list")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    names = [line.split()[0] for line in lines]
    assert names[: len(REQUIRED)] == list(REQUIRED) == list(TEMPLATE_ORDER)
    assert names == list(templates())
    for line in lines:
        name, description = line.split(None, 1)
        assert len(description) > 20, line


@pytest.mark.parametrize("name", list(templates()))
def test_template_is_a_valid_scenario_that_simulates_quickly(name, tmp_path):
    path = tmp_path / f"{name}.yaml"
    result = invoke(name, path)
    assert result.exit_code == 0, result.output
    assert f"Wrote {path}" in result.output and f"bposim validate {path}" in result.output
    scenario = bposim.load_scenario(path)
    assert scenario.horizon.days == 1
    one = bposim.simulate(scenario, seed=1)
    totals = one.totals.set_index(["metric", "scope"])["value"]
    if scenario.queues:
        assert totals["offered", f"queue:{scenario.queues[0].id}"] > 0
        assert totals["answered", f"queue:{scenario.queues[0].id}"] > 0
    for campaign in scenario.campaigns:
        assert totals["dials", f"campaign:{campaign.id}"] > 0
    # the "next steps" comments name the file written and its results folder
    text = path.read_text(encoding="utf-8")
    assert "FILE" not in text and "results/NAME" not in text
    assert f"bposim run {path}" in text


def _keys(node, prefix=()):
    """Every mapping key in parsed YAML, with its path (variants' paths are values)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, prefix + (key,)
            if key != "variants":
                yield from _keys(value, prefix + (key,))
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item, prefix)


@pytest.mark.parametrize("name", list(templates()))
def test_every_field_is_commented_where_it_first_appears(name):
    """The first time a field name appears, its line or one of the two lines above it
    carries a comment (a list of shifts is explained once, above the list)."""
    text = template_text(name)
    lines = text.splitlines()
    assert lines[0].startswith(f"# {name}: ")
    data = yaml.safe_load(text)
    seen, problems = set(), []
    for key, path in _keys(data):
        if key in seen or str(key).startswith("x-"):
            continue
        seen.add(key)
        pattern = re.compile(rf"(^|[\s{{,])(- )?{re.escape(str(key))}:(\s|$)")
        first = next((i for i, line in enumerate(lines)
                      if not line.lstrip().startswith("#") and pattern.search(line.split("#")[0])),
                     None)
        assert first is not None, f"{key} not found in {name}"
        if not any("#" in line for line in lines[max(first - 2, 0): first + 1]):
            problems.append(f"line {first + 1}: {'.'.join(map(str, path))}")
    assert not problems, f"{name}: fields without a comment:\n" + "\n".join(problems)
    assert text.count("default") >= 10


def test_default_file_name_is_the_template_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("tiered-support")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "tiered-support.yaml").is_file()
    bposim.load_scenario(tmp_path / "tiered-support.yaml")


def test_dash_prints_the_template(tmp_path):
    result = invoke("multi-skill", "-")
    assert result.exit_code == 0
    assert result.output == template_text("multi-skill")
    assert yaml.safe_load(result.output)["name"]
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "desk.yaml"
    path.write_text("mine\n", encoding="utf-8")
    result = invoke("single-queue", path)
    assert result.exit_code == 2
    out = result.output.strip()
    assert len(out.splitlines()) == 1 and "already exists" in out and "--force" in out
    assert path.read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desk.yaml"]   # no temp file left

    result = invoke("single-queue", path, "--force")
    assert result.exit_code == 0, result.output
    bposim.load_scenario(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desk.yaml"]


def test_python_api_refuses_too(tmp_path):
    path = write_template("outbound", tmp_path / "calls.yaml")
    with pytest.raises(InputError, match="already exists"):
        write_template("outbound", path)
    assert write_template("outbound", path, force=True) == path


@pytest.mark.parametrize("typo, suggestion", [("singel-queue", "single-queue"),
                                              ("tiered", "tiered-support"),
                                              ("multiskill", "multi-skill"),
                                              ("outbond", "outbound")])
def test_unknown_template_exits_2_with_did_you_mean(typo, suggestion, tmp_path):
    result = invoke(typo, tmp_path / "x.yaml")
    assert result.exit_code == 2
    out = result.output.strip()
    assert len(out.splitlines()) == 1
    assert f"unknown template '{typo}'" in out and f"did you mean '{suggestion}'?" in out
    assert not (tmp_path / "x.yaml").exists()


def test_names_are_forgiving_about_case_and_underscores(tmp_path):
    result = invoke("Sourcing_Mix", tmp_path / "mix.yaml")
    assert result.exit_code == 0, result.output
    assert "template sourcing-mix" in result.output


@pytest.mark.parametrize("args, message", [
    ((), "missing TEMPLATE"),
    (("single-queue", "no/such/folder/x.yaml"), "does not exist"),
])
def test_other_mistakes_exit_2_with_one_line(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_a_folder_is_not_a_file(tmp_path):
    result = invoke("single-queue", tmp_path)
    assert result.exit_code == 2 and "is a folder" in result.output


def test_written_file_is_readable_by_others(tmp_path):
    path = write_template("single-queue", tmp_path / "desk.yaml")
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
