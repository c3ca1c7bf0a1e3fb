"""Validate and build the queues of a scenario: handling, arrivals, targets, escalations.

Part of the single validation pass of :mod:`bposim.scenario.build`: readers record
problems in the :class:`~bposim.scenario.fields.Context` and carry on.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace

from bposim.distributions import KINDS, DistributionSpec
from bposim.scenario import fields as F
from bposim.scenario.fields import MISSING, Context, item, join
from bposim.scenario.forecast import read_forecast
from bposim.scenario.schema import (
    CALLBACK_MODES,
    CHANNELS,
    DEFERRABLE_CHANNELS,
    ESCALATION_MODES,
    SL_DEFINITIONS,
    WEEKDAYS,
    Arrivals,
    Callback,
    Escalation,
    Horizon,
    Queue,
    Retrial,
    ServiceLevelTarget,
)

QUEUE_KEYS = (
    "id", "channel", "priority", "arrivals", "handle_time", "after_work", "patience",
    "service_level", "short_abandon_seconds", "escalations", "language", "repeat_after",
    "due_within_hours", "callback", "retrial", "head_start",
)
ARRIVAL_KEYS = ("volumes", "daily_volume", "intraday_profile", "day_of_week", "forecast_csv", "busyness_cv")
DIST_KEYS = ("dist", "mean", "cv", "values", "low", "high")
DIST_PARAMS = {
    "exponential": ("mean",),
    "deterministic": ("mean",),
    "lognormal": ("mean", "cv"),
    "gamma": ("mean", "cv"),
    "uniform": ("low", "high"),
    "empirical": ("values",),
}
SL_KEYS = ("answer_within", "target", "definition", "report_thresholds")
MAX_REPORT_THRESHOLDS = 10
ESCALATION_KEYS = ("to", "probability", "mode", "consult_time")
CALLBACK_KEYS = ("offer_when_wait_over", "acceptance", "mode", "delay_minutes", "attempts", "success",
                 "retry_minutes")
RETRIAL_KEYS = ("probability", "delay")
MAX_CALLBACK_ATTEMPTS = 20
MAX_BUSYNESS_CV = 5.0  # beyond this a day's gamma factor can be astronomically large


def build_queue(ctx, raw, path: str, horizon: Horizon | None, queue_ids: set[str], base_dir: Path | None):
    """A Queue from the mapping ``raw`` at ``path`` (``None`` if it is not a mapping)."""
    m = F.mapping(ctx, raw, path, QUEUE_KEYS, required=("id", "handle_time"))
    if m is None:
        return None
    qid = F.identifier(ctx, m.get("id", MISSING), join(path, "id"))
    get = lambda key: m.get(key, MISSING)  # noqa: E731
    handle = distribution(ctx, get("handle_time"), join(path, "handle_time"), positive=True)
    if handle is None and "handle_time" in m and m["handle_time"] is None:
        ctx.add(join(path, "handle_time"), "is required: every queue needs a handle time")
    arrivals = get("arrivals")
    if arrivals is not MISSING and arrivals is not None:
        arrivals = _arrivals(ctx, arrivals, join(path, "arrivals"), horizon, base_dir, qid, queue_ids)
    kw = F.given(
        channel=F.text(ctx, get("channel"), join(path, "channel"), choices=CHANNELS),
        priority=F.number(ctx, get("priority"), join(path, "priority"), integer=True, ge=1),
        arrivals=arrivals,
        after_work=distribution(ctx, get("after_work"), join(path, "after_work")),
        patience=distribution(ctx, get("patience"), join(path, "patience")),
        service_level=_service_level(ctx, get("service_level"), join(path, "service_level")),
        short_abandon_seconds=F.number(
            ctx, get("short_abandon_seconds"), join(path, "short_abandon_seconds"), ge=0
        ),
        escalations=_escalations(ctx, get("escalations"), join(path, "escalations"), qid, queue_ids),
        language=F.text(ctx, get("language"), join(path, "language")),
        repeat_after=distribution(ctx, get("repeat_after"), join(path, "repeat_after")),
    )
    kw.update(_channel_fields(ctx, m, path, kw.get("channel", "voice"), arrivals))
    if kw.get("channel") in DEFERRABLE_CHANNELS:
        pass  # no patience: _channel_fields reported a patience column or field
    elif isinstance(arrivals, Arrivals) and arrivals.patience is not None and kw.get("patience") is None:
        ctx.add(join(path, "patience"), "is needed: the forecast CSV has a patience column, which "
                "sets the mean of this distribution per interval (e.g. {dist: exponential, mean: 90})")
    elif isinstance(arrivals, Arrivals) and arrivals.patience is not None and kw["patience"].expected <= 0:
        ctx.add(join(path, "patience"), "must have a mean > 0: the forecast CSV's patience column "
                "scales it to each interval's mean")
    target = getattr(kw.get("service_level"), "target", None)
    if isinstance(target, float) and target >= 1:  # the Erlang baseline needs a reachable target
        ctx.add(join(path, "service_level.target"), "a service-level target of 100 % cannot be met "
                "with confidence by any finite staffing; use a target below 1, e.g. 0.95")
    return Queue(id=qid, handle_time=None if handle is MISSING else handle, **kw)


def distribution(ctx: Context, value: object, path: str, *, positive: bool = False):
    """A DistributionSpec from ``{dist: ..., params}`` or a bare number (deterministic).

    ``positive``: the mean must be > 0 (handle times). ``None`` input means "none".
    """
    if value is MISSING or value is None:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        mean = F.number(ctx, value, path, **({"gt": 0} if positive else {"ge": 0}))
        return None if mean is None else DistributionSpec("deterministic", mean=mean)
    if not isinstance(value, Mapping):
        ctx.add(path, "must be a number (a fixed duration in seconds) or a mapping like "
                f"{{dist: exponential, mean: 120}}, got {F.describe(value)}")
        return None
    m = F.mapping(ctx, value, path, DIST_KEYS, required=("dist",))
    kind = F.text(ctx, m.get("dist", MISSING), join(path, "dist"), choices=KINDS)
    if kind in (MISSING, None):
        return None
    takes = DIST_PARAMS[kind]
    params, ok = {}, True
    for key in DIST_KEYS[1:]:
        if key in m and key not in takes:
            ctx.add(join(path, key),
                    f"is not a parameter of the {kind} distribution (it takes {' and '.join(takes)})")
            ok = False
    for key in takes:
        if key not in m:
            ctx.add(join(path, key), f"is missing: the {kind} distribution takes {' and '.join(takes)}")
            ok = False
        elif key == "values":
            params[key] = F.numbers(ctx, m[key], join(path, key), ge=0)
        elif key == "cv" or (key == "mean" and (positive or kind != "deterministic")):
            params[key] = F.number(ctx, m[key], join(path, key), gt=0)
        else:
            params[key] = F.number(ctx, m[key], join(path, key), ge=0)
    if not ok or None in params.values():
        return None
    fields = dict.fromkeys(DIST_KEYS[1:]) | params
    message = DistributionSpec.problem(SimpleNamespace(kind=kind, **fields))  # before constructing
    if message:
        ctx.add(path, message)
        return None
    spec = DistributionSpec(kind, **params)
    if positive and spec.expected <= 0:
        ctx.add(path, "must have a mean > 0")
        return None
    return spec


def _arrivals(ctx: Context, value: object, path: str, horizon: Horizon | None, base_dir,
              qid=None, queue_ids=()) -> Arrivals | None:
    m = F.mapping(ctx, value, path, ARRIVAL_KEYS)
    if m is None:
        return None
    forms = [k for k in ("volumes", "daily_volume", "forecast_csv") if k in m]
    if len(forms) != 1:
        found = f"; found {' and '.join(forms)}" if forms else ""
        ctx.add(path, f"give exactly one of volumes, daily_volume or forecast_csv{found}")
    volumes, means = MISSING, {}
    if "volumes" in m:
        volumes = F.numbers(ctx, m["volumes"], join(path, "volumes"))
        if volumes is not None:
            F.check_length(ctx, join(path, "volumes"), len(volumes), horizon)
    elif "forecast_csv" in m:
        name = F.text(ctx, m["forecast_csv"], join(path, "forecast_csv"))
        volumes = None
        if isinstance(name, str) and horizon is not None:
            forecast = read_forecast(ctx, name, join(path, "forecast_csv"), horizon, base_dir,
                                     qid, queue_ids)
            if forecast is not None:
                volumes = forecast.volumes
                means = {k: v for k, v in (("aht", forecast.aht), ("patience", forecast.patience))
                         if v is not None}
    daily = F.number(ctx, m.get("daily_volume", MISSING), join(path, "daily_volume"), ge=0)
    profile = MISSING
    if "intraday_profile" in m:
        ppath = join(path, "intraday_profile")
        profile = F.numbers(ctx, m["intraday_profile"], ppath)
        if "daily_volume" not in m:
            ctx.add(ppath, "is used only with daily_volume")
        elif profile is not None:
            F.check_length(ctx, ppath, len(profile), horizon, hourly=True)
            if sum(profile) <= 0:
                ctx.add(ppath, "must have at least one weight > 0")
    elif "daily_volume" in m:
        profile = (1.0,) * 24  # no profile: flat over the day
    dow = _day_of_week(ctx, m.get("day_of_week", MISSING), join(path, "day_of_week"))
    whole_horizon = (
        isinstance(volumes, tuple) and horizon is not None
        and horizon.days > 1 and len(volumes) == horizon.n_intervals
    )
    if isinstance(dow, dict) and dow and whole_horizon:
        ctx.add(join(path, "day_of_week"),
                "applies only to one day of volumes; these volumes cover the whole horizon")
    busy = F.number(ctx, m.get("busyness_cv", MISSING), join(path, "busyness_cv"), ge=0)
    if isinstance(busy, float) and busy > MAX_BUSYNESS_CV:
        ctx.add(join(path, "busyness_cv"), f"must be at most {MAX_BUSYNESS_CV} (day-to-day variation "
                f"is typically 0.1 to 0.3), got {busy:g}")
        busy = None
    return Arrivals(**F.given(volumes=volumes, daily_volume=daily, intraday_profile=profile,
                             day_of_week=dow, busyness_cv=busy), **means)


def _day_of_week(ctx: Context, value: object, path: str):
    if value is MISSING:
        return MISSING
    m = F.mapping(ctx, value, path, WEEKDAYS)
    if m is None:
        return None
    factors = {str(k): F.number(ctx, v, join(path, k), ge=0) for k, v in m.items() if k in WEEKDAYS}
    return None if None in factors.values() else factors


def _service_level(ctx: Context, value: object, path: str):
    if value is MISSING:
        return MISSING
    m = F.mapping(ctx, value, path, SL_KEYS)
    if m is None:
        return None
    thresholds = MISSING
    if "report_thresholds" in m:
        tpath = join(path, "report_thresholds")
        thresholds = F.numbers(ctx, m["report_thresholds"], tpath)
        if thresholds is not None:
            if len(thresholds) > MAX_REPORT_THRESHOLDS:
                ctx.add(tpath, f"has {len(thresholds)} answer times; at most {MAX_REPORT_THRESHOLDS}")
            elif len(set(thresholds)) != len(thresholds):
                ctx.add(tpath, "names an answer time twice")
            thresholds = tuple(sorted(float(t) for t in thresholds))
    return ServiceLevelTarget(**F.given(
        answer_within=F.number(ctx, m.get("answer_within", MISSING), join(path, "answer_within"), ge=0),
        target=F.number(ctx, m.get("target", MISSING), join(path, "target"), gt=0, le=1),
        definition=F.text(
            ctx, m.get("definition", MISSING), join(path, "definition"), choices=SL_DEFINITIONS
        ),
        report_thresholds=thresholds,
    ))


def _escalations(ctx: Context, value: object, path: str, own_id, queue_ids: set[str]):
    if value is MISSING:
        return MISSING
    items = F.sequence(ctx, value, path)
    if items is None:
        return None
    out, total, seen = [], 0.0, set()
    for i, raw in enumerate(items):
        p = item(path, i)
        m = F.mapping(ctx, raw, p, ESCALATION_KEYS, required=("to", "probability"))
        if m is None:
            total = None
            continue
        to = m.get("to", MISSING)
        if isinstance(to, str) and to == own_id:
            ctx.add(join(p, "to"), "a queue cannot escalate to itself")
            to = None
        elif to is not MISSING:
            to = F.queue_ref(ctx, to, join(p, "to"), queue_ids)
        prob = F.number(ctx, m.get("probability", MISSING), join(p, "probability"), ge=0, le=1)
        mode = F.text(ctx, m.get("mode", MISSING), join(p, "mode"), choices=ESCALATION_MODES)
        key = (to, Escalation.mode if mode is MISSING else mode)
        if isinstance(to, str) and key in seen:
            ctx.add(p, f"repeats the {key[1]} escalation to {to!r}")
        seen.add(key)
        total = None if total is None or not isinstance(prob, float) else total + prob
        consult_time = distribution(ctx, m.get("consult_time", MISSING), join(p, "consult_time"))
        if consult_time not in (MISSING, None) and mode != "consult":
            ctx.add(join(p, "consult_time"), "applies to mode: consult only")
        out.append(Escalation(to=to, probability=prob, **F.given(mode=mode, consult_time=consult_time)))
    if total is not None and total > 1 + 1e-9:
        ctx.add(path, f"escalation probabilities add up to {total:g}; they must total at most 1")
    return tuple(out)


def _channel_fields(ctx: Context, m: dict, path: str, channel, arrivals) -> dict:
    """Keyword arguments for Queue from its channel settings, checked against ``channel``.

    Email and back-office items wait in a backlog for a due time: no patience, callback or
    retrial, and no answer time. Callbacks are for voice; retrials for voice and chat."""
    get = lambda key: m.get(key, MISSING)  # noqa: E731
    label = (channel or "").replace("_", "-")
    if channel is None:
        pass  # an invalid channel is already reported: what applies to it is unknown
    elif channel in DEFERRABLE_CHANNELS:
        why = f"{label} items wait in a backlog until an agent takes them"
        for key, what in (("patience", "do not abandon"), ("callback", "are not called back"),
                          ("retrial", "do not abandon, so never retry")):
            if key in m:
                ctx.add(join(path, key), f"does not apply to {channel} queues: {why}; they {what}")
        sl = m.get("service_level")
        for key in ("answer_within", "report_thresholds"):
            if isinstance(sl, Mapping) and key in sl:
                ctx.add(join(path, f"service_level.{key}"), f"does not apply to {channel} queues: "
                        "their service level is the share of items closed within due_within_hours")
        if isinstance(arrivals, Arrivals) and arrivals.patience is not None:
            ctx.add(join(path, "arrivals.forecast_csv"), f"has a patience column, but {why}; "
                    "remove the column")
    elif "due_within_hours" in m:
        ctx.add(join(path, "due_within_hours"), "applies to email and back_office queues (a due "
                f"time for backlog work); a {channel} queue has service_level.answer_within")
    if "callback" in m and channel == "chat":
        ctx.add(join(path, "callback"), "applies to voice queues only, not chat")
    if "retrial" in m and channel in ("voice", "chat") and m.get("patience") is None:
        ctx.add(join(path, "retrial"), "needs patience: customers who never abandon never retry")
    return F.given(
        due_within_hours=F.number(ctx, get("due_within_hours"), join(path, "due_within_hours"), gt=0),
        callback=_callback(ctx, get("callback"), join(path, "callback")),
        retrial=_retrial(ctx, get("retrial"), join(path, "retrial")),
        head_start=F.number(ctx, get("head_start"), join(path, "head_start"), ge=0),
    )


def _callback(ctx: Context, value: object, path: str):
    """``{offer_when_wait_over: 120, acceptance: 0.5, mode: keep_place | scheduled, ...}``."""
    if value is MISSING:
        return MISSING
    m = F.mapping(ctx, value, path, CALLBACK_KEYS, required=("offer_when_wait_over", "acceptance"))
    if m is None:
        return None
    get = lambda key: m.get(key, MISSING)  # noqa: E731
    mode = F.text(ctx, get("mode"), join(path, "mode"), choices=CALLBACK_MODES)
    delay = F.number(ctx, get("delay_minutes"), join(path, "delay_minutes"), gt=0)
    if mode == "scheduled" and "delay_minutes" not in m:
        ctx.add(join(path, "delay_minutes"), "is needed with mode: scheduled (minutes from the "
                "offer to the callback, e.g. 30)")
    elif mode in (MISSING, "keep_place") and "delay_minutes" in m:
        ctx.add(join(path, "delay_minutes"), "applies to mode: scheduled only (a keep_place "
                "callback comes when the caller's turn comes)")
    kw = F.given(
        offer_when_wait_over=F.number(ctx, get("offer_when_wait_over"),
                                      join(path, "offer_when_wait_over"), gt=0),
        acceptance=F.number(ctx, get("acceptance"), join(path, "acceptance"), ge=0, le=1),
        mode=mode,
        delay_minutes=delay,
        attempts=F.number(ctx, get("attempts"), join(path, "attempts"), integer=True, ge=1,
                          le=MAX_CALLBACK_ATTEMPTS),
        success=F.number(ctx, get("success"), join(path, "success"), ge=0, le=1),
        retry_minutes=F.number(ctx, get("retry_minutes"), join(path, "retry_minutes"), gt=0),
    )
    if None in kw.values() or "offer_when_wait_over" not in kw or "acceptance" not in kw:
        return None
    return Callback(**kw)


def _retrial(ctx: Context, value: object, path: str):
    """``{probability: 0.3, delay: {dist: exponential, mean: 600}}``: abandoned customers
    call again with that probability after that delay (seconds)."""
    if value is MISSING:
        return MISSING
    m = F.mapping(ctx, value, path, RETRIAL_KEYS, required=("probability", "delay"))
    if m is None:
        return None
    probability = F.number(ctx, m.get("probability", MISSING), join(path, "probability"), ge=0, le=1)
    delay = distribution(ctx, m.get("delay", MISSING), join(path, "delay"), positive=True)
    if m.get("delay", MISSING) is None:
        ctx.add(join(path, "delay"), "is required: the time before an abandoned customer calls again")
    if probability in (None, MISSING) or delay in (None, MISSING):
        return None
    return Retrial(probability=probability, delay=delay)
