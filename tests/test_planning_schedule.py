"""Stage 2, the shift-scheduling integer program, on plain arrays."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bposim.errors import InputError
from bposim.planning.schedule import Problem, covered, solve


def _problem(cover, cost, need, **kw):
    cover = np.asarray(cover, dtype=float)
    return Problem(cover=cover, duty=kw.pop("duty", (cover > 0).astype(float)),
                   cost=np.asarray(cost, dtype=float), group=np.zeros(len(cover), dtype=int),
                   need=np.atleast_2d(np.asarray(need, dtype=float)), **kw)


def test_known_optimum_worked_by_hand():
    # Four intervals needing 1, 2, 2, 1 agents. Two-interval shifts A (0-1), B (1-2),
    # C (2-3) cost 2 each; the full shift D (0-3) costs 3. Six agent-intervals are needed
    # and D is the cheapest per interval (0.75), so any schedule costs at least 4.5, i.e.
    # 5 in whole numbers. D + B covers exactly [1, 2, 2, 1] for 5; every other
    # combination of cost 5 (A + D, C + D) leaves interval 1 or 2 short.
    cover = [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1], [1, 1, 1, 1]]
    sol = solve(_problem(cover, [2, 2, 2, 3], [1, 2, 2, 1]))
    assert sol.cost == pytest.approx(5)
    assert list(sol.counts) == [0, 1, 0, 1]


def test_breaks_and_seat_limit_worked_by_hand():
    # One interval needing 3 agents available. Shift F costs 1 but its agent is on a
    # break half the interval (covers 0.5); shift G costs 3 and covers 1. Unlimited:
    # 6 F for 6. With 4 seats (x_F + x_G <= 4, 0.5 x_F + x_G >= 3): x_G = 1 needs
    # x_F >= 4 (5 seats, no); x_G = 2, x_F = 2 costs 8; x_G = 3 costs 9. Optimum 8.
    cover = [[0.5], [1.0]]
    duty = np.ones((2, 1))
    assert solve(_problem(cover, [1, 3], [3], duty=duty)).cost == pytest.approx(6)
    sol = solve(_problem(cover, [1, 3], [3], duty=duty, max_on_duty=(4,)))
    assert sol.cost == pytest.approx(8)
    assert list(sol.counts) == [2, 2]


def test_too_few_seats_is_a_clear_error():
    cover = [[1, 1, 1, 1]]
    with pytest.raises(InputError) as err:
        solve(_problem(cover, [8], [1, 3, 5, 2], max_on_duty=(4,),
                       group_names=("tier1",), interval_names=("08:00", "08:30", "09:00", "09:30")))
    msg = str(err.value)
    assert "09:00" in msg and "tier1" in msg and "shortfall 1" in msg


def test_interval_no_template_covers_is_a_clear_error():
    with pytest.raises(InputError, match="no shift template covers"):
        solve(_problem([[1, 1, 0]], [2], [1, 1, 1], group_names=("p",)))


def test_part_time_share_is_respected():
    # Part-time shift (cheap) covers only interval 0; the full shift covers both.
    cover = [[1, 0], [1, 1]]
    p = _problem(cover, [1, 2], [4, 1], part_time=np.array([True, False]),
                 part_time_share=(0.5,))
    sol = solve(p)
    pt, ft = sol.counts
    assert pt <= 0.5 * (pt + ft) + 1e-9
    # without a cap: 3 part-time + 1 full = 5; with at most half part-time: 2 + 2 = 6
    assert sol.cost == pytest.approx(6)


@st.composite
def _random_problem(draw):
    n = draw(st.integers(2, 10))
    groups = draw(st.integers(1, 2))
    cols, group, cost = [], [], []
    for g in range(groups):
        for t in range(n):  # single-interval shifts make every instance feasible
            row = np.zeros(n)
            row[t] = 1
            cols.append(row), group.append(g), cost.append(draw(st.floats(1, 5)))
        for _ in range(draw(st.integers(0, 6))):
            a = draw(st.integers(0, n - 1))
            b = draw(st.integers(a + 1, n))
            brk = draw(st.floats(0, 0.5))
            row = np.zeros(n)
            row[a:b] = 1
            if b - a > 2:
                row[a + 1] = 1 - brk  # an expected break inside the shift
            cols.append(row), group.append(g), cost.append(draw(st.floats(0.5, 10)))
    need = np.array([[draw(st.integers(0, 6)) for _ in range(n)] for _ in range(groups)], float)
    cover = np.array(cols)
    return Problem(cover=cover, duty=(cover > 0).astype(float), cost=np.array(cost),
                   group=np.array(group), need=need)


@settings(max_examples=40)
@given(_random_problem())
def test_schedule_covers_every_requirement(p):
    sol = solve(p)
    have = covered(p, sol.counts)
    assert (have >= p.need - 1e-6).all()
    assert (sol.counts >= 0).all()
    # never dearer than the obvious schedule: single-interval shifts only
    single = p.cover.sum(axis=1) == 1
    naive = 0.0
    for g in range(p.need.shape[0]):
        for t in range(p.need.shape[1]):
            j = np.nonzero(single & (p.group == g) & (p.cover[:, t] == 1))[0]
            naive += p.need[g, t] * p.cost[j].min()
    assert sol.cost <= naive * (1 + 0.006) + 1e-9


def test_overlapping_shifts_beyond_the_seats_are_named():
    # Needs 2, 2, 2; shift A covers intervals 0-1, shift B 1-2. Interval 0 needs 2 A and
    # interval 2 needs 2 B, so interval 1 has 4 on duty: with 3 seats no schedule exists
    # although each interval alone could be covered (the quick check passes).
    p = _problem([[1, 1, 0], [0, 1, 1]], [1, 1], [2, 2, 2], max_on_duty=(3,),
                 group_names=("sme",), interval_names=("a", "b", "c"))
    with pytest.raises(InputError) as err:
        solve(p)
    msg = str(err.value)
    assert "interval b, pool sme" in msg and "at least 4" in msg and "shortfall 1" in msg


def test_the_scheduler_and_the_planning_section_never_import_simpy():
    import subprocess
    import sys

    code = ("import sys, bposim.planning.schedule, bposim.planning.templates, bposim.scenario.planning; "
            "print('simpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_site_seats_shared_by_two_pools():
    # Two pools at one site, each needing 3 in the same interval: 6 seats are needed.
    cover = np.array([[1.0], [1.0]])
    base = dict(cover=cover, duty=cover.copy(), cost=np.array([1.0, 1.0]), group=np.array([0, 1]),
                need=np.array([[3.0], [3.0]]), site=np.array([0, 0]), group_names=("a", "b"))
    assert solve(Problem(**base, site_max=(6,))).cost == pytest.approx(6)
    with pytest.raises(InputError, match="site headcount limits"):
        solve(Problem(**base, site_max=(5,)))
