"""Planted secrets for tests: unique values to put in a spec, and a search for any trace of them.

    secrets = PlantedSecrets()
    spec = f'password = "{secrets["password"]}"'
    ...
    assert secrets.leaks(files=[run_dir, tracker_store], texts=[result.out, result.err]) == []

Every planted value carries its own random marker, and a URL password is built from several
marked pieces joined by ``/``, ``@`` and ``:``, so a partly hidden value still shows up.
"""

from __future__ import annotations

import secrets as _random
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote


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

    def url_password(self, name: str) -> str:
        """A password with ``/``, ``@`` and ``:`` in it, each piece marked."""
        if name not in self.values:
            pieces = [f"PLANTED{_random.token_hex(6)}" for _ in range(4)]
            self.values[name] = f"{pieces[0]}/{pieces[1]}@{pieces[2]}:{pieces[3]}"
            self.markers[name] = pieces
        return self.values[name]

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
