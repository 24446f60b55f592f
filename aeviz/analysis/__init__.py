"""What a trained model learned, in numbers: PCA (`pca`), the code space (`latent`), comparisons with PCA
(`comparison`), sparsity, information (entropy, cross-entropy, KL), noise robustness, contraction,
copying, run health, Explore's views, drawings and UMAP.

Owns: measurements of models and datasets, as plain functions on tensors and arrays. Uses: `aeviz.data.datasets`,
`aeviz.variants` and the top-level modules; never training, runs or anything above them.
"""
