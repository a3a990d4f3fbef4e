"""Journey completion from ``events``: per journey, how many journeys reach the final stage, how long
it takes from the first to the final stage (median, p90), and the drop-off at each stage.

A customer's events in one journey are cut into *instances* (one purchase, one service request) where
more than ``gap_days`` pass between two events. Stages are ordered by their mean position within
instances. The final stage is given per journey (``final={"purchase": "delivery"}``) or, by default,
the latest stage in that order that at least ``min_reach`` (half) of the instances that get beyond the
first stage reach — the same rule as the journey map's (``centric.journeys``), so that browsing
sessions that never go further do not hide the end of the journey.
All of it runs in the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..journeys.instances import instances
from ..store import Store
from .periods import selection
from .results import Tabular, results


@dataclass(frozen=True)
class StageStats:
    stage: str
    position: float
    reached: int
    reached_pct: float
    drop_off_pct: float | None  # of those reaching this stage, share that go no further (None from the final on)


@dataclass(frozen=True)
class JourneyStats(Tabular):
    journey: str
    instances: int
    final_stage: str
    completed: int
    completion_pct: float
    median_hours: float | None
    p90_hours: float | None
    stages: list[StageStats] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["stages"] = [s.__dict__ for s in self.stages]
        return d

    def to_frame(self) -> pd.DataFrame:
        """One row for the journey (its stages: ``stages_frame()``)."""
        return pd.DataFrame([{k: v for k, v in self.__dict__.items() if k != "stages"}])

    def stages_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"journey": self.journey, **s.__dict__} for s in self.stages])


@results
@selection
def journeys(store: Store, final: dict[str, str] | None = None, gap_days: float = 14.0, min_reach: float = 0.5,
             start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[JourneyStats]:
    """Completion statistics for every journey in ``events``."""
    inst = instances(store, gap_days, start, end)
    per_stage = inst.group_by(["journey", "stage"]).aggregate(position=inst.pos.mean()).execute()
    # count instances reaching a stage (once per instance)
    reach = inst.select("customer_id", "journey", "instance", "stage").distinct()
    reach_df = reach.group_by(["journey", "stage"]).aggregate(reached=reach.count()).execute()
    totals = inst.select("customer_id", "journey", "instance").distinct()
    totals_df = totals.group_by("journey").aggregate(n=totals.count()).execute()
    out = []
    for journey, n in totals_df.sort_values("journey").itertuples(index=False):
        ps = per_stage[per_stage.journey == journey].merge(
            reach_df[reach_df.journey == journey], on=["journey", "stage"]).sort_values("position")
        stage_list = list(ps.stage)
        fin = (final or {}).get(journey)
        if fin is None:
            beyond = reach.filter((reach.journey == journey) & (reach.stage != stage_list[0]))
            base = int(beyond.select("customer_id", "instance").distinct().count().execute()) or n
            eligible = ps[ps.reached >= min_reach * base]
            fin = eligible.stage.iloc[-1] if len(eligible) else stage_list[-1]
        done = inst.filter((inst.journey == journey) & (inst.stage == fin))
        per_inst = done.group_by(["customer_id", "instance"]).aggregate(
            hours=(done.occurred_at.min().epoch_seconds().cast("float64")
                   - done.started_at.min().epoch_seconds().cast("float64")) / 3600.0)
        agg = per_inst.aggregate(n=per_inst.count(), med=per_inst.hours.quantile(0.5),
                                 p90=per_inst.hours.quantile(0.9)).execute().iloc[0]
        # drop-off: of the instances reaching a stage, the share whose last stage it is
        last = inst.filter(inst.journey == journey)
        lastpos = last.group_by(["customer_id", "instance"]).aggregate(maxpos=last.pos.max())
        ends = last.join(lastpos, [last.customer_id == lastpos.customer_id, last.instance == lastpos.instance,
                                   last.pos == lastpos.maxpos])
        ends_df = ends.group_by(ends.stage).aggregate(ended=ends.count()).execute()
        ended = dict(zip(ends_df.stage, ends_df.ended, strict=True))
        fin_pos = float(ps.position[ps.stage == fin].iloc[0])
        stages = [
            StageStats(r.stage, float(r.position), int(r.reached), 100.0 * r.reached / n,
                       None if r.position >= fin_pos else 100.0 * ended.get(r.stage, 0) / r.reached)
            for r in ps.itertuples(index=False)
        ]
        completed = int(agg.n)
        out.append(JourneyStats(
            journey, int(n), fin, completed, 100.0 * completed / n if n else 0.0,
            None if pd.isna(agg.med) else float(agg.med), None if pd.isna(agg.p90) else float(agg.p90), stages))
    return out
