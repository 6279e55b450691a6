"""``engine check`` for ``[tune]``: objectives, space, sampler and pruner, before any trial runs."""

from __future__ import annotations

from engine.spec.model import Spec
from engine_optuna import factories
from engine_optuna.objectives import objectives
from engine_optuna.options import TuneOptions
from engine_optuna.space import grid, parse_space
from engine_optuna.spec_paths import path_problem

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
    if not options.space:
        problems.append(f"tune.space: no parameters to search — add entries like {_SPACE_EXAMPLE}")
    params, space_problems = parse_space(options.space)
    problems += space_problems
    for param in params:
        reason = path_problem(spec, param.path)
        if reason is not None:
            problems.append(f"{param.where}: {reason}")
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
    return problems
