"""``[cv] folds = K`` runs one engine run per fold and reports mean ± std in summary.json."""

from __future__ import annotations

import json
import statistics

from engine.session import dump_toml
from engine.testing import run_spec


def test_cross_validation_summary(tmp_path):
    spec = {
        "run": {"seed": 1},
        "loop": {"max_steps": 20, "eval_every": "10 steps"},
        "cv": {"folds": 3},
        "backend": {"use": "xgboost", "params": {"objective": "binary:logistic", "eval_metric": "auc", "nthread": 1},
                    "data": {"train": "examples.tabular_data:breast_cancer"}},
    }
    result = run_spec(spec, tmp_path / "cv")
    assert result.exit_code == 0
    summary = json.loads((tmp_path / "cv" / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["folds"] == 3
    auc = summary["metrics"]["val/auc"]
    assert len(auc["values"]) == 3 and len(set(auc["values"])) == 3  # three different validation folds
    assert auc["mean"] == statistics.fmean(auc["values"]) and auc["std"] > 0
    for k in range(3):
        fold = json.loads((tmp_path / "cv" / f"fold-{k}" / "summary.json").read_text())
        assert fold["fold"] == [k, 3]
        assert (tmp_path / "cv" / f"fold-{k}" / "model" / "final.ubj").is_file()


CALLS: list[int] = []


def counted_breast_cancer():
    """examples.tabular_data:breast_cancer, counting its calls."""
    from examples.tabular_data import breast_cancer

    CALLS.append(1)
    return breast_cancer()


def test_the_folds_read_the_data_once(tmp_path):
    spec = {
        "run": {"seed": 1},
        "loop": {"max_steps": 5, "eval_every": "5 steps"},
        "cv": {"folds": 3},
        "backend": {"use": "xgboost", "params": {"objective": "binary:logistic", "nthread": 1},
                    "data": {"train": f"{__name__}:counted_breast_cancer"}},
    }
    CALLS.clear()
    assert run_spec(spec, tmp_path / "cv").exit_code == 0
    assert len(CALLS) == 1  # shared by the folds (Run.shared), not read again per fold


def test_runs_of_one_session_hold_out_the_rows_of_their_own_seed(tmp_path):
    """Runs that share a session (a tuning worker's trials) read the data and make each split
    once, and still hold out the rows of their own seed."""
    from engine.session import read, run, structure

    shared: dict = {}
    scores = []
    for index, seed in enumerate((1, 2, 1)):
        text = dump_toml({"run": {"seed": seed}, "loop": {"max_steps": 5, "eval_every": "5 steps"},
                          "backend": {"use": "xgboost", "params": {"objective": "binary:logistic", "nthread": 1,
                                                                  "eval_metric": "logloss"},
                                      "data": {"train": "examples.tabular_data:breast_cancer"}}})
        result = run(structure(read(text=text)), run_dir=tmp_path / str(index), console="quiet", shared=shared)
        assert result.exit_code == 0
        scores.append(result.summary["metrics"]["val/logloss"])
    assert scores[0] == scores[2] != scores[1]


def test_runs_of_one_session_share_their_data_matrices_and_train_the_same(tmp_path):
    """A tuning worker's trials build XGBoost's matrices once (histogram cuts included, which
    XGBoost keeps on a matrix); each trial still trains exactly as a run of its own, whatever
    ran before it with other parameters."""
    from engine.session import read, run, structure

    def spec(**params: object) -> str:
        return dump_toml({"run": {"seed": 1}, "loop": {"max_steps": 8, "eval_every": "4 steps"},
                          "backend": {"use": "xgboost", "eval_train": True,
                                      "params": {"objective": "binary:logistic", "nthread": 1,
                                                 "eval_metric": "logloss", **params},
                                      "data": {"train": "examples.tabular_data:breast_cancer"}}})

    trials = [{"max_bin": 256, "eta": 0.3}, {"max_bin": 16, "max_depth": 2}, {"max_bin": 256, "eta": 0.3},
              {"subsample": 0.7}]
    shared: dict = {}
    in_session, alone = [], []
    for index, params in enumerate(trials):
        for label, results, session in (("session", in_session, shared), ("alone", alone, {})):
            result = run(structure(read(text=spec(**params))), run_dir=tmp_path / f"{label}-{index}",
                         console="quiet", shared=session)
            assert result.exit_code == 0
            results.append(result.summary["metrics"])
    assert in_session == alone
    assert in_session[0] == in_session[2] != in_session[1]
    assert len(shared["engine-xgboost:dmatrix"]) == 2  # train and valid, made once for the four runs
