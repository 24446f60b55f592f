"""Plotly figure builders: pure functions from arrays to figures, one module per topic."""
