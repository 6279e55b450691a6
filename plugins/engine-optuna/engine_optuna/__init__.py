"""engine-optuna: hyperparameter search for engine specs."""
