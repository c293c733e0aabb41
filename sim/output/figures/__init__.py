"""Figures by family: outcomes, support, over time, factors, sweeps."""
