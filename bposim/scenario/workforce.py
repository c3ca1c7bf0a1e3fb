"""Validate and build sites and the workforce fields of pools: breaks, absenteeism,
new-hire proficiency, attrition and cost. Part of the single validation pass of
:mod:`bposim.scenario.build` (problems are recorded, not raised)."""

from __future__ import annotations

from collections.abc import Mapping

from bposim.scenario import fields as F
from bposim.scenario.fields import MISSING, Context, item, join
from bposim.scenario.schema import (
    LEARNING_CURVES, SITE_KINDS, Attrition, Break, Pool, Proficiency, Queue, Site,
)

SITE_KEYS = ("id", "kind", "timezone", "cost_per_hour", "handle_time_factor", "fcr",
             "escalation_factor", "languages")
POOL_WORKFORCE_KEYS = ("site", "breaks", "max_on_break", "absenteeism", "proficiency",
                       "attrition", "cost_per_hour")
BREAK_KEYS = ("name", "minutes", "window")
PROFICIENCY_KEYS = ("new_hires", "initial_factor", "weeks_to_proficiency", "curve")
ATTRITION_KEYS = ("annual_rate", "recruiting_delay_weeks")


def build_site(ctx: Context, raw: object, path: str, timezone_reader) -> Site | None:
    m = F.mapping(ctx, raw, path, SITE_KEYS, required=("id",))
    if m is None:
        return None
    get = lambda key: m.get(key, MISSING)  # noqa: E731
    languages = MISSING
    if "languages" in m:
        items = F.sequence(ctx, m["languages"], join(path, "languages"))
        languages = None if items is None else tuple(
            F.text(ctx, v, item(join(path, "languages"), i)) for i, v in enumerate(items))
    tz = get("timezone")
    return Site(
        id=F.identifier(ctx, get("id"), join(path, "id")),
        **F.given(
            kind=F.text(ctx, get("kind"), join(path, "kind"), choices=SITE_KINDS),
            timezone=timezone_reader(ctx, tz, join(path, "timezone")) if tz is not MISSING else MISSING,
            cost_per_hour=F.number(ctx, get("cost_per_hour"), join(path, "cost_per_hour"), ge=0),
            handle_time_factor=F.number(ctx, get("handle_time_factor"), join(path, "handle_time_factor"), gt=0),
            fcr=F.number(ctx, get("fcr"), join(path, "fcr"), ge=0, le=1),
            escalation_factor=F.number(ctx, get("escalation_factor"), join(path, "escalation_factor"), ge=0),
            languages=languages,
        ),
    )


def pool_workforce(ctx: Context, m: dict, path: str, site_ids: set[str]) -> dict:
    """Keyword arguments for Pool from the workforce keys present in ``m``."""
    get = lambda key: m.get(key, MISSING)  # noqa: E731
    site = get("site")
    if site is not MISSING:
        site = F.text(ctx, site, join(path, "site"))
        if isinstance(site, str) and site not in site_ids:
            hint = F.suggest(site, site_ids) or f"; sites are: {', '.join(sorted(site_ids)) or 'none'}"
            ctx.add(join(path, "site"), f"unknown site {site!r}{hint}")
            site = None
    breaks = MISSING
    if "breaks" in m:
        items = F.sequence(ctx, m["breaks"], join(path, "breaks"))
        breaks = None if items is None else tuple(
            _break(ctx, raw, item(join(path, "breaks"), i)) for i, raw in enumerate(items))
    return F.given(
        site=site,
        breaks=breaks,
        max_on_break=F.number(ctx, get("max_on_break"), join(path, "max_on_break"), gt=0, le=1),
        absenteeism=F.number(ctx, get("absenteeism"), join(path, "absenteeism"), ge=0, lt=1),
        proficiency=_proficiency(ctx, get("proficiency"), join(path, "proficiency")),
        attrition=_attrition(ctx, get("attrition"), join(path, "attrition")),
        cost_per_hour=F.number(ctx, get("cost_per_hour"), join(path, "cost_per_hour"), ge=0),
    )


