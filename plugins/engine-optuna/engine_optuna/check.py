"""``engine check`` for ``[tune]``: objectives, space, sampler and pruner, before any trial runs."""

from __future__ import annotations

import copy
from typing import Any

from cattrs.errors import BaseValidationError

from engine import Configured, Spec
from engine._core.spec.convert import converter, problems_of
from engine._core.spec.model import CORE_SECTIONS
from engine._core.spec.overrides import set_path
from engine.session import Plugins
from engine_optuna import factories
from engine_optuna.objectives import objectives
from engine_optuna.options import TuneOptions
from engine_optuna.space import Param, grid, parse_space
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
    return problems


def check_set_up(spec: Spec, plugins: Plugins) -> None:
    """Set the tuned spec up as a trial would and give it back, writing nothing: what every
    trial would refuse (a tune metric the backend does not report, data it cannot load) is
    refused before the study or any trial exists."""
    from engine._core.execute import set_up, tear_down
    from engine.session import run_dir_for

    tear_down(set_up(spec, plugins, run_dir_for(spec), console="quiet"), status="completed")


def value_problems(spec: Spec, param: Param) -> list[str]:
    """The first bound or choice of ``param`` that its section's options refuse (``engine check``;
    ``engine tune`` structures whole trial specs, so cross-section checks run there too)."""
    head = param.path.split(".", 1)[0]
    configured = spec.components.get(head)
    if isinstance(configured, Configured):
        cls: Any = configured.component.options
    elif head in CORE_SECTIONS:
        cls = CORE_SECTIONS[head]
    elif head in spec.sections:
        cls = type(spec.sections[head])
    else:
        return []
    for value in param.corners():
        data = copy.deepcopy(spec.raw)
        set_path(data, param.path, value, where=param.where)
        component = isinstance(configured, Configured)
        section = {k: v for k, v in data.get(head, {}).items() if not (component and k == "use")}
        try:
            converter().structure(section, cls)
        except BaseValidationError as exc:
            path, message = problems_of(exc, cls, head)[0]
            return [f"{param.where}: value {value!r} is refused by the spec: {path}: {message}"]
    return []
