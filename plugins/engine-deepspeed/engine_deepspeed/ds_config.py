"""The engine's settings as a DeepSpeed config, merged with the user's JSON (no deepspeed import).

The engine owns precision, gradient accumulation, gradient clipping, the micro-batch size,
the optimizer and the learning-rate schedule; DeepSpeed is told them through its config.
A JSON file may add any other DeepSpeed setting, but where it sets one the engine owns to
another value, the run is refused with one line naming both (never a silent choice).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine_deepspeed.options import DeepSpeedOptions

WHERE = "strategy"
DEFAULT_STAGE = 2
#: The engine's precision modes DeepSpeed can run, and the config section each enables.
PRECISIONS: dict[str, str | None] = {"32-true": None, "bf16-mixed": "bf16", "16-mixed": "fp16"}
#: Sections DeepSpeed would use instead of the engine's own components.
OWNED_SECTIONS = {"optimizer": "[backend] optimizer", "scheduler": "[scheduler]"}


class ConfigFileError(ValueError):
    """The user's DeepSpeed JSON cannot be read."""


def read_user_config(options: DeepSpeedOptions) -> dict[str, Any]:
    """The ``config`` file as a dict (``{}`` without one); :class:`ConfigFileError` if unreadable."""
    if not options.config:
        return {}
    path = Path(options.config)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigFileError(f"{WHERE}.config: no file {options.config!r} (paths are relative to the "
                            "working directory) — fix the path or remove config") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigFileError(f"{WHERE}.config: {options.config!r} is not a JSON file ({exc}) — fix it") from None
    if not isinstance(value, dict):
        raise ConfigFileError(f"{WHERE}.config: {options.config!r} holds {type(value).__name__}, not a JSON "
                            "object — write a DeepSpeed config object")
    return value


def engine_settings(options: DeepSpeedOptions, user: dict[str, Any], *, precision: str | None,
                    accumulate: int, clip_norm: float | None, micro_batch: int | None) -> dict[str, Any]:
    """What the engine sets, as dotted DeepSpeed keys and their values."""
    section = PRECISIONS.get(precision or "32-true")
    stage = options.zero_stage if options.zero_stage is not None else _get(user, "zero_optimization.stage")
    settings: dict[str, Any] = {
        "bf16.enabled": section == "bf16",
        "fp16.enabled": section == "fp16",
        "gradient_accumulation_steps": accumulate,
        "gradient_clipping": float(clip_norm) if clip_norm is not None else 0.0,
        "zero_optimization.stage": stage if stage is not None else DEFAULT_STAGE,
    }
    if micro_batch is not None:
        settings["train_micro_batch_size_per_gpu"] = micro_batch
    if options.offload_optimizer:
        settings["zero_optimization.offload_optimizer.device"] = "cpu"
    if options.offload_param:
        settings["zero_optimization.offload_param.device"] = "cpu"
    return settings


def conflicts(user: dict[str, Any], settings: dict[str, Any], *, source: str, precision: str | None = None,
              global_batch: int | None = None) -> list[str]:
    """One line per setting of the user's JSON that disagrees with the engine's."""
    problems = []
    mode = f'[precision] use = "{precision or "32-true"}"'
    named = {"bf16.enabled": mode, "fp16.enabled": mode,
             "gradient_accumulation_steps": "backend.accumulate", "gradient_clipping": "backend.clip_norm",
             "zero_optimization.stage": "strategy.zero_stage",
             "train_micro_batch_size_per_gpu": "backend.batch_size / processes",
             "zero_optimization.offload_optimizer.device": "strategy.offload_optimizer",
             "zero_optimization.offload_param.device": "strategy.offload_param"}
    aliases = {"bf16.enabled": ("bf16.enabled", "bfloat16.enabled")}
    for key, ours in settings.items():
        for alias in aliases.get(key, (key,)):
            theirs = _get(user, alias)
            if theirs is not None and not _same(theirs, ours):
                problems.append(f"{WHERE}.config: {source} sets {alias} = {json.dumps(theirs)} but "
                                f"{named[key]} means {json.dumps(ours)} — remove {alias} from {source} "
                                "(the engine sets it) or change the spec")
    batch = user.get("train_batch_size")
    if batch is not None and global_batch is not None and batch != global_batch:
        problems.append(f"{WHERE}.config: {source} sets train_batch_size = {json.dumps(batch)} but the spec "
                        f"means {global_batch} (backend.batch_size x backend.accumulate) — remove "
                        f"train_batch_size from {source}")
    for section, owner in OWNED_SECTIONS.items():
        if section in user:
            problems.append(f"{WHERE}.config: {source} has an {section!r} section, which {owner} of the spec "
                            f"sets — remove it from {source}")
    return problems


