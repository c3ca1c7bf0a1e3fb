"""Shares at the command line: 0.33 and 33% are the same value everywhere."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from bposim.cli import main
from bposim.cli.common import SHARE, Share
from bposim.numfmt import parse_share


@pytest.mark.parametrize("text, value", [("0.33", 0.33), ("33%", 0.33), (" 33 % ", 0.33),
                                         ("85%", 0.85), ("0", 0.0), ("100%", 1.0)])
def test_parse_share(text, value):
    assert parse_share(text) == pytest.approx(value)


def test_every_share_option_uses_the_share_type():
    shares = {("erlang", "max_occupancy"), ("erlang", "max_abandon"), ("staff", "shrinkage"),
              ("staff", "max_occupancy"), ("staff", "max_abandon")}
    for command, name in shares:
        param = next(p for p in main.commands[command].params if p.name == name)
        assert isinstance(param.type, Share), (command, name)


def test_percent_and_fraction_give_the_same_staffing_table():
    run = CliRunner().invoke
    args = ["erlang", "--calls", "300", "--aht", "180"]
    a = run(main, args + ["--max-occupancy", "0.8", "--max-abandon", "0.05", "--patience", "90"])
    b = run(main, args + ["--max-occupancy", "80%", "--max-abandon", "5%", "--patience", "90"])
    assert a.exit_code == b.exit_code == 0 and a.output == b.output
    bad = run(main, args + ["--max-occupancy", "eighty"])
    assert bad.exit_code == 2 and "0.33 or a percentage like 33%" in bad.output


def test_share_type_rejects_text():
    with pytest.raises(click.BadParameter):
        SHARE.convert("a lot", None, None)
