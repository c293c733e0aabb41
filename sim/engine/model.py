"""The crisis model: one Mesa model advancing a batch of replications in lockstep.

A replication's result depends only on (scenario, master seed, replication index): every random
draw is addressed by those, so replication i gives the same record alone, inside a batch of any
size, or on another machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
from scipy.special import ndtri

from actors import ACTOR_CLASSES, CrisisActor, Decision
from sim.engine.adjudication import TurnReport, adjudicate, apply_effects
from sim.engine.effects import EFFECT_INDEX, EFFECTS
from sim.engine.fixedpoint import from_fixed, to_fixed
from sim.engine.live_rows import LiveRows, put_rows
from sim.engine.outcomes import OutcomeTracker
from sim.engine.streams import ReplicationStreams
from sim.engine.timescale import TimeScale
from sim.engine.world import WorldState, replicate_row, replicate_world
from sim.scenario.config import Inject, Scenario, load_scenario

TRAJECTORY_FIELDS = (
    "escalation",
    "oil_price",
    "hormuz",
    "iran_stability",
    "iran_military_capacity",
    "us_force_posture",
    "china_imports_kbd",
    "regime_pressure",
)
#: Ended replications are set aside once they are this share of the rows playing, and at
#: least `SET_ASIDE_MIN` of them (setting aside costs a copy of the batch's state).
SET_ASIDE_SHARE = 0.25
SET_ASIDE_MIN = 32


def with_context(scenario: Scenario, context: dict[str, float]) -> Scenario:
    """The scenario with some context values replaced, validated (names and ranges)."""
    from pydantic import ValidationError

    from sim.scenario.config import Context
    from sim.scenario.errors import ConfigError

    unknown = sorted(set(context) - set(Context.model_fields))
    if unknown:
        expected = ", ".join(Context.model_fields)
        raise ConfigError(
            scenario.name, unknown[0], f"unknown context (expected one of: {expected})"
        )
    try:
        values = Context.model_validate({**scenario.context.model_dump(), **context})
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(scenario.name, f"context.{error['loc'][0]}", error["msg"]) from None
    return scenario.model_copy(update={"context": values})


class CrisisModel(mesa.Model):
    """The Iran-US crisis for a batch of replications; `step()` plays one turn of all of them.

    Args:
        scenario: a validated `Scenario`, or a scenario name or path to load.
        replications: how many replications (indices 0..n-1), or the explicit indices to run.
        replication: a single replication index (a batch of one); for `mesa.batch_run`.
        rng: the master seed (an int), as in any Mesa model. Other seed-likes draw a master seed.
        overrides: `dotted.path=value` overrides applied when loading a scenario by name.
        record_decisions: keep every decision with its factor contributions (for narratives).
        pool_decisions: add up choices and factor contributions per actor, action and turn
            over the batch (cheap; what batch experiments keep to explain choices).
        **context: context values as keyword arguments (`russia_ukraine_commitment=0.2`), as
            `mesa.batch_run(CrisisModel, parameters={...})` and SolaraViz pass them.

    A model of one replication also reports its outcome record (every outcome field) to its
    `DataCollector` once the replication has ended, so `mesa.batch_run` returns it.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path = "baseline",
        replications: int | Sequence[int] | None = None,
        *,
        replication: int | None = None,
        rng: int | np.random.Generator | None = None,
        overrides: Sequence[str] = (),
        record_decisions: bool = False,
        pool_decisions: bool = False,
        **context: float,
    ) -> None:
        super().__init__(rng=rng)
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario, list(overrides))
        if context:
            scenario = with_context(scenario, context)
        self.crisis = scenario  # `scenario` is taken by mesa.Model (its experimental Scenario)
        if isinstance(rng, int | np.integer):
            self.master_seed = int(rng)
        else:
            self.master_seed = int(self.rng.integers(0, 2**63 - 1))
        if replication is not None:
            indices = np.array([replication])
        elif replications is None:
            indices = np.array([0])
        elif isinstance(replications, int | np.integer):
            indices = np.arange(int(replications))
        else:
            indices = np.asarray(list(replications))
        self.replications = indices.astype(np.int64)
        self.streams = ReplicationStreams(self.master_seed, self.replications)
        self.timescale = TimeScale.of(scenario)
        self.world = WorldState.initial(scenario, self.streams)
        self.actors: dict[str, CrisisActor] = {
            actor_id: ACTOR_CLASSES[config.kind](self, actor_id, config, self.streams)
            for actor_id, config in scenario.actors.items()
        }
        self.gulf_ids = [a for a, c in scenario.actors.items() if c.kind == "gulf_state"]
        self.israel_id = next((a for a, c in scenario.actors.items() if c.kind == "israel"), None)
        self.outcomes = OutcomeTracker(self.world, self.replications, self.gulf_ids)
        self.record_decisions = record_decisions
        self.decision_pool = DecisionPool() if pool_decisions else None
        #: injects added while the game runs (a facilitator's events), on top of the scenario's
        self.live_injects: list[Inject] = []
        self.decision_log: list[tuple[int, list[Decision]]] = []
        self.reports: list[TurnReport] = []
        self._live = LiveRows(len(self.replications))
        self.trajectory: list[dict[str, np.ndarray]] = [self._snapshot()]
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "escalation": lambda m: float(m.trajectory[-1]["escalation"].mean()),
                "oil_price": lambda m: float(m.trajectory[-1]["oil_price"].mean()),
                "iran_stability": lambda m: float(m.trajectory[-1]["iran_stability"].mean()),
                "china_imports_kbd": lambda m: float(m.trajectory[-1]["china_imports_kbd"].mean()),
                **{
                    f"{p}_support": (lambda m, p=p: float(m.trajectory[-1][f"{p}_support"].mean()))
                    for p in self.world.great_power_ids()
                },
                "active": lambda m: int(m.trajectory[-1]["active"].sum()),
                **self._outcome_reporters(),
            }
        )
        self.datacollector.collect(self)

    def _outcome_reporters(self) -> dict:
        """For one replication: a reporter per outcome field (None until it has ended)."""
        self._record: pd.DataFrame | None = None
        if len(self.replications) != 1:
            return {}
        names = [n for n in self.outcome_frame().columns if n != "replication"]
        return {name: (lambda m, f=name: m._final_outcome(f)) for name in names}

    def _final_outcome(self, name: str):
        """An outcome field of a one-replication model once it has ended (None before)."""
        if self.world.active.any():
            return None
        if self._record is None:
            self._record = self.outcome_frame()
        value = self._record[name].iloc[0]
        return value.item() if isinstance(value, np.generic) else value

    # ------------------------------------------------------------------ the turn

    @property
    def turn(self) -> int:
        return self.world.turn

    def submit(self, actor_id: str, action: str, menu: str = "main") -> None:
        """A player's next move for an actor, in every replication.

        It is played if it is still legal once the turn's events have landed; otherwise the
        model moves for the actor and the turn's decision marks the move as refused.
        """
        actor = self.actors[actor_id]
        index = actor.menus[menu].index(action)
        actor.force(menu, np.full(self.world.size, index), binding=False)

    def step(self) -> None:
        world = self.world
        if not world.active.any():
            self.running = False
            return
        world.turn += 1
        world.begin_turn()
        live = world.active.copy()
        frozen = None if live.all() else self._freeze()
        self._drift_context(world.turn)
        self._apply_injects(world.turn)
        decisions = [d for actor in self.actors.values() for d in actor.decide(world, self.streams)]
        report = adjudicate(world, self.crisis, decisions, self.streams, self.actors)
        expectation_gap = self.outcomes.expectation_gap(world)
        for actor in self.actors.values():
            actor.observe(world)
        self._restore(frozen, live)
        gulf_moves = {
            d.actor_id: np.array(d.menu.actions, dtype=object)[d.chosen]
            for d in decisions
            if d.actor_id in self.gulf_ids and d.menu.name == "main"
        }
        self.outcomes.record_turn(world, live, expectation_gap, gulf_moves)
        self.outcomes.record_gulf(world, live)
        self.outcomes.record_israel(
            world,
            live,
            next(
                (d for d in decisions if d.actor_id == self.israel_id and d.menu.name == "main"),
                None,
            ),
        )
        if self.record_decisions:
            self.decision_log.append((world.turn, decisions))
        if self.decision_pool is not None:
            self.decision_pool.add(world.turn, decisions, live)
        self.reports.append(self._full_report(report, live))
        self.trajectory.append(self._snapshot())
        self.datacollector.collect(self)
        self.running = bool(world.active.any())

    def run(self) -> CrisisModel:
        """Play every replication to its end (settlement, ceasefire, collapse or horizon).

        Ended replications are set aside while the others play on (`sim.engine.live_rows`), so
        a turn costs what its live replications cost; the full batch is back when the run stops.
        """
        try:
            while self.running:
                self._set_aside_ended()
                self.step()
        finally:
            self._put_back()
        return self

    def add_inject(self, inject: Inject) -> None:
        """Schedule an event during play; it is applied at the start of its turn."""
        if inject.turn <= self.world.turn:
            raise ValueError(f"turn {inject.turn} has already been played")
        self.live_injects.append(inject)

    def fork(self, replications: int, seed: int, row: int = 0) -> CrisisModel:
        """Simulated futures: a new batch in which every replication starts where replication
        `row` of this model stands now, with its own random stream from `seed`.

        The actors keep the parameters drawn for `row`; only what happens next is random. The
        outcome records carry the history so far (highest escalation, turns at war, ...).
        """
        future = CrisisModel(self.crisis, replications, rng=seed)
        size = self.world.size
        future.world = replicate_world(self.world, row, replications)
        for actor_id, actor in self.actors.items():
            twin = future.actors[actor_id]
            for name, value in vars(actor).items():
                if name in ("model", "pending", "decisions", "unique_id", "menus", "config"):
                    continue
                setattr(twin, name, replicate_row(value, row, replications, size))
        for name, value in vars(self.outcomes).items():
            if name != "replications":
                setattr(future.outcomes, name, replicate_row(value, row, replications, size))
        future.live_injects = [i for i in self.live_injects if i.turn > self.world.turn]
        future.trajectory = [future._snapshot()]
        future.running = bool(future.world.active.any())
        return future

    def _apply_injects(self, turn: int) -> None:
        for inject in [*self.crisis.injects, *self.live_injects]:
            if inject.turn != turn:
                continue
            for name, value in inject.context.items():
                self.world.context[name] = np.full(self.world.size, value)
            if inject.effects:
                matrix = np.zeros((self.world.size, len(EFFECTS)))
                for effect, amount in inject.effects.items():
                    matrix[:, EFFECT_INDEX[effect]] = amount
                apply_effects(self.world, matrix, scripted=True)
            if inject.actor is not None:
                actor = self.actors[inject.actor]
                for menu in actor.menus.values():
                    if inject.action in menu.actions:
                        actor.force(menu.name, np.full(self.world.size, menu.index(inject.action)))

    def _drift_context(self, turn: int) -> None:
        """Exogenous paths: Russia's Ukraine commitment, Taiwan tension and the like drift."""
        for name, rule in self.crisis.paths.items():
            noise = 0.0
            if rule.volatility > 0:
                u = np.clip(self.streams.uniform(f"path:{name}", turn), 1e-9, 1 - 1e-9)
                noise = self.timescale.volatility(rule.volatility) * ndtri(u)
            drift = self.timescale.amount(rule.drift)
            self.world.context[name] = np.clip(self.world.context[name] + drift + noise, 0, 1)

    # ------------------------------------------------------------------ ended replications

    def _per_replication_objects(self) -> list:
        return [self.world, self.outcomes, self.streams, *self.actors.values()]

    def _set_aside_ended(self) -> None:
        world = self.world
        ended = world.size - int(world.active.sum())
        if self.record_decisions or ended < max(SET_ASIDE_MIN, SET_ASIDE_SHARE * world.size):
            return
        self._live.keep(self._per_replication_objects(), world.active.copy())
        world.size = len(self._live.rows)

    def _put_back(self) -> None:
        self._live.put_back(self._per_replication_objects())
        self.world.size = self._live.size

    def _full_report(self, report: TurnReport, live: np.ndarray) -> TurnReport:
        """The turn's report over the full batch; replications that had ended did nothing."""

        def full(mask: np.ndarray) -> np.ndarray:
            mask = mask & live
            return self._live.expand(mask, False) if self._live.cut else mask

        return TurnReport(
            incidents={k: full(v) for k, v in report.incidents.items()},
            discovered={k: full(v) for k, v in report.discovered.items()},
            ended=full(report.ended),
        )

    def _freeze(self) -> dict:
        world = self.world
        frozen = {name: getattr(world, name).copy() for name in WorldState.STATE_ARRAYS}
        for name in WorldState.STATE_MAPS:
            frozen[name] = {k: v.copy() for k, v in getattr(world, name).items()}
        return frozen

    def _restore(self, frozen: dict | None, live: np.ndarray) -> None:
        """Replications that had already ended keep their final state."""
        if frozen is None:
            return
        world = self.world
        for name in WorldState.STATE_ARRAYS:
            setattr(world, name, np.where(live, getattr(world, name), frozen[name]))
        for name in WorldState.STATE_MAPS:
            current = getattr(world, name)
            for key, old in frozen[name].items():
                current[key] = np.where(live, current[key], old)
        world.active &= live

    # ------------------------------------------------------------------ results

    def _snapshot(self) -> dict[str, np.ndarray]:
        world = self.world
        snapshot = {name: getattr(world, name).copy() for name in TRAJECTORY_FIELDS}
        snapshot["sanctions_intensity"] = world.context["sanctions_intensity"].copy()
        for p in world.great_power_ids():
            snapshot[f"{p}_support"] = world.support[p].copy()
            snapshot[f"{p}_covert"] = world.support_covert[p].copy()
        snapshot["active"] = world.active.copy()
        if self._live.cut:  # the rows set aside stand where they ended
            previous = self.trajectory[-1]
            rows, size = self._live.rows, self._live.size
            snapshot = {k: put_rows(previous[k], v, rows, size) for k, v in snapshot.items()}
        return snapshot

    def outcome_frame(self) -> pd.DataFrame:
        """One outcome record per replication."""
        return self.outcomes.to_frame(self.world, self.crisis)

    def trajectory_frame(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """Per-turn state of every replication (turn 0 is the initial state), or of those
        where the mask `rows` is true."""
        replications = self.replications if rows is None else self.replications[rows]
        frames = []
        for turn, snapshot in enumerate(self.trajectory):
            if rows is not None:
                snapshot = {name: values[rows] for name, values in snapshot.items()}
            frame = pd.DataFrame(snapshot)
            frame.insert(0, "turn", turn)
            frame.insert(0, "replication", replications)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)


