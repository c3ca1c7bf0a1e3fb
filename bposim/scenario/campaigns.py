"""Validate and build outbound campaigns: dialer, contact list (generated or CSV), calling
windows, outcomes, AMD, retries, pacing and blending reserve. Part of the single validation
pass of :mod:`bposim.scenario.build`; contact-list CSV problems carry the file's row."""

from __future__ import annotations

import zoneinfo
from collections import Counter
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path

from bposim.distributions import DistributionSpec
from bposim.scenario import fields as F
from bposim.scenario.csvfile import data_rows_problem, read_rows
from bposim.scenario.fields import MISSING, Context, item, join
from bposim.scenario.queues import distribution
from bposim.scenario.schema import (
    DIALER_MODES, AnsweringMachineDetection, CallingWindow, Campaign, ContactList, DialOutcomes,
    Horizon, Pacing, RetryRules,
)

CAMPAIGN_KEYS = (
    "id", "pools", "mode", "dials_per_agent", "preview_time", "contact_list", "windows",
    "ring_seconds", "answer_delay", "busy_seconds", "outcomes", "amd", "connect_limit",
    "talk_right_party", "talk_wrong_party", "talk_machine", "wrap", "retry",
    "abandon_target", "pacing", "reserve",
)
REQUIRED = ("id", "pools", "contact_list", "windows", "outcomes", "talk_right_party")
LIST_KEYS = ("size", "timezones", "csv")
WINDOW_KEYS = ("start", "end", "days")
OUTCOME_KEYS = ("no_answer", "busy", "machine", "live", "right_party")
AMD_KEYS = ("enabled", "accuracy", "decision_seconds")
RETRY_DELAYS = ("after_no_answer", "after_busy", "after_machine", "after_wrong_party", "after_abandoned")
RETRY_KEYS = ("max_attempts", *RETRY_DELAYS)
PACING_KEYS = ("initial", "minimum", "maximum", "step", "window", "prior_live_rate")
DEFAULT_PREVIEW = DistributionSpec("exponential", mean=20.0)
MAX_CSV_PROBLEMS = 20  # per contact-list file; the rest are counted in one last problem
TOLERANCE = 1e-6
MAX_ATTEMPTS = 100  # dials per record; more is neither lawful nor simulable in bulk
MAX_DIALS_PER_AGENT = 10  # progressive lines per free agent (each is one pass over the list)


def campaign_pool_ids(top: Mapping) -> set[str]:
    """Pool ids named by any campaign (unchecked): such pools may omit ``skills``."""
    raws = top.get("campaigns")
    if not isinstance(raws, list):
        return set()
    return {p for raw in raws if isinstance(raw, Mapping) and isinstance(raw.get("pools"), list)
            for p in raw["pools"] if isinstance(p, str)}


def build_campaigns(ctx: Context, top: Mapping, horizon: Horizon | None, pool_ids: set[str],
                    queue_ids: set[str], base_dir: Path | None, *, timezone: Callable,
                    time: Callable, weekdays: Callable) -> list[Campaign | None]:
    """The campaigns of ``top`` (``[]`` when absent); ``timezone``, ``time`` and
    ``weekdays`` are build.py's readers for those values."""
    if "campaigns" not in top:
        return []
    raws = F.sequence(ctx, top["campaigns"], "campaigns", nonempty=True) or []
    readers = dict(timezone=timezone, time=time, weekdays=weekdays)
    taken: dict[str, str] = {}  # pool id -> path of the campaign it works
    return [_campaign(ctx, raw, item("campaigns", i), horizon, pool_ids, queue_ids, base_dir, readers,
                      taken) for i, raw in enumerate(raws)]


