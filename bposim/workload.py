"""Estimate the work of a scenario before running it, and refuse what is far too large.

A typo can ask for a billion calls an hour, ten million agents or a century of days;
the engine would then take all memory or run for days. :func:`estimate_workload`
counts the expected contacts (arrivals, escalations, repeats, retrials and outbound dials),
agents and intervals of one replication and turns them into rough memory and time
figures, from per-item costs measured on the engine (single replications of the
single-queue example scaled to 1 M contacts, 50 000 agents and 2 000 days, one core;
engine memory at 1 M contacts agrees with ``benchmarks/bench_engine.py``). :func:`check_workload` refuses work beyond :data:`LIMITS` with
a :class:`WorkloadError` that gives the estimate and says how to go ahead anyway.
The figures are estimates (within a factor of a few), meant to catch mistakes of
orders of magnitude, not to predict run times. Nothing here imports SimPy.
"""

from __future__ import annotations

from dataclasses import dataclass

from bposim.errors import BposimError
from bposim.scenario.schema import WEEKDAYS, Scenario

__all__ = ["LIMITS", "Limits", "Workload", "WorkloadError", "check_workload", "estimate_workload"]

# Measured per-item costs of one replication on one core (see the module docstring).
SECONDS_PER_CONTACT = 60e-6  # arrival, wait, service, wrap and their records
SECONDS_PER_DIAL = 40e-6
SECONDS_PER_AGENT_DAY = 150e-6  # shift start and end, interval bookkeeping
SECONDS_PER_AGENT_EVENT = 40e-6  # a break or a shrinkage period
SECONDS_PER_CELL = 40e-6  # one interval of one queue or pool: counters and metrics
SECONDS_FIXED = 0.05  # compile, start-up and summary of any replication
BYTES_PER_CONTACT = 80  # pre-drawn arrival times and per-contact state
BYTES_PER_KEPT_CONTACT = 600  # a row of the contacts table (keep_contacts)
BYTES_PER_AGENT = 2000
BYTES_PER_KEPT_AGENT_EVENT = 300  # a row of the agent-states table (keep_agent_states)
BYTES_PER_CELL = 1500
BYTES_FIXED = 150e6  # the interpreter with numpy, pandas and SimPy loaded


@dataclass(frozen=True)
class Workload:
    """Rough size of a run: per replication unless the name says otherwise."""

    contacts: float  # expected inbound contacts: arrivals, escalations and repeats
    dials: float  # outbound dials, at most every record dialled max_attempts times
    agents: int  # most agents that can be rostered at once (all pools)
    intervals: int  # planning intervals in the horizon
    events: float  # simulation events, roughly
    memory_bytes: float  # peak memory of one replication
    seconds: float  # run time of one replication on one core
    replications: int

    @property
    def total_seconds(self) -> float:
        """Run time of all replications on one core."""
        return self.seconds * self.replications

    def summary(self) -> str:
        """One line: the estimate in words."""
        return (f"about {_count(self.contacts)} contacts"
                + (f" and {_count(self.dials)} dials" if self.dials else "")
                + f", {_count(self.agents)} agents and {_count(self.intervals)} intervals per "
                f"replication; about {_bytes(self.memory_bytes)} of memory and "
                f"{_duration(self.seconds)} each, {_duration(self.total_seconds)} for "
                f"{self.replications} replication{'s' if self.replications != 1 else ''} on one core")


@dataclass(frozen=True)
class Limits:
    """The most work a run starts without being told it is intended."""

    contacts: float = 50e6  # contacts plus dials per replication
    agents: int = 200_000
    memory_bytes: float = 4 * 1024**3  # per replication (each worker holds one)
    total_seconds: float = 48 * 3600  # all replications, one core


LIMITS = Limits()
"""The default limits; ``allow_large=True`` (``--allow-large`` at the CLI) lifts them."""


class WorkloadError(BposimError):
    """A run would exceed the work limits; the message gives the estimate."""


