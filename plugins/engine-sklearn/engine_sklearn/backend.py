"""The ``sklearn`` backend: a warm-start ensemble grows, a ``partial_fit`` estimator takes one
pass, any other estimator fits, in each step.

Checkpoints hold no model (scikit-learn estimators serialise only by pickle): they hold the
step count, and a resume replays the steps, which scikit-learn makes deterministic for a
fixed ``random_state``. The finished model is exported with skops or joblib.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from engine_tabular import TEST, TRAIN, VAL, Splits, load_splits, param_error, thread_counts
from sklearn.base import clone, is_classifier

from engine import EngineError, Run, UserCodeError, resolve_import_path, warn_parallelism
from engine_sklearn import export, scoring
from engine_sklearn.modes import mode_of
from engine_sklearn.options import SklearnOptions


class SklearnBackend:
    """A scikit-learn estimator on the engine loop."""

    def __init__(self, options: SklearnOptions):
        self.options = options
        self.estimator: Any = None
        self.splits: Splits | None = None
        self.steps = 0

    def setup(self, run: Run) -> None:
        self.run = run
        warn_parallelism(run, thread_counts(self.options.params), where="backend.params")
        self.estimator = self._build(run.seed)
        self.mode = mode_of(self.estimator)
        if self.mode == "grow":
            if "n_estimators" in self.options.params:
                raise EngineError("the ensemble grows by backend.estimators_per_step each step",
                                  where="backend.params.n_estimators",
                                  fix="remove it; the number of estimators is loop.max_steps × estimators_per_step")
            self.estimator.set_params(warm_start=True, n_estimators=0)
        self.classifier = is_classifier(self.estimator)
        self.format = export.format_for(self.options.export)
        self.splits = load_splits(self.options.data, run, classification=self.classifier)
        self.classes = sorted(set(self.splits.train.label.tolist()) | set(self.splits.valid.label.tolist()))
        self.scoring = scoring.Scoring(self.estimator, self.options.metrics, classifier=self.classifier,
                                       classes=len(self.classes))

    def _build(self, seed: int) -> Any:
        estimator = _estimator(self.options.estimator)
        params = dict(self.options.params)
        try:
            if "random_state" in estimator.get_params(deep=False):
                params.setdefault("random_state", seed)
            estimator.set_params(**params)
            validate = getattr(estimator, "_validate_params", None)
            if callable(validate):
                validate()  # scikit-learn checks values only when fitting; check them now
        except (ValueError, TypeError) as exc:
            raise param_error(exc, self.options.params, library="scikit-learn") from None
        return estimator

    @property
    def steps_per_epoch(self) -> int:
        return 1

    def train_step(self, run: Run) -> None:
        self._step()
        if self.mode == "fit":
            run.stop(f"{type(self.estimator).__name__} fits in one step")

    def _step(self) -> None:
        assert self.splits is not None
        train = self.splits.train
        self.steps += 1
        # sample_weight only when the data has weights: many estimators (k-NN, ...) take none
        extra: dict[str, Any] = {} if train.weight is None else {"sample_weight": train.weight}
        if self.mode == "grow":
            self.estimator.set_params(n_estimators=self.steps * self.options.estimators_per_step)
            self.estimator.fit(train.features, train.label, **extra)
        elif self.mode == "partial_fit":
            classes = {"classes": self.classes} if self.classifier else {}
            self.estimator.partial_fit(train.features, train.label, **extra, **classes)
        else:
            self.estimator.fit(train.features, train.label, **extra)

    def train_metrics(self) -> dict[str, float]:
        return {}

    def evaluate(self, run: Run) -> dict[str, float]:
        assert self.splits is not None
        out = self.scoring.scores(self.estimator, self.splits.train, TRAIN) if self.options.eval_train else {}
        out.update(self.scoring.scores(self.estimator, self.splits.valid, VAL))
        return out

    def test(self, run: Run) -> dict[str, float]:
        """The ``test`` split's metrics (``test/<metric>``) of the final model, or none without a test split."""
        assert self.splits is not None
        if self.splits.test is None:
            return {}
        return self.scoring.scores(self.estimator, self.splits.test, TEST)

    def metric_names(self, run: Run) -> list[str]:
        """What :meth:`evaluate` reports: the configured metrics, or the defaults for the kind of estimator."""
        splits = [TRAIN, VAL] if self.options.eval_train else [VAL]
        return [name for split in splits for name in self.scoring.names(split)]

    def input_example(self) -> Any:
        """Five training rows as the exported model takes them (a DataFrame with feature names)."""
        assert self.splits is not None
        return self.splits.train.features.head(5)

    def dry_run(self, run: Run) -> None:
        """Refuse a scorer the estimator cannot serve (no fitting: that would be training)."""
        for index, name in enumerate(self.options.metrics):
            method = scoring.missing_method(self.estimator, name)
            if method is not None:
                raise EngineError(f"metric {name!r} needs {method}, which {type(self.estimator).__name__} "
                                  "does not have with these parameters", where=f"backend.metrics[{index}]",
                                  fix="choose a scorer that uses predict (accuracy, f1, r2, ...), "
                                      "or an estimator that has the method")

    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replay the steps: the same seed and data give the same estimator, without unpickling."""
        self.estimator = clone(self.estimator)
        if self.mode == "grow":
            self.estimator.set_params(warm_start=True, n_estimators=0)
        self.steps = 0
        while self.steps < int(state["steps"]):
            self._step()

    def export(self, directory: Path, tag: str) -> Path:
        """``<directory>/<tag>.skops`` (or ``.joblib`` without skops)."""
        return export.write(self.estimator, directory, tag, self.format)


def _estimator(path: str) -> Any:
    """A new estimator from ``path`` (a class, or a function returning one); anything else is refused."""
    factory = resolve_import_path(path, what="backend.estimator")
    fix = "point it at an estimator class, e.g. 'sklearn.ensemble:RandomForestClassifier'"
    if not callable(factory):
        raise EngineError(f"{path!r} names a value of type {type(factory).__name__}, not an estimator",
                          where="backend.estimator", fix=fix)
    try:
        estimator = factory()
    except TypeError as exc:
        raise EngineError(f"{path!r} cannot be called without arguments: {exc}", where="backend.estimator",
                          fix=f"{fix}; set its parameters in backend.params") from None
    except Exception as exc:
        raise UserCodeError(f"backend.estimator {path!r} raised {type(exc).__name__}: {exc}",
                            user_traceback=traceback.format_exc()) from None
    if not all(callable(getattr(estimator, name, None)) for name in ("get_params", "set_params", "fit")):
        raise EngineError(f"{path!r} gave a {type(estimator).__name__}, not a scikit-learn estimator "
                          "(no get_params, set_params and fit)", where="backend.estimator", fix=fix)
    return estimator
