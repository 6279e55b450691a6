"""The core's spec sections and the structured :class:`Spec`."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Annotated, Any, Literal

import attrs
from cattrs.errors import AttributeValidationNote

from engine._core.cadence import Every
from engine._core.components import Component
from engine._core.spec.convert import ValueProblemError
from engine._core.spec.types import Between, Duration, NonNegativeFloat, NonNegativeInt, PositiveInt, Seed

if TYPE_CHECKING:
    from engine._core.plugins import Plugins

#: The longest folder name most filesystems allow, in bytes.
NAME_MAX_BYTES = 255


def run_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a run directory's name (one path segment), or ``None``."""
    if name in (".", ".."):
        return f"{name!r} names no folder of its own"
    if "/" in name or "\\" in name:
        return f"{name!r} contains a path separator"
    if any(unicodedata.category(char) == "Cc" for char in name):
        return f"{name!r} contains a control character"
    if len(name.encode("utf-8", "surrogatepass")) > NAME_MAX_BYTES:
        return f"{len(name.encode('utf-8', 'surrogatepass'))} bytes is longer than {NAME_MAX_BYTES}"
    return None


def _one_folder_name(instance: Any, attribute: attrs.Attribute[str], value: str) -> None:
    """attrs validator: the value is one path segment (a run name stays inside ``run.dir``)."""
    problem = run_name_problem(value)
    if problem is None:
        return
    error = ValueProblemError(f"{problem} — a run name must be one folder name inside run.dir "
                              "(no '/' or '\\', not '.' or '..', no control characters, at most 255 bytes)")
    # cattrs reads this note to report the key path (run.name), as for its own per-key errors
    error.add_note(AttributeValidationNote(f"Structuring @ attribute {attribute.name}", attribute.name, str))
    raise error


@attrs.define
class RunOptions:
    """[run]: what the run is called, where it writes, and how it is seeded."""

    name: str = attrs.field(default="", validator=_one_folder_name)
    """Run name; the run directory is ``<dir>/<name>``: one folder name (no ``/``, ``..``,
    control characters; at most 255 bytes). Default: the spec file's stem."""
    seed: Seed = 0
    """Seed for every random number generator the engine and its backends use: an integer
    from 0 to 2**31 - 1, the range every backend accepts (LightGBM's seed is a C ``int``)."""
    dir: str = "runs"
    """Folder that holds run directories."""
    plugins: list[str] = attrs.field(factory=list)
    """Local plugin modules to register, e.g. ``["my_pkg.my_plugin"]``."""
    description: str = ""
    """Free text recorded with the run."""


@attrs.define
class LoopOptions:
    """[loop]: limits, cadences and the policy for a non-finite loss."""

    max_epochs: PositiveInt | None = None
    """Stop after this many passes over the training data."""
    max_steps: PositiveInt | None = None
    """Stop after this many steps (optimizer steps for torch, boosting rounds for trees)."""
    max_time: Duration | None = None
    """Wall-time limit, e.g. ``"2h"`` or ``"30 min"``."""
    eval_every: Every | None = attrs.field(default=Every("epochs", 1))
    """``"N steps"``, ``"N epochs"`` or a duration; evaluation also runs at the end."""
    checkpoint_every: Every | None = None
    """Checkpoint cadence; a checkpoint is always written at the end and on SIGINT/SIGTERM."""
    log_every: Every = attrs.field(default=Every("steps", 10))
    """How often training metrics reach the host and the trackers."""
    on_nan: Literal["stop", "continue"] = "stop"
    """``stop``: a non-finite loss or model fails the run (exit 1) at any step, naming the last good
    checkpoint; nothing non-finite is checkpointed or exported. ``continue``: train on."""


