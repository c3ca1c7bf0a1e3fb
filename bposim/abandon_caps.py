"""Outbound abandoned-call caps: which measure a campaign's cap applies to, and a
warning whenever one of the regulators' measures is over it.

A campaign's ``abandon_target`` caps abandoned ÷ live answers over the run, without
the people answering-machine detection hung up on: that is what predictive pacing can
steer. Ofcom counts those hang-ups too and looks at each 24 hours; the FTC looks at 30
days. A run can meet the cap and still be over either regulator's measure, so both are
checked and named.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bposim.metric_registry import scope_key

if TYPE_CHECKING:  # only a type here: importing this module stays light
    import pandas as pd

CAP_MEASURE = "abandoned ÷ live answers over the run, answering-machine hang-ups not counted"

#: (metric, what it measures), the cap's own measure first.
MEASURES = (
    ("abandon_rate", "the cap's own measure (abandoned ÷ live answers over the run)"),
    ("max_daily_abandon_rate", "Ofcom's measure (abandoned plus answering-machine hang-ups, "
                               "÷ live answers, on the worst day)"),
    ("max_30day_abandon_rate", "the FTC's measure (abandoned ÷ live answers over the worst "
                               "30 days, or the whole run when shorter)"),
)


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def cap_warnings(summary: "pd.DataFrame", caps: Mapping[str, float]) -> list[str]:
    """One sentence per campaign and measure whose mean is over the campaign's cap.

    ``summary``: tidy (metric, scope, mean, ci_low, ci_high) rows; ``caps``: campaign id
    → ``abandon_target``."""
    out = []
    for cid, cap in caps.items():
        scope = scope_key("campaign", cid)
        for metric, label in MEASURES:
            rows = summary[(summary["metric"] == metric) & (summary["scope"] == scope)]
            if rows.empty:
                continue
            r = rows.iloc[0]
            mean, low, high = float(r["mean"]), float(r["ci_low"]), float(r["ci_high"])
            if not mean > cap:
                continue
            ci = (f" (95 % CI {_pct(low)} to {_pct(high)})"
                  if math.isfinite(low) and math.isfinite(high) and high > low else "")
            out.append(f"campaign {cid}: {label} is {_pct(mean)}{ci}, over its "
                       f"{100 * cap:g} % cap")
    return out
