"""``engine check`` for ``[tune]``: objectives, space, sampler and pruner, before any trial runs."""

from __future__ import annotations

from engine import EngineError, Spec, SpecError
from engine.session import RawSpec, path_problem, structure, value_problem
from engine_optuna import factories
from engine_optuna.devices import devices_problems
from engine_optuna.objectives import objectives
from engine_optuna.options import TuneOptions
from engine_optuna.resources import resource_problems
from engine_optuna.results import warn
from engine_optuna.space import Param, grid, parse_space
from engine_optuna.threads import threads_problems
from engine_optuna.trial_spec import trial_raw

_SPACE_EXAMPLE = '[tune.space] "backend.optimizer.lr" = { float = [1e-4, 1e-1], log = true }'


def tune_problems(spec: Spec) -> list[str]:
    """One line per problem of the spec's ``[tune]`` section (none if it has no such section)."""
    options = spec.sections.get("tune")
    if not isinstance(options, TuneOptions):
        return []
    problems: list[str] = []
    try:
        goals = objectives(options.metric, options.direction)
    except ValueError as exc:
        problems.append(str(exc))
        goals = []
    if len(goals) > 1 and options.pruner != "none":
        problems.append(f"tune.pruner: Optuna cannot prune a study with several metrics (Optuna #3450) "
                        f"— set pruner = \"none\" or optimise one metric, not {len(goals)}")
    elif spec.cv is not None and options.pruner != "none" and spec.loop.max_steps is None \
            and spec.loop.max_epochs is None:
        problems.append("tune.pruner: a pruned cross-validation ([cv]) needs each fold's length, to report "
                        "fold k after folds 0..k-1 — set loop.max_steps or loop.max_epochs, or pruner = \"none\"")
    if not options.space:
        problems.append(f"tune.space: no parameters to search — add entries like {_SPACE_EXAMPLE}")
    params, space_problems = parse_space(options.space)
    problems += space_problems
    for param in params:
        searches_tune = param.path == "tune" or param.path.startswith(("tune.", "tune["))
        reason = "[tune] itself cannot be searched" if searches_tune else path_problem(spec, param.path)
        if reason is not None:
            problems.append(f"{param.where}: {reason}")
            continue
        found = value_problems(spec, param)
        if not found and spec.plugins is not None:
            found, partly = combination_problems(spec, param)
            for line in partly:
                warn(line)
        problems += found
    if options.sampler == "grid":
        problems += grid(params)[1]
    for kind, name, kwargs in (("sampler", options.sampler, options.sampler_options),
                               ("pruner", options.pruner, options.pruner_options)):
        missing = factories.missing_libraries(kind, name)
        if missing:
            problems.append(f"tune.{kind}: {kind} {name!r} needs {' and '.join(missing)} — "
                            f"pip install {' '.join(missing)}, or choose another {kind}")
        else:
            problems += factories.option_problems(kind, name, kwargs)
    problems += resource_problems(options.pruner, options.pruner_options)
    problems += devices_problems(options.devices)
    problems += threads_problems(options.threads)
    return problems


def value_problems(spec: Spec, param: Param) -> list[str]:
    """The first bound or choice of ``param`` that its section's options refuse (``engine check``;
    ``engine tune`` structures whole trial specs, so cross-section checks run there too)."""
    for value in param.corners():
        problem = value_problem(spec, param.path, value, param.where)
        if problem is not None:
            return [problem]
    return []


def combination_problems(spec: Spec, param: Param) -> tuple[list[str], list[str]]:
    """Each bound or choice of ``param`` in a whole trial spec (the other values as the spec
    sets them), so that checks across sections run: a tuned warmup against a fixed run length.

    Every value refused: the space is wrong, a problem. Some refused: a warning, since the
    trials that sample them fail and the study goes on (``engine tune`` and ``engine check``
    print it alike).
    """
    raw = RawSpec(spec.raw, "", spec.source)
    refused: list[str] = []
    corners = param.corners()
    for value in corners:
        try:
            structure(trial_raw(raw, {param.path: value}, spec.run.name), spec.plugins)
        except SpecError as exc:
            refused.append(f"{param.where}: value {value!r} is refused by the spec: "
                           f"{exc.problems[0].removeprefix(f'{spec.source}: ')}")
        except EngineError as exc:
            refused.append(f"{param.where}: value {value!r} is refused by the spec: {exc}")
    if not refused:
        return [], []
    if len(refused) == len(corners):
        return refused[:1], []
    hint = "narrow the range" if param.kind != "categorical" else "drop that choice"
    return [], [f"{line} — trials that sample it fail and the study goes on; {hint}" for line in refused]
