"""The environment record, ``env.json``: what a run ran on, enough to recreate it.

The machine's part (every installed distribution as ``pip freeze`` sees it, the Python build,
the OS, the CPU, NVIDIA GPUs and their driver) is computed once per process and kept: a tuning
worker pays for it once, not per trial. It reads files only (``*.dist-info`` folder names,
``/proc``); it imports no library and starts no subprocess. The run's part (plugins, seeds,
``PYTHONHASHSEED``, the git state of the spec's folder, what plugins add through the
``engine_environment`` hook, the command line) is made per run; ``git`` runs once per folder
per process.

Paths under the user's home are written ``~/…``; URLs lose their user-info.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from engine._core.errors import PluginError
from engine._core.redact import redact_argv, redact_url

if TYPE_CHECKING:
    from engine._core.run import Run
    from engine._core.spec.model import Spec

#: Seconds ``git status`` may take before the record says nothing about git.
GIT_TIMEOUT = 5.0
_SEPARATORS = re.compile(r"[-_.]+")
_DRIVER = re.compile(r"Kernel Module\b.*?\s([0-9]+\.[0-9][0-9.]*)")


def record(run: Run) -> dict[str, Any]:
    """The run's ``env.json``: the machine (cached for the process) and the run's own facts."""
    machine = machine_record()
    return {
        "engine": machine["distributions"].get("engine", {}).get("version"),
        "python": platform.python_version(),
        **{key: value for key, value in machine.items() if key != "distributions"},
        "runtime": plugin_facts(run),
        "seeds": seeds(run),
        "pythonhashseed": os.environ.get("PYTHONHASHSEED"),
        "git": git_state(str(spec_folder(run.spec))),
        "plugins": dict(sorted(run.plugins.origins.items())),
        "engine_requires": requirement_versions("engine"),
        "argv": redact_argv(sys.argv),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "distributions": machine["distributions"],
    }


def record_json(run: Run) -> str:
    """``env.json``'s text: :func:`record` as :func:`engine._core.rundir.write_json` writes a
    document. The distributions, the bulk of it and the same for the whole process, are
    encoded once (:func:`_distributions_json`); a tuning worker's trials encode the rest."""
    document = record(run)
    del document["distributions"]  # the last key: its text goes last
    head = json.dumps(document, indent=2, allow_nan=True, default=str)
    return f'{head[:-2]},\n  "distributions": {_distributions_json(tuple(sys.path))}\n}}\n'


@functools.lru_cache(maxsize=8)
def _distributions_json(path: tuple[str, ...]) -> str:
    """:func:`distributions` as JSON one level into a document indented by two."""
    return json.dumps(distributions(path), indent=2).replace("\n", "\n  ")


def machine_record() -> dict[str, Any]:
    """Python, OS, CPU, GPUs and installed distributions; the same dict for the whole process
    (the distributions again if ``sys.path`` changed). Read it, do not change it."""
    return {**_fixed_machine(), "distributions": distributions(tuple(sys.path))}


@functools.cache
def _fixed_machine() -> dict[str, Any]:
    system = operating_system()
    libc = f"-with-{system['libc'].replace(' ', '')}" if system.get("libc") else ""
    return {
        "python_build": python_build(),
        "platform": f"{system['system']}-{system['release']}-{system['machine']}{libc}",
        "os": system,
        "cpu": cpu(),
        "gpu": nvidia_gpus(),
    }


# --------------------------------------------------------------------------- distributions


