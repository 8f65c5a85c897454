"""Which challenges a unit faces, and in what order to tackle them (pure: no Flask, no database).

Inputs are window means per unit and metric (the unit and its peers: units of the same kind in
the same region, or in the company when there is no region), the challenge signals a CX lead
configured, the importance of each metric (driver analysis shares), and the tallies of the unit's
survey comments that mention each challenge. Output: the active challenges, highest priority
first, each with its evidence in plain sentences.

How a gap is measured. For every metric the unit is compared with its peers *without itself*
(leave-one-out, so a unit does not pull the reference towards its own value): the gap is
``(peer mean - value) / peer SD`` when low values are bad and ``(value - peer mean) / peer SD``
when high values are bad, so gaps on different scales (a 0-10 rating, minutes, percentages)
compare. A signal's direction says which side is bad; without a signal (weakest drivers) the
metric's ``higher_is_better`` does.

When a signal is hit, by threshold kind:

- ``peer_sd``: the gap is at least ``threshold`` peer SDs; the gap counts.
- ``peer_percentile``: the unit is among the worst ``threshold`` % of its peer group, itself
  included (``20`` or ``0.2`` = bottom/top 20%); its gap (floored at 0) counts.
- ``absolute``: the value is past ``threshold`` (below it, or above it); the distance past the
  threshold, in peer SDs, counts (one SD when peers show no spread).

Priority = Σ over the signals hit of importance(metric) × gap, plus the comment term.

The comment term. Only comments of customers less satisfied than the peer average (their
``overall`` below the peers' window mean) count as complaints, so praise ("super accueil") does not
raise the greeting challenge. The share of the unit's comments that complain about a challenge is
set against the same share among the other peers' comments (a sample of them: reading every
comment of a region on each page would cost too much): the one-sided exact binomial tail
``P(X >= k)`` for ``X ~ Binomial(n, p0)``, with ``p0`` the peers' share smoothed as
``(K + 1/2) / (N + 1)`` so that a problem no peer mentions still has a rate, is turned into a
z-score (the normal quantile of the same tail). That z (floored at 0, capped at
``COMMENT_GAP_CAP``) times the weight of an average metric (``1 / number of weighted metrics``) is
added to the challenge's priority: a recurring complaint counts like one average metric that far
below its peers.

Comments alone make a challenge active when the complaint stands out against the peers beyond
doubt: at least ``COMMENT_MIN_MENTIONS`` complaints, a tail below ``COMMENT_ALPHA`` (0.1%: a
company of a hundred units tests thousands of unit-challenge pairs) and a share at least
``COMMENT_MIN_RATIO`` times the peers' (a big unit can be "significantly" 3% above a 2% rate).
With fewer than ``MIN_PEER_COMMENTS`` peer comments to compare, ``COMMENT_BASE_SHARE`` (5%) stands
in as ``p0``: the comments still add evidence to a challenge a signal raised, never raise one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from cxactions.foundations.translation import (
    N_,
    NamedInBothLanguages,
    _,
    format_percent,
    format_score,
    ngettext,
)

MIN_OTHER_PEERS = 3  # fewer peers with data: no peer SD, no peer-relative evidence
COMMENT_BASE_SHARE = 0.05  # p0 when the peers have too few comments to say
COMMENT_GAP_CAP = 3.0
MIN_PEER_COMMENTS = 30  # peers' comments (sampled) needed to compare with them
COMMENT_MIN_MENTIONS = 5  # for comments alone to make a challenge active...
COMMENT_ALPHA = 0.001  # ...their one-sided binomial tail against the peers' share...
COMMENT_MIN_RATIO = 1.5  # ...and their share against the peers'
EXAMPLES = 3
EXAMPLE_CHARS = 220


# --- Inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricInfo:
    code: str
    label: str
    kind: str  # "driver", "operational" or "outcome"
    higher_is_better: bool = True
    target: float | None = None


@dataclass(frozen=True)
class Signal:
    """A challenge shows when ``metric`` is ``direction`` (below/above) ``threshold``."""

    challenge: str
    metric: str
    direction: str  # "below" or "above"
    threshold_kind: str  # "absolute", "peer_sd" or "peer_percentile"
    threshold: float


@dataclass
class CommentTally:
    """How many of the unit's window comments mention one challenge, with examples."""

    mentions: int  # complaints (comments of less satisfied customers) that mention it
    comments: int  # every comment of the unit in the window
    keywords: Counter = field(default_factory=Counter)  # keyword as written -> comments
    examples: list[str] = field(default_factory=list)
    # The same counts among the other peers' comments (a sample), when known.
    peer_mentions: int | None = None
    peer_comments: int | None = None

    @property
    def compared(self) -> bool:
        """Whether the peers said enough to compare with them."""
        return self.peer_comments is not None and self.peer_comments >= MIN_PEER_COMMENTS

    @property
    def share(self) -> float:
        return self.mentions / self.comments if self.comments else 0.0

    @property
    def peer_share(self) -> float | None:
        """The peers' share of complaints about the challenge, as measured."""
        if not self.compared:
            return None
        return (self.peer_mentions or 0) / self.peer_comments

    @property
    def expected_share(self) -> float:
        """``p0``: the peers' share smoothed (never 0), else the base share."""
        if not self.compared:
            return COMMENT_BASE_SHARE
        return ((self.peer_mentions or 0) + 0.5) / (self.peer_comments + 1)

    @property
    def tail(self) -> float:
        """P(at least ``mentions`` complaints of ``comments``) at the expected share."""
        return binomial_tail(self.mentions, self.comments, self.expected_share)

    @property
    def z(self) -> float:
        """The tail as a z-score: how unusual the complaint count is, in SDs."""
        if self.comments <= 0:
            return 0.0
        return z_of_tail(self.tail)

    @property
    def stands_out(self) -> bool:
        """Whether the complaints alone show a problem (see the module's docstring)."""
        return (
            self.compared
            and self.mentions >= COMMENT_MIN_MENTIONS
            and self.tail <= COMMENT_ALPHA
            and self.share >= COMMENT_MIN_RATIO * (self.peer_share or 0.0)
        )


