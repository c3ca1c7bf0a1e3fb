"""The scenarios the what-if page may read: files in one directory, and uploads.

Only YAML files directly in the directory are offered, by bare file name; a name
with a folder part, ``..``, an absolute path, or a symlink leading out of the
directory is refused. A scenario (uploaded or not) may name CSV files (forecasts,
contact lists, staffing) only inside the directory too. Uploads are kept in memory,
a few at a time, and validated through the normal loader with every problem and its
line.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bposim.errors import InputError, Problem, ScenarioError
from bposim.scenario.fields import Context
from bposim.scenario.load import parse_scenario, read_yaml
from bposim.scenario.schema import Scenario

MAX_UPLOAD_BYTES = 256 * 1024
MAX_UPLOADS = 8
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,120}\.ya?ml$")
_UPLOAD_KEY = re.compile(r"^upload:\d{1,9}$")


@dataclass(frozen=True)
class Entry:
    """A readable scenario: its key on the page, its plain data, lines, and the base."""

    key: str
    source: str           # the name problems are reported under
    data: dict
    lines: dict
    scenario: Scenario    # the validated base


class Library:
    """Scenario files of ``root`` and uploaded scenarios, read safely."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve(strict=True)
        if not self.root.is_dir():
            raise InputError(f"{root} is not a directory")
        self._uploads: OrderedDict[str, Entry] = OrderedDict()
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    # --- names and paths -------------------------------------------------------------

    def names(self) -> list[str]:
        """The scenario files offered: YAML files directly in the directory."""
        out = []
        for p in sorted(self.root.iterdir()):
            if _FILE_NAME.match(p.name) and p.is_file() and self._inside(p):
                out.append(p.name)
        return out

    def path(self, name: str) -> Path:
        """The file ``name`` in the directory; :class:`InputError` for anything else."""
        if not isinstance(name, str) or not _FILE_NAME.match(name):
            raise InputError(f"{name!r} is not a scenario file name in the served directory "
                             "(a bare .yaml or .yml name, no folders)")
        path = self.root / name
        if not path.is_file():
            raise InputError(f"no scenario file {name!r} in the served directory")
        if not self._inside(path):
            raise InputError(f"{name!r} leads outside the served directory; refused")
        return path

    def _inside(self, path: Path) -> bool:
        try:
            return path.resolve(strict=True).is_relative_to(self.root)
        except OSError:
            return False

    # --- reading ---------------------------------------------------------------------

    def get(self, key: str) -> Entry:
        """The scenario ``key``: a file name, or ``upload:N`` for an upload."""
        if isinstance(key, str) and _UPLOAD_KEY.match(key):
            with self._lock:
                entry = self._uploads.get(key)
            if entry is None:
                raise InputError(f"no uploaded scenario {key!r} (uploads are kept while the "
                                 f"server runs, the last {MAX_UPLOADS})")
            return entry
        path = self.path(key)
        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise InputError(f"{key}: {size} bytes; the what-if page reads scenarios up to "
                             f"{MAX_UPLOAD_BYTES // 1024} KiB")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ScenarioError(Problem(key, "", "is not UTF-8 text")) from None
        return self._entry(key, key, text)

    def uploads(self) -> list[Entry]:
        with self._lock:
            return list(self._uploads.values())

    def upload(self, filename: str, text: str) -> Entry:
        """Validate an uploaded scenario and keep it; raises :class:`ScenarioError`."""
        if len(text.encode("utf-8")) > MAX_UPLOAD_BYTES:
            raise InputError(f"the upload is larger than {MAX_UPLOAD_BYTES // 1024} KiB")
        shown = Path(str(filename or "upload.yaml")).name[:120] or "upload.yaml"
        key = f"upload:{next(self._counter)}"
        entry = self._entry(key, shown, text)
        with self._lock:
            self._uploads[key] = entry
            while len(self._uploads) > MAX_UPLOADS:
                self._uploads.popitem(last=False)
        return entry

    def _entry(self, key: str, source: str, text: str) -> Entry:
        data, lines, problems = read_yaml(text, source)
        if problems:
            raise ScenarioError(problems)
        if not isinstance(data, Mapping):
            raise ScenarioError(Problem(source, "", "a scenario must be a mapping with keys name, "
                                        "horizon, queues and pools"))
        data = dict(data)
        self.check_files(data, source, lines)
        scenario = parse_scenario(text, source, self.root)
        return Entry(key, source, data, lines, scenario)

    def validate(self, data: Mapping, source: str) -> Scenario:
        """``data`` checked (CSV files inside the directory) and built by the loader."""
        self.check_files(data, source, {})
        return parse_scenario(data, source, self.root)

    def check_files(self, data: Mapping, source: str, lines: Mapping[str, int]) -> None:
        """Refuse CSV files named by the scenario that lie outside the directory."""
        ctx = Context(source, lines)
        for path, name in _file_fields(data):
            if not isinstance(name, str):
                continue  # the loader reports a wrong type
            file = Path(name)
            if not file.is_absolute() and ".." not in file.parts:
                resolved = (self.root / file).resolve()
                if resolved.is_relative_to(self.root):
                    continue
            ctx.add(path, f"{name!r} is outside the served directory; the what-if page reads "
                          "files only from there")
        if ctx.problems:
            raise ScenarioError(ctx.problems)

    # --- saving ----------------------------------------------------------------------

    def reserve(self, stem: str) -> tuple[Path, Path]:
        """A new scenario file ``<stem>.yaml`` (created empty, never an existing one) and
        a results folder ``results/<stem>`` that does not exist yet."""
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_")[:60] or "what-if"
        folder = self.root / "results"
        if (folder.exists() or folder.is_symlink()) and not (
                folder.is_dir() and folder.resolve().is_relative_to(self.root)):
            raise InputError("the served directory's results folder is not a folder inside it; "
                             "refusing to save there")
        for k in range(1, 1000):
            name = stem if k == 1 else f"{stem}-{k}"
            yaml_path = self.root / f"{name}.yaml"
            results = self.root / "results" / name
            if results.exists() or results.is_symlink():
                continue
            try:
                fd = os.open(yaml_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
            except FileExistsError:
                continue
            os.close(fd)
            return yaml_path, results
        raise InputError(f"no free name for {stem!r} in the served directory")


def _file_fields(data: Mapping):
    """(field path, file name) of every CSV file the scenario data names."""
    queues = data.get("queues")
    for i, q in enumerate(queues if isinstance(queues, list) else []):
        arrivals = q.get("arrivals") if isinstance(q, Mapping) else None
        if isinstance(arrivals, Mapping) and "forecast_csv" in arrivals:
            yield f"queues[{i}].arrivals.forecast_csv", arrivals["forecast_csv"]
    campaigns = data.get("campaigns")
    for i, c in enumerate(campaigns if isinstance(campaigns, list) else []):
        contact_list = c.get("contact_list") if isinstance(c, Mapping) else None
        if isinstance(contact_list, Mapping) and "csv" in contact_list:
            yield f"campaigns[{i}].contact_list.csv", contact_list["csv"]
    pools = data.get("pools")
    for i, p in enumerate(pools if isinstance(pools, list) else []):
        staffing = p.get("staffing") if isinstance(p, Mapping) else None
        if isinstance(staffing, Mapping) and "per_interval_csv" in staffing:
            yield f"pools[{i}].staffing.per_interval_csv", staffing["per_interval_csv"]
