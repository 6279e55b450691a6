"""The W&B side: which mode, starting a run quietly, and shutting W&B's service down.

Every run is created with ``reinit="create_new"`` and used through its own object, never
``wandb.run``/``wandb.log``, so several trackers in one process write to separate runs.
W&B runs its work in a service process (``wandb-core``) that lives until ``wandb.teardown()``;
the last run of this process to finish tears it down, so nothing stays behind.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, cast

from engine import redact_text

Mode = Literal["online", "offline", "disabled"]
#: W&B's own spellings of its modes (``WANDB_MODE``), as this tracker's.
_MODES: dict[str, Mode] = {"online": "online", "run": "online", "offline": "offline", "dryrun": "offline",
                           "disabled": "disabled"}
_open_runs = 0


def resolve_mode(configured: str) -> tuple[Mode, str]:
    """The mode to run in, and why it was chosen when ``configured`` is ``auto``."""
    if configured != "auto":
        return cast(Mode, configured), ""
    from_env = os.environ.get("WANDB_MODE", "").strip().lower()
    if from_env in _MODES:
        return _MODES[from_env], ""
    if has_credentials():
        return "online", ""
    return "offline", "no W&B credentials (WANDB_API_KEY or `wandb login`)"


def has_credentials() -> bool:
    """Whether W&B would find an API key without asking: ``WANDB_API_KEY``, an identity token
    file, or the key ``wandb login`` stored in ``~/.netrc``."""
    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    try:
        import wandb
        from wandb.sdk.lib import wbauth

        return wbauth.read_netrc_auth(host=wandb.Settings().base_url) is not None
    except Exception:  # W&B moved its internals: no stored key found, the safe answer
        return False


def settings(mode: Mode) -> Any:
    """W&B settings for a tracker: nothing on the console, no git probing, no code copy."""
    import wandb

    # console="off": W&B neither wraps nor records the engine's own stdout/stderr.
    # disable_git: W&B would record the remote URL, credentials and all.
    return wandb.Settings(mode=mode, silent=True, quiet=True, console="off", disable_git=True,
                          save_code=False, disable_job_creation=True)


def start(*, mode: Mode, directory: Path, run_id: str, resume: bool, **init: Any) -> Any:
    """``wandb.init`` of run ``run_id`` writing under ``directory``; ``init`` are its other arguments."""
    global _open_runs
    import wandb

    run_settings = settings(mode)
    # The first W&B call of a process fixes its global settings: offline there too, or W&B's
    # usage telemetry would call its server even for an offline run.
    wandb.setup(settings=run_settings)
    directory.mkdir(parents=True, exist_ok=True)
    _open_runs += 1
    try:
        with _redacted_argv():
            return wandb.init(dir=str(directory), id=run_id, resume="allow" if resume else None,
                              reinit="create_new", settings=run_settings, mode=mode, **init)
    except BaseException:
        finished()
        raise


def finished() -> None:
    """One run of this process is done; the last one shuts W&B's service process down, unless
    the program itself uses W&B (its own ``wandb.run`` is open)."""
    global _open_runs
    _open_runs = max(0, _open_runs - 1)
    if _open_runs == 0:
        import wandb

        if wandb.run is None:
            wandb.teardown()


@contextlib.contextmanager
def _redacted_argv() -> Iterator[None]:
    """W&B records the command line (``--set password=...`` included) in its metadata."""
    saved = sys.argv
    sys.argv = [saved[0], *(redact_text(arg) for arg in saved[1:])] if saved else saved
    try:
        yield
    finally:
        sys.argv = saved