def canonical_name(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503): ``Foo_Bar`` -> ``foo-bar``."""
    return _SEPARATORS.sub("-", name).lower()


@functools.lru_cache(maxsize=8)
def distributions(path: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Every distribution installed on ``path`` (``sys.path``), by canonical name: its
    ``version`` and, where ``pip freeze`` would not print ``name==version``, where it came from:
    ``editable`` (a path), ``path`` (a local folder or file) or ``url`` (a VCS or archive URL).
    The first of one name on the path wins, as for imports. Only folder names are read, and
    ``direct_url.json``: milliseconds, where ``importlib.metadata`` parses every METADATA."""
    found: dict[str, dict[str, Any]] = {}
    for entry in path:
        folder = entry or "."
        try:
            names = sorted(os.listdir(folder))
        except OSError:  # a zip file, a path hook, a folder that is gone
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                project, facts = _distribution(folder, name)
                found.setdefault(project, facts)
    return dict(sorted(found.items()))


def _distribution(folder: str, name: str) -> tuple[str, dict[str, Any]]:
    """The canonical name and facts of the ``*.dist-info`` or ``*.egg-info`` entry ``name``."""
    meta = os.path.join(folder, name)
    stem, _, suffix = name.rpartition(".")
    project, _, version = stem.partition("-")
    if suffix == "dist-info":
        return canonical_name(project), {
            "version": version or _metadata_version(os.path.join(meta, "METADATA")), **_origin(meta)}
    pkg_info = os.path.join(meta, "PKG-INFO") if os.path.isdir(meta) else meta
    facts: dict[str, Any] = {"version": version.split("-")[0] or _metadata_version(pkg_info)}
    if os.path.basename(os.path.abspath(folder)) not in ("site-packages", "dist-packages"):
        facts["editable"] = private_path(os.path.abspath(folder))  # setup.py develop: the source folder
    return canonical_name(project), facts


def _metadata_version(path: str) -> str | None:
    """The ``Version:`` header of a METADATA or PKG-INFO file (the headers only)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if not line.strip():
                    break
                if line.startswith("Version:"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return None


def _origin(meta: str) -> dict[str, str]:
    """Where a distribution was installed from (PEP 610 ``direct_url.json``), when not an index."""
    try:
        with open(os.path.join(meta, "direct_url.json"), encoding="utf-8") as file:
            direct = json.load(file)
        url = str(direct["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if isinstance(direct.get("dir_info"), dict) and direct["dir_info"].get("editable"):
        return {"editable": _local(url)}
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs"):
        commit = vcs.get("commit_id")
        return {"url": redact_url(f"{vcs['vcs']}+{url}") + (f"@{commit}" if commit else "")}
    if url.startswith("file:"):
        return {"path": _local(url)}
    return {"url": redact_url(url)}


def _local(url: str) -> str:
    """A ``file:`` URL's path (home as ``~``); any other URL without its user-info."""
    if not url.startswith("file:"):
        return redact_url(url)
    if os.name == "nt":
        from urllib.request import url2pathname  # imports http.client: only where it is needed

        return private_path(url2pathname(urlparse(url).path))
    return private_path(unquote(urlparse(url).path))


def private_path(path: str) -> str:
    """``path`` with the user's home folder written ``~``."""
    home = os.path.expanduser("~")
    if home not in ("", "~", os.sep) and (path == home or path.startswith(home.rstrip(os.sep) + os.sep)):
        return "~" + path[len(home.rstrip(os.sep)):]
    return path


@functools.cache
def requirement_versions(distribution: str) -> dict[str, str | None]:
    """The installed version of each library ``distribution`` requires (extras left out)."""
    try:
        requires = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return {}
    installed = distributions(tuple(sys.path))
    out: dict[str, str | None] = {}
    for requirement in requires:
        if "extra ==" in requirement:
            continue
        name = re.split(r"[<>=!~\[ (;@]", requirement.strip(), maxsplit=1)[0]
        out[name] = installed.get(canonical_name(name), {}).get("version")
    return out


# --------------------------------------------------------------------------- the machine


def python_build() -> dict[str, Any]:
    """Version, implementation, compiler and build of this interpreter, and its path."""
    number, date = platform.python_build()
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "compiler": platform.python_compiler(),
        "build": f"{number}, {date}",
        "abiflags": getattr(sys, "abiflags", ""),
        "executable": private_path(sys.executable),
    }


