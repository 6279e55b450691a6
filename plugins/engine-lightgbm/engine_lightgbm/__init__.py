"""engine-lightgbm: the ``lightgbm`` backend, one engine step per boosting round."""
