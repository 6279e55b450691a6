"""Secrets in the spec never reach TensorBoard's event files (the spec as text, hparams)."""

from __future__ import annotations

import json
from pathlib import Path

from tbtools import accumulate, hparams

from engine.testing.secrets import PlantedSecrets, write_leaky_plugin

SPEC = """
[run]
name = "tb-secrets"
plugins = ["leaky"]

[loop]
max_steps = 6
eval_every = "3 steps"

[backend]
use = "testing"

[[tracker]]
use = "tensorboard"
log_dir = "{log_dir}"

"""


def test_event_files_hold_no_planted_secret(cli, tmp_path: Path):
    secrets = PlantedSecrets()
    write_leaky_plugin(tmp_path)
    log_dir = tmp_path / "tb"
    (tmp_path / "spec.toml").write_text(SPEC.format(log_dir=log_dir) + secrets.leaky_tracker())
    result = cli("run", "spec.toml", "-q", *secrets.overrides(tracker=1))
    assert result.code == 0, result
    reader = accumulate(log_dir / "tb-secrets")
    leaky = json.loads(hparams(reader)["tracker"])[1]  # an array of tables is one JSON hparam
    assert leaky["pwd"] == leaky["password_number"] == leaky["headers"]["Authorization"] == "***", leaky
    assert leaky["client_kwargs"] == {"headers": {"Authorization": "***"}, "passwd": "***"}, leaky
    assert secrets.leaks(files=[log_dir, tmp_path / "runs"], texts=[result.out, result.err]) == []
