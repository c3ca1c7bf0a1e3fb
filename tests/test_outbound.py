"""Outbound campaigns: dialer modes, pacing under the abandon cap, accounting, windows, blending."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest
from helpers import (
    MONDAY, Arrivals, Horizon, Pool, Queue, Scenario, SimulationSettings, Skill, Staffing,
    exponential, values,
)

import bposim
from bposim.distributions import DistributionSpec
from bposim.engine.campaigns import window_spans
from bposim.scenario.schema import (
    AnsweringMachineDetection, CallingWindow, Campaign, ContactList, DialOutcomes, RetryRules, Shift,
)

OUTCOMES = DialOutcomes(no_answer=0.5, busy=0.05, machine=0.2, live=0.25, right_party=0.5)
ZONES = (("America/New_York", 0.5), ("America/Los_Angeles", 0.5))


def _campaign(mode="predictive", **kw) -> Campaign:
    base = dict(
        id="coll", pools=("dialers",), mode=mode,
        contact_list=ContactList(size=30000, timezones=ZONES),
        windows=(CallingWindow(dt.time(9), dt.time(20)),),
        outcomes=OUTCOMES, talk_right_party=DistributionSpec("lognormal", mean=180, cv=0.7),
        talk_wrong_party=exponential(30), wrap=DistributionSpec("deterministic", mean=20),
        amd=AnsweringMachineDetection(enabled=True, accuracy=0.9, decision_seconds=3),
        retry=RetryRules(max_attempts=3, after_no_answer=3600, after_busy=900,
                         after_machine=7200, after_wrong_party=14400, after_abandoned=7200),
    )
    base.update(kw)
    return Campaign(**base)


def _outbound(campaign: Campaign, agents=20, keep=False) -> Scenario:
    return Scenario(
        name="outbound", horizon=Horizon(start=MONDAY, days=1, timezone="America/New_York"),
        queues=(),
        pools=(Pool(id="dialers", skills=(), staffing=Staffing(
            shifts=(Shift(start=dt.time(9), hours=11, agents=agents),))),),
        campaigns=(campaign,),
        simulation=SimulationSettings(keep_contacts=keep, keep_agent_states=keep),
    )


def _totals(res, metric):
    return values(res, metric, "campaign:coll")


def test_outcome_accounting_adds_up():
    res = bposim.run(_outbound(_campaign()), replications=3, seed=1, executor="serial")
    t = {m: _totals(res, m) for m in ("dials", "no_answer", "busy", "machine", "live", "connected",
                                      "abandoned", "amd_false_positive", "machine_detected",
                                      "machine_to_agent", "machine_unconnected")}
    assert (t["dials"] > 1000).all()
    in_flight_at_end = t["dials"] - (t["no_answer"] + t["busy"] + t["machine"] + t["live"])
    assert (in_flight_at_end >= 0).all() and (in_flight_at_end <= 100).all()
    np.testing.assert_array_equal(t["live"], t["connected"] + t["abandoned"] + t["amd_false_positive"])
    np.testing.assert_array_equal(t["machine"], t["machine_detected"] + t["machine_to_agent"]
                                  + t["machine_unconnected"])
    # outcome shares follow the configured probabilities
    settled = t["no_answer"] + t["busy"] + t["machine"] + t["live"]
    share = t["live"].sum() / settled.sum()
    assert abs(share - 0.25) < 4.5 * np.sqrt(0.25 * 0.75 / settled.sum())


def test_progressive_one_to_one_never_abandons():
    res = bposim.run(_outbound(_campaign("progressive", dials_per_agent=1.0)), replications=3, seed=2,
                     executor="serial")
    assert (_totals(res, "abandoned") == 0).all()
    assert (_totals(res, "connected") > 100).all()


def test_preview_mode_charges_preview_time_and_never_abandons():
    camp = _campaign("preview", preview_time=DistributionSpec("deterministic", mean=30))
    one = bposim.simulate(_outbound(camp), seed=3)
    t = one.totals.set_index(["metric", "scope"])["value"]
    assert t[("abandoned", "campaign:coll")] == 0
    preview = one.pools["preview_s"].sum()
    dials = t[("dials", "campaign:coll")]
    # every dial is preceded by 30 s of preview (the last few may still be previewing)
    assert 30 * dials <= preview + 1e-6 <= 30 * (dials + 20)


def test_predictive_keeps_abandons_under_target_and_a_higher_target_reaches_more():
    strict = _outbound(_campaign(abandon_target=0.03), agents=20)
    loose = replace(strict, campaigns=(replace(strict.campaigns[0], abandon_target=0.10),))
    a = bposim.run(strict, replications=6, seed=4, executor="serial")
    b = bposim.run(loose, replications=6, seed=4, executor="serial")
    rate = _totals(a, "abandon_rate")
    mean, hi = rate.mean(), rate.mean() + 3 * rate.std(ddof=1) / np.sqrt(rate.size)
    assert hi < 0.03, (mean, hi)
    gain = _totals(b, "connects_per_agent_hour") - _totals(a, "connects_per_agent_hour")
    assert gain.mean() - 3 * gain.std(ddof=1) / np.sqrt(gain.size) > 0, gain


def test_calls_only_inside_each_customers_window_and_attempts_capped():
    sc = _outbound(_campaign(), keep=True)
    from bposim.engine.core import Engine
    from bposim.rng import Streams

    model = bposim.compile_scenario(sc)
    engine = Engine(model, Streams(5))
    rec = engine.run()
    dials = rec.campaigns[0].dial_times
    assert len(dials) > 1000
    # independent: 09:00-20:00 local is 09-20 h New York and 12-23 h New York for Los Angeles
    for t, zone in dials:
        hour = t / 3600
        lo, hi = (9, 20) if zone == "America/New_York" else (12, 23)
        assert lo <= hour < hi, (t, zone)
    assert max(engine.campaigns[0].attempts) <= 3
    assert window_spans(sc.campaigns[0], "America/Los_Angeles", sc.horizon) == ((12 * 3600.0, 23 * 3600.0),)


def _blended(reserve) -> Scenario:
    vols = tuple([0.0] * 18 + [60.0] * 16 + [0.0] * 14)
    camp = _campaign("predictive", pools=("blend",), reserve=reserve,
                     contact_list=ContactList(size=4000, timezones=(("America/New_York", 1.0),)))
    return Scenario(
        name="blended", horizon=Horizon(start=MONDAY, days=1, timezone="America/New_York"),
        queues=(Queue(id="service", handle_time=exponential(240), arrivals=Arrivals(volumes=vols),
                      patience=exponential(120)),),
        pools=(Pool(id="blend", skills=(Skill("service"),), staffing=Staffing(agents=12)),),
        campaigns=(camp,),
    )


def test_blending_reserve_protects_inbound():
    inbound_only = replace(_blended(0), campaigns=())
    base = bposim.run(inbound_only, replications=4, seed=6, executor="serial")
    protected = bposim.run(_blended(12), replications=4, seed=6, executor="serial")
    open_door = bposim.run(_blended(0), replications=4, seed=6, executor="serial")
    sl = lambda r: values(r, "service_level", "queue:service")  # noqa: E731
    # with every agent held in reserve, outbound never gets an agent: inbound is untouched
    np.testing.assert_array_equal(sl(protected), sl(base))
    assert (_totals(protected, "connected") == 0).all()
    # with no reserve, outbound output rises and inbound service falls (paired by seed)
    assert (_totals(open_door, "connected") > 50).all()
    drop = sl(base) - sl(open_door)
    assert drop.mean() - 3 * drop.std(ddof=1) / np.sqrt(drop.size) > 0, drop
