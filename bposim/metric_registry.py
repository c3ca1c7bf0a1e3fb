"""The metric registry: one declarative list of every metric bposim reports.

Each :class:`Metric` says what a figure is called (``name``), what it is measured
over (``scope``: a queue, a pool, a tier or site of pools, an outbound campaign, or
the whole run), its ``unit`` (which decides how it is formatted and how its
confidence interval across replications is formed), its ``label`` for tables, which
channels it applies to, whether it is a per-interval column and/or a run-level total,
and, for metrics added the new way, how it is computed from a replication's
:class:`~bposim.engine.recorder.Recording`. The metrics frames
(:mod:`bposim.metrics`), the run summary's confidence intervals
(:func:`bposim.montecarlo.summarise`), the terminal tables, the HTML report and the
what-if page read names, labels, units and formats from here; scopes are written
``queue:<id>`` by one helper, :func:`scope_key`.

Adding a metric (e.g. a channel's figure)
-----------------------------------------
1. Count what it needs in the engine's per-interval accumulators (e.g. a list
   ``callbacks_offered`` on :class:`~bposim.engine.recorder.QueueStats`, one value per
   arrival interval), if it is not there already.
2. Add **one entry** to :data:`METRICS` below with ``compute=``:

   - ``counter("callbacks_offered")``: the per-interval column is that list, the
     run-level total its sum over the measured intervals (``scale=1/3600``: seconds
     kept, hours reported);
   - ``gauge("backlog_size")``: a level sampled once per interval; run-level its mean
     (or ``how="max"``) over the measured intervals;
   - ``quotient("callback_wait", "callbacks_completed")``: the ratio of two lists the
     engine keeps, per interval and as the ratio of measured sums (a mean time, say);
   - ``ratio("callbacks_accepted", "callbacks_offered")``: per interval the ratio of
     two columns of the same frame (listed earlier), run-level the ratio of their
     measured sums (NaN where the denominator is 0);
   - ``Compute(interval=f, total=g)`` for anything else: ``f(src)`` returns one value
     per interval, ``g(src)`` one float (either may be None); ``src`` is a
     :class:`Source` (the model entry, its stats, its per-interval frame so far, the
     measured intervals). ``f``/``g`` may be a ``"module:function"`` string, so the
     computation can live in its own small module without importing it here.

   and ``applies=`` (a predicate on the model entry, e.g.
   ``lambda q: q.callback is not None``) when the figure exists only for some
   queues or pools: its column then appears only when some entry of the scenario
   has it, so scenarios without the feature keep exactly today's frames.
3. That is all: the frames, the summary (with a Wilson interval for a share, log-t
   for a non-negative figure), ``--metric NAME@SCOPE``, the CSV/Parquet files and
   the notebook tables pick it up. With ``show=True`` it is also an extra column of
   the run summary's and the report's queue or pool table, and a row of the what-if
   page, in runs where some queue or pool has it. ``tests/test_metric_registry.py``
   checks the registry against the frames the example scenarios produce.

``abandon_rate``, ``escalation_rate`` and ``mean_queue_length`` of the queues are
written this way as worked examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from bposim.engine.recorder import CAMPAIGN_COUNTS, STATE_NAMES, TASK_STATES
from bposim.metric_recipes import (  # noqa: F401 (re-exported: registry.counter etc.)
    Compute, Source, counter, gauge, quotient, ratio,
)

#: what a metric can be measured over; ``run`` is the whole centre (summary scope ``all``)
SCOPES = ("queue", "pool", "tier", "site", "campaign", "run")
#: units and their default cell format (``pct``, ``int`` or ``num`` of :mod:`bposim.numfmt`)
UNITS = {
    "share": "pct",  # a proportion in [0, 1]
    "count": "int",  # a number of contacts, dials, agents hired, ...
    "seconds": "num",
    "hours": "num",
    "agents": "num",  # a (time-averaged) number of agents
    "contacts": "num",  # a time-averaged number of contacts (e.g. waiting)
    "currency": "int",  # the scenario's currency
    "per_hour": "num",  # per agent hour
}
#: how replication values are summarised: their mean, with this 95 % interval
#: (:func:`bposim.montecarlo.interval_bounds`)
INTERVALS = {"share": "wilson"}  # every other unit: "log_t" (values >= 0), else "t"
CHANNELS = ("voice", "chat", "email", "back_office")
REAL_TIME = ("voice", "chat")  # contacts that wait on the line or in the chat window
DEFERRABLE = ("email", "back_office")  # items that wait in a backlog, due within hours
#: wait percentiles of the queue frames (``wait_p50`` ...)
PERCENTILES = (50, 90, 95)


@dataclass(frozen=True)
class Metric:
    """One metric. ``name`` may hold one ``{}`` placeholder for a family of metrics
    (``sl_at_{}s``: service level at each report threshold). ``fmt``: ``pct``, ``int``
    or ``num`` (default from the unit); ``digits`` after the point for ``num``/``pct``.
    ``channels``: the queue channels it applies to (queue scope; elsewhere all).
    ``interval``/``total``: whether it is a column of the per-interval frame and a
    run-level figure in the totals. ``compute``: None when :mod:`bposim.metrics`
    computes it in its core code; else how (see the module docstring). ``applies``:
    a predicate on the scope's model entry (QueueModel, PoolModel, CampaignModel) for
    a metric only some entries have. ``long_label``: a fuller heading for the report.
    ``show``: an extra column of the run summary's and the report's queue or pool table
    (and a row of the what-if page) wherever some queue or pool of the run has it.
    ``better``: ``"higher"`` or ``"lower"`` when a change in that direction is an
    improvement (the what-if page colours significant differences by it), else None."""

    name: str
    scope: str
    unit: str
    label: str
    interval: bool = True
    total: bool = True
    fmt: str | None = None
    digits: int = 1
    channels: tuple[str, ...] = CHANNELS
    compute: Compute | None = None
    applies: Callable[[Any], bool] | None = field(default=None, compare=False)
    long_label: str | None = None
    description: str = ""
    show: bool = False
    better: str | None = None

    @property
    def kind(self) -> str:
        """Cell format: ``pct``, ``int`` or ``num``."""
        return self.fmt or UNITS[self.unit]

    @property
    def ci(self) -> str:
        """The interval across replications: ``wilson`` for shares, else ``log_t``
        (a t interval on the log scale; a plain t interval when a value is negative)."""
        return INTERVALS.get(self.unit, "log_t")

    @property
    def heading(self) -> str:
        """The label with the unit where a reader needs it: ``ASA (s)``."""
        return f"{self.label} (s)" if self.unit == "seconds" else self.label

    def applies_to(self, item) -> bool:
        """Whether this metric exists for one queue / pool / campaign of the model."""
        channel = getattr(item, "channel", None)
        if self.scope == "queue" and channel is not None and channel not in self.channels:
            return False
        return self.applies is None or bool(self.applies(item))

    def matches(self, name: str) -> bool:
        """Whether ``name`` is this metric (or a member of its family)."""
        if "{}" not in self.name:
            return name == self.name
        head, tail = self.name.split("{}")
        return (len(name) > len(head) + len(tail) and name.startswith(head) and name.endswith(tail))


def _queue(name, unit, label, **kw) -> Metric:
    return Metric(name, "queue", unit, label, **kw)


_RT = {"channels": REAL_TIME}
_VO = "bposim.metrics_voice:"


def _has_retrial(q) -> bool:
    return getattr(q, "retrial", None) is not None


def _has_callback(q) -> bool:
    return getattr(q, "callback", None) is not None


#: the callback figures the run summary's and the report's queue tables show
_CALLBACKS_SHOWN = ("callbacks_offered", "callbacks_accepted", "callbacks_completed", "time_to_callback")

_BL = "bposim.metrics_backlog:"


def _deferrable(q) -> bool:
    return bool(getattr(q, "deferrable", False))


def _has_qa(p) -> bool:
    return getattr(p, "qa", None) is not None


def _has_coaching(p) -> bool:
    return getattr(p, "coaching", None) is not None

METRICS: tuple[Metric, ...] = (
    # --- queues (interval x queue frame, totals scope queue:<id>) ---
    _queue("offered", "count", "offered", description="contacts that arrived at the queue"),
    _queue("answered", "count", "answered"),
    _queue("abandoned", "count", "abandoned (count)"),
    _queue("short_abandoned", "count", "short abandons"),
    _queue("unanswered_at_end", "count", "still waiting at the end"),
    _queue("escalated", "count", "escalated (count)"),
    _queue("repeats", "count", "repeats"),
    _queue("unresolved", "count", "unresolved"),
    _queue("answered_within", "count", "answered in target", total=False),
    _queue("service_level", "share", "service level", better="higher",
           description="the queue's chosen definition (sl_offered, sl_answered or sl_offered_excl_short)"),
    _queue("sl_offered", "share", "SL of offered", better="higher"),
    _queue("sl_answered", "share", "SL of answered", better="higher"),
    _queue("sl_offered_excl_short", "share", "SL of offered less short abandons", better="higher"),
    _queue("sl_at_{}s", "share", "SL at {} s", **_RT, better="higher",
           description="service level at each of the queue's report_thresholds"),
    _queue("p_wait", "share", "waited", **_RT, better="lower"),
    _queue("asa", "seconds", "ASA", **_RT, better="lower", description="mean wait of answered contacts"),
    _queue("mean_wait", "seconds", "mean wait", **_RT, better="lower"),
    *(_queue(f"wait_p{p}", "seconds", f"p{p} wait", **_RT, better="lower") for p in PERCENTILES),
    # the worked example of the module docstring: a ratio of two frame columns
    _queue("abandon_rate", "share", "abandoned", **_RT, better="lower", compute=ratio("abandoned", "offered")),
    _queue("escalation_rate", "share", "escalated", interval=False,
           compute=ratio("escalated", "answered", per_interval=False)),
    _queue("mean_queue_length", "contacts", "mean queue length", interval=False,
           compute=Compute(total=lambda src: src.stats.queue_area / src.model.end)),
    # retrials after abandonment and callbacks (bposim.metrics_voice; engine.retrials, .callbacks)
    *(_queue(name, unit, label, channels=REAL_TIME, applies=applies, description=text,
             compute=compute, show=name == "retrials")
      for name, unit, label, applies, compute, text in (
          ("offered_fresh", "count", "offered (fresh)", _has_retrial,
           Compute(_VO + "offered_fresh", _VO + "offered_fresh_total"),
           "contacts offered that are not retrials (offered = fresh + retrials)"),
          ("retrials", "count", "retrials", _has_retrial, counter("retrials"),
           "contacts offered that are retrials of abandoned ones"),
      )),
    *(_queue(name, unit, label, channels=("voice",), applies=_has_callback, description=text,
             compute=compute, show=name in _CALLBACKS_SHOWN,
             better="lower" if name in ("time_to_callback", "callbacks_failed") else None)
      for name, unit, label, compute, text in (
          ("callbacks_offered", "count", "callbacks offered", counter("callbacks_offered"),
           "contacts offered a callback (expected wait over the threshold)"),
          ("callbacks_accepted", "count", "callbacks accepted", counter("callbacks_accepted"),
           "callbacks the customer accepted"),
          ("callback_acceptance", "share", "callback acceptance",
           ratio("callbacks_accepted", "callbacks_offered"), "accepted / offered callbacks"),
          ("callbacks_completed", "count", "callbacks completed", counter("callbacks_completed"),
           "accepted callbacks that reached the customer (answered then)"),
          ("callbacks_failed", "count", "callbacks failed", counter("callbacks_failed"),
           "accepted callbacks whose every attempt failed"),
          ("callbacks_pending", "count", "callbacks pending at the end", counter("callbacks_pending"),
           "accepted callbacks neither completed nor failed when the horizon ends"),
          ("time_to_callback", "seconds", "time to callback",
           Compute(_VO + "time_to_callback", _VO + "time_to_callback_total"),
           "mean time from arrival to connection of the completed callbacks"),
      )),
    # deferrable queues (email, back office): bposim.metrics_backlog, engine.backlog_stats
    *(_queue(name, unit, label, channels=DEFERRABLE, applies=_deferrable, description=text,
             compute=compute, show=name in ("open_not_due", "time_to_close", "backlog"))
      for name, unit, label, compute, text in (
          ("closed", "count", "closed", counter("backlog.closed"),
           "items closed (handled to the end), by arrival interval"),
          ("closed_within_due", "count", "closed within due", counter("backlog.closed_within"),
           "items closed within their due time"),
          ("open_at_end", "count", "open at the end", counter("backlog.open_at_end"),
           "items waiting or in hand when the horizon ends"),
          ("open_not_due", "count", "open, not yet due, at the end", counter("backlog.open_not_due"),
           "items open at the end whose due time is after the end"),
          ("time_to_close", "hours", "time to close (h)",
           Compute(_BL + "time_to_close", _BL + "time_to_close_total"),
           "mean time from arrival to close of the items closed"),
          ("backlog", "contacts", "backlog", Compute(_BL + "backlog", _BL + "backlog_total"),
           "open items (waiting or in hand) at the interval's end; run: mean over intervals"),
          ("backlog_age_p50", "hours", "p50 age of open items (h)",
           Compute(_BL + "age_p50", _BL + "age_p50_total"),
           "median age of the items open at the interval's end; run: mean over intervals"),
          ("backlog_age_p90", "hours", "p90 age of open items (h)",
           Compute(_BL + "age_p90", _BL + "age_p90_total"),
           "90th percentile of the ages of the items open at the interval's end"),
      )),
    _queue("mean_backlog", "contacts", "mean backlog", interval=False, channels=DEFERRABLE,
           applies=_deferrable, compute=Compute(total=_BL + "mean_backlog"),
           description="time-averaged number of open items over the horizon"),
    # --- pools (interval x pool frame, totals scope pool:<id>) ---
    Metric("scheduled_agents", "pool", "agents", "scheduled agents", total=False),
    *(Metric(f"{state}_s", "pool", "seconds", f"{state.replace('_', ' ')} time", total=False)
      for k, state in enumerate(STATE_NAMES) if k and k not in TASK_STATES),
    Metric("busy_s", "pool", "seconds", "busy time", total=False),
    Metric("paid_s", "pool", "seconds", "paid time", total=False),
    Metric("absent_s", "pool", "seconds", "absent time", total=False),
    Metric("agents_available", "pool", "agents", "agents available", total=False),
    Metric("occupancy", "pool", "share", "occupancy"),
    Metric("utilisation", "pool", "share", "utilisation"),
    Metric("handled", "pool", "count", "handled"),
    Metric("escalations_taken", "pool", "count", "escalations taken"),
    Metric("cost", "pool", "currency", "cost"),
    Metric("paid_hours", "pool", "hours", "paid hours", interval=False, fmt="int"),
    Metric("overrun_hours", "pool", "hours", "overrun hours", interval=False),
    Metric("absent_hours", "pool", "hours", "absent hours", interval=False),
    Metric("breaks_planned", "pool", "count", "breaks planned", interval=False),
    Metric("breaks_taken", "pool", "count", "breaks taken", interval=False),
    Metric("max_on_break_share", "pool", "share", "most on break at once", interval=False),
    Metric("leavers", "pool", "count", "leavers", interval=False),
    Metric("hires", "pool", "count", "hires", interval=False),
    # QA reviews and coaching done by the pool (bposim.engine.backlog)
    Metric("qa_review_s", "pool", "seconds", "QA review time", total=False, applies=_has_qa,
           compute=Compute(_BL + "qa_review_s")),
    Metric("coaching_s", "pool", "seconds", "coaching time", total=False, applies=_has_coaching,
           compute=Compute(_BL + "coaching_s")),
    Metric("qa_sampled", "pool", "count", "QA reviews sampled", applies=_has_qa,
           compute=counter("tasks.qa_sampled"), description="by the interval the contact closed"),
    Metric("qa_done", "pool", "count", "QA reviews done", applies=_has_qa, compute=counter("tasks.qa_done")),
    Metric("qa_done_within_due", "pool", "count", "QA reviews done in time", applies=_has_qa,
           compute=counter("tasks.qa_within")),
    Metric("qa_within_due_rate", "pool", "share", "QA reviews in time", show=True, applies=_has_qa,
           compute=ratio("qa_done_within_due", "qa_sampled"),
           long_label="QA reviews done within due / sampled"),
    Metric("qa_open_not_due", "pool", "count", "QA reviews open, not yet due", show=True,
           applies=_has_qa, compute=counter("tasks.qa_open_not_due"),
           description="reviews open at the end whose due time is after the end (counted as "
                       "not done in time by the rate above)"),
    Metric("coaching_hours_due", "pool", "hours", "coaching hours due", applies=_has_coaching,
           compute=Compute(_BL + "coaching_due", _BL + "coaching_due_total"),
           description="hours of coaching sessions released, by the interval they became workable"),
    Metric("coaching_hours_done", "pool", "hours", "coaching hours done", show=True, applies=_has_coaching,
           compute=Compute(_BL + "coaching_done", _BL + "coaching_done_total")),
    # --- tiers and sites of pools (totals only) ---
    *(Metric(name, scope, unit, label, interval=False, **kw)
      for scope in ("tier", "site")
      for name, unit, label, kw in (
          ("occupancy", "share", "occupancy", {}), ("utilisation", "share", "utilisation", {}),
          ("handled", "count", "handled", {}), ("escalations_taken", "count", "escalations taken", {}),
          ("paid_hours", "hours", "paid hours", {"fmt": "int"}), ("cost", "currency", "cost", {}))),
    # --- outbound campaigns (interval x campaign frame, totals scope campaign:<id>) ---
    *(Metric(name, "campaign", "count", label)
      for name, label in zip(CAMPAIGN_COUNTS, (
          "dials", "no answer", "busy", "machine", "machines detected", "machines to agents",
          "machines not connected", "live answers", "connects", "abandoned (count)",
          "AMD false positives", "right party", "wrong party"))),
    Metric("talk_s", "campaign", "seconds", "talk time", total=False),
    Metric("abandon_rate", "campaign", "share", "abandoned/live",
           long_label="abandoned / live (the cap's measure)"),
    Metric("abandon_rate_incl_amd", "campaign", "share", "abandoned/live incl. AMD"),
    Metric("max_daily_abandon_rate", "campaign", "share", "worst day (incl. AMD)", interval=False,
           long_label="worst day, AMD hang-ups included (Ofcom's 24-hour rule)"),
    Metric("max_30day_abandon_rate", "campaign", "share", "worst 30 days", interval=False,
           long_label="worst 30 days (FTC's 30-day rule)"),
    Metric("outbound_agent_hours", "campaign", "hours", "outbound agent hours", interval=False),
    Metric("right_party_per_agent_hour", "campaign", "per_hour", "RPC/agent h", interval=False,
           long_label="right party per agent hour"),
    Metric("connects_per_agent_hour", "campaign", "per_hour", "connects/agent h", interval=False,
           long_label="connects per agent hour"),
    Metric("talk_minutes_per_agent_hour", "campaign", "per_hour", "talk min/agent h", interval=False,
           long_label="talk minutes per agent hour"),
    Metric("list_penetration", "campaign", "share", "list reached", interval=False),
    Metric("list_closed", "campaign", "share", "list closed", interval=False),
    # --- the whole centre (totals scope all) ---
    Metric("offered", "run", "count", "offered", interval=False,
           long_label="Offered contacts (external queues)"),
    Metric("abandon_rate", "run", "share", "abandoned", interval=False, better="lower",
           long_label="Abandon rate (voice and chat queues)",
           description="abandoned / offered over the external voice and chat queues (backlog items cannot abandon)"),
    Metric("sl_offered", "run", "share", "service level", interval=False, better="higher",
           long_label="Service level (answered in target / offered, voice and chat)",
           description="answered within the answer time / offered over the external voice and chat queues"),
    Metric("sl_due", "run", "share", "closed within due", interval=False, better="higher",
           long_label="Closed within due time / offered (email and back office)",
           description="backlog items closed within their due time / offered, external email and "
                       "back-office queues (items open but not yet due at the end count as not closed)"),
    Metric("sme_utilisation", "run", "share", "SME utilisation", interval=False),
    Metric("cost", "run", "currency", "cost", interval=False, better="lower"),
    Metric("cost_per_contact", "run", "currency", "cost per contact", interval=False, fmt="num", better="lower",
           digits=2, long_label="cost per answered contact"),
)


# ---------------------------------------------------------------- look-ups


def scope_key(scope: str, ident: str | None = None) -> str:
    """The summary's scope text: ``scope_key("queue", "sales")`` → ``"queue:sales"``;
    ``scope_key("run")`` → ``"all"``."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; one of {', '.join(SCOPES)}")
    if scope == "run":
        return "all"
    return f"{scope}:{ident}"