class DecisionPool:
    """Choices and factor contributions summed over replications, per turn, actor and action.

    Batch experiments keep this instead of every decision: it is what pooled explanations
    ("which factor pushed China away from arms transfers?") need, at a cost independent of
    the number of replications. Each decision's sums are kept as a block of columns, rows
    factor by factor and, within a factor, action by action.
    """

    COLUMNS = ("turn", "actor", "menu", "action", "factor", "count", "contribution_fixed")

    def __init__(self) -> None:
        self.blocks: list[dict[str, np.ndarray]] = []

    def add(self, turn: int, decisions: list[Decision], live: np.ndarray) -> None:
        every = bool(live.all())
        for decision in decisions:
            chosen = decision.chosen if every else decision.chosen[live]
            if chosen.size == 0:
                continue
            actions = len(decision.menu.actions)
            counts = np.bincount(chosen, minlength=actions)
            present = np.flatnonzero(counts)
            # Integer sums per chosen action, every factor at once: sort by action, add runs
            # (a stable sort of small integers is a radix sort).
            keys = chosen.astype(np.uint8) if actions <= 256 else chosen
            order = np.argsort(keys, kind="stable")
            starts = np.searchsorted(keys[order], present)
            contributions = decision.contributions if every else decision.contributions[live]
            fixed = to_fixed(contributions)[order]
            totals = np.add.reduceat(fixed, starts, axis=0)  # [present actions, factors]
            factors = len(decision.factors)
            self.blocks.append(
                {
                    "turn": np.full(factors * len(present), turn, dtype=np.int64),
                    "actor": np.full(factors * len(present), decision.actor_id, dtype=object),
                    "menu": np.full(factors * len(present), decision.menu.name, dtype=object),
                    "action": np.tile(np.array(decision.menu.actions, dtype=object)[present],
                                      factors),
                    "factor": np.repeat(np.array(decision.factors, dtype=object), len(present)),
                    "count": np.tile(counts[present].astype(np.int64), factors),
                    "contribution_fixed": totals.T.ravel(),
                }
            )  # fmt: skip

    def add_rows(self, rows: list[dict]) -> None:
        """Rows given one by one (dicts with the columns of `COLUMNS`)."""
        if rows:
            self.blocks.append(
                {
                    name: np.array([row[name] for row in rows], dtype=object)
                    if name in ("actor", "menu", "action", "factor")
                    else np.array([row[name] for row in rows], dtype=np.int64)
                    for name in self.COLUMNS
                }
            )

    def frame(self) -> pd.DataFrame:
        if not self.blocks:
            frame = pd.DataFrame([], columns=list(self.COLUMNS))
            frame = frame.astype({"contribution_fixed": "int64"})
        else:
            frame = pd.DataFrame(
                {name: np.concatenate([b[name] for b in self.blocks]) for name in self.COLUMNS}
            )
        frame["contribution_sum"] = from_fixed(frame["contribution_fixed"])
        return frame
