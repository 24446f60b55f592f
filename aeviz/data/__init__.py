"""Datasets: what a dataset is (`types`), the built-in ones read from IDX files or downloaded
(`datasets`, `idx`, `download`), the user's own behind the same interface (`user`), and the corruptions
a denoising autoencoder sees (`noise`).

Owns: loading images and labels into memory. Uses: `aeviz.errors`, `aeviz.safe_io`, `aeviz.server_settings`,
`aeviz.lru` and nothing else of aeviz.
"""
