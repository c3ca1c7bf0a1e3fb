"""MkDocs hook: docstrings use reST cross-reference roles (:class:`Scenario`); on the
site they render as plain code names instead of showing the role markup."""

import re

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):(?=<code>)")


def on_page_content(html, **_):
    return _ROLE.sub("", html)
