"""Golden tests: every example scenario keeps its per-interval results, bit for bit.

They pin behaviour, they do not prove it right (the tests against theory and
independent counts do that): a refactor of the engine must leave every digest in
``tests/data/golden.json`` unchanged. When a change of behaviour is intended,
regenerate the file and say in the commit which behaviour changed::

    BPOSIM_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

See ``tests/golden.py`` for the canonical form and docs/validation.md ("Golden tests").
"""

from __future__ import annotations

from dataclasses import replace

import golden
import pytest

import bposim

CASES = golden.cases()


@pytest.fixture(scope="module")
def stored():
    return golden.load_golden()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_example_scenario_matches_its_golden_digests(case, stored):
    entry = golden.record(case)
    if golden.updating():
        fresh = golden.load_golden()
        fresh["cases"][case.name] = entry
        golden.save_golden(fresh)
        return
    expected = stored["cases"].get(case.name)
    assert expected is not None, (
        f"{case.name}: no golden digests yet; if this scenario is new, write them with "
        f"{golden.UPDATE_ENV}=1 pytest tests/test_golden.py")
    problems = golden.differences(case.name, expected, entry)
    assert not problems, (
        "behaviour changed (regenerate tests/data/golden.json only if intended, and say so "
        "in the commit):\n" + "\n".join(problems))


def test_the_golden_file_lists_exactly_the_example_scenarios():
    names = {c.name for c in CASES}
    data = golden.load_golden()
    stale = sorted(set(data["cases"]) - names)
    if golden.updating() and stale:
        for name in stale:
            del data["cases"][name]
        golden.save_golden(data)
        stale = []
    assert not stale, f"golden digests of scenarios that no longer exist: {stale}"
    assert names <= set(data["cases"]) or golden.updating()


def _erlang_c_case():
    return next(c for c in CASES if c.name == "single_queue_erlang_c")


def test_a_changed_handle_time_fails_and_names_the_scenario_frame_and_column():
    case = _erlang_c_case()
    sc = golden.scenario_of(case)
    q = sc.queues[0]
    slower = replace(sc, queues=(replace(q, handle_time=replace(q.handle_time, mean=q.handle_time.mean + 1)),))
    expected = golden.record(case)
    entry = dict(expected, frames=golden.digest(golden.frames_of(bposim.simulate(slower, seed=golden.SEED))))
    problems = golden.differences(case.name, expected, entry)
    assert problems, "a one-second longer mean handle time went unnoticed"
    first = problems[0]
    assert first.startswith("single_queue_erlang_c: frame 'intervals' column '")
    # arrivals do not depend on handle times (common random numbers): offered is unchanged
    changed = " ".join(p for p in problems if "'intervals'" in p)
    assert "'offered'" not in changed and "asa" in changed
    assert any("'pools'" in p and "busy_s" in p for p in problems)
    # the same run again compares equal
    assert golden.differences(case.name, expected, golden.record(case)) == []


def _frame():
    return {"intervals": bposim.simulate(golden.scenario_of(_erlang_c_case()), seed=1).intervals}


def test_float_noise_keeps_the_digest_and_a_small_real_change_does_not():
    frames = _frame()
    base = golden.digest(frames)
    f = frames["intervals"]
    noisy = f.copy()
    floats = [c for c in f.columns if f[c].dtype.kind == "f"]
    noisy[floats] = f[floats] * (1 + 1e-13)
    assert golden.digest({"intervals": noisy}) == base
    shuffled = f.sample(frac=1.0, random_state=3)[list(reversed(f.columns))]
    assert golden.digest({"intervals": shuffled})["intervals"]["sha256"] == base["intervals"]["sha256"]
    changed = f.copy()
    row = int(changed["asa"].to_numpy().nonzero()[0][0])
    changed.loc[changed.index[row], "asa"] *= 1 + 1e-6
    new = golden.digest({"intervals": changed})
    assert new["intervals"]["sha256"] != base["intervals"]["sha256"]
    old_cols, new_cols = base["intervals"]["columns"], new["intervals"]["columns"]
    assert [c for c in old_cols if old_cols[c] != new_cols[c]] == ["asa"]


def test_one_contact_more_is_a_difference_and_a_new_column_is_named():
    f = _frame()["intervals"]
    base = {"file": "x", "file_sha256": "a", "frames": golden.digest({"intervals": f})}
    more = f.copy()
    more.loc[more.index[5], "offered"] += 1
    more["chat_sessions"] = 0
    new = {"file": "x", "file_sha256": "a", "frames": golden.digest({"intervals": more})}
    problems = golden.differences("case", base, new)
    assert problems[0] == "case: frame 'intervals' column 'offered' changed"
    assert problems[1] == "case: frame 'intervals' column 'chat_sessions' new"
