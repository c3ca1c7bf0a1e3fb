"""Which features of a compiled :class:`~bposim.engine.model.Model` the fast engine
reproduces exactly, and which it does not.

Whitelist style: a feature the SimPy engine gained after the fast engine was written
must not run silently on a kernel that ignores it. So besides the features named
below, any field of the model, a queue or a pool that this module does not know and
that holds something other than its default is listed too. Whoever adds a behaviour
to the SimPy engine adds a line here naming it (or teaches the kernel and adds the
field to the known ones). No numba here: the CLI asks this before choosing an engine.
"""

from __future__ import annotations

import dataclasses
import math

# Fields whose every value the kernel reproduces (or that only describe the run).
KNOWN_MODEL = {
    "horizon", "interval", "n_intervals", "end", "warmup_intervals", "start_weekday",
    "queues", "pools", "keep_contacts", "keep_agent_states", "currency", "campaigns",
    "window",
}
KNOWN_QUEUE = {
    "index", "id", "channel", "volumes", "busyness_cv", "handle", "wrap", "patience",
    "answer_within", "sl_target", "sl_definition", "short_abandon", "escalations",
    "servers", "repeat_after", "report_thresholds", "handle_scale", "patience_scale",
    "immediate", "overflow", "fcr_matters",  # routing tables the compiler derives from servers
    "channel_code", "deferrable", "due", "head_start", "callback", "retrial",
}
KNOWN_POOL = {
    "index", "id", "tier", "levels", "spans", "headcount", "on_break", "shrinkage",
    "shrinkage_period", "site", "handle_factor", "fcr", "escalation_factor",
    "cost_per_hour", "max_on_break", "absenteeism", "new_hires", "proficiency",
    "attrition", "concurrency", "stretch", "backlog_blocks", "qa", "coaching",
}


def unsupported(model) -> list[str]:
    """Names of the features ``model`` uses that the fast engine does not reproduce
    (empty: the fast engine gives exactly the SimPy engine's recording)."""
    out: list[str] = []

    def add(name: str) -> None:
        if name not in out:
            out.append(name)

    if model.campaigns:
        add("outbound campaigns")
    for q in model.queues:
        if getattr(q, "deferrable", False):
            add("deferrable queues (email, back office)")
        if getattr(q, "callback", None) is not None:
            add("callbacks")
        if getattr(q, "channel_code", 0) == 1:  # CHAT: sessions share agents (engine/chat.py)
            add("chat queues")
    for p in model.pools:
        if getattr(p, "concurrency", 1) != 1:
            add("chat concurrency > 1")
        if getattr(p, "backlog_blocks", ()):
            add("backlog blocks")
        if getattr(p, "qa", None) is not None:
            add("QA review")
        if getattr(p, "coaching", None) is not None:
            add("coaching")
    consult_times: dict[str, object] = {}
    for q in model.queues:
        for r in q.escalations:
            if r.consult and r.consult_time is not None:
                if consult_times.setdefault(r.name, r.consult_time) != r.consult_time:
                    add("two consult routes between the same queues with different consult times")
    for obj, known, what in _objects(model):
        for f in dataclasses.fields(obj):
            if f.name not in known and not _is_default(f, getattr(obj, f.name)):
                add(f"{f.name} ({what})")
    return out


def _objects(model):
    yield model, KNOWN_MODEL, "simulation"
    for q in model.queues:
        yield q, KNOWN_QUEUE, f"queue {q.id}"
    for p in model.pools:
        yield p, KNOWN_POOL, f"pool {p.id}"


def _is_default(f: dataclasses.Field, value) -> bool:
    if f.default is not dataclasses.MISSING:
        default = f.default
    elif f.default_factory is not dataclasses.MISSING:
        default = f.default_factory()
    else:
        return False
    if isinstance(default, float) and isinstance(value, float) and math.isnan(default):
        return math.isnan(value)
    try:
        return bool(value == default)
    except (TypeError, ValueError):  # arrays and the like: not a plain default
        return False