def operating_system() -> dict[str, Any]:
    """System, release, kernel version, machine, libc and (Linux) the distribution's name."""
    uname = platform.uname()  # its ``processor`` (a subprocess on Linux) is never read
    facts: dict[str, Any] = {"system": uname.system, "release": uname.release, "version": uname.version,
                             "machine": uname.machine}
    if uname.system == "Linux":
        facts["libc"] = _libc()
        try:
            facts["distribution"] = platform.freedesktop_os_release().get("PRETTY_NAME")
        except OSError:
            facts["distribution"] = None
    elif uname.system == "Darwin":
        facts["macos"] = platform.mac_ver()[0] or None
    return facts


def _libc() -> str | None:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36", without reading the executable
    except (ValueError, OSError, AttributeError):
        name, version = platform.libc_ver()
        return f"{name} {version}".strip() or None


def cpu() -> dict[str, Any]:
    """The CPU model, logical CPU count and how many this process may use."""
    model: str | None = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "Hardware", "cpu model"):
                    model = value.strip() or None
                    break
    except OSError:
        model = platform.processor() or None  # not Linux: no /proc
    logical = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else logical
    return {"model": model, "logical": logical, "usable": usable}


def nvidia_gpus(root: Path = Path("/proc/driver/nvidia")) -> dict[str, Any] | None:
    """The NVIDIA driver version and the models of the GPUs this machine shows, read from the
    driver's ``/proc`` files (no library, no CUDA); ``None`` where there is no such driver."""
    try:
        version = (root / "version").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = _DRIVER.search(version)
    models = []
    for information in sorted((root / "gpus").glob("*/information")):
        try:
            text = information.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        models += [line.partition(":")[2].strip() for line in text.splitlines() if line.startswith("Model:")]
    return {"driver": match.group(1) if match else None, "models": models}


# --------------------------------------------------------------------------- the run


def seeds(run: Run) -> dict[str, int]:
    """The seeds the run drew from: ``run.seed``, and which fold of how many it is (a
    cross-validation splits the data with ``run.seed``)."""
    out = {"run": run.seed}
    if run.fold is not None:
        out["fold"], out["folds"] = run.fold
    return out


def plugin_facts(run: Run) -> dict[str, Any]:
    """What plugins add through ``engine_environment`` (``{"torch": {...}}``), merged. A plugin
    that fails here is a warning: the record is not worth a run."""
    try:
        results = run.plugins.call_scoped("engine_environment", lambda plugin: {})
    except PluginError as exc:
        run.warn(f"{exc} (env.json records no plugin facts)")
        return {}
    merged: dict[str, Any] = {}
    for result in results:
        if isinstance(result, dict):
            merged.update(result)
    return merged


def spec_folder(spec: Spec) -> Path:
    """The folder of the spec's file; the working directory for a spec given as text."""
    source = Path(spec.source)
    return source.resolve().parent if source.is_file() else Path.cwd()


@functools.lru_cache(maxsize=64)
def git_state(folder: str) -> dict[str, Any] | None:
    """``{"commit", "branch", "dirty"}`` of the git work tree ``folder`` is in; ``dirty``: a
    tracked file differs from the commit (untracked files, such as run directories, do not
    count). ``None`` when it is no work tree, git is missing or slower than
    :data:`GIT_TIMEOUT`. Once per folder per process: one ``git status``, taking no lock."""
    try:
        done = subprocess.run(
            ["git", "-C", folder, "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
            capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False, stdin=subprocess.DEVNULL,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    state: dict[str, Any] = {"commit": None, "branch": None, "dirty": False}
    for line in done.stdout.splitlines():
        if line.startswith("# branch.oid "):
            oid = line.split()[2]
            state["commit"] = None if oid == "(initial)" else oid
        elif line.startswith("# branch.head "):
            head = line.split()[2]
            state["branch"] = None if head == "(detached)" else head
        elif line and not line.startswith("#"):
            state["dirty"] = True
    return state
