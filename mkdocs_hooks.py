"""MkDocs hook: docstrings use reST cross-reference roles (:class:`Scenario`,
:class:`~bposim.errors.ScenarioError`); on the site they render as plain code names,
the ``~`` form as its last component (as Sphinx shows it), instead of the role markup."""

import re

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):(?=<code>)")
_TILDE = re.compile(r"<code>~((?:[A-Za-z_][\w]*\.)*)([A-Za-z_][\w]*)(\(\))?</code>")


def on_page_content(html, **_):
    html = _ROLE.sub("", html)
    return _TILDE.sub(lambda m: f'<code title="{m[1]}{m[2]}">{m[2]}{m[3] or ""}</code>', html)
