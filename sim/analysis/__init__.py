"""Analysis stage: statistics, summaries, sensitivity indices and Results (numbers only)."""