def _campaign(ctx, raw, path, horizon, pool_ids, queue_ids, base_dir, readers, taken) -> Campaign | None:
    m = F.mapping(ctx, raw, path, CAMPAIGN_KEYS, required=REQUIRED)
    if m is None:
        return None
    get = lambda key: m.get(key, MISSING)  # noqa: E731
    at = lambda key: join(path, key)  # noqa: E731
    talk = distribution(ctx, get("talk_right_party"), at("talk_right_party"), positive=True)
    if talk is None and m.get("talk_right_party", MISSING) is None:
        ctx.add(at("talk_right_party"), "is required: the talk time of a right-party contact")
    mode = F.text(ctx, get("mode"), at("mode"), choices=DIALER_MODES)
    preview = distribution(ctx, get("preview_time"), at("preview_time"))
    if mode == "preview" and get("preview_time") in (MISSING, None):  # absent or null: the default
        preview = DEFAULT_PREVIEW
    dists = {key: distribution(ctx, get(key), at(key))
             for key in ("answer_delay", "talk_wrong_party", "talk_machine", "wrap")}
    if dists["answer_delay"] is None and "answer_delay" in m and m["answer_delay"] is None:
        ctx.add(at("answer_delay"), "must be a distribution (the time until a customer answers)")
    return Campaign(
        id=F.identifier(ctx, get("id"), at("id")),
        pools=_pools(ctx, get("pools"), path, pool_ids, taken),
        contact_list=_contact_list(ctx, get("contact_list"), at("contact_list"), horizon, base_dir,
                                   readers["timezone"]),
        windows=_windows(ctx, get("windows"), at("windows"), readers),
        outcomes=_outcomes(ctx, get("outcomes"), at("outcomes")),
        talk_right_party=None if talk is MISSING else talk,
        **F.given(
            mode=mode,
            dials_per_agent=_dials_per_agent(ctx, get("dials_per_agent"), at("dials_per_agent")),
            preview_time=preview,
            ring_seconds=F.number(ctx, get("ring_seconds"), at("ring_seconds"), gt=0),
            busy_seconds=F.number(ctx, get("busy_seconds"), at("busy_seconds"), ge=0),
            connect_limit=F.number(ctx, get("connect_limit"), at("connect_limit"), ge=0),
            amd=_amd(ctx, get("amd"), at("amd")),
            retry=_retry(ctx, get("retry"), at("retry")),
            abandon_target=F.number(ctx, get("abandon_target"), at("abandon_target"), gt=0, lt=1),
            pacing=_pacing(ctx, get("pacing"), at("pacing")),
            reserve=_reserve(ctx, get("reserve"), at("reserve"), queue_ids),
            **dists,
        ),
    )


def _dials_per_agent(ctx: Context, value: object, path: str):
    """Progressive dials per free agent: > 0 and at most :data:`MAX_DIALS_PER_AGENT`."""
    ratio = F.number(ctx, value, path, gt=0)
    if isinstance(ratio, float) and ratio > MAX_DIALS_PER_AGENT:
        ctx.add(path, f"must be at most {MAX_DIALS_PER_AGENT} (power dialling places 1 to 3 lines "
                f"per agent), got {ratio:g}")
        return None
    return ratio


def _pools(ctx: Context, value: object, campaign: str, pool_ids: set[str], taken: dict):
    """Existing pool ids, each once, none already working an earlier campaign."""
    path = join(campaign, "pools")
    items = None if value is MISSING else F.sequence(ctx, value, path, nonempty=True)
    if items is None:
        return None
    out = []
    for i, raw in enumerate(items):
        pid = F.text(ctx, raw, item(path, i))
        if isinstance(pid, str) and pid not in pool_ids:
            hint = F.suggest(pid, pool_ids) or f"; pools are: {', '.join(sorted(pool_ids)) or 'none'}"
            ctx.add(item(path, i), f"unknown pool {pid!r}{hint}")
            pid = None
        elif pid in out:
            ctx.add(item(path, i), f"names pool {pid!r} twice")
        elif pid is not None and taken.setdefault(pid, campaign) != campaign:
            ctx.add(item(path, i), f"pool {pid!r} already works campaign {taken[pid]}; "
                    "a pool may work at most one campaign")
        out.append(pid)
    return None if None in out else tuple(out)


# --- contact list ----------------------------------------------------------------------


