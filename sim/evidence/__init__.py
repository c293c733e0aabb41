"""Evidence stage: the episode library, validation scores, calibration and the posterior store.

It sits on top of the engine and the batch runner. The scenario loader learns about the
`observed:`, `episode:` and `calibration:` sections and about the posterior through the hooks
that `sim.evidence.plugin` registers, so the scenario stage never imports this one.
"""
