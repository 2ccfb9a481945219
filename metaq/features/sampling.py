"""Stratified, seeded subsample of a dataset's examples, and its standard errors.

Used wherever scoring every example costs too much: the judge (``judge_sample``) and the
subsampled model-based extractors of the runner (``sample``: embeddings, perplexity).

Strata are domain x length bin (quantile bins of the reasoning length in characters over the
whole dataset). The sample size is allocated proportionally to stratum size (largest
remainders, so the sizes sum to exactly ``n``), and within a stratum the examples with the
smallest seeded hash of their content are taken. The sample therefore depends only on the
dataset's content, ``n`` and the seed, not on the order of the file.

Standard errors estimate the value of the *whole dataset* from the judged sample, with the
finite-population correction ``sqrt(1 - n / N)`` (``n`` judged, ``N`` eligible examples):
proportional allocation makes the sample self-weighting, and the simple-random-sampling
formula used here is then slightly conservative (stratification removes the between-stratum
variance). Judging every example gives a sampling standard error of 0.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence

import numpy as np

from metaq.exceptions import InvalidParameterError
from metaq.features.base import Example


def sample_size(value: int | str | None, parameter: str) -> int | None:
    """Validate a sample size: a positive number of examples, or ``None``/``"all"`` for all.

    Parameters
    ----------
    value : int, str or None
        The size as given.
    parameter : str
        The parameter's name, for the error message.

    Raises
    ------
    InvalidParameterError
        When `value` is neither.

    Examples
    --------
    >>> sample_size("all", "sample"), sample_size(200, "sample"), sample_size("50", "sample")
    (None, 200, 50)
    """
    if value is None or (isinstance(value, str) and value.strip().lower() == "all"):
        return None
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = 0
    if size < 1:
        raise InvalidParameterError(f"{parameter}={value!r} is not a sample size: give a "
                                    f"positive number of examples (e.g. 1000) or 'all'")
    return size


def length_bins(lengths: Sequence[int], n_bins: int = 4) -> np.ndarray:
    """Quantile bin (0 .. n_bins - 1) of each length; ties share a bin.

    Examples
    --------
    >>> length_bins([10, 20, 30, 40], n_bins=2).tolist()
    [0, 0, 1, 1]
    """
    values = np.asarray(lengths, dtype=float)
    if values.size == 0:
        return np.zeros(0, dtype=int)
    edges = np.quantile(values, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.searchsorted(edges, values, side="left").astype(int)


def stratified_sample(keys: Sequence[str], domains: Sequence[str], lengths: Sequence[int],
                      n: int | None, *, seed: int = 0, n_length_bins: int = 4) -> np.ndarray:
    """Choose ``n`` examples, stratified by domain and length, reproducibly.

    Parameters
    ----------
    keys : sequence of str
        A stable key per example (its content hash).
    domains : sequence of str
        Domain label per example (``""`` when unknown: one stratum).
    lengths : sequence of int
        Reasoning length per example (characters).
    n : int or None
        Sample size; ``None`` (or ``n >= len(keys)``) selects everything.
    seed : int
        Seed of the within-stratum choice.
    n_length_bins : int
        Length bins per domain.

    Returns
    -------
    numpy.ndarray
        Boolean mask, True for the chosen examples.

    Examples
    --------
    >>> mask = stratified_sample(list("abcdef"), ["x"] * 3 + ["y"] * 3, [1, 2, 3] * 2, 2,
    ...                          n_length_bins=1)
    >>> int(mask[:3].sum()), int(mask[3:].sum())
    (1, 1)
    """
    total = len(keys)
    if n is None or n >= total:
        return np.ones(total, dtype=bool)
    bins = length_bins(lengths, n_length_bins)
    strata = [f"{d}\x1f{b}" for d, b in zip(domains, bins, strict=True)]
    names, codes = np.unique(strata, return_inverse=True)
    sizes = np.bincount(codes, minlength=len(names))
    quotas = _largest_remainder(sizes, n)
    priority = np.array([_priority(k, seed) for k in keys])
    mask = np.zeros(total, dtype=bool)
    for stratum, quota in enumerate(quotas):
        members = np.flatnonzero(codes == stratum)
        mask[members[np.argsort(priority[members], kind="stable")[:quota]]] = True
    return mask


def sample_keys(batches: Iterable[Sequence[Example]], n: int, *, seed: int = 0) -> frozenset[str]:
    """Content hashes of a stratified sample of `n` examples of a stream of batches.

    Parameters
    ----------
    batches : iterable of sequences of Example
        The whole dataset (e.g. :func:`metaq.io.iter_example_batches`); only the content
        hashes, domains and reasoning lengths are kept while reading.
    n : int
        Sample size (everything when the dataset is not larger).
    seed : int
        Seed of the within-stratum choice.

    Returns
    -------
    frozenset of str
        The chosen examples' content hashes.
    """
    keys, domains, lengths = [], [], []
    for batch in batches:
        for ex in batch:
            keys.append(ex.content_hash())
            domains.append(ex.domain)
            lengths.append(len(ex.reasoning))
    mask = stratified_sample(keys, domains, lengths, n, seed=seed)
    return frozenset(k for k, chosen in zip(keys, mask, strict=True) if chosen)


def _largest_remainder(sizes: np.ndarray, n: int) -> np.ndarray:
    exact = sizes * n / sizes.sum()
    quotas = np.floor(exact).astype(int)
    order = np.argsort(-(exact - quotas), kind="stable")
    quotas[order[: n - quotas.sum()]] += 1
    return quotas


def _priority(key: str, seed: int) -> int:
    digest = hashlib.blake2b(f"{seed}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def fpc(n: int, population: int) -> float:
    """Finite-population correction ``sqrt(1 - n / N)`` (1 when ``N`` is unknown or 0).

    Examples
    --------
    >>> fpc(25, 100)
    0.8660254037844386
    """
    return math.sqrt(max(0.0, 1.0 - n / population)) if population else 1.0


def mean_se(values: np.ndarray, population: int) -> tuple[float, float]:
    """Mean of the sampled per-example values and its standard error with the FPC.

    ``se = sd / sqrt(n) * sqrt(1 - n / N)`` (``sd`` with ddof=1); NaN when ``n < 2``.

    Examples
    --------
    >>> mean_se(np.array([0.0, 1.0]), population=4)
    (0.5, 0.3535533905932738)
    """
    n = values.size
    if n == 0:
        return math.nan, math.nan
    se = values.std(ddof=1) / math.sqrt(n) * fpc(n, population) if n > 1 else math.nan
    return float(values.mean()), float(se)


def ratio_se(numerators: np.ndarray, denominators: np.ndarray,
             population: int) -> tuple[float, float]:
    """Pooled ratio ``sum(y) / sum(m)`` over sampled examples and its standard error.

    Steps are pooled but examples (clusters of steps) are what was sampled, so the standard
    error is the ratio estimator's: ``sqrt(sum((y_i - R m_i)^2) / (n (n - 1))) / mean(m)``,
    times the FPC.

    Examples
    --------
    >>> ratio_se(np.array([1.0, 3.0]), np.array([2.0, 4.0]), population=2)
    (0.6666666666666666, 0.0)
    """
    n = numerators.size
    total = denominators.sum()
    if n == 0 or total == 0:
        return math.nan, math.nan
    ratio = numerators.sum() / total
    if n < 2:
        return float(ratio), math.nan
    resid = numerators - ratio * denominators
    se = math.sqrt((resid ** 2).sum() / (n * (n - 1))) / denominators.mean()
    return float(ratio), float(se * fpc(n, population))
