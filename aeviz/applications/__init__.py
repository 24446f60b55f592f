"""What autoencoders are used for, each beside a baseline: anomaly detection (reconstruction error),
retrieval (nearest neighbours in code space), clustering (k-means on codes) and transfer (a linear
probe on codes). One module per application; none imports streamlit."""
