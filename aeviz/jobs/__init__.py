"""Background work for the app: the job manager and its queue (`manager`, `view`, `queue_estimate`), where
a job runs (`executors`: in this process, or on the cluster), reuse of runs already trained (`reuse`),
the sessions the server mints (`sessions`), which of them have a tab open (`presence`: the live-session
bound, and forgetting a session gone) and stopping politely at exit (`shutdown`).

Owns: the server's shared training work. Uses: `aeviz.cluster`, `aeviz.runs.store`, `aeviz.training` and below.
"""
