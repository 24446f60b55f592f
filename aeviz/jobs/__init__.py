"""Background work for the app: the job manager and its queue (`manager`, `view`, `queue_estimate`), where
a job runs (`executors`: in this process, or on the cluster), reuse of runs already trained (`reuse`),
the sessions the server mints (`sessions`), which of them have a tab open (`presence`: the live-session
bound, and forgetting a session gone), stopping politely at exit (`shutdown`), uploads converted into
user datasets in the background (`conversions`), and UMAPs of a run's codes fitted in the background, in a
training slot (`embeddings`).

Owns: the server's shared training work, and its conversions of uploads. Uses: `aeviz.cluster`,
`aeviz.runs.store`, `aeviz.training`, `aeviz.data.user`, `aeviz.analysis.umap_embed` and below.
"""
