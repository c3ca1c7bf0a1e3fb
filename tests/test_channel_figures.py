"""Run-level and presentation figures of a centre with both real-time queues (calls,
chat) and backlogs (email, back office): each figure is recounted from the contact log
or by hand, not read back from the code that computes it (review of issue 10)."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import replace

import pytest
from helpers import (
    MONDAY, Arrivals, Horizon, Pool, Queue, Scenario, SimulationSettings, Skill, Staffing,
    exponential,
)

import bposim
from bposim.engine.core import Engine
from bposim.engine.model import compile_scenario
from bposim.metrics import replication_metrics
from bposim.report import write_report
from bposim.rng import Streams
from bposim.scenario.schema import QaReview, Shift

OPEN = tuple([0.0] * 16 + [15.0] * 24 + [0.0] * 8)  # 08:00-20:00, 30 an hour


def _centre(queues=("calls", "mail")) -> Scenario:
    """Calls that abandon (one short team) and emails due within 2 h, one day."""
    make = {
        "calls": Queue(id="calls", handle_time=exponential(240), arrivals=Arrivals(volumes=OPEN),
                       patience=exponential(120)),
        "mail": Queue(id="mail", channel="email", handle_time=exponential(400),
                      arrivals=Arrivals(volumes=tuple(0.8 * v for v in OPEN)), due_within_hours=2.0),
    }
    team = Pool(id="team", skills=tuple(Skill(q) for q in queues),
                staffing=Staffing(shifts=(Shift(start=dt.time(8), hours=12, agents=4),)))
    return Scenario(name="mixed", horizon=Horizon(start=MONDAY, days=1),
                    queues=tuple(make[q] for q in queues), pools=(team,),
                    simulation=SimulationSettings(keep_contacts=True))


def _run(sc, seed=1):
    model = compile_scenario(sc)
    return model, replication_metrics(model, Engine(model, Streams(seed)).run())


@pytest.mark.parametrize("seed", [1, 2])
def test_run_abandon_rate_and_service_level_are_over_real_time_queues_only(seed):
    model, m = _run(_centre(), seed)
    t = m.totals.set_index(["metric", "scope"])["value"]
    log = m.contacts
    calls, mail = log[log["queue"] == "calls"], log[log["queue"] == "mail"]
    abandoned = (calls["outcome"] == "abandoned").sum()
    assert abandoned > 20 and len(mail) > 100
    # the log, recounted: calls only (an email cannot abandon)
    assert math.isclose(t[("abandon_rate", "all")], abandoned / len(calls))
    within = (calls["answer"].notna() & (calls["wait"] <= 20.0)).sum()
    assert math.isclose(t[("sl_offered", "all")], within / len(calls))
    closed_in_time = ((mail["outcome"] == "closed") & (mail["end"] <= mail["due"])).sum()
    assert math.isclose(t[("sl_due", "all")], closed_in_time / len(mail))
    assert t[("offered", "all")] == len(calls) + len(mail)


def test_an_email_only_centre_has_no_abandon_rate_and_a_calls_only_centre_no_due_share():
    _, m = _run(_centre(("mail",)))
    names = set(m.totals.loc[m.totals["scope"] == "all", "metric"])
    assert "sl_due" in names and not {"abandon_rate", "sl_offered"} & names
    _, m = _run(_centre(("calls",)))
    names = set(m.totals.loc[m.totals["scope"] == "all", "metric"])
    assert {"abandon_rate", "sl_offered"} <= names and "sl_due" not in names


@pytest.fixture(scope="module")
def email_only_dir(tmp_path_factory):
    """Results of an email-only centre: two replications, serial, the SimPy engine."""
    out = tmp_path_factory.mktemp("channels") / "mail"
    bposim.run_to_directory(_centre(("mail",)), out, replications=2, seed=3, executor="serial", engine="simpy")
    return out


def test_an_email_only_report_says_the_due_time_and_raises_no_warning(email_only_dir, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a matplotlib warning (an empty legend) fails the test
        html = write_report(email_only_dir, tmp_path / "report.html").read_text(encoding="utf-8")
    facts = html.split('<table class="facts">', 1)[1].split("</table>", 1)[0]
    assert "mail (80% closed within 2 h due time)" in facts and " s)" not in facts
    assert "Answer-time distribution" not in html  # an email has no answer time


@pytest.mark.parametrize("seed", [1, 2])
def test_utilisation_counts_overrun_as_paid_and_stays_at_or_below_occupancy(seed):
    """Short ragged spans and long calls: agents often work past the end of duty. The
    overrun is paid overtime, so utilisation = busy / (paid + overrun), recounted from the
    agent-state log, and never above occupancy or 100 %."""
    n = 96
    sc = Scenario(
        name="ragged", horizon=Horizon(start=MONDAY, days=1, interval_minutes=15),
        queues=(Queue(id="q", handle_time=exponential(1500), arrivals=Arrivals(volumes=(4.0,) * n)),),
        pools=(Pool(id="p", skills=(Skill("q"),), staffing=Staffing(per_interval=(2, 1) * (n // 2))),),
        simulation=SimulationSettings(keep_agent_states=True))
    one = bposim.simulate(sc, seed=seed)
    t = one.totals.set_index(["metric", "scope"])["value"]
    log = one.agent_states
    busy = log[log["state"].isin(["handling", "wrap", "consult_hold"])]
    busy_h = (busy["end"] - busy["start"]).sum() / 3600
    overrun = t[("overrun_hours", "pool:p")]
    assert overrun > 1.0
    assert t[("utilisation", "pool:p")] == pytest.approx(busy_h / (t[("paid_hours", "pool:p")] + overrun))
    assert t[("utilisation", "pool:p")] <= t[("occupancy", "pool:p")] <= 1.0
    p = one.pools
    assert (p["utilisation"].dropna() <= p["occupancy"].dropna() + 1e-12).all()


@pytest.fixture(scope="module")
def email_and_qa_run():
    """An email centre whose team has its emails QA-reviewed by a small expert pool,
    with two replications: the run summary as printed and the results."""
    from bposim.cli.simulate import summary_tables

    sc = _centre(("mail",))
    experts = Pool(id="experts", tier="sme", staffing=Staffing(shifts=(Shift(start=dt.time(8), hours=8, agents=1),)),
                   skills=(), qa_review=QaReview(of=("team",), share=0.2, time=exponential(300), due_within_hours=24.0))
    sc = replace(sc, pools=(*sc.pools, experts),  # due in 6 h: late emails are open, not yet due
                 queues=(replace(sc.queues[0], due_within_hours=6.0),))
    res = bposim.run(sc, replications=2, seed=4, executor="serial", engine="simpy")
    return res, summary_tables(res, bposim.run_baseline(compile_scenario(sc)))


def test_backlog_and_qa_shares_show_what_is_not_yet_due(email_and_qa_run, email_only_dir, tmp_path):
    res, text = email_and_qa_run
    log = res.contacts
    end = 24 * 3600.0
    not_due = ((log["outcome"] == "open_at_end") & (log["due"] > end)).groupby(log["replication"]).sum()
    assert not_due.sum() > 0  # emails left open at 20:00 are due after midnight
    assert res.metric("open_not_due", "queue:mail")["mean"] == pytest.approx(not_due.mean())
    assert "open, not yet due, at the end" in text  # a column of the queue table
    assert "items still open at the end counting as late even when due after it" in text
    assert "QA reviews in time: reviews done within their due time / sampled" in text
    html = write_report(email_only_dir, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "open, not yet due, at the end</th>" in html and "count as late even when due after it" in html


def test_net_staffing_counts_an_email_queue_load_in_agents(email_only_dir):
    """Emails 12 per half hour 08:00-20:00, 400 s each: 12 × 400 / 1800 = 2.67 agents of
    work, so 3 agents required in those intervals and none outside."""
    from bposim.report.load import load_results
    from bposim.report.views import net_staffing

    d = load_results(email_only_dir)
    net = net_staffing(d.pool_summary, d.interval_baseline).set_index("interval")
    open_hours = [i for i, v in enumerate(OPEN) if v > 0]
    assert (net.loc[open_hours, "required"] == 3).all()
    assert (net.drop(index=open_hours)["required"] == 0).all()


def test_a_queue_whose_pool_also_does_qa_reviews_gets_no_dedicated_erlang_figures():
    """Experts answer their own queue and review a share of the team's calls: their time
    is not all the queue's, so no Erlang SL/ASA for it (the peak requirement stays)."""
    calls = Queue(id="calls", handle_time=exponential(240), arrivals=Arrivals(volumes=OPEN))
    expert = Queue(id="expert", handle_time=exponential(600), arrivals=Arrivals(volumes=tuple(v / 5 for v in OPEN)))
    shifts = Staffing(shifts=(Shift(start=dt.time(8), hours=12, agents=6),))
    team = Pool(id="team", skills=(Skill("calls"),), staffing=shifts)
    smes = Pool(id="smes", tier="sme", skills=(Skill("expert"),), staffing=shifts)
    sc = Scenario(name="qa", horizon=Horizon(start=MONDAY, days=1), queues=(calls, expert), pools=(team, smes))
    plain = bposim.run_baseline(compile_scenario(sc)).set_index("queue")
    assert plain.loc["expert", "erlang_service_level"] > 0.5  # dedicated: Erlang's figure
    qa = QaReview(of=("team",), share=0.3, time=exponential(600))
    b = bposim.run_baseline(compile_scenario(replace(sc, pools=(team, replace(smes, qa_review=qa))))).set_index("queue")
    assert math.isnan(b.loc["expert", "erlang_service_level"]) and math.isnan(b.loc["expert", "erlang_asa"])
    assert b.loc["expert", "erlang_required_agents_peak"] == plain.loc["expert", "erlang_required_agents_peak"]
    assert b.loc["calls", "erlang_service_level"] == plain.loc["calls", "erlang_service_level"]


