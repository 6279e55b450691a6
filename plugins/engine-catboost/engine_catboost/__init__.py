"""engine-catboost: the ``catboost`` backend, one engine step per boosting round."""
