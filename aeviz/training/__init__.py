"""Training a model: the configuration and its one validation (`config`), the Trainer that yields events
(`trainer`), what it starts from (`setup`) and hands back (`result`), precision and device choice,
checkpoints of a run in progress, and background tasks that run such work in a thread (`tasks`), some shared
by the sessions that follow them (`shared_tasks`).

Owns: turning a validated configuration into trained weights. Uses: `aeviz.data.datasets`, `aeviz.variants`,
`aeviz.analysis.comparison` (PCA for the headline number) and the top-level modules.
"""
