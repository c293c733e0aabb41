"""Scoring an episode library: the model against reference forecasters, in `validation.json`.

Forecasters: the model as configured (the shipped posterior by default), the uncalibrated
prior, the leave-one-episode-out base rate of the same kind of event, and, when a posterior
covers the episode, its leave-one-episode-out forecast (the posterior fitted without it).
Overall scores are means over episodes of each episode's mean over its events, so a richly
documented episode does not outweigh a sparse one; intervals resample episodes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.analysis import formatting as fmt
from sim.analysis.labels import Labels, readable
from sim.evidence.scoring import Forecast, base_rate, interval_of_mean, score_event
from sim.evidence.simulate import Event

REFERENCES = ("prior", "base_rate", "loo")
ForecastFn = Callable[[str, int, Event], Forecast | None]


def _event_row(event: Event) -> dict:
    obs = event.observation
    return {
        "field": event.field,
        "observed": obs.describe(),
        #: the same, structured, for words: one of value, interval or one_of
        "observation": obs.model_dump(include={"value", "interval", "one_of"}, exclude_none=True),
        "kind": event.spec.kind,
        "confidence": obs.confidence,
        "source": obs.source,
    }


def build(
    events: dict[str, list[Event]],
    model: ForecastFn,
    references: dict[str, ForecastFn],
    seed: int = 0,
) -> dict:
    """The validation document: per episode and event the forecasts and their scores."""
    all_events = [e for evs in events.values() for e in evs]
    episodes: dict[str, dict] = {}
    for name, evs in events.items():
        rows = []
        for k, event in enumerate(evs):
            row = _event_row(event)
            row.update(score_event(event, model(name, k, event)))
            others = [o for o in all_events if o.field == event.field and o.episode != name]
            forecasters = {"base_rate": lambda n, k, e, o=others: Forecast(base_rate(e, o))}
            forecasters.update(references)
            for ref, fn in forecasters.items():
                forecast = fn(name, k, event)
                row[ref] = None if forecast is None else score_event(event, forecast)
            rows.append(row)
        episodes[name] = {"events": rows, **_means(rows)}
    return {"episodes": episodes, "overall": overall(episodes, seed)}


def _means(rows: list[dict]) -> dict:
    out = {
        "brier": float(np.mean([r["brier"] for r in rows])),
        "log_score": float(np.mean([r["log_score"] for r in rows])),
    }
    crps = [r["crps"] for r in rows if "crps" in r]
    if crps:
        out["crps"] = float(np.mean(crps))
    for ref in ("prior", "base_rate", "loo"):
        scored = [r[ref] for r in rows if r.get(ref) is not None]
        if len(scored) == len(rows):
            out[f"{ref}_brier"] = float(np.mean([s["brier"] for s in scored]))
            out[f"{ref}_log_score"] = float(np.mean([s["log_score"] for s in scored]))
    return out


def overall(episodes: dict[str, dict], seed: int = 0) -> dict:
    """Means over episodes, with 95 % bootstrap intervals over episodes for each score and for
    the model's and the leave-one-out forecast's margins over the references."""
    out: dict = {
        "episodes": len(episodes),
        "events": sum(len(e["events"]) for e in episodes.values()),
    }
    keys = ["brier", "log_score"] + [f"{r}_{s}" for r in REFERENCES for s in ("brier", "log_score")]
    for key in keys:
        values = [e[key] for e in episodes.values() if key in e]
        if len(values) == len(episodes):
            out[key] = float(np.mean(values))
            out[f"{key}_interval"] = interval_of_mean(np.array(values), seed)
    for score in ("brier", "log_score"):
        for mine, theirs in (
            ("", "base_rate_"),
            ("", "prior_"),
            ("loo_", "base_rate_"),
            ("loo_", "prior_"),
        ):
            a, b = f"{mine}{score}", f"{theirs}{score}"
            if a in out and b in out:
                diff = np.array([e[a] - e[b] for e in episodes.values()])
                label = f"{mine or 'model_'}minus_{theirs}{score}"
                out[label] = float(diff.mean())
                out[f"{label}_interval"] = interval_of_mean(diff, seed)
    return out


def headline(overall_scores: dict) -> str:
    """One line on how good the model is out of sample (or in sample, if that is all there is)."""
    count = overall_scores["episodes"]
    episodes = f"{count} episode" if count == 1 else f"{count} episodes"
    if "loo_brier" in overall_scores:
        return (
            f"Out of sample (leave one episode out, {episodes}): Brier "
            f"{overall_scores['loo_brier']:.3f}, log score {overall_scores['loo_log_score']:.3f}; "
            f"base rate {overall_scores['base_rate_brier']:.3f} / "
            f"{overall_scores['base_rate_log_score']:.3f}; uncalibrated prior "
            f"{overall_scores.get('prior_brier', float('nan')):.3f} / "
            f"{overall_scores.get('prior_log_score', float('nan')):.3f} (lower is better)."
        )
    return (
        f"In sample ({episodes}): Brier {overall_scores['brier']:.3f}, "
        f"log score {overall_scores['log_score']:.3f}; base rate "
        f"{overall_scores['base_rate_brier']:.3f} / {overall_scores['base_rate_log_score']:.3f} "
        "(lower is better; no out-of-sample score without a calibrated posterior)."
    )


def _field(name: str, labels: Labels | None) -> str:
    """An outcome field in words, its name after it in code type."""
    return f"{labels.outcome(name) if labels else readable(name)} (`{name}`)"


def _observed(row: dict, labels: Labels | None) -> str:
    """What the record settles, in words: `2 to 5`, `yes`, `mediate or outreach to Tehran`."""
    observation = row.get("observation")
    if not observation:
        return row["observed"]
    category = labels.category if labels else readable
    if "interval" in observation:
        return fmt.interval(*observation["interval"])
    if "one_of" in observation:
        return " or ".join(category(c) for c in observation["one_of"])
    value = observation["value"]
    return category(value) if isinstance(value, str) else fmt.value(value)


def markdown(
    document: dict,
    title: str,
    parameters_line: str,
    prior_label: str = "uncalibrated prior",
    labels: Labels | None = None,
) -> str:
    """The validation document for readers: outcomes and observations in words."""
    o = document["overall"]
    lines = [f"# {title}", "", parameters_line, "", headline(o), ""]
    lines += [
        "Scores are means over episodes (each episode's mean over its events); lower is better.",
        "Brier and log score are those of the probability given to what was observed.",
        "",
        "| forecaster | Brier | 95 % interval | log score | 95 % interval |",
        "|---|---|---|---|---|",
    ]
    for label, prefix in (
        ("model (as configured)", ""),
        ("leave-one-episode-out posterior", "loo_"),
        (prior_label, "prior_"),
        ("base rate (leave one out)", "base_rate_"),
    ):
        if f"{prefix}brier" in o:
            bi, li = o[f"{prefix}brier_interval"], o[f"{prefix}log_score_interval"]
            lines.append(
                f"| {label} | {o[f'{prefix}brier']:.3f} | {bi[0]:.3f}-{bi[1]:.3f} | "
                f"{o[f'{prefix}log_score']:.3f} | {li[0]:.3f}-{li[1]:.3f} |"
            )
    lines += ["", "## Episodes", ""]
    header = "| episode | events | Brier | log | prior Brier | base-rate Brier | LOO Brier |"
    lines += [header, "|---|---|---|---|---|---|---|"]

    def fmt(value):
        return "-" if value is None else f"{value:.3f}"

    for name, ep in document["episodes"].items():
        lines.append(
            f"| {name} | {len(ep['events'])} | {ep['brier']:.3f} | {ep['log_score']:.3f} | "
            f"{fmt(ep.get('prior_brier'))} | {fmt(ep.get('base_rate_brier'))} | "
            f"{fmt(ep.get('loo_brier'))} |"
        )
    lines += ["", "## Events", ""]
    lines += [
        "| episode | outcome | observed | confidence | p (model) | p (prior) | p (base rate) "
        "| p (LOO) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, ep in document["episodes"].items():
        for r in ep["events"]:
            refs = [fmt(r[k]["p"]) if r.get(k) else "-" for k in ("prior", "base_rate", "loo")]
            lines.append(
                f"| {name} | {_field(r['field'], labels)} | {_observed(r, labels)} | "
                f"{r['confidence']} | {r['p']:.3f} | " + " | ".join(refs) + " |"
            )
    worst = sorted(
        (
            (r["p"], name, _field(r["field"], labels), _observed(r, labels))
            for name, ep in document["episodes"].items()
            for r in ep["events"]
        )
    )[:8]
    lines += ["", "## Where the model fails", "", "The events the model found least likely:", ""]
    lines += [f"- {name}: {field}: {obs} (p = {p:.3f})" for p, name, field, obs in worst]
    return "\n".join(lines) + "\n"
