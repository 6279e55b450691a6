"""A trial is never resumed, so by default it writes no checkpoint; `[tune] checkpoints = true`
lets trials write the ones their spec asks for. Models are exported either way (every trial's
here: ``[tune] export = "all"``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from optuna_helpers import read_trials_csv, tune_spec


@pytest.mark.parametrize("keep", [False, True])
def test_trials_write_checkpoints_only_when_asked(cli, tmp_path: Path, keep: bool) -> None:
    extra = f'checkpoints = {str(keep).lower()}\nexport = "all"'
    text = tune_spec(trials=2, max_steps=10, pruner="none", extra_tune=extra)
    (tmp_path / "spec.toml").write_text(text.replace('log_every = "5 steps"\n',
                                                     'log_every = "5 steps"\ncheckpoint_every = "5 steps"\n'))
    result = cli("tune", "spec.toml")
    assert result.code == 0, result
    rows = read_trials_csv(tmp_path / "runs" / "study" / "trials.csv")
    assert [row["state"] for row in rows] == ["COMPLETE", "COMPLETE"]
    for row in rows:
        run_dir = tmp_path / row["run_dir"]
        checkpoints = sorted(p.name for p in (run_dir / "checkpoints").glob("*")) \
            if (run_dir / "checkpoints").is_dir() else []
        assert bool(checkpoints) == keep, checkpoints
        assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"
        assert (run_dir / "model").is_dir()  # the model is exported either way
