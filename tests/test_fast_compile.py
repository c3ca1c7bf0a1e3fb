"""How the fast engine's kernel is compiled (bposim/engine/fast/k_compile.py):
subroutines lowered into the code library of each compiled function that calls them,
and raw pointers into arrays."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from numba.core import errors

from bposim.engine.fast.k_compile import pointer, subroutine


@subroutine("i8(CPointer(int64), i8)")
def _get(p, i):
    return p[i]


@subroutine("void(CPointer(int64), i8, i8)")
def _add(p, i, v):
    p[i] = _get(p, i) + v  # a subroutine calling another


@subroutine("f8(CPointer(float64), i8, i8)")
def _mean(p, lo, hi):
    total = 0.0
    for k in range(lo, hi):
        total += p[k]
    return total / (hi - lo)


def test_subroutines_work_from_two_compiled_functions():
    """Each compiled function gets its own copy of the subroutines it calls (a copy
    lowered into another function's library would not link)."""
    @njit("i8(i8[::1])")
    def first(a):
        _add(pointer(a), 2, 5)
        return _get(pointer(a), 2)

    @njit("i8(i8[::1])")
    def second(a):
        _add(pointer(a), 0, 1)
        return _get(pointer(a), 0) + _get(pointer(a), 1)

    a = np.arange(4, dtype=np.int64)
    assert first(a) == 7 and a.tolist() == [0, 1, 7, 3]
    assert second(a) == 2 and a.tolist() == [1, 1, 7, 3]
    assert first(a) == 12 and a.tolist() == [1, 1, 12, 3]


def test_pointers_read_and_write_the_arrays_own_data():
    @njit("f8(f8[::1], i8, i8)")
    def mean(x, lo, hi):
        return _mean(pointer(x), lo, hi)

    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert mean(x, 0, 4) == 3.75 and mean(x, 2, 4) == 6.0
    assert mean(x[1:], 0, 2) == 3.0  # a view: its own start, not the base array's


def test_subroutines_keep_their_python_source():
    assert _get.py_func(np.array([5, 6]), 1) == 6
    assert _add.py_func.__name__ == "_add"


def test_a_subroutine_refuses_arguments_that_do_not_fit_its_signature():
    """A float where an integer is declared would be truncated silently: a typing error
    instead, naming the subroutine; so is a wrong number of arguments."""
    with pytest.raises(errors.TypingError, match=r"_get\(\) argument 2: float64 where int64"):
        njit("i8(i8[::1], f8)")(lambda a, x: _get(pointer(a), x))
    with pytest.raises(errors.TypingError, match=r"_get\(\) takes 2 arguments, 1 given"):
        njit("i8(i8[::1])")(lambda a: _get(pointer(a)))
    # an integer where a float is declared loses nothing: accepted
    assert njit("f8(f8[::1], i8)")(lambda x, k: _mean(pointer(x), k, 2))(np.array([1.0, 3.0]), 0) == 2.0


def test_pointer_needs_a_c_contiguous_array():
    with pytest.raises(errors.TypingError, match="C-contiguous"):
        njit("f8(f8[:])")(lambda x: _mean(pointer(x), 0, 1))  # any layout: refused