def _contact_list(ctx, value, path, horizon, base_dir, timezone) -> ContactList | None:
    if value is MISSING:
        return None
    m = F.mapping(ctx, value, path, LIST_KEYS)
    if m is None:
        return None
    forms = [k for k in ("size", "csv") if k in m]
    if len(forms) != 1:
        found = f"; found {' and '.join(forms)}" if forms else ""
        ctx.add(path, f"give exactly one of size (a generated list) or csv (a file){found}")
        return None
    if "csv" in m:
        if "timezones" in m:
            ctx.add(join(path, "timezones"), "is used only with size; a CSV list gives each record's zone")
        name = F.text(ctx, m["csv"], join(path, "csv"))
        records = isinstance(name, str) and read_contact_list(ctx, name, join(path, "csv"), base_dir)
        if not records:
            return None
        counts = Counter(zone for _, zone in records)
        shares = tuple((z, c / len(records)) for z, c in counts.items())
        return ContactList(size=len(records), timezones=shares, records=records)
    size = F.number(ctx, m["size"], join(path, "size"), integer=True, ge=1)
    if "timezones" in m:
        shares = _shares(ctx, m["timezones"], join(path, "timezones"), timezone)
    else:
        shares = ((horizon.timezone, 1.0),) if horizon is not None else ()
    return None if size is None or shares is None else ContactList(size=size, timezones=shares)


def _shares(ctx: Context, value: object, path: str, timezone: Callable):
    """``{zone: share, ...}``: shares > 0 adding up to 1."""
    if not isinstance(value, Mapping):
        ctx.add(path, f"must be a mapping of time zone to share, got {F.describe(value)}")
        return None
    if not value:
        ctx.add(path, "must name at least one time zone, e.g. {America/New_York: 1}")
        return None
    out = [(timezone(ctx, str(z), join(path, z)), F.number(ctx, s, join(path, z), gt=0, le=1))
           for z, s in value.items()]
    if any(z is None or s is None for z, s in out):
        return None
    total = sum(s for _, s in out)
    if abs(total - 1) > TOLERANCE:
        ctx.add(path, f"time zone shares add up to {total:g}; they must total 1")
        return None
    return tuple(out)


