"""Keep the versions of every distribution in this repository in step.

    python tools/versions.py check        # exit 1 if any version differs from the core's
    python tools/versions.py set 0.2.0    # rewrite every version (and engine.__version__)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION_LINE = re.compile(r'^version = "([^"]+)"$', re.M)
CORE_VERSION = re.compile(r'^__version__ = "([^"]+)"$', re.M)


def pyprojects() -> list[Path]:
    found = [ROOT / "pyproject.toml"]
    for folder in ("plugins", "examples/plugins"):
        found += sorted((ROOT / folder).glob("*/pyproject.toml"))
    return found


def versions() -> dict[str, str]:
    out = {}
    for path in pyprojects():
        match = VERSION_LINE.search(path.read_text())
        out[str(path.relative_to(ROOT))] = match.group(1) if match else "missing"
    match = CORE_VERSION.search((ROOT / "engine/_core/__init__.py").read_text())
    out["engine/_core/__init__.py"] = match.group(1) if match else "missing"
    return out


def check() -> int:
    found = versions()
    core = found["pyproject.toml"]
    wrong = {path: version for path, version in found.items() if version != core}
    for path, version in sorted(wrong.items()):
        print(f"{path}: version {version}, the core is {core} — run: python tools/versions.py set {core}")
    if not wrong:
        print(f"all {len(found)} versions are {core}")
    return 1 if wrong else 0


def set_version(version: str) -> int:
    if not re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)?", version):
        print(f"not a version: {version!r}")
        return 2
    for path in pyprojects():
        text = path.read_text()
        path.write_text(VERSION_LINE.sub(f'version = "{version}"', text, count=1))
    init = ROOT / "engine/_core/__init__.py"
    init.write_text(CORE_VERSION.sub(f'__version__ = "{version}"', init.read_text(), count=1))
    return check()


def main(argv: list[str]) -> int:
    if argv[:1] == ["check"]:
        return check()
    if len(argv) == 2 and argv[0] == "set":
        return set_version(argv[1])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
