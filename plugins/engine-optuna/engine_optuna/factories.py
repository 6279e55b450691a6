"""Optuna samplers and pruners by their spec names; optional libraries checked up front."""

from __future__ import annotations

import importlib.util
import inspect
from typing import Any

from engine import EngineError
from engine_optuna.seeding import STUDY_WIDE_SEED, seeded_per_trial

SAMPLERS = {
    "tpe": "TPESampler", "random": "RandomSampler", "cmaes": "CmaEsSampler", "gp": "GPSampler",
    "nsga2": "NSGAIISampler", "grid": "GridSampler", "qmc": "QMCSampler",
}
PRUNERS = {
    "none": "NopPruner", "median": "MedianPruner", "percentile": "PercentilePruner",
    "successive-halving": "SuccessiveHalvingPruner", "hyperband": "HyperbandPruner",
    "wilcoxon": "WilcoxonPruner",
}
#: Libraries Optuna needs for a sampler or pruner beyond its own dependencies.
NEEDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("sampler", "cmaes"): ("cmaes",),
    ("sampler", "gp"): ("scipy", "torch"),
    ("sampler", "qmc"): ("scipy",),
    ("pruner", "wilcoxon"): ("scipy",),
}
#: Arguments the engine fills in itself.
_OWN_ARGUMENTS = {"sampler": {"search_space"}, "pruner": set()}
_DEFAULTS = {("pruner", "percentile"): {"percentile": 25.0}}


def missing_libraries(kind: str, name: str) -> list[str]:
    """Libraries the component needs that are not installed (checked without importing them)."""
    return [lib for lib in NEEDS.get((kind, name), ()) if importlib.util.find_spec(lib) is None]


def option_problems(kind: str, name: str, options: dict[str, Any]) -> list[str]:
    """Unknown keyword arguments in ``tune.<kind>_options`` (imports Optuna only if there are any)."""
    if not options:
        return []
    valid = sorted(set(_parameters(kind, name)) - _OWN_ARGUMENTS[kind])
    return [
        f"tune.{kind}_options.{key}: {kind} {name!r} has no option {key!r} — valid: {', '.join(valid) or 'none'}"
        for key in options if key not in valid
    ]


def build_sampler(name: str, options: dict[str, Any], seed: int, grid: dict[str, list[Any]] | None) -> Any:
    """The sampler, seeded from ``options["seed"]`` or ``seed`` (the study's seed): per trial
    (:mod:`engine_optuna.seeding`) where the sampler allows it, else once for the study."""
    kwargs = dict(options)
    if name == "grid":
        kwargs["search_space"] = grid
    if "seed" not in _parameters("sampler", name):
        return _build("sampler", name, kwargs)
    study_seed = kwargs.pop("seed", seed)
    if name in STUDY_WIDE_SEED:
        return _build("sampler", name, {**kwargs, "seed": study_seed})
    return seeded_per_trial(lambda trial_seed: _build("sampler", name, {**kwargs, "seed": trial_seed}), study_seed)


def build_pruner(name: str, options: dict[str, Any]) -> Any:
    """The pruner, reading the study once per trial (:mod:`engine_optuna.pruning`)."""
    from engine_optuna.pruning import shared_read

    return shared_read(_build("pruner", name, {**_DEFAULTS.get(("pruner", name), {}), **options}))


def _class(kind: str, name: str) -> Any:
    import optuna

    module = optuna.samplers if kind == "sampler" else optuna.pruners
    return getattr(module, (SAMPLERS if kind == "sampler" else PRUNERS)[name])


def _parameters(kind: str, name: str) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(_class(kind, name)).parameters)


def _build(kind: str, name: str, kwargs: dict[str, Any]) -> Any:
    missing = missing_libraries(kind, name)
    if missing:
        raise EngineError(f"{kind} {name!r} needs {' and '.join(missing)}, which is not installed",
                          where=f"tune.{kind}", fix=f"pip install {' '.join(missing)}, or choose another {kind}")
    try:
        return _class(kind, name)(**kwargs)
    except (TypeError, ValueError) as exc:
        raise EngineError(f"Optuna rejected the {kind} {name!r}: {exc}", where=f"tune.{kind}_options",
                          fix="check the options against Optuna's documentation of this " + kind) from None