@dataclass(frozen=True)
class PeerContext:
    """How the sentences name things: "stores", "in North region", "the last 8 weeks".

    ``unit_word`` is the English plural (translated where a sentence uses it, see
    ``unit_words``); ``place`` is written in the reader's language by the caller.
    """

    unit_word: str = "units"
    place: str = "in the company"
    weeks: int = 8


# The plural nouns ``unit_word`` gives for the usual unit kinds, marked for translation.
UNIT_WORDS = {
    "units": N_("units"),
    "stores": N_("stores"),
    "regions": N_("regions"),
    "districts": N_("districts"),
}


def unit_words(word: str) -> str:
    """The plural noun for a kind of unit ("stores") in the reader's language; an unknown one
    (a kind the data invented) as it is."""
    return _(UNIT_WORDS[word]) if word in UNIT_WORDS else word


# --- Outputs ------------------------------------------------------------------------------------


@dataclass
class Standing:
    """One metric at the unit against its peers."""

    metric: MetricInfo
    value: float
    peer_mean: float | None
    peer_sd: float | None
    others: int  # peers with a value, the unit left out
    rank_low: int  # 1 = lowest value in the peer group (the unit included)
    rank_high: int  # 1 = highest
    group: int  # peers with a value, the unit included

    def gap(self, low_is_bad: bool) -> float | None:
        """Distance from the peer mean in peer SDs, positive on the bad side."""
        if self.peer_mean is None or not self.peer_sd:
            return None
        difference = self.peer_mean - self.value if low_is_bad else self.value - self.peer_mean
        return difference / self.peer_sd


