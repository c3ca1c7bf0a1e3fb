"""A replication's actual workforce: attrition, replacement hires and learning curves.

The roster (:mod:`bposim.engine.roster`) says who is scheduled; here each replication
draws who leaves (exponential times at the pool's annual attrition rate), when the
replacement starts (after the recruiting delay, taking over what is left of the
leaver's schedule from that moment), and how fast new hires handle contacts as they learn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bposim.engine.roster import Span

WEEK = 7 * 86400.0
YEAR = 365.0 * 86400.0


@dataclass(frozen=True)
class Staffer:
    """One person's working life in a replication: spans and hire time (None = tenured)."""

    spans: tuple[Span, ...]
    hired: float | None
    replaces: int | None = None  # index of the staffer they replace
    left: float | None = None  # when they left, if within the horizon


def aht_factor(prof, hired: float | None, now: float) -> float:
    """Handle-time multiplier of an agent hired at ``hired`` (None: tenured) at ``now``;
    ``prof`` is the pool's :class:`~bposim.engine.model.ProficiencyModel` (or None)."""
    if prof is None or hired is None:
        return 1.0
    weeks = max(0.0, now - hired) / WEEK
    gap = prof.initial_factor - 1.0
    if prof.linear:
        left = max(0.0, 1.0 - weeks / prof.weeks_to_proficiency)
    else:  # exponential: 95 % of the gap closed after weeks_to_proficiency
        left = math.exp(-3.0 * weeks / prof.weeks_to_proficiency)
    return 1.0 + gap * left


def staffers(pool, end: float, rng: np.random.Generator | None) -> list[Staffer]:
    """The pool's agents with new hires marked and, when the pool has attrition, leavers
    cut short and replacements added (``rng`` is the pool's attrition stream)."""
    n = len(pool.spans)
    people = [Staffer(tuple(spans), 0.0 if i >= n - pool.new_hires else None)
              for i, spans in enumerate(pool.spans)]
    if pool.attrition is None or pool.attrition.annual_rate <= 0 or rng is None:
        return people
    mean_stay = YEAR / pool.attrition.annual_rate
    delay = pool.attrition.recruiting_delay_weeks * WEEK
    out: list[Staffer] = []
    for person in people:
        spans, hired, start = person.spans, person.hired, 0.0
        while True:
            leave = start + rng.exponential(mean_stay)
            if leave >= end:
                out.append(Staffer(spans, hired, person.replaces))
                break
            kept = tuple(s._replace(end=min(s.end, leave),
                                    breaks=tuple(b for b in s.breaks if b[0] + b[1] <= leave))
                         for s in spans if s.start < leave)
            out.append(Staffer(kept, hired, person.replaces, leave))
            start = leave + delay
            rest = tuple(
                s._replace(start=max(s.start, start), breaks=tuple(b for b in s.breaks if b[0] >= start))
                for s in spans if s.end > start
            )
            if not rest or start >= end:
                break
            spans, hired = rest, start
            person = Staffer(rest, start, len(out) - 1)
    return out
