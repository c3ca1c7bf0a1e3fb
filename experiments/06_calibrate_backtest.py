"""Experiment 6: calibrate on ten days of a real call log, backtest on the next five.

Data: the "Anonymous Bank" call log of the Technion SEE-Center (Avi Mandelbaum), an
Israeli bank's call centre, 1-15 August 1999 (Brown et al., JASA 2005). It is read
from ../shared/data/anonymous_bank/calls_1999_08_01_to_15.csv beside the repository
(never copied into it); without it the script says so and exits 0.

``bposim.calibrate`` fits every queue (call type) on days 1-10 with the
``anonymous_bank`` preset: arrival profiles by weekday, handle times, censored
patience, and pools and staffing from agent activity (sessions, gap 15 min).
``bposim.backtest`` then replays days 11-15 with each day's observed arrivals and
inferred staffing, and compares service level (answered within 20 s / offered),
abandonment and ASA with the log, for the simulation and for Erlang A on the same
inputs. Redials and the bank's priority customers are estimated but not simulated.

Run: python experiments/06_calibrate_backtest.py [--quick] [--out DIR]
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from scipy import stats  # noqa: E402

import bposim  # noqa: E402
from bposim.calibration.logs import read_log  # noqa: E402
from bposim.calibration.report import patience_figure  # noqa: E402

SEED = 19990811
FILE = "calls_1999_08_01_to_15.csv"
TRAIN, TEST = "1-10", "11-15"
ACKNOWLEDGEMENT = ("Data: Anonymous Bank call log, Technion SEE-Center (Service Enterprise "
                   "Engineering), courtesy of Avi Mandelbaum; Brown et al., JASA 2005.")
FULL = dict(replications=20)
QUICK = dict(replications=3)


def data_path() -> Path | None:
    """The call log beside the repository (../shared/data/anonymous_bank/), or None."""
    path = common.REPO.parent / "shared" / "data" / "anonymous_bank" / FILE
    return path if path.is_file() else None


def run(quick: bool = False, seed: int = SEED, workers: int = 2):
    """(calibration, backtest), or None when the data are absent."""
    path = data_path()
    return None if path is None else _run(path, quick, seed, workers)


@functools.lru_cache(maxsize=2)
def _run(path: Path, quick: bool, seed: int, workers: int):
    """Kept, so that the tests' check and the script's smoke test share one run."""
    log = read_log(path, preset="anonymous_bank")
    cal = bposim.calibrate(log, train_days=TRAIN)
    cfg = QUICK if quick else FULL
    bt = bposim.backtest(cal.scenario(), log, TEST, replications=cfg["replications"], seed=seed,
                         workers=workers)
    return cal, bt


def figure(bt):
    """Per day: observed, simulated (mean, 95 % CI) and Erlang A for SL, abandonment, ASA."""
    fig, axes = common.figure(1, 3, title="Anonymous Bank, backtest of 11-15 August 1999 "
                              f"(calibrated on 1-10 August)\n{ACKNOWLEDGEMENT}", size=(14, 4.8))
    d = bt.days
    x = range(len(d))
    t = stats.t.ppf(0.975, bt.replications - 1)
    labels = {"sl": ("service level (20 s, offered)", 100), "abandon": ("abandoned (%)", 100),
              "asa": ("ASA (s)", 1)}
    for ax, (m, (label, scale)) in zip(axes[0], labels.items()):
        half = t * d[f"sim_{m}_sd"] / bt.replications ** 0.5 * scale
        ax.plot(x, d[f"obs_{m}"] * scale, "ko-", label="observed (log)")
        ax.errorbar(x, d[f"sim_{m}"] * scale, yerr=half, fmt="o-", capsize=3, label="simulation")
        ax.plot(x, d[f"erlang_{m}"] * scale, "x--", label="Erlang A")
        ax.set_xticks(list(x), [f"{day:%a %d}" for day in d["day"]])
        ax.set_title(label)
        ax.legend(fontsize=8)
    return fig


def main(argv=None) -> dict:
    args, out_path, clock = common.start(__doc__, SEED, argv)
    result = run(args.quick, args.seed, args.workers)
    if result is None:
        print(f"Anonymous Bank data not found (expected ../shared/data/anonymous_bank/{FILE} "
              "beside the repository); skipping experiment 6.")
        return {"skipped": True}
    cal, bt = result
    params = cal.parameters()
    common.write_csv(params, out_path / "06_calibration.csv")
    common.write_csv(bt.days, out_path / "06_backtest_days.csv")
    common.write_csv(bt.summary, out_path / "06_backtest_summary.csv")
    common.write_csv(bt.intervals, out_path / "06_backtest_intervals.csv")
    common.save(figure(bt), out_path / "06_backtest.png")
    common.save(patience_figure(cal), out_path / "06_patience.png")
    print(ACKNOWLEDGEMENT)
    print(common.show(params[["queue", "parameter", "estimate", "ci_low", "ci_high"]]))
    print(common.show(cal.staffing.gap_effect))
    if cal.redials:
        print("redials:", {k: round(v, 3) for k, v in cal.redials.items()})
    print(common.show(cal.overtaking))
    print(common.show(bt.days))
    print(common.show(bt.summary))
    key = {"skipped": False, "seconds": round(clock(), 1),
           "summary": bt.summary.to_dict("records")}
    print(f"\nwrote {out_path}/06_*.csv and .png in {key['seconds']} s")
    return key


if __name__ == "__main__":
    main()