def parse_scope(key: str) -> tuple[str, str | None]:
    """``"queue:sales"`` → ``("queue", "sales")``; ``"all"`` → ``("run", None)``."""
    key = str(key)
    if key == "all":
        return "run", None
    scope, _, ident = key.partition(":")
    return scope, ident


def in_scope(scopes, scope: str):
    """Which of a pandas Series of scope texts are of the ``scope`` kind (a boolean Series)."""
    if scope == "run":
        return scopes.astype(str) == "all"
    return scopes.astype(str).str.startswith(f"{scope}:")


def scope_id(key: str) -> str | None:
    """The id part of a scope text: ``"queue:sales"`` → ``"sales"``; ``"all"`` → None."""
    return parse_scope(key)[1]


def scope_ids(scopes, scope: str) -> list[str]:
    """The ids of the ``scope`` kind among summary scope texts, once each, in order."""
    out: dict[str, None] = {}
    for key in scopes:
        kind, ident = parse_scope(key)
        if kind == scope and ident is not None:
            out[ident] = None
    return list(out)


def metrics(scope: str | None = None) -> tuple[Metric, ...]:
    """Every registered metric, or those of one scope, in registry order."""
    return METRICS if scope is None else tuple(m for m in METRICS if m.scope == scope)


def find(name: str, scope: str | None = None) -> Metric | None:
    """The entry for metric ``name`` (in ``scope``: a scope kind such as ``queue`` or a
    summary scope text such as ``queue:sales``), or None."""
    if scope is not None and scope not in SCOPES:
        scope = parse_scope(scope)[0]
    name = str(name)
    for m in METRICS:
        if (scope is None or m.scope == scope) and m.matches(name):
            return m
    return None


