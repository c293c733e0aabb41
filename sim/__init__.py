"""Iran crisis wargame: the simulation engine."""

#: modules that register extra scenario validation with `sim.scenario.plugins` when imported:
#: the engine's cross-references (factors, actions, effects), the classroom block, and the
#: evidence stage (episodes' observed records, the calibrated posterior)
SCENARIO_PLUGINS = ("sim.scenario.consistency", "sim.classroom.config", "sim.evidence.plugin")
#: modules that add sections to the HTML report (`sim.output.report.register_section`) when
#: imported; the report imports them by name, so the output stage imports no stage above it
REPORT_PLUGINS = ("sim.evidence.report_section",)


def __getattr__(name: str) -> str:
    # Looked up on first use: reading package metadata costs start-up time every command pays.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("iran-crisis-wargame")
        except PackageNotFoundError:  # running from a source tree that was never installed
            found = "0+unknown"
        globals()["__version__"] = found  # read once: later lookups find the attribute
        return found
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
