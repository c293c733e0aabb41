"""Engine stage: the Mesa model, the world state, the decision rule, adjudication and outcomes."""
