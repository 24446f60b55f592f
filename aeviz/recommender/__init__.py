"""Autoencoders for recommendation: MovieLens 100K (`movielens`) and I-AutoRec on it (`autorec`).

Owns: the ratings data and the AutoRec model. Uses: `aeviz.jobs.manager`, `aeviz.training` and below.
"""
