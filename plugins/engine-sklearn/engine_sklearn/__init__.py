"""engine-sklearn: the ``sklearn`` backend, any scikit-learn estimator on the engine loop."""
