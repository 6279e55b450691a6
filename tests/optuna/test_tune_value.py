"""[tune] value: a trial's best evaluation (the default, in the metric's direction) or its last."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from optuna_helpers import StudyStorage, tune_spec

# One fixed sample whose validation loss goes down, then up (lr 0.5 with noise): best != last.
SPACE = '"backend.noise" = { categorical = [0.5] }\n'


def _evaluations(run_dir: Path) -> list[float]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [record["val/loss"] for record in map(json.loads, lines) if "val/loss" in record]


@pytest.mark.parametrize("value", ["best", "last", None])
def test_the_trial_value_is_its_best_or_its_last_evaluation(cli, tmp_path: Path, value: str | None,
                                                             study_storage: StudyStorage) -> None:
    extra = f'value = "{value}"' if value else ""
    text = tune_spec(trials=1, max_steps=30, pruner="none", space=SPACE, extra_tune=extra)
    (tmp_path / "spec.toml").write_text(text.replace("dim = 4\n", "dim = 4\nlr = 0.5\n", 1))
    result = cli("tune", "spec.toml", *study_storage.flags)
    assert result.code == 0, result
    study = optuna.load_study(study_name=study_storage.name, storage=study_storage.url)
    evaluations = _evaluations(tmp_path / study.trials[0].user_attrs["run_dir"])
    assert min(evaluations) != evaluations[-1], "the sample must get worse after its best evaluation"
    expected = evaluations[-1] if value == "last" else min(evaluations)
    assert study.trials[0].value == expected