@lru_cache(maxsize=1024)
def _zone_problem(name: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(name)
        return None
    except Exception:  # ZoneInfoNotFoundError, ValueError for malformed keys, OSError
        hint = F.suggest(name, _ZONES()) or "; use an IANA name such as America/New_York"
        return f"unknown time zone {name!r}{hint}"


_ZONES = lru_cache(maxsize=1)(zoneinfo.available_timezones)


def read_contact_list(ctx: Context, name: str, path: str, base_dir: Path | None):
    """Records ``(record_id, timezone)`` from the CSV ``name`` (relative to ``base_dir``);
    problems name the file and the row (the header is row 1)."""
    records: list[tuple[str, str]] = []
    first: dict[str, int] = {}

    def row(line: int, cells: dict, add) -> None:
        rid, zone = cells["record_id"], cells["timezone"]
        if not rid or not zone:
            add(line, "record_id is empty" if not rid else f"timezone is empty (record {rid!r})")
        elif _zone_problem(zone):
            add(line, f"{_zone_problem(zone)} (record {rid!r})")
        elif rid in first:
            add(line, f"record_id {rid!r} appears twice (first on row {first[rid]})")
        else:
            first[rid] = line
            records.append((rid, zone))

    if not read_rows(ctx, name, path, base_dir, "contact list CSV", ("record_id", "timezone"), row,
                     max_problems=MAX_CSV_PROBLEMS):
        return None
    if not records:
        data_rows_problem(ctx, path, name, base_dir)
        return None
    return tuple(records)


# --- windows, outcomes, AMD, retries, pacing, reserve ----------------------------------


def _windows(ctx: Context, value: object, path: str, readers: dict):
    if value is MISSING:
        return None
    items = F.sequence(ctx, value, path, nonempty=True)
    if items is None:
        return None
    out = [_window(ctx, raw, item(path, i), readers) for i, raw in enumerate(items)]
    return None if None in out else tuple(out)


def _window(ctx: Context, raw: object, path: str, readers: dict) -> CallingWindow | None:
    m = F.mapping(ctx, raw, path, WINDOW_KEYS, required=("start", "end"))
    if m is None:
        return None
    start = readers["time"](ctx, m.get("start", MISSING), join(path, "start"))
    end = readers["time"](ctx, m.get("end", MISSING), join(path, "end"))
    days = readers["weekdays"](ctx, m["days"], join(path, "days")) if "days" in m else MISSING
    if start is None or end is None or days is None:
        return None
    if start >= end:
        ctx.add(path, f"calling window is empty: start {start:%H:%M} is not before end {end:%H:%M}")
        return None
    return CallingWindow(start=start, end=end, **F.given(days=days))


def _outcomes(ctx: Context, value: object, path: str) -> DialOutcomes | None:
    if value is MISSING:
        return None
    m = F.mapping(ctx, value, path, OUTCOME_KEYS, required=OUTCOME_KEYS[:4])
    if m is None:
        return None
    p = {k: F.number(ctx, m.get(k, MISSING), join(path, k), ge=0, le=1) for k in OUTCOME_KEYS}
    if any(p[k] in (None, MISSING) for k in OUTCOME_KEYS[:4]) or p["right_party"] is None:
        return None
    total = sum(p[k] for k in OUTCOME_KEYS[:4])
    if abs(total - 1) > TOLERANCE:
        ctx.add(path, f"no_answer, busy, machine and live add up to {total:g}; they must total 1")
        return None
    return DialOutcomes(**F.given(**p))


def _amd(ctx: Context, value: object, path: str):
    if value is MISSING:
        return MISSING
    m = F.mapping(ctx, value, path, AMD_KEYS)
    if m is None:
        return None
    return AnsweringMachineDetection(**F.given(
        enabled=F.boolean(ctx, m.get("enabled", MISSING), join(path, "enabled")),
        accuracy=F.number(ctx, m.get("accuracy", MISSING), join(path, "accuracy"), ge=0.5, le=1),
        decision_seconds=F.number(ctx, m.get("decision_seconds", MISSING), join(path, "decision_seconds"),
                                  ge=0),
    ))


def _retry(ctx: Context, value: object, path: str):
    if value is MISSING:
        return MISSING
    m = F.mapping(ctx, value, path, RETRY_KEYS)
    if m is None:
        return None
    delays = {k: None if m.get(k, MISSING) is None  # null: no retry after that outcome
              else F.number(ctx, m.get(k, MISSING), join(path, k), ge=0) for k in RETRY_DELAYS}
    attempts = F.number(ctx, m.get("max_attempts", MISSING), join(path, "max_attempts"), integer=True, ge=1)
    if isinstance(attempts, int) and attempts > MAX_ATTEMPTS:
        ctx.add(join(path, "max_attempts"), f"must be at most {MAX_ATTEMPTS}, got {attempts}")
        attempts = None
    return RetryRules(**F.given(max_attempts=attempts, **delays))


def _pacing(ctx: Context, value: object, path: str):
    if value is MISSING:
        return MISSING
    m = F.mapping(ctx, value, path, PACING_KEYS)
    if m is None:
        return None
    get = lambda key: m.get(key, MISSING)  # noqa: E731
    factors = {k: F.number(ctx, get(k), join(path, k), gt=0) for k in ("initial", "minimum", "maximum")}
    kw = F.given(**factors,
                 step=F.number(ctx, get("step"), join(path, "step"), gt=0),
                 window=F.number(ctx, get("window"), join(path, "window"), integer=True, ge=1),
                 prior_live_rate=F.number(ctx, get("prior_live_rate"), join(path, "prior_live_rate"),
                                          gt=0, le=1))
    if None in kw.values():
        return None
    pacing = Pacing(**kw)
    if not pacing.minimum <= pacing.initial <= pacing.maximum:
        ctx.add(path, f"must have minimum <= initial <= maximum; got minimum {pacing.minimum:g}, "
                f"initial {pacing.initial:g}, maximum {pacing.maximum:g}")
        return None
    return pacing


def _reserve(ctx: Context, value: object, path: str, queue_ids: set[str]):
    """An agent count, or a mapping of inbound queue id to agent count."""
    if value is MISSING or not isinstance(value, Mapping):
        return F.number(ctx, value, path, integer=True, ge=0)
    out = {}
    for key, n in value.items():
        qid = F.queue_ref(ctx, str(key), join(path, key), queue_ids)
        out[qid] = F.number(ctx, n, join(path, key), integer=True, ge=0)
    return None if None in out or None in out.values() else out