@attrs.define
class CheckpointOptions:
    """[checkpoint]: where checkpoints go and which are kept."""

    storage: str = ""
    """Local path or URL (``s3://...`` needs engine-fsspec). Default: ``<run dir>/checkpoints``."""
    storage_options: dict[str, Any] = attrs.field(factory=dict)
    """Options for the storage component serving that URL."""
    keep_last: PositiveInt = 2
    """How many of the newest checkpoints to keep."""
    save_top_k: NonNegativeInt = 0
    """Also keep the k best checkpoints by ``monitor``."""
    monitor: str = ""
    """Metric ranking checkpoints for ``save_top_k`` and the ``best`` export."""
    mode: Literal["min", "max", "auto"] = "auto"
    """``auto``: ``max`` for accuracy-like names (accuracy, f1, auc, ...), else ``min``."""
    on_exit: bool = True
    """Write a checkpoint when the run ends or is interrupted."""
    asynchronous: bool = False
    """Write in a background thread; the loop waits only while state is copied to host memory."""
    on_error: Literal["warn", "fail"] = "warn"
    """A write of the run that fails (a checkpoint, an exported model, the metrics log, the summary):
    ``warn`` and keep training (the next save tries again), or ``fail`` the run. A run that wrote no
    checkpoint at all fails either way."""


@attrs.define
class EarlyStopOptions:
    """[early_stop]: stop when ``monitor`` has not improved for ``patience`` evaluations."""

    monitor: str = "val/loss"
    """Metric to watch; it must be among the evaluation metrics."""
    mode: Literal["min", "max", "auto"] = "auto"
    """``auto``: ``max`` for accuracy-like names, else ``min``."""
    patience: PositiveInt = 5
    """Evaluations without improvement before the run stops."""
    min_delta: NonNegativeFloat = 0.0
    """Smallest change that counts as an improvement."""


@attrs.define
class CvOptions:
    """[cv]: k-fold cross-validation, one run per fold, summarised as mean ± std."""

    folds: Annotated[int, Between(2, None)] = 5
    """Number of folds, at least 2; each fold trains in ``<run dir>/fold-<k>``."""
    stratified: bool = True
    """Stratify folds by label for classification (the backend says whether it is one)."""


CORE_SECTIONS: dict[str, type] = {
    "run": RunOptions,
    "loop": LoopOptions,
    "checkpoint": CheckpointOptions,
    "early_stop": EarlyStopOptions,
    "cv": CvOptions,
}
#: Sections that are off unless written in the spec.
OPTIONAL_SECTIONS = frozenset({"early_stop", "cv"})


@attrs.define
class Configured:
    """A component selected in the spec, with its structured options."""

    component: Component
    options: Any
    path: str
    """Where it was selected: ``backend``, ``tracker[1]``, ``checkpoint.storage``."""

    @property
    def name(self) -> str:
        return self.component.name


@attrs.define
class Spec:
    """A structured, validated spec."""

    run: RunOptions
    loop: LoopOptions
    checkpoint: CheckpointOptions
    early_stop: EarlyStopOptions | None
    cv: CvOptions | None
    components: dict[str, Configured | list[Configured] | None]
    """Selected components by kind: one (or ``None``) per kind, a list for ``tracker``."""
    sections: dict[str, Any]
    """Plugin sections, such as ``tune``, structured into their options classes."""
    raw: dict[str, Any]
    """The spec as TOML data after ``--set`` overrides: what ``spec.toml`` records."""
    source: str
    """The spec file's path, or ``<string>``."""
    plugins: Plugins | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    """The plugins it was structured with (they define its components and sections);
    :func:`engine.session.run` runs it with them."""

    @property
    def backend(self) -> Configured:
        backend = self.components["backend"]
        assert isinstance(backend, Configured)
        return backend

    def component(self, kind: str) -> Configured | None:
        value = self.components.get(kind)
        return value if isinstance(value, Configured) else None

    @property
    def trackers(self) -> list[Configured]:
        value = self.components.get("tracker") or []
        return value if isinstance(value, list) else [value]

    @property
    def checkpoint_monitor(self) -> str:
        """The metric that ranks checkpoints and picks the best model: ``checkpoint.monitor``,
        else ``early_stop.monitor``; empty when neither is set."""
        return self.checkpoint.monitor or (self.early_stop.monitor if self.early_stop else "")


def resolve_mode(mode: str, metric: str) -> Literal["min", "max"]:
    """``auto`` means ``max`` for metrics that grow when better (accuracy, f1, auc, ...)."""
    if mode in ("min", "max"):
        return mode  # type: ignore[return-value]
    name = metric.rsplit("/", 1)[-1].lower()
    grows = ("acc", "f1", "auc", "precision", "recall", "map", "ndcg", "r2", "score")
    return "max" if any(word in name for word in grows) else "min"