def _break(ctx: Context, raw: object, path: str) -> Break | None:
    """``{minutes: 15, window: [2, 3]}``: the break starts 2 to 3 hours into the shift."""
    m = F.mapping(ctx, raw, path, BREAK_KEYS, required=("minutes", "window"))
    if m is None:
        return None
    minutes = F.number(ctx, m.get("minutes", MISSING), join(path, "minutes"), gt=0)
    window = F.numbers(ctx, m.get("window", MISSING), join(path, "window"), ge=0) if "window" in m else None
    if window is not None and (len(window) != 2 or window[0] > window[1]):
        ctx.add(join(path, "window"), "must be [earliest, latest] hours after the shift starts, "
                "with earliest <= latest")
        window = None
    if minutes in (None, MISSING) or window is None:
        return None
    return Break(minutes=minutes, earliest=float(window[0]), latest=float(window[1]),
                 **F.given(name=F.text(ctx, m.get("name", MISSING), join(path, "name"))))


def _proficiency(ctx: Context, raw: object, path: str):
    if raw is MISSING:
        return MISSING
    m = F.mapping(ctx, raw, path, PROFICIENCY_KEYS)
    if m is None:
        return None
    get = lambda key: m.get(key, MISSING)  # noqa: E731
    return Proficiency(**F.given(
        new_hires=F.number(ctx, get("new_hires"), join(path, "new_hires"), integer=True, ge=0),
        initial_factor=F.number(ctx, get("initial_factor"), join(path, "initial_factor"), ge=1),
        weeks_to_proficiency=F.number(ctx, get("weeks_to_proficiency"), join(path, "weeks_to_proficiency"), gt=0),
        curve=F.text(ctx, get("curve"), join(path, "curve"), choices=LEARNING_CURVES),
    ))


def _attrition(ctx: Context, raw: object, path: str):
    if raw is MISSING:
        return MISSING
    m = F.mapping(ctx, raw, path, ATTRITION_KEYS, required=("annual_rate",))
    if m is None:
        return None
    rate = F.number(ctx, m.get("annual_rate", MISSING), join(path, "annual_rate"), ge=0, le=5)
    delay = F.number(ctx, m.get("recruiting_delay_weeks", MISSING), join(path, "recruiting_delay_weeks"), ge=0)
    if rate in (None, MISSING):
        return None
    return Attrition(annual_rate=rate, **F.given(recruiting_delay_weeks=delay))


def check_workforce(ctx: Context, pools: list[Pool | None], queues: list[Queue | None],
                    sites: list[Site | None]) -> None:
    """Cross-checks: breaks fit the shifts, language requirements are met by the sites."""
    by_site = {s.id: s for s in sites if s is not None}
    by_queue = {q.id: q for q in queues if q is not None}
    for i, pool in enumerate(pools):
        if pool is None or pool.staffing is None:
            continue
        path = item("pools", i)
        if pool.breaks and None not in pool.breaks:
            if not pool.staffing.shifts:
                ctx.add(join(path, "breaks"), "breaks apply to shift-based staffing; give staffing.shifts")
            for shift in pool.staffing.shifts or ():
                if shift is None:
                    continue
                for k, b in enumerate(pool.breaks):
                    if b.earliest * 60 + b.minutes > shift.hours * 60:
                        ctx.add(item(join(path, "breaks"), k),
                                f"break of {b.minutes:g} min from {b.earliest:g} h does not fit in a "
                                f"{shift.hours:g}-hour shift")
        if pool.absenteeism and not pool.staffing.shifts:
            ctx.add(join(path, "absenteeism"), "absenteeism applies per shift; give staffing.shifts")
        site = by_site.get(pool.site) if pool.site else None
        for k, skill in enumerate(pool.skills or ()):
            q = by_queue.get(skill.queue)
            if q is None or q.language is None:
                continue
            if site is None or q.language not in site.languages:
                where = f"site {site.id!r}" if site else "no site"
                ctx.add(join(path, "skills"),
                        f"queue {q.id!r} requires language {q.language!r}, which {where} does not list "
                        "in its languages")


def build_sites(ctx: Context, top: Mapping, timezone_reader) -> list[Site | None]:
    if "sites" not in top:
        return []
    items = F.sequence(ctx, top["sites"], "sites", nonempty=True) or []
    return [build_site(ctx, raw, item("sites", i), timezone_reader) for i, raw in enumerate(items)]