@dataclass
class Evidence:
    """One reason a challenge is active, in a sentence; ``contribution`` is its priority share."""

    kind: str  # "metric" or "comments"
    sentence: str
    contribution: float
    metric: str | None = None
    value: float | None = None
    peer_mean: float | None = None
    gap_sd: float | None = None
    weight: float | None = None
    threshold_kind: str | None = None
    mentions: int | None = None
    comments: int | None = None
    peer_share: float | None = None  # comments: the other peers' share of such complaints
    examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "sentence": self.sentence,
            "contribution": _round(self.contribution),
            "metric": self.metric,
            "value": _round(self.value),
            "peer_mean": _round(self.peer_mean),
            "gap_sd": _round(self.gap_sd),
            "weight": _round(self.weight),
            "threshold_kind": self.threshold_kind,
            "mentions": self.mentions,
            "comments": self.comments,
            "peer_share": _round(self.peer_share),
            "examples": list(self.examples),
        }


@dataclass
class ActiveChallenge(NamedInBothLanguages):
    code: str
    name: str
    priority: float
    evidence: list[Evidence]
    signals_hit: list[str]  # metric codes
    solutions: list[Any] = field(default_factory=list)  # filled by the service
    name_fr: str | None = None  # the French name, when the challenge has one (the service's)

    @property
    def raised_by_comments(self) -> bool:
        """Active on its comments alone: no metric signal is hit."""
        return not self.signals_hit

    @property
    def comment_evidence(self) -> Evidence | None:
        return next((item for item in self.evidence if item.kind == "comments"), None)


@dataclass
class WeakDriver:
    """A metric where the unit trails its peers, shown when no signal links it to a challenge."""

    metric: MetricInfo
    value: float
    peer_mean: float
    gap_sd: float
    weight: float
    sentence: str

    @property
    def score(self) -> float:
        return self.weight * self.gap_sd


# --- Peers --------------------------------------------------------------------------------------


def standings(
    values: pd.DataFrame, unit_id: Any, metrics: Mapping[str, MetricInfo]
) -> dict[str, Standing]:
    """Each metric the unit has a value for, against its peers (rows of ``values``).

    ``values``: one row per unit (the unit and its peers), one column per metric code, the
    window mean or NaN.
    """
    result: dict[str, Standing] = {}
    if unit_id not in values.index:
        return result
    for code, metric in metrics.items():
        if code not in values.columns:
            continue
        column = values[code].astype("float64")
        value = column.get(unit_id)
        if value is None or not math.isfinite(value):
            continue
        others = column.drop(index=unit_id).dropna().to_numpy()
        peer_mean = float(others.mean()) if len(others) else None
        peer_sd = None
        if len(others) >= MIN_OTHER_PEERS:
            spread = float(others.std(ddof=1))
            peer_sd = spread if spread > 1e-9 else None
        result[code] = Standing(
            metric=metric,
            value=float(value),
            peer_mean=peer_mean,
            peer_sd=peer_sd,
            others=len(others),
            rank_low=1 + int(np.sum(others < value)),
            rank_high=1 + int(np.sum(others > value)),
            group=len(others) + 1,
        )
    return result


def metric_weights(
    importance: Mapping[str, float] | None, codes: Iterable[str]
) -> dict[str, float]:
    """Importance per metric: the driver analysis share, else an equal share.

    The equal share is ``1 / n`` over the union of weighted and considered metrics, so a metric
    the analysis does not know is neither ignored nor allowed to dominate.
    """
    importance = {code: float(share) for code, share in (importance or {}).items()
                  if share is not None and math.isfinite(share)}  # fmt: skip
    universe = set(importance) | set(codes)
    equal = 1.0 / len(universe) if universe else 1.0
    return {code: importance.get(code, equal) for code in universe}


# --- Active challenges ---------------------------------------------------------------------------