def estimate_workload(scenario: Scenario, replications: int | None = None) -> Workload:
    """The estimated work of ``replications`` replications (default: the scenario's)."""
    reps = replications or scenario.simulation.replications
    h = scenario.horizon
    seconds = h.seconds
    contacts = _inbound(scenario, seconds)
    dials = float(sum(c.contact_list.n * c.retry.max_attempts for c in scenario.campaigns))
    agents, agent_days, agent_events = 0, 0.0, 0.0
    for pool in scenario.pools:
        most, hours = _headcount(pool.staffing)
        agents += most
        agent_days += most * h.days
        per_day = len(pool.breaks)
        if pool.shrinkage > 0:  # unavailable periods of mean shrinkage_period_minutes
            per_day += pool.shrinkage * hours * 60.0 / pool.shrinkage_period_minutes
        agent_events += most * h.days * per_day
    cells = h.n_intervals * (len(scenario.queues) + len(scenario.pools) + len(scenario.campaigns))
    events = 6 * contacts + 5 * dials + 2 * agent_days + agent_events + cells
    run_seconds = (SECONDS_FIXED + SECONDS_PER_CONTACT * contacts + SECONDS_PER_DIAL * dials
                   + SECONDS_PER_AGENT_DAY * agent_days + SECONDS_PER_AGENT_EVENT * agent_events
                   + SECONDS_PER_CELL * cells)
    sim = scenario.simulation
    memory = (BYTES_FIXED + BYTES_PER_CONTACT * contacts + BYTES_PER_AGENT * agents
              + BYTES_PER_CELL * cells
              + (BYTES_PER_KEPT_CONTACT * (contacts + dials) if sim.keep_contacts else 0.0)
              + (BYTES_PER_KEPT_AGENT_EVENT * (2 * agent_days + agent_events) + BYTES_PER_CELL * cells
                 if sim.keep_agent_states else 0.0))
    return Workload(contacts=contacts, dials=dials, agents=agents, intervals=h.n_intervals,
                    events=events, memory_bytes=memory, seconds=run_seconds, replications=reps)


def check_workload(scenario: Scenario, replications: int | None = None, *, allow_large: bool = False,
                   limits: Limits = LIMITS) -> Workload:
    """The estimate; :class:`WorkloadError` when it exceeds ``limits`` (unless ``allow_large``)."""
    work = estimate_workload(scenario, replications)
    if allow_large:
        return work
    over = []
    if work.contacts + work.dials > limits.contacts:
        over.append(f"more than {_count(limits.contacts)} contacts per replication")
    if work.agents > limits.agents:
        over.append(f"more than {_count(limits.agents)} agents")
    if work.memory_bytes > limits.memory_bytes:
        over.append(f"more than {_bytes(limits.memory_bytes)} of memory per replication")
    if work.total_seconds > limits.total_seconds:
        over.append(f"more than {_duration(limits.total_seconds)} of computing")
    if over:
        name = f"{scenario.source}: " if scenario.source else ""
        raise WorkloadError(f"{name}this run is too large ({'; '.join(over)}): {work.summary()}. "
                            "Check the volumes, agents, horizon and replications; if it is "
                            "intended, run again with --allow-large (allow_large=True in Python)")
    return work


def is_large(work: Workload) -> bool:
    """Worth a note before running: over a minute of computing or 1 GB of memory."""
    return work.total_seconds > 60 or work.memory_bytes > 1024**3


# --- counting ------------------------------------------------------------------------


def _day_factor_sum(scenario: Scenario, factors: dict[str, float]) -> float:
    """Sum over the horizon's days of the day-of-week factors (1 where not given)."""
    h = scenario.horizon
    first = h.start.weekday()
    weeks, rest = divmod(h.days, 7)
    week = sum(factors.get(day, 1.0) for day in WEEKDAYS)
    return weeks * week + sum(factors.get(WEEKDAYS[(first + d) % 7], 1.0) for d in range(rest))


