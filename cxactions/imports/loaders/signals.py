"""signals.csv: the metrics that reveal each challenge; key: challenge, metric and direction.
An absolute threshold must lie on its metric's scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from cxactions.foundations.translation import _
from cxactions.foundations.vocabulary import ThresholdKind
from cxactions.imports.loaders.base import (
    CHALLENGES_FIRST,
    Loader,
    MetricReferences,
    metric_rows,
    plain,
    refuse_off_scale,
    same_value,
    scale_of,
)
from cxactions.imports.results import ErrorLog, ParseError
from cxactions.taxonomy.models import Challenge, ChallengeSignal


class SignalsLoader(MetricReferences, Loader):
    """The metrics that reveal each challenge; key: challenge, metric and direction."""

    def prepare(self, errors: ErrorLog) -> None:
        table = Challenge.__table__
        survivor = table.alias("survivor")
        query = sa.select(table.c.code, table.c.id, survivor.c.code.label("merged_into")).outerjoin(
            survivor, survivor.c.id == table.c.merged_into_id
        )
        challenges = self.session.execute(query).all()
        self.challenges = {row.code: row.id for row in challenges}
        self.merged = {row.code: row.merged_into for row in challenges if row.merged_into}
        metrics = metric_rows(self.session)
        self.metrics = {code: row.id for code, row in metrics.items()}
        self.scales = {code: scale_of(row) for code, row in metrics.items()}
        signals = ChallengeSignal.__table__
        if self.writing and self.dialect == "postgresql":
            # No unique constraint holds the key, so ON CONFLICT cannot stop two imports from
            # adding the same signal: one writer at a time (SQLite's BEGIN IMMEDIATE does so).
            self.session.execute(
                sa.text("LOCK TABLE challenge_signals IN SHARE ROW EXCLUSIVE MODE")
            )
        # A key held twice (made in the browser) is one signal: both rows follow the file.
        self.existing: dict[tuple[int, int, str], list] = {}
        for row in self.session.execute(
            sa.select(signals.c.id, signals.c.challenge_id, signals.c.metric_id,
                      signals.c.direction, signals.c.threshold_kind, signals.c.threshold)
            .order_by(signals.c.id)
        ):  # fmt: skip
            key = (row.challenge_id, row.metric_id, plain(row.direction))
            self.existing.setdefault(key, []).append(row)

    def check(self, rows: pd.DataFrame, errors: ErrorLog) -> pd.DataFrame:
        merged = rows["challenge_id"].isin(self.merged).to_numpy()
        for line, code in zip(
            rows["line"].to_numpy()[merged], rows["challenge_id"].to_numpy()[merged], strict=True
        ):
            errors.add(
                ParseError(
                    int(line),
                    "challenge_id",
                    _(
                        "'%(code)s' was merged into '%(survivor)s': use '%(survivor)s'",
                        code=code,
                        survivor=self.merged[code],
                    ),
                )
            )
        rows = rows.loc[~merged].reset_index(drop=True)
        rows, challenge_ids = self.reference(
            rows, errors, "challenge_id", self.challenges, CHALLENGES_FIRST
        )
        rows = rows.assign(challenge_pk=challenge_ids.astype(np.int64))
        rows = self.known_metrics(rows, errors)
        # An absolute threshold is a value of the metric: it lies on the metric's scale.
        absolute = (rows["threshold_kind"] == ThresholdKind.ABSOLUTE.value).to_numpy()
        bad = np.zeros(len(rows), dtype=bool)
        for code in pd.unique(rows["metric"].to_numpy()[absolute]):
            among = absolute & (rows["metric"] == code).to_numpy()
            bad |= refuse_off_scale(rows, errors, "threshold", code, self.scales[code], among)
        return rows.loc[~bad].reset_index(drop=True) if bad.any() else rows

    def take(self, rows: pd.DataFrame) -> None:
        inserts, updates = [], []
        for challenge_pk, metric_pk, direction, kind, threshold in zip(
            rows["challenge_pk"].tolist(),
            rows["metric_pk"].tolist(),
            rows["direction"].tolist(),
            rows["threshold_kind"].tolist(),
            rows["threshold"].tolist(),
            strict=True,
        ):
            current = self.existing.get((challenge_pk, metric_pk, direction))
            if current is None:
                self.inserted += 1
                inserts.append(
                    {"challenge_id": challenge_pk, "metric_id": metric_pk, "direction": direction,
                     "threshold_kind": kind, "threshold": threshold}
                )  # fmt: skip
                continue
            stale = [
                row.id
                for row in current
                if plain(row.threshold_kind) != kind or not same_value(row.threshold, threshold)
            ]
            if stale:
                self.updated += 1
                updates.extend(
                    {"row_id": row_id, "new_threshold_kind": kind, "new_threshold": threshold}
                    for row_id in stale
                )
        if not self.writing:
            return
        self.write(ChallengeSignal.__table__, inserts, updates)