def active_challenges(
    values: pd.DataFrame,
    unit_id: Any,
    metrics: Mapping[str, MetricInfo],
    signals: Iterable[Signal],
    *,
    names: Mapping[str, str] | None = None,
    importance: Mapping[str, float] | None = None,
    comments: Mapping[str, CommentTally] | None = None,
    context: PeerContext | None = None,
) -> list[ActiveChallenge]:
    """The unit's active challenges, highest priority first (ties by code)."""
    names = names or {}
    comments = comments or {}
    context = context or PeerContext()
    signals = list(signals)
    standing = standings(values, unit_id, metrics)
    weights = metric_weights(
        importance, [code for code, metric in metrics.items() if metric.kind != "outcome"]
    )
    average_weight = 1.0 / len(weights) if weights else 1.0

    by_challenge: dict[str, list[Evidence]] = {}
    hit: dict[str, list[str]] = {}
    for signal in signals:
        item = standing.get(signal.metric)
        if item is None:
            continue
        evidence = _signal_evidence(signal, item, weights.get(signal.metric, 0.0), context)
        if evidence is not None:
            by_challenge.setdefault(signal.challenge, []).append(evidence)
            hit.setdefault(signal.challenge, []).append(signal.metric)

    for code, tally in comments.items():
        evidence = _comment_evidence(tally, average_weight, context)
        if evidence is None:
            continue
        if code in by_challenge:
            by_challenge[code].append(evidence)
        elif tally.stands_out:
            by_challenge[code] = [evidence]

    result = [
        ActiveChallenge(
            code=code,
            name=names.get(code, code),
            priority=sum(item.contribution for item in items),
            evidence=sorted(items, key=lambda item: -item.contribution),
            signals_hit=hit.get(code, []),
        )
        for code, items in by_challenge.items()
    ]
    result.sort(key=lambda item: (-item.priority, item.code))
    return result


def _signal_evidence(
    signal: Signal, item: Standing, weight: float, context: PeerContext
) -> Evidence | None:
    low_is_bad = signal.direction == "below"
    gap = item.gap(low_is_bad)
    kind = signal.threshold_kind
    digits = _digits(item)
    metric = item.metric
    label = metric.label or metric.code
    value = _number(item.value, digits)
    if kind == "peer_sd":
        if gap is None or gap < signal.threshold:
            return None
        finding = _gap_finding(_reading(item, label, digits, context), gap, low_is_bad)
        counted = gap
    elif kind == "peer_percentile":
        share = signal.threshold / 100 if signal.threshold > 1 else signal.threshold
        rank = item.rank_low if low_is_bad else item.rank_high
        if item.group < 2 or rank / item.group > share + 1e-9:
            return None
        words = {
            "reading": _reading(item, label, digits, context),
            "share": _percent(share),
            "units": unit_words(context.unit_word),
            "rank": _rank_words(rank, low_is_bad),
            "group": item.group,
        }
        if low_is_bad:
            finding = _(
                "%(reading)s: bottom %(share)s of %(units)s (%(rank)s of %(group)d)", **words
            )
        else:
            finding = _("%(reading)s: top %(share)s of %(units)s (%(rank)s of %(group)d)", **words)
        counted = max(gap or 0.0, 0.0)
    elif kind == "absolute":
        past = signal.threshold - item.value if low_is_bad else item.value - signal.threshold
        if past <= 0:
            return None
        threshold = _number(signal.threshold, digits)
        if low_is_bad:
            finding = _(
                "%(metric)s %(value)s, below the threshold of %(threshold)s",
                metric=label,
                value=value,
                threshold=threshold,
            )
        else:
            finding = _(
                "%(metric)s %(value)s, above the threshold of %(threshold)s",
                metric=label,
                value=value,
                threshold=threshold,
            )
        if item.peer_mean is not None:
            finding = _(
                "%(finding)s; the %(others)d other %(units)s %(place)s: %(peer_mean)s",
                finding=finding,
                others=item.others,
                units=unit_words(context.unit_word),
                place=context.place,
                peer_mean=_number(item.peer_mean, digits),
            )
        counted = past / item.peer_sd if item.peer_sd else 1.0
    else:
        return None
    return Evidence(
        kind="metric",
        sentence=_with_target(finding, metric.target, digits),
        contribution=weight * counted,
        metric=metric.code,
        value=item.value,
        peer_mean=item.peer_mean,
        gap_sd=gap,
        weight=weight,
        threshold_kind=kind,
    )


