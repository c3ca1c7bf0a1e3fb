"""Validate and build the channel settings of pools: chat sessions per agent, blocks
reserved for backlog work, QA reviews and coaching done for other pools.

Part of the single validation pass of :mod:`bposim.scenario.build` (problems are
recorded, not raised). The queues' channel settings are read in
:mod:`bposim.scenario.queues`; the cross-checks that need every pool and queue are in
:func:`check_channels`.
"""

from __future__ import annotations

from collections.abc import Mapping

from bposim.scenario import fields as F
from bposim.scenario.fields import MISSING, Context, item, join
from bposim.scenario.queues import distribution
from bposim.scenario.schema import (
    BacklogBlock, ChatCapacity, Coaching, Pool, QaReview, Queue,
)

POOL_CHANNEL_KEYS = ("chat", "backlog_blocks", "qa_review", "coaching")
CHAT_KEYS = ("concurrency", "stretch")
BLOCK_KEYS = ("start", "end", "days")
QA_KEYS = ("share", "of", "time", "due_within_hours")
COACHING_KEYS = ("hours_per_new_hire", "of", "session_minutes")
MAX_CONCURRENCY = 20  # chat sessions one agent holds at once
MAX_STRETCH = 3.0  # handle-time factor per extra session (observed values are near 1.1-1.3)
MAX_BLOCKS = 48
MAX_COACHING_HOURS = 1000.0  # per new hire
MIN_SESSION_MINUTES, MAX_SESSION_MINUTES = 5.0, 480.0


def pool_channels(ctx: Context, m: dict, path: str, pool_ids: set[str], readers) -> dict:
    """Keyword arguments for Pool from the channel keys present in ``m``.

    ``readers``: the (time, weekdays) readers of :mod:`bposim.scenario.build`."""
    get = lambda key: m.get(key, MISSING)  # noqa: E731
    own = m.get("id") if isinstance(m.get("id"), str) else None
    return F.given(
        chat=_chat(ctx, get("chat"), join(path, "chat")),
        backlog_blocks=_blocks(ctx, get("backlog_blocks"), join(path, "backlog_blocks"), readers),
        qa_review=_qa(ctx, get("qa_review"), join(path, "qa_review"), pool_ids, own),
        coaching=_coaching(ctx, get("coaching"), join(path, "coaching"), pool_ids, own),
    )


def _chat(ctx: Context, value: object, path: str):
    """``{concurrency: 3, stretch: 1.15}``."""
    if value is MISSING:
        return MISSING
    m = F.mapping(ctx, value, path, CHAT_KEYS)
    if m is None:
        return None
    kw = F.given(
        concurrency=F.number(ctx, m.get("concurrency", MISSING), join(path, "concurrency"),
                             integer=True, ge=1, le=MAX_CONCURRENCY),
        stretch=F.number(ctx, m.get("stretch", MISSING), join(path, "stretch"), ge=1, le=MAX_STRETCH),
    )
    return None if None in kw.values() else ChatCapacity(**kw)


def _blocks(ctx: Context, value: object, path: str, readers):
    """``[{start: "14:00", end: "15:00", days: [mon, ...]}]`` in the pool's site time."""
    if value is MISSING:
        return MISSING
    items = F.sequence(ctx, value, path, nonempty=True)
    if items is None:
        return None
    if len(items) > MAX_BLOCKS:
        ctx.add(path, f"has {len(items)} blocks; at most {MAX_BLOCKS}")
        return None
    time, weekdays = readers
    out = []
    for i, raw in enumerate(items):
        p = item(path, i)
        m = F.mapping(ctx, raw, p, BLOCK_KEYS, required=("start", "end"))
        if m is None:
            out.append(None)
            continue
        start = time(ctx, m["start"], join(p, "start")) if "start" in m else None
        end = time(ctx, m["end"], join(p, "end")) if "end" in m else None
        days = weekdays(ctx, m["days"], join(p, "days")) if "days" in m else MISSING
        if start is not None and start == end:
            ctx.add(p, f"starts and ends at {start:%H:%M}: a block must last less than a day "
                    "(an end before the start runs past midnight)")
            end = None
        if start is None or end is None or days is None:
            out.append(None)
            continue
        out.append(BacklogBlock(start=start, end=end, **F.given(days=days)))
    return None if None in out else tuple(out)


def _pools_of(ctx: Context, m: dict, path: str, pool_ids: set[str], own: str | None):
    """The ``of`` list: other pools' ids (absent: ``()``, every other pool)."""
    if "of" not in m:
        return MISSING
    items = F.sequence(ctx, m["of"], path, nonempty=True)
    if items is None:
        return None
    out = []
    for i, raw in enumerate(items):
        p = item(path, i)
        pid = F.text(ctx, raw, p)
        if not isinstance(pid, str):
            out.append(None)
        elif pid == own:
            ctx.add(p, f"names the pool itself ({pid!r}); list the pools whose work this pool does")
            out.append(None)
        elif pid not in pool_ids:
            hint = F.suggest(pid, pool_ids) or f"; pools are: {', '.join(sorted(pool_ids)) or 'none'}"
            ctx.add(p, f"unknown pool {pid!r}{hint}")
            out.append(None)
        elif pid in out:
            ctx.add(p, f"names pool {pid!r} twice")
            out.append(None)
        else:
            out.append(pid)
    return None if None in out else tuple(out)


