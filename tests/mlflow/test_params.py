"""How the effective spec becomes MLflow params."""

from __future__ import annotations

from engine_mlflow.params import flat_params


def test_tables_arrays_of_tables_and_values():
    spec = {
        "loop": {"max_steps": 30, "eval_every": "1 epoch"},
        "backend": {"use": "torch", "model_args": {"hidden": 128}, "layers": [64, 32], "amp": False},
        "tracker": [{"use": "mlflow"}, {"use": "tensorboard"}],
        "tune": {"space": {"backend.lr": {"float": [1e-4, 0.1], "log": True}}},
    }
    assert flat_params(spec) == {
        "loop.max_steps": "30",
        "loop.eval_every": "1 epoch",
        "backend.use": "torch",
        "backend.model_args.hidden": "128",
        "backend.layers": "[64, 32]",
        "backend.amp": "false",
        "tracker.0.use": "mlflow",
        "tracker.1.use": "tensorboard",
        "tune.space.backend.lr.float": "[0.0001, 0.1]",
        "tune.space.backend.lr.log": "true",
    }


def test_secrets_are_redacted_and_long_values_cut():
    spec = {"storage": {"url": "s3://me:pw@bucket/x", "secret_key": "pw", "note": "x" * 50}}
    params = flat_params(spec, max_value_length=20)
    assert params["storage.url"] == "s3://***@bucket/x"
    assert params["storage.secret_key"] == "***"
    assert params["storage.note"] == "x" * 17 + "..."