def _reading(item: Standing, label: str, digits: int, context: PeerContext) -> str:
    """ "Staff rating 5.0 vs 8.0 for the 5 other stores in North region" (the metric alone when
    no peer has a value)."""
    value = _number(item.value, digits)
    if item.peer_mean is None:
        return f"{label} {value}"
    return _(
        "%(metric)s %(value)s vs %(peer_mean)s for the %(others)d other %(units)s %(place)s",
        metric=label,
        value=value,
        peer_mean=_number(item.peer_mean, digits),
        others=item.others,
        units=unit_words(context.unit_word),
        place=context.place,
    )


def _gap_finding(reading: str, gap: float, low_is_bad: bool) -> str:
    """The reading and how far it trails the peers: "...: 4.2 SD below them"."""
    if low_is_bad:
        return _("%(reading)s: %(gap)s SD below them", reading=reading, gap=format_score(gap, 1))
    return _("%(reading)s: %(gap)s SD above them", reading=reading, gap=format_score(gap, 1))


def _with_target(finding: str, target: float | None, digits: int) -> str:
    """The finding as a sentence, with the metric's target when it has one."""
    if target is None:
        return _("%(finding)s.", finding=finding)
    return _("%(finding)s (target %(target)s).", finding=finding, target=_number(target, digits))


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space from the k-th term on.

    The terms past the mode shrink geometrically, so the sum stops once they no longer change
    it; below the mode it sums the other side and takes the complement.
    """
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    if k <= n * p:  # the tail holds most of the mass: 1 - P(X <= k - 1)
        return max(0.0, 1.0 - _binomial_head(k - 1, n, p))
    ratio = p / (1.0 - p)
    term = math.exp(_log_pmf(k, n, p))
    total = 0.0
    for j in range(k, n + 1):
        total += term
        term *= (n - j) / (j + 1) * ratio
        if term < total * 1e-17:
            break
    return min(total, 1.0)


def _binomial_head(k: int, n: int, p: float) -> float:
    """P(X <= k), summed downwards from the k-th term (k at or below the mean)."""
    ratio = (1.0 - p) / p
    term = math.exp(_log_pmf(k, n, p))
    total = 0.0
    for j in range(k, -1, -1):
        total += term
        term *= j / (n - j + 1) * ratio
        if term < total * 1e-17:
            break
    return min(total, 1.0)


def _log_pmf(k: int, n: int, p: float) -> float:
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


_NORMAL = NormalDist()


def z_of_tail(tail: float) -> float:
    """The z-score whose upper tail is ``tail`` (0.5 -> 0, 0.001 -> 3.09)."""
    tail = min(max(tail, 1e-300), 1.0 - 1e-16)
    return -_NORMAL.inv_cdf(tail)


def _comment_evidence(tally: CommentTally, weight: float, context: PeerContext) -> Evidence | None:
    if tally.mentions <= 0 or tally.comments <= 0:
        return None
    z = tally.z
    common = sorted(tally.keywords.items(), key=lambda pair: (-pair[1], pair[0]))[:2]
    said = ", ".join(_("“%(keyword)s”", keyword=word) for word, _count in common)
    words = {
        "comments": tally.comments,
        "weeks": context.weeks,
        "said": said,
        "share": _percent(tally.share),
        "units": unit_words(context.unit_word),
        "place": context.place,
    }
    if tally.peer_share is not None:
        words["peer_share"] = _percent(tally.peer_share)
        if said:
            sentence = ngettext(
                "%(num)d of %(comments)d comments in the last %(weeks)d weeks complains about "
                "%(said)s (%(share)s, against %(peer_share)s of the other %(units)s' comments "
                "%(place)s).",
                "%(num)d of %(comments)d comments in the last %(weeks)d weeks complain about "
                "%(said)s (%(share)s, against %(peer_share)s of the other %(units)s' comments "
                "%(place)s).",
                tally.mentions,
                **words,
            )
        else:
            sentence = ngettext(
                "%(num)d of %(comments)d comments in the last %(weeks)d weeks complains about "
                "it (%(share)s, against %(peer_share)s of the other %(units)s' comments "
                "%(place)s).",
                "%(num)d of %(comments)d comments in the last %(weeks)d weeks complain about "
                "it (%(share)s, against %(peer_share)s of the other %(units)s' comments "
                "%(place)s).",
                tally.mentions,
                **words,
            )
    elif said:
        sentence = ngettext(
            "%(num)d of %(comments)d comments in the last %(weeks)d weeks complains about "
            "%(said)s (%(share)s).",
            "%(num)d of %(comments)d comments in the last %(weeks)d weeks complain about "
            "%(said)s (%(share)s).",
            tally.mentions,
            **words,
        )
    else:
        sentence = ngettext(
            "%(num)d of %(comments)d comments in the last %(weeks)d weeks complains about it "
            "(%(share)s).",
            "%(num)d of %(comments)d comments in the last %(weeks)d weeks complain about it "
            "(%(share)s).",
            tally.mentions,
            **words,
        )
    return Evidence(
        kind="comments",
        sentence=sentence,
        contribution=weight * min(max(z, 0.0), COMMENT_GAP_CAP),
        gap_sd=z,
        weight=weight,
        mentions=tally.mentions,
        comments=tally.comments,
        peer_share=tally.peer_share,
        examples=[_shorten(text) for text in tally.examples[:EXAMPLES]],
    )


# --- Weakest drivers -------------------------------------------------------------------------


def weakest_drivers(
    values: pd.DataFrame,
    unit_id: Any,
    metrics: Mapping[str, MetricInfo],
    *,
    importance: Mapping[str, float] | None = None,
    context: PeerContext | None = None,
    kinds: Iterable[str] = ("driver", "operational"),
    limit: int = 5,
) -> list[WeakDriver]:
    """Metrics where the unit trails its peers, by importance × gap (in peer SDs), worst first.

    For units whose challenges have no signals: the evidence still shows, unlinked.
    """
    context = context or PeerContext()
    kinds = set(kinds)
    chosen = {code: metric for code, metric in metrics.items() if metric.kind in kinds}
    weights = metric_weights(importance, chosen)
    result = []
    for code, item in standings(values, unit_id, chosen).items():
        gap = item.gap(item.metric.higher_is_better)
        if gap is None or gap <= 0 or item.peer_mean is None:
            continue
        digits = _digits(item)
        reading = _reading(item, item.metric.label or code, digits, context)
        finding = _gap_finding(reading, gap, item.metric.higher_is_better)
        sentence = _with_target(finding, item.metric.target, digits)
        result.append(WeakDriver(item.metric, item.value, item.peer_mean, gap, weights[code],
                                 sentence))  # fmt: skip
    result.sort(key=lambda item: (-item.score, item.metric.code))
    return result[:limit]


# --- Words ------------------------------------------------------------------------------------


def _digits(item: Standing) -> int:
    """One decimal, two when the peers' spread is finer than that."""
    return 2 if item.peer_sd is not None and item.peer_sd < 0.1 else 1


