"""The exported model as an MLflow model of its library's flavour.

The flavour is picked from the backend's name and the exported file's suffix; a backend it
does not know (``testing``, a plugin's own) has none, and its files stay plain artifacts.
Each model is read back with its library's own safe loader from the file this run wrote
(safetensors for torch, the boosters' native formats, skops with the types the file names
only when they come from the estimator's own libraries, joblib only for the run's own file),
then written with ``mlflow.<flavour>.save_model`` into a folder the tracker uploads.

Every library is imported here, inside the functions: the tracker works with only engine,
engine-mlflow and mlflow installed.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from engine import EngineError


@attrs.frozen
class Flavour:
    """An MLflow flavour: ``module`` (``mlflow.xgboost``), the exported suffixes it reads, its
    loader, and the distributions the logged model needs."""

    name: str
    suffixes: tuple[str, ...]
    load: Callable[[Path], Any]
    requirements: tuple[str, ...]
    #: extra arguments of ``save_model`` for a loaded model
    options: Callable[[Any], dict[str, Any]] = lambda model: {}

    @property
    def module(self) -> str:
        return f"mlflow.{self.name}"


def _torch(path: Path) -> Any:
    from engine_torch import load_model

    # the run wrote this file from the model its own spec names: rebuilding it imports that code
    return load_model(path, trust_code=True)


def _xgboost(path: Path) -> Any:
    import xgboost

    booster = xgboost.Booster()
    booster.load_model(str(path))
    return booster


def _lightgbm(path: Path) -> Any:
    import lightgbm

    return lightgbm.Booster(model_file=str(path))


def _catboost(path: Path) -> Any:
    import catboost

    return catboost.CatBoost().load_model(str(path), format="cbm")


#: Top-level modules whose types a skops file may hold without being reviewed.
_SKOPS_TRUSTED_ROOTS = ("sklearn", "numpy", "scipy")


def _sklearn(path: Path) -> Any:
    if path.suffix == ".joblib":
        import joblib

        return joblib.load(path)  # pickle: only ever the file this run wrote
    import skops.io as sio

    return sio.load(path, trusted=_skops_trusted(sio.get_untrusted_types(file=path), str(path)))


def _skops_trusted(untrusted: list[str], what: str) -> list[str]:
    """``untrusted`` when every type comes from scikit-learn, numpy or scipy; else an error."""
    unknown = [name for name in untrusted if name.split(".")[0] not in _SKOPS_TRUSTED_ROOTS]
    if unknown:
        raise EngineError(f"{what} holds types skops does not trust and engine-mlflow will not load: "
                          f"{', '.join(sorted(unknown))}",
                          fix="log the model yourself, or export it with backend.export = \"joblib\"")
    return untrusted


def _sklearn_options(model: Any) -> dict[str, Any]:
    """MLflow's skops format where skops is installed, trusting the same types as the loader."""
    try:
        import skops.io as sio
    except ImportError:
        return {}
    trusted = _skops_trusted(sio.get_untrusted_types(data=sio.dumps(model)), "the estimator")
    return {"serialization_format": "skops", "skops_trusted_types": trusted}


#: backend name (``[backend] use``) -> its flavour
FLAVOURS: dict[str, Flavour] = {
    "torch": Flavour("pytorch", (".safetensors",), _torch, ("torch", "safetensors")),
    "xgboost": Flavour("xgboost", (".json", ".ubj"), _xgboost, ("xgboost", "xgboost-cpu")),
    "lightgbm": Flavour("lightgbm", (".txt",), _lightgbm, ("lightgbm",)),
    "catboost": Flavour("catboost", (".cbm",), _catboost, ("catboost",)),
    "sklearn": Flavour("sklearn", (".skops", ".joblib"), _sklearn, ("scikit-learn", "skops"), _sklearn_options),
}


def flavour_of(backend: str, exported: Path) -> Flavour | None:
    """The flavour for ``backend``'s exported file, or None (a backend or format it does not know)."""
    flavour = FLAVOURS.get(backend)
    if flavour is None or exported.suffix not in flavour.suffixes:
        return None
    return flavour


def save(flavour: Flavour, exported: Path, into: Path, input_example: Any = None) -> None:
    """Write ``exported`` as an MLflow model folder ``into`` (which must not exist yet).

    An input example gives the model its signature (MLflow infers it by predicting on the
    example). The requirements are the installed versions, named explicitly: MLflow's own
    inference would import the model in a subprocess, seconds per run.
    """
    import importlib

    module = importlib.import_module(flavour.module)
    model = flavour.load(exported)
    if input_example is not None and flavour.name == "pytorch":
        input_example = _numpy(input_example)
    module.save_model(model, path=str(into), input_example=input_example,
                      pip_requirements=_pinned(flavour.requirements), **flavour.options(model))


def _numpy(example: Any) -> Any:
    to_numpy = getattr(example, "numpy", None)
    if callable(to_numpy):  # a tensor
        return example.detach().cpu().numpy()
    return example


def _pinned(names: tuple[str, ...]) -> list[str]:
    pinned = []
    for name in names:  # MLflow adds its own pin
        try:
            pinned.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return pinned


def input_example(backend: object) -> Any:
    """``backend.input_example()`` where the backend has one, else None."""
    method = getattr(backend, "input_example", None)
    if not callable(method):
        return None
    return method()
