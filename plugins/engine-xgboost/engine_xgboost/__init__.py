"""engine-xgboost: the ``xgboost`` backend, one engine step per boosting round."""
