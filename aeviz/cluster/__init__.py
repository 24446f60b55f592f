"""Ray: the one connection to a cluster (`connection`), live training jobs on it (`jobs`, `training_actor`,
`worker_pool`) and sweeps on it (`sweep_executor`). Nothing outside this package imports Ray.

Owns: work sent to a Ray cluster. Uses: `aeviz.sweeps`, `aeviz.runs.store`, `aeviz.training` and below.
"""