def _number(value: float | None, digits: int = 1) -> str:
    return format_score(value, digits)


def _percent(share: float) -> str:
    percent = share * 100
    return format_percent(share, 0 if percent >= 1 or percent == 0 else 1)


# "2nd lowest", "13th highest": English ordinals need their suffix, other languages their own.
_ORDINALS = {
    (True, "st"): N_("%(rank)dst lowest"),
    (True, "nd"): N_("%(rank)dnd lowest"),
    (True, "rd"): N_("%(rank)drd lowest"),
    (True, "th"): N_("%(rank)dth lowest"),
    (False, "st"): N_("%(rank)dst highest"),
    (False, "nd"): N_("%(rank)dnd highest"),
    (False, "rd"): N_("%(rank)drd highest"),
    (False, "th"): N_("%(rank)dth highest"),
}


def _rank_words(rank: int, lowest: bool) -> str:
    """ "the lowest", "2nd lowest", "13th highest"."""
    if rank == 1:
        return _("the lowest") if lowest else _("the highest")
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(rank % 10 if rank % 100 not in (11, 12, 13) else 0)
    return _(_ORDINALS[lowest, suffix or "th"], rank=rank)


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1].rstrip() + "…"


def _round(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def signal_hits(values: pd.DataFrame, signals: Iterable[Signal]) -> dict[Any, set[str]]:
    """For every unit (row) of ``values``, the challenges whose signals it hits: the decision
    ``active_challenges`` takes one unit at a time (leave-one-out peer mean
    and SD, ranks, thresholds), taken for all rows at once with array arithmetic.

    ``values``: one row per unit of a peer group, one column per metric code (window means).
    Comment evidence is not considered. Units without a hit are left out.
    """
    hits: dict[Any, set[str]] = {}
    by_metric: dict[str, list[Signal]] = {}
    for signal in signals:
        by_metric.setdefault(signal.metric, []).append(signal)
    for code, metric_signals in by_metric.items():
        if code not in values.columns:
            continue
        column = values[code].to_numpy(dtype="float64", na_value=np.nan)
        present = ~np.isnan(column)  # the peers with a value (``dropna``)
        own = np.isfinite(column)  # the units judged: those with a finite value
        if not own.any():
            continue
        data = column[present]
        count = len(data)
        # Sums about the mean, so that identical values give an SD of exactly 0.
        centre = float(data.mean())
        shifted = data - centre
        total, squares = float(shifted.sum()), float((shifted * shifted).sum())
        ordered = np.sort(data)
        value = column[own]
        offset = value - centre
        others = count - 1  # every judged unit is among the present ones
        with np.errstate(divide="ignore", invalid="ignore"):
            others_offset = (total - offset) / others
            peer_mean = others_offset + centre
            variance = (squares - offset * offset - others * others_offset**2) / (others - 1)
        spread = np.sqrt(np.maximum(variance, 0.0))
        has_sd = (others >= MIN_OTHER_PEERS) & (spread > 1e-9)
        if count >= 2:
            # Identical other values have no spread at all, whatever the rounding above says.
            lowest = np.where(value == ordered[0], ordered[1], ordered[0])
            highest = np.where(value == ordered[-1], ordered[-2], ordered[-1])
            has_sd &= lowest != highest
        rank_low = 1 + np.searchsorted(ordered, value, side="left")
        rank_high = 1 + count - np.searchsorted(ordered, value, side="right")
        units = values.index[own]
        for signal in metric_signals:
            low_is_bad = signal.direction == "below"
            if signal.threshold_kind == "peer_sd":
                difference = peer_mean - value if low_is_bad else value - peer_mean
                with np.errstate(divide="ignore", invalid="ignore"):
                    gap = np.where(has_sd, difference / np.where(has_sd, spread, 1.0), np.nan)
                hit = has_sd & (gap >= signal.threshold)
            elif signal.threshold_kind == "peer_percentile":
                share = signal.threshold / 100 if signal.threshold > 1 else signal.threshold
                rank = rank_low if low_is_bad else rank_high
                hit = (rank / count <= share + 1e-9) if count >= 2 else np.zeros(len(value), bool)
            elif signal.threshold_kind == "absolute":
                past = signal.threshold - value if low_is_bad else value - signal.threshold
                hit = past > 0
            else:
                continue
            for unit in units[np.asarray(hit, dtype=bool)]:
                hits.setdefault(unit, set()).add(signal.challenge)
    return hits