def get(name: str, scope: str) -> Metric:
    """Like :func:`find` but a KeyError naming the scope's metrics when unknown."""
    m = find(name, scope)
    if m is None:
        kind = scope if scope in SCOPES else parse_scope(scope)[0]
        names = ", ".join(x.name for x in metrics(kind))
        raise KeyError(f"no metric {name!r} for scope {kind!r}; registered: {names}")
    return m


def _fill(m: Metric, name: str, text: str) -> str:
    if "{}" not in m.name or "{}" not in text:
        return text
    head, tail = m.name.split("{}")
    return text.replace("{}", name[len(head):len(name) - len(tail)])


def label(name: str, scope: str | None = None, long: bool = False) -> str:
    """A metric's table label (``long``: the report's fuller heading, where it has one);
    the name itself when it is not registered."""
    m = find(name, scope)
    if m is None:
        return str(name)
    return _fill(m, str(name), (m.long_label or m.label) if long else m.label)


def heading(name: str, scope: str | None = None, currency: str | None = None,
            long: bool = False) -> str:
    """A column heading: the label, with ``(s)`` for seconds and the currency for money."""
    m = find(name, scope)
    if m is None:
        return str(name)
    text = label(name, scope, long)
    if m.unit == "seconds":
        return f"{text} (s)"
    if m.unit == "currency" and currency:
        return f"{text} ({currency})"
    return text


def kind(name: str, scope: str | None = None) -> str | None:
    """The cell format (``pct``, ``int``, ``num``) of a registered metric, else None."""
    m = find(name, scope)
    return None if m is None else m.kind


def digits(name: str, scope: str | None = None) -> int:
    """Digits after the point for a registered metric (1 when unknown)."""
    m = find(name, scope)
    return 1 if m is None else m.digits


def is_share(name: str) -> bool | None:
    """True / False for a registered metric name (a share in [0, 1] or not), else None."""
    m = find(name)
    return None if m is None else m.unit == "share"


def shown(summary, scope: str) -> list[str]:
    """Names of the ``show`` metrics of ``scope`` that ``summary`` (a run summary) has for
    some queue / pool: the extra columns of the tables, in registry order."""
    present = set(summary.loc[in_scope(summary["scope"], scope), "metric"].astype(str))
    return [m.name for m in metrics(scope) if m.show and m.total and m.name in present]


def extensions(scope: str) -> tuple[Metric, ...]:
    """The metrics of ``scope`` computed the registry way (``compute`` set)."""
    return tuple(m for m in metrics(scope) if m.compute is not None)
