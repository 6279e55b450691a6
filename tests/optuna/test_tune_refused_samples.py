"""A sampled spec that the engine refuses fails its trial, not the study; the same refusal on
every one of the first trials stops the study with that reason."""

from __future__ import annotations

from pathlib import Path

from optuna_helpers import StudyStorage, read_trials_csv, tune_spec

PICKY = '''
def engine_check(spec):
    lr = spec.backend.options.lr
    if {low} < lr < {high}:
        return [f"backend.lr: picky refuses lr = {{lr}} between {low} and {high}"]
    return []
'''


def _spec(tmp_path: Path, low: float, high: float, trials: int) -> None:
    (tmp_path / "picky.py").write_text(PICKY.format(low=low, high=high))
    text = tune_spec(trials=trials, max_steps=10, pruner="none", extra_tune='sampler = "random"')
    text = text.replace("seed = 0\n", 'seed = 0\nplugins = ["picky"]\n', 1)
    (tmp_path / "spec.toml").write_text(text.replace("dim = 4\n", "dim = 4\nlr = 0.5\n", 1))  # outside both bands


def test_a_refused_sample_fails_its_trial_and_the_study_goes_on(cli, tmp_path: Path,
                                                                study_storage: StudyStorage) -> None:
    _spec(tmp_path, 0.01, 0.05, trials=12)
    result = cli("tune", "spec.toml", *study_storage.flags, timeout=300)
    assert result.code == 0, result
    rows = read_trials_csv(tmp_path / "runs" / "study" / "trials.csv")
    failed = [row for row in rows if row["state"] == "FAIL"]
    assert failed, "no sample fell in the refused band: widen it"
    assert sum(row["state"] == "COMPLETE" for row in rows) == 12
    for row in failed:
        assert 0.01 < float(row["backend.lr"]) < 0.05
        assert "picky refuses lr" in row["fail_reason"] and "\n" not in row["fail_reason"]
    assert "picky refuses lr" in result.err  # each refused trial is reported as it happens


def test_the_same_refusal_on_the_first_trials_stops_the_study_with_its_reason(cli, tmp_path: Path,
                                                                              study_storage: StudyStorage) -> None:
    _spec(tmp_path, 0.001, 0.5, trials=8)  # only the bounds themselves pass: the check at start-up accepts them
    result = cli("tune", "spec.toml", *study_storage.flags, timeout=300)
    assert result.code == 2, result
    assert "Traceback" not in result.err
    line = result.error_lines[-1]
    assert "the first 3 trials were all refused" in line and "picky refuses lr" in line, result
    rows = read_trials_csv(tmp_path / "runs" / "study" / "trials.csv")
    assert len(rows) == 3 and {row["state"] for row in rows} == {"FAIL"}
