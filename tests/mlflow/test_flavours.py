"""The exported model is logged as an MLflow model of its library's flavour, with a signature
and an input example: ``mlflow.<flavour>.load_model`` and ``mlflow.pyfunc.load_model`` read it
back from the server, and predict what the engine's own exported model predicts."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from mlmodels import blobs
from mltools import artifact_paths, only_run

HERE = Path(__file__).resolve().parent

TABULAR = """
[run]
name = "{name}"

[loop]
max_steps = {steps}
eval_every = "1 steps"

[backend]
{backend}

[backend.data]
train = "mlmodels:blobs"
label = "label"
val_fraction = 0.25

[[tracker]]
use = "mlflow"
tracking_uri = "{server}"
experiment = "{name}"
{extra}
"""


def _tabular(name: str, steps: int, backend: str, server: str, extra: str = "") -> str:
    return TABULAR.format(name=name, steps=steps, backend=backend, server=server, extra=extra)


def _run(cli, tmp_path: Path, spec: str) -> Path:  # type: ignore[no-untyped-def]
    (tmp_path / "spec.toml").write_text(spec)
    result = cli("run", "spec.toml", "-q", env={"PYTHONPATH": f"{tmp_path}{os.pathsep}{HERE}"}, timeout=300)
    assert result.code == 0, result
    assert "engine: warning" not in result.err, result
    return tmp_path / "runs" / spec.split('name = "', 1)[1].split('"', 1)[0]


def _logged(server: str, experiment: str, flavour: str) -> tuple[str, Any]:
    """``runs:/<id>/model`` of the experiment's run, after checking what was logged."""
    client = MlflowClient(server)
    found = only_run(client, experiment)
    run_id = found.info.run_id
    mlflow.set_tracking_uri(server)
    uri = f"runs:/{run_id}/model"
    info = mlflow.models.get_model_info(uri)
    assert flavour in info.flavors and "python_function" in info.flavors, info.flavors
    assert info.signature is not None and info.signature.inputs is not None
    assert info.saved_input_example_info is not None
    assert found.data.tags["engine.model_flavour"] == f"mlflow.{flavour}"
    assert "MLmodel" in [p.rsplit("/", 1)[-1] for p in artifact_paths(client, run_id, "model")]
    return uri, found


def _exported(run_dir: Path, tag: str = "final") -> str:
    """The path of the model the run exported, as its summary names it (from the working directory)."""
    return str(run_dir.parents[1] / json.loads((run_dir / "summary.json").read_text())["model"][tag])


def _features() -> Any:
    return blobs().drop(columns="label").head(20)


def _needs(*modules: str) -> pytest.MarkDecorator:
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    return pytest.mark.skipif(bool(missing), reason=f"not installed here: {', '.join(missing)}")


@_needs("engine_xgboost", "xgboost")
def test_xgboost_flavour(cli, tmp_path, mlflow_server):
    backend = 'use = "xgboost"\nparams = { objective = "binary:logistic", max_depth = 2 }'
    run_dir = _run(cli, tmp_path, _tabular("flavour-xgb", 5, backend, mlflow_server,
                                            'register = "flavour-xgb"\nalias = "candidate"'))
    import xgboost

    uri, found = _logged(mlflow_server, "flavour-xgb", "xgboost")
    exported = xgboost.Booster()
    exported.load_model(_exported(run_dir))
    x = _features()
    expected = exported.predict(xgboost.DMatrix(x))
    assert np.array_equal(mlflow.xgboost.load_model(uri).predict(xgboost.DMatrix(x)), expected)
    assert np.array_equal(np.asarray(mlflow.pyfunc.load_model(uri).predict(x)), expected)
    assert f"exports/{Path(_exported(run_dir)).name}" in artifact_paths(MlflowClient(mlflow_server), found.info.run_id)
    registered = mlflow.pyfunc.load_model("models:/flavour-xgb@candidate")  # the registry's copy
    assert np.array_equal(np.asarray(registered.predict(x)), expected)