def test_the_run_summary_and_report_say_how_the_chat_erlang_figure_is_computed(tmp_path):
    from bposim.cli.simulate import summary_tables
    from bposim.scenario.schema import ChatCapacity

    sc = _centre(("calls",))
    chat = replace(sc, queues=(replace(sc.queues[0], id="chat", channel="chat", patience=None),),
                   pools=(replace(sc.pools[0], skills=(Skill("chat"),), chat=ChatCapacity(2, 1.2)),))
    for scenario, has_chat in ((chat, True), (sc, False)):
        out = tmp_path / scenario.queues[0].id
        res = bposim.run_to_directory(scenario, out, replications=2, seed=5, executor="serial",
                                      engine="simpy")
        text = summary_tables(res.results, bposim.run_baseline(compile_scenario(scenario)))
        html = write_report(out).read_text(encoding="utf-8")
        say = "Erlang counts an agent holding k chat sessions at once as k servers"
        assert (say in text) is has_chat and (say in html) is has_chat, has_chat


def test_compare_default_rows_skip_figures_an_email_queue_does_not_have():
    from types import SimpleNamespace

    import pandas as pd

    from bposim.cli.compare_cmds import _compare_rows

    summary = pd.DataFrame({"metric": pd.Series(dtype=str), "scope": pd.Series(dtype=str),
                            "mean": pd.Series(dtype=float)})
    result = SimpleNamespace(scenario=_centre(), summary=summary)
    rows = {(metric, scope) for _label, metric, scope, _kind in
            _compare_rows(SimpleNamespace(results={"base": result}))}
    assert {("service_level", "queue:calls"), ("asa", "queue:calls"), ("abandon_rate", "queue:calls"),
            ("service_level", "queue:mail")} <= rows
    assert not {("asa", "queue:mail"), ("abandon_rate", "queue:mail")} & rows