def _inbound(scenario: Scenario, horizon_seconds: float) -> float:
    """Expected contacts of every queue: arrivals, then escalations, repeats and retrials."""
    h = scenario.horizon
    external = {}
    for q in scenario.queues:
        a = q.arrivals
        if a is None:
            total = 0.0
        elif a.volumes is not None:
            total = float(sum(a.volumes))
            if len(a.volumes) == h.intervals_per_day:
                total *= _day_factor_sum(scenario, a.day_of_week)
        else:
            total = float(a.daily_volume or 0.0) * _day_factor_sum(scenario, a.day_of_week)
        external[q.id] = total
    # escalations: contacts flow along the routes until the flow dies out (or 200 rounds)
    flow, total = dict(external), dict(external)
    for _ in range(200):
        nxt = dict.fromkeys(flow, 0.0)
        for q in scenario.queues:
            for e in q.escalations:
                if e.to in nxt:
                    nxt[e.to] += flow[q.id] * e.probability
        flow = nxt
        for k, v in flow.items():
            total[k] += v
        if sum(flow.values()) < 1e-9 * max(1.0, sum(total.values())):
            break
    else:  # a loop of certain escalations: contacts circulate until the horizon ends
        shortest = min((q.handle_time.expected for q in scenario.queues), default=1.0)
        laps = 1.0 + horizon_seconds / max(shortest, 1e-9)
        total = {k: max(v, external[k] * laps) for k, v in total.items()}
    # repeats: an unresolved contact (first-contact resolution fcr < 1) comes back, at most
    # as often as handling and the repeat delay fit in the horizon
    fcr = _fcr_by_queue(scenario)
    out = 0.0
    for q in scenario.queues:
        n = total[q.id]
        resolve = fcr.get(q.id, 1.0)
        if resolve < 1.0 and n > 0:
            cycle = q.handle_time.expected + (q.repeat_after.expected if q.repeat_after else 86400.0)
            fits = 1.0 + horizon_seconds / max(cycle, 1e-9)
            n *= fits if resolve <= 0 else min(1.0 / resolve, fits)
        n *= _retrial_factor(q, horizon_seconds)
        out += n
    return out


def _retrial_factor(q, horizon_seconds: float) -> float:
    """Attempts per contact of a queue with retrials, at worst (every attempt abandons):
    1 / (1 − probability), and no more than patience + delay cycles fit in the horizon."""
    r = q.retrial
    if r is None or r.probability <= 0:
        return 1.0
    patience = q.patience.expected if q.patience is not None else 0.0
    fits = 1.0 + horizon_seconds / max(patience + r.delay.expected, 1e-9)
    return fits if r.probability >= 1 else min(1.0 / (1.0 - r.probability), fits)


def _fcr_by_queue(scenario: Scenario) -> dict[str, float]:
    """The lowest first-contact resolution rate among the pools that serve each queue."""
    sites = {s.id: s for s in scenario.sites}
    out: dict[str, float] = {}
    for pool in scenario.pools:
        site = sites.get(pool.site) if pool.site else None
        fcr = 1.0 if site is None or site.fcr is None else site.fcr
        for skill in pool.skills:
            out[skill.queue] = min(out.get(skill.queue, 1.0), fcr)
    return out


def _headcount(staffing) -> tuple[int, float]:
    """The most agents rostered at once and their on-duty hours per day."""
    if staffing.agents is not None:
        return int(staffing.agents), 24.0
    if staffing.per_interval is not None:
        return int(max(staffing.per_interval, default=0)), 24.0
    shifts = staffing.shifts or ()
    most = sum(s.agents for s in shifts)
    hours = max((s.hours for s in shifts), default=0.0)
    return int(most), float(hours)


# --- words ---------------------------------------------------------------------------


def _count(n: float) -> str:
    for size, unit in ((1e12, " trillion"), (1e9, " billion"), (1e6, " million"), (1e3, " thousand")):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:.0f}"


def _bytes(n: float) -> str:
    for size, unit in ((1024**4, "TB"), (1024**3, "GB"), (1024**2, "MB")):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n / 1024:.3g} kB"


def _duration(s: float) -> str:
    if s >= 2 * 86400 * 365:
        return f"{s / 86400 / 365:.3g} years"
    if s >= 2 * 86400:
        return f"{s / 86400:.3g} days"
    if s >= 2 * 3600:
        return f"{s / 3600:.3g} hours"
    if s >= 120:
        return f"{s / 60:.3g} minutes"
    return f"{s:.2g} s"

