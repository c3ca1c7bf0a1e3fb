"""Start-up stays light: the command line imports no pandas, scipy or matplotlib until a
command needs them, so `bposim --help` and `bposim validate` answer at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "scipy", "matplotlib", "simpy", "pyarrow")

PROBE = """
import json, sys
{body}
print("MODULES " + json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})))
"""


def _run(body: str) -> tuple[set[str], str]:
    """Top-level packages loaded after running ``body`` in a fresh interpreter, and its output."""
    proc = subprocess.run([sys.executable, "-c", PROBE.format(body=body)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    line = [x for x in proc.stdout.splitlines() if x.startswith("MODULES ")]
    assert line, proc.stdout[-2000:] + proc.stderr[-2000:]
    return set(json.loads(line[-1][len("MODULES "):])), proc.stdout


def _loaded(body: str) -> set[str]:
    return _run(body)[0]


def _cli(*args: str) -> str:
    return ("from bposim.cli import main\n"
            "try:\n"
            f"    main({list(args)!r}, standalone_mode=False)\n"
            "except SystemExit:\n"
            "    pass\n")


def test_import_bposim_cli_is_light():
    heavy = _loaded("import bposim.cli") & set(HEAVY + ("numpy",))
    assert not heavy, f"import bposim.cli loads {sorted(heavy)}; import them inside the command"


def test_help_of_every_command_is_light():
    # one interpreter shows every command's help (a fresh one each would cost seconds)
    body = ("from bposim.cli import main\n"
            "for args in [['--help']] + [[name, '--help'] for name in sorted(main.commands)]:\n"
            "    try:\n"
            "        main(args, standalone_mode=False)\n"
            "    except SystemExit:\n"
            "        pass\n")
    loaded, out = _run(body)
    assert out.count("Usage: ") >= 10, out[-2000:]
    heavy = loaded & set(HEAVY)
    assert not heavy, f"bposim COMMAND --help loads {sorted(heavy)}: import it inside the command"


def test_validate_needs_no_pandas_or_scipy():
    loaded, out = _run(_cli("validate", "scenarios/single_queue_erlang_c.yaml",
                            "scenarios/sourcing_mix.yaml"))
    assert out.count("OK  scenarios/") == 2, out  # it did check both files (and sourcing_mix's variants)
    heavy = loaded & set(HEAVY)
    assert not heavy, f"bposim validate loads {sorted(heavy)}"
