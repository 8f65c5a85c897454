"""The few distribution functions the estimators need, without importing ``scipy.stats``.

``scipy.stats`` costs about half a second to import, which every ``cxactions impact`` run
would pay; the normal quantile comes from the standard library and Student's t from
``scipy.special``.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from scipy import special

_STANDARD_NORMAL = NormalDist()


def normal_quantile(probability: float) -> float:
    return _STANDARD_NORMAL.inv_cdf(probability)


def t_quantile(probability: float, degrees) -> np.ndarray:
    """Student t quantiles; infinite degrees of freedom give the normal quantile."""
    degrees = np.asarray(degrees, dtype=float)
    return np.where(
        np.isinf(degrees),
        normal_quantile(probability),
        special.stdtrit(np.where(np.isinf(degrees), 1.0, degrees), probability),
    )


def t_survival(value, degrees) -> np.ndarray:
    """P(T > value) for Student t; infinite degrees of freedom give the normal tail."""
    value = np.asarray(value, dtype=float)
    degrees = np.broadcast_to(np.asarray(degrees, dtype=float), value.shape)
    normal_tail = special.ndtr(-value)
    return np.where(
        np.isinf(degrees),
        normal_tail,
        special.stdtr(np.where(np.isinf(degrees), 1.0, degrees), -value),
    )
