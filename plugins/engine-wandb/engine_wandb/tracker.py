"""The ``wandb`` tracker: one W&B run per engine run, continued across resumes.

The W&B run starts with the run (``on_run_start``), its config the effective spec with
secrets redacted. Every metric goes to ``run.log`` at its step; at the end the summary gets
``summary.json``'s metrics, best value and status, the exported models become versions of
the artifact ``model-<id>``, and ``finish`` gets the run's exit code, so a failed run is
failed in W&B too.

Resume: ``state_dict`` holds the W&B run id. The resumed process continues that id (W&B
writes a new segment, ``wandb sync`` uploads the segments as one run). It finds the last
step the run already holds (in W&B's transaction logs in ``dir``, and on the server when
online), sends the points after it up to the checkpoint from ``metrics.jsonl`` (a killed
process loses what W&B's service had not written yet), then skips every new point at or
below that step: W&B refuses steps below its current one, and the interrupted process may
have logged past its checkpoint. With an exact resume the skipped points equal the
recomputed ones, so W&B holds each step once, none missing.

The core's tracker guard calls these methods on the main process only, and turns a
failure into one warning (or a failed run with ``strict = true``); W&B's run and service
process are shut down on the way.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import string
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine import CheckpointInfo, Run, RunFiles, redact
from engine_wandb import wandb_side
from engine_wandb.options import WandbOptions
from engine_wandb.transaction_log import last_step


class WandbTracker:
    """Writes one W&B run per engine run."""

    def __init__(self, options: WandbOptions):
        self.options = options
        self.wandb: Any = None  # the wandb Run
        self.run_id = ""  # restored from a checkpoint: the run to continue
        self.skip_through = -1  # points at or below this step are not sent (W&B holds them or a later one)
        self.mode: wandb_side.Mode = "offline"

    # ------------------------------------------------------------------ events

    def on_run_start(self, run: Run) -> None:
        if not run.resuming:  # a resume starts once the checkpoint named the W&B run
            self._start(run, resume=False)

    def on_resume(self, run: Run, checkpoint: CheckpointInfo) -> None:
        self._start(run, resume=bool(self.run_id))
        # What the W&B run lacks up to the checkpoint (W&B's service buffers its writes and a
        # killed process loses them; a run that only now gained this tracker has none of it)
        # is in metrics.jsonl, which holds every point up to the checkpoint.
        with self._closing_on_error():
            for step, metrics in logged_points(run.dir / RunFiles.METRICS, self.options.log_every):
                if self.skip_through < step <= checkpoint.step:
                    self.on_log(run, metrics, step)

    def on_log(self, run: Run, metrics: dict[str, float], step: int) -> None:
        if self.wandb is None or step <= self.skip_through:
            return
        with self._closing_on_error():
            self.wandb.log(metrics, step=step)
        # W&B merges points logged at one step and drops (with a warning) steps below it
        self.skip_through = step - 1

    def on_run_end(self, run: Run, status: str) -> None:
        if self.wandb is None:
            return
        with self._closing_on_error():
            summary = run.summary()
            self.wandb.summary.update({
                **run.metrics, "best": dict(run.best),
                "engine": {"status": str(summary["status"]), "reason": summary["reason"],
                           "exit_code": summary["exit_code"], "steps": summary["steps"],
                           "epochs": summary["epochs"], "seconds": summary["seconds"]},
            })
            if self.options.log_model:
                self._log_models(run)
            self._finish(int(summary["exit_code"] or 0))

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        return {"run_id": str(getattr(self.wandb, "id", "") or self.run_id)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.run_id = str(state.get("run_id", ""))

    # ------------------------------------------------------------------ W&B

    def directory(self, run: Run) -> Path:
        """Where W&B writes (``<dir>/wandb/...``): ``dir``, else the run directory."""
        return Path(self.options.dir) if self.options.dir else run.dir

    def _start(self, run: Run, *, resume: bool) -> None:
        self.mode, why = wandb_side.resolve_mode(self.options.mode)
        options, spec = self.options, run.spec
        directory = self.directory(run)
        run_id = self.run_id if resume else new_run_id()
        if resume:
            self.skip_through = last_step(directory / "wandb", run_id)
        fold = f"-fold{run.fold[0]}" if run.fold else ""
        self.wandb = wandb_side.start(
            mode=self.mode, directory=directory, run_id=run_id, resume=resume,
            project=options.project or os.environ.get("WANDB_PROJECT") or spec.run.name, entity=options.entity or None,
            name=options.name or spec.run.name + fold,
            group=options.group or (spec.run.name if run.fold else None),
            tags=options.tags or None, notes=options.notes or spec.run.description or None,
            config=redact(spec.raw), job_type="train",
        )
        if self.mode == "online" and resume:  # the server's next step, where it holds more than the files here
            self.skip_through = max(self.skip_through, int(self.wandb.step) - 1)
        if why and run.console != "quiet":
            print(f"engine: wandb: offline, {why}: upload later with `wandb sync {directory / 'wandb'}`",
                  file=sys.stderr, flush=True)

    def _log_models(self, run: Run) -> None:
        import wandb

        for tag, location in run.exports.items():
            path = Path(location).resolve()  # `wandb sync` may run from another folder
            if not path.exists():
                continue
            metadata: dict[str, Any] = {"tag": tag, "step": run.step, "engine_run": run.spec.run.name}
            if tag == "best" and run.best:
                metadata["best"] = dict(run.best)
            artifact = wandb.Artifact(f"model-{self.wandb.id}", type="model", metadata=metadata)
            # "immutable": W&B reads the file where the run directory keeps it, without a copy
            if path.is_dir():
                artifact.add_dir(str(path), policy="immutable", skip_cache=True)
            else:
                artifact.add_file(str(path), policy="immutable", skip_cache=True)
            self.wandb.log_artifact(artifact, aliases=[tag])

    def _finish(self, exit_code: int) -> None:
        wandb_run, self.wandb = self.wandb, None
        try:
            wandb_run.finish(exit_code=exit_code)
        finally:
            wandb_side.finished()

    @contextlib.contextmanager
    def _closing_on_error(self) -> Iterator[None]:
        """A failure disables the tracker: end the W&B run (failed) and its service on the way."""
        try:
            yield
        except Exception:
            if self.wandb is not None:
                with contextlib.suppress(Exception):
                    self._finish(1)
            raise


def new_run_id() -> str:
    """A W&B run id as W&B makes them: 8 lowercase letters and digits."""
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))


def logged_points(path: Path, log_every: int | None) -> list[tuple[int, dict[str, float]]]:
    """``(step, metrics)`` of each record in ``metrics.jsonl`` that the tracker would have been
    sent (training metrics only every ``log_every`` steps, as the core's guard sends them)."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
            step = int(record.pop("step"))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a line cut short by a kill
        record.pop("epoch", None)
        record.pop("time", None)
        metrics = {name: float(value) for name, value in record.items()}
        training = all(name.startswith("train/") or name == "lr" for name in metrics)
        if metrics and not (training and log_every and step % log_every):
            out.append((step, metrics))
    return out
