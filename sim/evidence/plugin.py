"""What the evidence stage registers with the scenario loader (listed in `sim.SCENARIO_PLUGINS`,
imported on the first validation; kept light).

- `observed:` and `episode:` sections, so `wargame check` validates an episode's record;
- a `calibration:` section naming the posterior a scenario uses (`prior` for none), and the
  preparer that puts the posterior's particles in place of the model's prior distributions.
"""

from __future__ import annotations

from sim.scenario import hooks


def _check_observed(value, scenario, positions, shown, tree) -> None:
    from sim.evidence.observed import parse_observed

    parse_observed(value, scenario, positions, shown)


def _check_episode(value, scenario, positions, shown, tree) -> None:
    from sim.evidence.observed import parse_episode_info

    parse_episode_info(value, positions, shown)


def _check_calibration(value, scenario, positions, shown, tree) -> None:
    from sim.evidence.posterior import check_calibration_value

    check_calibration_value(value, positions, shown)


def _prepare(tree: dict, positions: dict, shown: str) -> None:
    if tree.get("calibration") in (None, "prior"):
        return
    from sim.evidence.posterior import apply_posterior

    apply_posterior(tree, positions, shown)


def register() -> None:
    hooks.register_section(
        hooks.Section("observed", _check_observed, "outcomes the historical record settles")
    )
    hooks.register_section(hooks.Section("episode", _check_episode, "dates and kind of episode"))
    hooks.register_section(
        hooks.Section("calibration", _check_calibration, "posterior file, or 'prior'")
    )
    hooks.register_preparer("posterior", _prepare)


register()
