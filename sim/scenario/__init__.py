"""Scenario stage: the YAML schema and loader, parameter distributions, consistency checks and
experiment plans. It knows nothing of the engine, so every later stage can depend on it."""