def _qa(ctx: Context, value: object, path: str, pool_ids: set[str], own: str | None):
    """``{share: 0.05, of: [tier1], time: <distribution>, due_within_hours: 48}``."""
    if value is MISSING:
        return MISSING
    m = F.mapping(ctx, value, path, QA_KEYS, required=("share", "time"))
    if m is None:
        return None
    share = F.number(ctx, m.get("share", MISSING), join(path, "share"), ge=0, le=1)
    time = distribution(ctx, m.get("time", MISSING), join(path, "time"), positive=True)
    if m.get("time", MISSING) is None:
        ctx.add(join(path, "time"), "is required: the time one review takes")
    kw = F.given(
        of=_pools_of(ctx, m, join(path, "of"), pool_ids, own),
        due_within_hours=F.number(ctx, m.get("due_within_hours", MISSING),
                                  join(path, "due_within_hours"), gt=0),
    )
    if share in (None, MISSING) or time in (None, MISSING) or None in kw.values():
        return None
    return QaReview(share=share, time=time, **kw)


def _coaching(ctx: Context, value: object, path: str, pool_ids: set[str], own: str | None):
    """``{hours_per_new_hire: 8, of: [tier1], session_minutes: 60}``."""
    if value is MISSING:
        return MISSING
    m = F.mapping(ctx, value, path, COACHING_KEYS, required=("hours_per_new_hire",))
    if m is None:
        return None
    hours = F.number(ctx, m.get("hours_per_new_hire", MISSING), join(path, "hours_per_new_hire"),
                     gt=0, le=MAX_COACHING_HOURS)
    kw = F.given(
        of=_pools_of(ctx, m, join(path, "of"), pool_ids, own),
        session_minutes=F.number(ctx, m.get("session_minutes", MISSING), join(path, "session_minutes"),
                                 ge=MIN_SESSION_MINUTES, le=MAX_SESSION_MINUTES),
    )
    if hours in (None, MISSING) or None in kw.values():
        return None
    return Coaching(hours_per_new_hire=hours, **kw)


def has_new_hires(pool: Pool) -> bool:
    """Does ``pool`` get new hires (a proficiency cohort, or replacements after attrition)?"""
    hires = getattr(pool.proficiency, "new_hires", 0)
    rate = getattr(pool.attrition, "annual_rate", 0)
    if not isinstance(hires, (int, float)) or not isinstance(rate, (int, float)):
        return True  # an invalid count or rate is reported already: no second problem
    return hires > 0 or rate > 0


def check_channels(ctx: Context, pools: list[Pool | None], queues: list[Queue | None]) -> None:
    """Cross-checks: no consult to a backlog, chat settings on pools that take chat,
    backlog blocks on pools with backlog work, coaching of pools that get new hires."""
    by_queue = {q.id: q for q in queues if q is not None}
    by_pool = {p.id: p for p in pools if p is not None and isinstance(p.id, str)}
    for i, q in enumerate(queues):
        for k, e in enumerate(q.escalations or () if q is not None else ()):
            target = by_queue.get(e.to) if e is not None else None
            if target is not None and e.mode == "consult" and target.deferrable:
                ctx.add(join(item(join(item("queues", i), "escalations"), k), "mode"),
                        f"a consult cannot go to {target.channel} queue {target.id!r}: the first agent "
                        "would hold the customer until the backlog item is taken; use mode: transfer")
    for i, pool in enumerate(pools):
        if pool is None or pool.skills is None:
            continue
        path = item("pools", i)
        served = [by_queue[s.queue] for s in pool.skills if s is not None and s.queue in by_queue]
        for s in pool.skills:
            q = by_queue.get(s.queue) if s is not None else None
            if q is not None and q.deferrable and s.overflow_after:
                ctx.add(join(join(path, "skills"), f"{q.id}.overflow_after"),
                        f"does not apply to {q.channel} queue {q.id!r}: a backlog item goes to any "
                        "pool with the skill as soon as it arrives, and waits by its due time")
        if isinstance(pool.chat, ChatCapacity) and pool.chat != ChatCapacity() \
                and not any(q.channel == "chat" for q in served):
            ctx.add(join(path, "chat"), "applies to pools that serve a chat queue; this pool's "
                    "skills name none")
        deferrable = any(q.deferrable for q in served) or pool.qa_review or pool.coaching
        if pool.backlog_blocks and not deferrable:
            ctx.add(join(path, "backlog_blocks"), "reserve time for backlog work, but this pool has "
                    "none: no email or back_office queue in its skills, no qa_review, no coaching")
        others = [p for pid, p in by_pool.items() if pid != pool.id]
        if isinstance(pool.qa_review, QaReview) and not pool.qa_review.of and not others:
            ctx.add(join(path, "qa_review"), "has no other pool to review")
        coaching = pool.coaching
        if not isinstance(coaching, Coaching):
            continue
        if coaching.of:
            for k, pid in enumerate(coaching.of):
                target = by_pool.get(pid)
                if target is not None and not has_new_hires(target):
                    ctx.add(item(join(path, "coaching.of"), k),
                            f"pool {pid!r} has no new hires to coach: give it proficiency.new_hires "
                            "or attrition")
        elif not any(has_new_hires(p) for p in others):
            ctx.add(join(path, "coaching"), "no other pool has new hires to coach: give a pool "
                    "proficiency.new_hires or attrition")


def check_planned_channels(ctx: Context, planning: object, queues: list[Queue | None]) -> None:
    """A planning target of an email or back-office queue gives no answer time: the
    queue's service level is the share closed within its due time."""
    targets = planning.get("targets") if isinstance(planning, Mapping) else None
    if not isinstance(targets, Mapping):
        return
    deferrable = {q.id: q.channel for q in queues if q is not None and q.deferrable}
    for qid, raw in targets.items():
        sl = raw.get("service_level") if isinstance(raw, Mapping) else None
        if qid in deferrable and isinstance(sl, Mapping) and "answer_within" in sl:
            ctx.add(f"planning.targets.{qid}.service_level.answer_within",
                    f"does not apply to {deferrable[qid]} queue {qid!r}: its service level is the share "
                    "of items closed within due_within_hours")
