"""Benchmarks: the poller and the GUI on a large generated site, side by side with baselines."""
