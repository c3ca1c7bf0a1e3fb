"""``bposim serve``: a local what-if page over the Python API.

:func:`create_app` builds the web application (Starlette, an optional extra:
``pip install 'bposim[serve]'``); the command line starts it with uvicorn.
"""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(*args, **kwargs):
    """The what-if web application; see :func:`bposim.serve.app.create_app`."""
    from bposim.serve.app import create_app as make

    return make(*args, **kwargs)
