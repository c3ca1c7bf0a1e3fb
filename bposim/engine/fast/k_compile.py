"""How the kernel is compiled (numba): one cached function made of subroutines.

``kernel.run`` is the only compiled entry point (``cache=True``); every step it calls
is a :func:`subroutine`, lowered into ``run``'s own code library rather than compiled
as a function of its own. Three choices keep the first-ever compile short (measured
on this kernel, numba 0.68, same machine and day: about 8.5 s instead of 16.5 s, and
the compiled loop about a third faster; see benchmarks/README.md):

- subroutines: a plain ``@njit`` function is optimised and turned into machine code
  once for itself and again inside every caller it is linked into; a subroutine is
  optimised and turned into machine code once, with ``run``;
- raw pointers (:func:`pointer`) instead of arrays inside the kernel: indexing a
  pointer is one address computation, where indexing an array also unpacks the
  array and wraps negative indices, at every one of the kernel's ~600 accesses;
- numba's rewrite passes and SSA reconstruction are off for the subroutines: the
  kernel uses neither the constructs the rewrites are for nor a variable that holds
  values of two types (without SSA numba would unify them), so they only cost time.

:func:`subroutine` uses numba's internal compile API (``compiler.compile_internal``,
the target context's ``active_code_library`` and ``call_internal``), as numba's own
``compile_subroutine`` does but without giving each subroutine a library of its own.
If a numba release changes it, compiling the kernel fails, and the engine choice
(``bposim.engine.select``) falls back to the SimPy engine (``auto``) or says so
(``fast``); ``tests/test_fast_engine.py`` compiles (or loads) it on every run of the
tests, and ``tests/test_fast_compile.py`` tests this module on its own.

A subroutine's arguments must have its signature's types: a call with another number
of arguments, or with a value that would lose information on the way (a float where
an integer is declared), is a typing error naming the subroutine. The kernel cannot
be stepped through in plain Python (``NUMBA_DISABLE_JIT``): subroutines and
:func:`pointer` exist only inside compiled code; ``func.py_func`` of a subroutine that
calls no other one can run in Python on arrays.
"""

from __future__ import annotations

import inspect

from numba.core import cgutils, compiler, errors, sigutils, types
from numba.core.typeconv import Conversion
from numba.core.typing import signature
from numba.extending import intrinsic


@intrinsic
def pointer(typingctx, arr):
    """The data pointer of a C-contiguous array (valid while the array is alive)."""
    if not (isinstance(arr, types.Array) and arr.layout == "C"):
        raise errors.TypingError(f"pointer() needs a C-contiguous array, not {arr}")

    def codegen(context, builder, sig, args):
        return cgutils.create_struct_proxy(sig.args[0])(context, builder, value=args[0]).data
    return types.CPointer(arr.dtype)(arr), codegen


def subroutine(sig: str):
    """Decorator: compile the function as a subroutine of the kernel with the numba
    signature ``sig``, lowered into the code library of the compiled function that
    calls it (once per library) and called there like any compiled function."""
    args, restype = sigutils.normalize_signature(sig)
    typed = signature(restype, *args)

    def wrap(func):
        # code library -> the lowered subroutine (a plain dict: the compile result
        # refers to its library; there is one library per compiled caller)
        lowered = {}

        def codegen(context, builder, _sig, values):
            library = context.active_code_library
            cres = lowered.get(library)
            if cres is None:
                flags = compiler.Flags()
                flags.no_compile = True  # no machine code of its own: the caller's library has it
                flags.no_cpython_wrapper = True
                flags.no_cfunc_wrapper = True
                flags.no_rewrites = True
                flags.enable_ssa = False
                cres = compiler.compile_internal(context.typing_context, context, library, func,
                                                 typed.args, typed.return_type, flags, {})
                lowered[library] = cres
            return context.call_internal(builder, cres.fndesc, typed, values)

        def typer(typingctx, *arg_types):
            name = func.__name__
            if len(arg_types) != len(typed.args):
                raise errors.TypingError(f"{name}() takes {len(typed.args)} arguments, "
                                         f"{len(arg_types)} given")
            for k, (given, wanted) in enumerate(zip(arg_types, typed.args)):
                how = typingctx.can_convert(given, wanted)
                if how is None or how > Conversion.safe:  # none, or losing information
                    raise errors.TypingError(f"{name}() argument {k + 1}: {given} where "
                                             f"{wanted} is declared")
            return typed, codegen

        # numba reads the call's parameters from the typer's signature: give it func's
        params = list(inspect.signature(func).parameters.values())
        typer.__signature__ = inspect.Signature(
            [inspect.Parameter("typingctx", inspect.Parameter.POSITIONAL_OR_KEYWORD), *params])
        typer.__name__ = typer.__qualname__ = func.__name__
        typer.__doc__ = func.__doc__
        call = intrinsic(typer)
        call.py_func = func  # the Python source, for reading and for tests
        return call
    return wrap