def spec_problems(options: DeepSpeedOptions, *, precision: str | None, accumulate: int, clip_norm: float | None,
                  clip_value: float | None, compile_model: bool, batch_size: Any = None) -> list[str]:
    """Everything ``engine check`` refuses about a deepspeed spec, one line each."""
    problems = []
    if precision is not None and precision not in PRECISIONS:
        problems.append(f'precision: {precision!r} does not run under deepspeed — use "bf16-mixed", '
                        '"16-mixed" or "32-true" (DeepSpeed keeps float32 master weights itself)')
    if clip_value is not None:
        problems.append("backend.clip_value: DeepSpeed clips the gradients' norm only — use clip_norm")
    if compile_model:
        problems.append("backend.compile: not with deepspeed here — set compile = false (DeepSpeed's "
                        "engine is not compiled through the torch backend)")
    try:
        user = read_user_config(options)
    except ConfigFileError as exc:
        return [*problems, str(exc)]
    settings = engine_settings(options, user, precision=precision, accumulate=accumulate,
                               clip_norm=clip_norm, micro_batch=None)
    if settings["zero_optimization.stage"] not in (1, 2, 3):
        problems.append(f"strategy.config: {options.config} sets zero_optimization.stage = "
                        f"{json.dumps(settings['zero_optimization.stage'])} — use ZeRO stage 1, 2 or 3")
    elif options.offload_param and settings["zero_optimization.stage"] != 3:
        problems.append("strategy.offload_param: parameters are offloaded by ZeRO stage 3 only — "
                        "set zero_stage = 3 or offload_param = false")
    global_batch = batch_size * accumulate if isinstance(batch_size, int) else None
    return problems + conflicts(user, settings, source=options.config or "config", precision=precision,
                                global_batch=global_batch)


def build(options: DeepSpeedOptions, *, precision: str | None, accumulate: int, clip_norm: float | None,
          micro_batch: int) -> dict[str, Any]:
    """The config passed to ``deepspeed.initialize``: the user's JSON with the engine's settings."""
    config = read_user_config(options)
    settings = engine_settings(options, config, precision=precision, accumulate=accumulate,
                               clip_norm=clip_norm, micro_batch=micro_batch)
    for key, value in settings.items():
        _put(config, key, value)
    config.pop("train_batch_size", None)  # DeepSpeed derives it from the micro-batch, accumulation and processes
    if options.offload_optimizer or options.offload_param:
        # the engine's optimizer is a torch one: let DeepSpeed run it on the offloaded state
        config.setdefault("zero_force_ds_cpu_optimizer", False)
    config.setdefault("steps_per_print", 2**31 - 1)  # the engine logs; DeepSpeed stays quiet
    return config


def _get(config: dict[str, Any], dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _put(config: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        child = config.get(part)
        if not isinstance(child, dict):
            child = config[part] = {}
        config = child
    config[last] = value


def _same(theirs: Any, ours: Any) -> bool:
    if theirs == "auto":  # Hugging Face's convention: the trainer (here the engine) fills it in
        return True
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return bool(theirs) == bool(ours) if isinstance(theirs, bool) else False
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        return float(theirs) == float(ours)
    return bool(theirs == ours)