@_needs("engine_lightgbm", "lightgbm")
def test_lightgbm_flavour(cli, tmp_path, mlflow_server):
    backend = 'use = "lightgbm"\nparams = { objective = "binary", num_leaves = 4, min_data_in_leaf = 5, verbose = -1 }'
    run_dir = _run(cli, tmp_path, _tabular("flavour-lgb", 5, backend, mlflow_server))
    import lightgbm

    uri, _ = _logged(mlflow_server, "flavour-lgb", "lightgbm")
    expected = lightgbm.Booster(model_file=_exported(run_dir)).predict(_features())
    assert np.array_equal(mlflow.lightgbm.load_model(uri).predict(_features()), expected)
    assert np.array_equal(np.asarray(mlflow.pyfunc.load_model(uri).predict(_features())), expected)


@_needs("engine_sklearn", "sklearn", "skops")
@pytest.mark.parametrize("export", ["skops", "joblib"])
def test_sklearn_flavour(cli, tmp_path, mlflow_server, export):
    name = f"flavour-sklearn-{export}"
    backend = ('use = "sklearn"\nestimator = "sklearn.ensemble:RandomForestClassifier"\n'
               f'params = {{ max_depth = 3 }}\nestimators_per_step = 5\nexport = "{export}"')
    run_dir = _run(cli, tmp_path, _tabular(name, 2, backend, mlflow_server))
    uri, _ = _logged(mlflow_server, name, "sklearn")
    path = _exported(run_dir)
    assert path.endswith(f".{export}")
    if export == "skops":
        import skops.io as sio

        exported = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    else:
        import joblib

        exported = joblib.load(path)
    x = _features()
    assert np.array_equal(mlflow.sklearn.load_model(uri).predict_proba(x), exported.predict_proba(x))
    assert np.array_equal(np.asarray(mlflow.pyfunc.load_model(uri).predict(x)), exported.predict(x))


@_needs("engine_catboost", "catboost")
def test_catboost_flavour(cli, tmp_path, mlflow_server):
    backend = 'use = "catboost"\nparams = { loss_function = "Logloss", depth = 2 }'
    run_dir = _run(cli, tmp_path, _tabular("flavour-cb", 5, backend, mlflow_server))
    import catboost

    uri, _ = _logged(mlflow_server, "flavour-cb", "catboost")
    exported = catboost.CatBoost().load_model(_exported(run_dir))
    x = _features()
    assert np.array_equal(mlflow.catboost.load_model(uri).predict(x), exported.predict(x))
    assert np.array_equal(np.asarray(mlflow.pyfunc.load_model(uri).predict(x)).ravel(),
                          np.asarray(exported.predict(x)).ravel())


TORCH = """
[run]
name = "flavour-torch"

[loop]
max_steps = 6
eval_every = "3 steps"

[backend]
use = "torch"
model = "mlmodels:Net"
data = "mlmodels:tensors"
batch_size = 16
optimizer = {{ use = "adamw", lr = 0.01 }}
loss = "cross_entropy"
device = "cpu"
threads = 1

[checkpoint]
monitor = "val/loss"

[[tracker]]
use = "mlflow"
tracking_uri = "{server}"
experiment = "flavour-torch"
"""


@_needs("engine_torch", "torch")
def test_pytorch_flavour_logs_the_best_model(cli, tmp_path, mlflow_server):
    run_dir = _run(cli, tmp_path, TORCH.format(server=mlflow_server))
    import torch
    from engine_torch import load_model

    uri, found = _logged(mlflow_server, "flavour-torch", "pytorch")
    assert found.data.tags["engine.model"] == "best"
    exported = load_model(run_dir, which="best", trust_code=True)
    x = _features().to_numpy().copy()
    with torch.no_grad():
        expected = exported(torch.from_numpy(x)).numpy()
        assert np.array_equal(mlflow.pytorch.load_model(uri)(torch.from_numpy(x)).numpy(), expected)
    assert np.array_equal(np.asarray(mlflow.pyfunc.load_model(uri).predict(x)), expected)
