"""Planted secrets for tests: unique values to put in a spec, and a search for any trace of them.

    secrets = PlantedSecrets()
    spec = f'password = "{secrets["password"]}"'
    ...
    assert secrets.leaks(files=[run_dir, tracker_store], texts=[result.out, result.err]) == []

Every planted value carries its own random marker, and a URL password is built from several
marked pieces joined by ``/``, ``@`` and ``:``, so a partly hidden value still shows up.

:data:`LEAKY_PLUGIN` is a local plugin with a tracker ``leaky`` whose options take secrets of
every shape and whose "client library" repeats them all, as real ones do: in log records,
warnings, prints and the exception it raises at every log (``fail_on_log = false`` to keep it
quiet). :meth:`PlantedSecrets.leaky_tracker` writes its ``[[tracker]]`` table.
"""

from __future__ import annotations

import secrets as _random
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

LEAKY_PLUGIN = '''
import logging, sys, warnings
from typing import Any

import attrs
import engine
from engine._core.tracking import TrackerOptions


@attrs.define(kw_only=True)
class LeakyOptions(TrackerOptions):
    url: str = ""
    headers: dict[str, Any] = attrs.field(factory=dict)
    pwd: str = ""
    auth: str = ""
    sas: str = ""
    password_number: int = 0
    client_kwargs: dict[str, Any] = attrs.field(factory=dict)
    fail_on_build: bool = False
    fail_on_log: bool = True


class LeakyTracker:
    def __init__(self, options):
        self.options = options
        if options.fail_on_build:
            raise ValueError(f"bad settings {attrs.asdict(options)}")

    def on_log(self, run, metrics, step):
        if not self.options.fail_on_log:
            return
        everything = attrs.asdict(self.options)
        logging.getLogger("leaky.client").warning("retrying %s with %s", self.options.url, everything)
        warnings.warn(f"insecure request to {self.options.url}: {everything}")
        print(f"POST {self.options.url} {everything}", file=sys.stderr)
        print(f"POST {self.options.url} {everything}")
        raise ConnectionError(f"cannot reach {self.options.url}: {everything}")


@engine.hookimpl
def engine_register_components(registry):
    registry.add("tracker", "leaky", LeakyTracker, options=LeakyOptions)
'''


def write_leaky_plugin(folder: Path, module: str = "leaky") -> None:
    """Write :data:`LEAKY_PLUGIN` as ``<folder>/<module>.py`` (put ``module`` in ``run.plugins``)."""
    (folder / f"{module}.py").write_text(LEAKY_PLUGIN)


class PlantedSecrets:
    """Unique secret values by name (``secrets["pwd"]``), created on first use."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.markers: dict[str, list[str]] = {}

    def __getitem__(self, name: str) -> str:
        if name not in self.values:
            marker = f"PLANTED{_random.token_hex(6)}"
            self.values[name] = marker
            self.markers[name] = [marker]
        return self.values[name]

    def number(self, name: str) -> int:
        """A secret that is a number (its digits are the marker)."""
        if name not in self.values:
            value = 7_000_000_000 + _random.randbelow(999_999_999)
            self.values[name] = str(value)
            self.markers[name] = [str(value)]
        return int(self.values[name])

    def url_password(self, name: str, separators: str = "/@:") -> str:
        """A password with ``separators`` in it (by default ``/``, ``@`` and ``:``), each piece marked."""
        if name not in self.values:
            pieces = [f"PLANTED{_random.token_hex(6)}" for _ in range(len(separators) + 1)]
            joined = (sep + piece for sep, piece in zip(separators, pieces[1:], strict=True))
            self.values[name] = pieces[0] + "".join(joined)
            self.markers[name] = pieces
        return self.values[name]

    def leaky_tracker(self, extra: str = "") -> str:
        """A ``[[tracker]] use = "leaky"`` table holding planted secrets of every shape."""
        return "\n".join([
            "[[tracker]]",
            'use = "leaky"',
            f'url = "http://alice:{self.url_password("url password")}@127.0.0.1:9/hook"',
            f'pwd = "{self["pwd"]}"',
            f'auth = "{self["auth"]}"',
            f'sas = "{self["sas"]}"',
            f"password_number = {self.number('password_number')}",
            f'headers = {{ Authorization = "Bearer {self["Authorization"]}", "X-Api-Key" = "{self["X-Api-Key"]}" }}',
            f'client_kwargs = {{ headers = {{ Authorization = "{self["client_kwargs.headers.Authorization"]}" }}, '
            f'passwd = ["{self["client_kwargs.passwd"]}"] }}',
            extra, "",
        ])

    def overrides(self, tracker: int = 0) -> list[str]:
        """Command-line arguments setting two more secrets of the leaky tracker ``tracker``."""
        return ["--set", f'tracker[{tracker}].headers.bearer="{self["--set bearer"]}"',
                f'--set=tracker.{tracker}.headers.cookie="{self["--set= cookie"]}"']

    def leaks(self, *, files: Iterable[Path] = (), texts: Iterable[str] = ()) -> list[str]:
        """``"<secret name> in <where>"`` for every trace of a planted value; ``[]`` when none."""
        needles = {name: [m.encode() for m in markers] + [quote(v, safe="").encode()]
                   for name, markers in self.markers.items() for v in [self.values[name]]}
        found = []
        for root in files:
            for path in sorted([root] if root.is_file() else root.rglob("*")):
                if path.is_file():
                    data = path.read_bytes()
                    found += [f"{name} in {path}" for name, ns in needles.items() if any(n in data for n in ns)]
        for index, text in enumerate(texts):
            data = text.encode()
            found += [f"{name} in output #{index}" for name, ns in needles.items() if any(n in data for n in ns)]
        return found
