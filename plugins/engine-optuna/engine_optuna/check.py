"""``engine check`` for ``[tune]``: objectives, space, sampler and pruner, before any trial runs."""

from __future__ import annotations

from engine import Spec
from engine.session import path_problem, value_problem
from engine_optuna import factories
from engine_optuna.devices import devices_problems
from engine_optuna.objectives import objectives
from engine_optuna.options import TuneOptions
from engine_optuna.resources import resource_problems
from engine_optuna.space import Param, grid, parse_space

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
        else:
            problems += value_problems(spec, param)
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
    return problems


def value_problems(spec: Spec, param: Param) -> list[str]:
    """The first bound or choice of ``param`` that its section's options refuse (``engine check``;
    ``engine tune`` structures whole trial specs, so cross-section checks run there too)."""
    for value in param.corners():
        problem = value_problem(spec, param.path, value, param.where)
        if problem is not None:
            return [problem]
    return []
