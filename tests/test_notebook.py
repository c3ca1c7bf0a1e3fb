"""Notebook views: Results and Comparison show compact HTML tables; unknown metric
names are answered with the valid ones; one number formatter."""

from __future__ import annotations

import math
from html.parser import HTMLParser

import pytest

from bposim.experiments import compare
from bposim.montecarlo import run
from bposim.numfmt import fmt, metric_kind, with_ci
from tests.helpers import single_queue


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self._row, self._cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr":
            self.rows.append(self._row)

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _rows(html: str) -> list[list[str]]:
    p = _Cells()
    p.feed(html)
    return p.rows


@pytest.fixture(scope="module")
def results():
    return run(single_queue(20, 180, 2, hours=2), replications=3, seed=5, executor="serial")


def test_results_show_service_level_and_utilisation_with_ci(results):
    rows = _rows(results._repr_html_())
    assert rows[0] == ["metric@scope", "mean", "95 % CI", "n"]
    body = {r[0]: r for r in rows[1:]}
    assert set(body) >= {"service_level@queue:q", "utilisation@pool:p", "sl_offered@all"}
    sl = results.metric("service_level", "queue:q")
    assert body["service_level@queue:q"][1] == f"{100 * sl['mean']:.1f} %"
    assert body["service_level@queue:q"][3] == "3"


def test_comparison_shows_each_variant_and_zero_difference_for_a_copy():
    sc = single_queue(20, 180, 2, hours=2)
    more = single_queue(20, 180, 3, hours=2)
    comp = compare({"base": sc, "same": sc, "more": more}, replications=3, seed=2, executor="serial")
    rows = _rows(comp._repr_html_())
    assert [r[0] for r in rows[1:]] == ["base", "same", "more"]
    col = rows[0].index("service_level@queue:q")
    # common random numbers: an identical variant differs by exactly zero
    assert "Δ +0.0 ± 0.0 pp" in rows[2][col]
    assert "Δ" not in rows[1][col]


def test_unknown_metric_lists_valid_names(results):
    with pytest.raises(KeyError, match="valid names: .*service_level"):
        results.metric("servicelevel", "queue:q")
    with pytest.raises(KeyError, match="its scopes: queue:q"):
        results.metric("service_level", "queue:nope")


def test_number_formatter():
    assert fmt(0.8123, "pct") == "81.2 %"
    assert fmt(12345.6, "int") == "12,346"
    assert fmt(math.nan) == "–" and fmt(None, missing="-") == "-"
    assert with_ci(0.5, 0.4, 0.6, "pct") == "50.0 % ± 10.0"
    assert with_ci(10.0, math.nan, math.nan) == "10.0"
    assert [metric_kind(m) for m in ("service_level", "sl_offered", "offered", "asa")] == \
        ["pct", "pct", "int", "num"]
