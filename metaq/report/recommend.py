"""Plain-language recommendations derived from a forecast table, never stronger than its numbers.

Each sentence is computed from the forecast's probabilities: a candidate is named "the better
choice" only when its probability of being the best reaches a threshold, and the probability
is always stated; below it the text says the data do not separate the candidates.
"""

from __future__ import annotations

import pandas as pd

from metaq.report.formatting import (
    forecast_target,
    format_change,
    format_probability,
    text_column,
)


def _benchmark_labels(forecast: pd.DataFrame) -> pd.Series:
    labels = forecast["benchmark"].astype(str)
    if "domain" in forecast.columns:
        domain = text_column(forecast["domain"])
        labels = labels.where(domain == "", labels + "/" + domain)
    return labels


def _model_name(rows: pd.DataFrame) -> str:
    name = str(rows["target_model"].iloc[0])
    if "params_b" in rows.columns and pd.notna(rows["params_b"].iloc[0]):
        return f"{name} ({float(rows['params_b'].iloc[0]):g}B)"
    return name


def _gain_sentence(rows: pd.DataFrame, dataset: str, *, target: str, prob: float,
                   gain_threshold: float) -> str:
    mine = rows[rows["dataset_id"].astype(str) == dataset]
    likely_gain = int((mine["prob_gain"] >= gain_threshold).sum())
    likely_loss = int((mine["prob_gain"] <= 1 - gain_threshold).sum())
    uncertain = len(mine) - likely_gain - likely_loss
    largest = mine.loc[mine["estimate"].abs().idxmax()]
    return (
        f"Of {len(mine)} benchmarks, fine-tuning on {dataset} is forecast to raise the score on "
        f"{likely_gain} and to lower it on {likely_loss} (each with probability at least "
        f"{gain_threshold:.2f}); on {uncertain} the direction is uncertain. Its "
        f"largest expected change is {format_change(largest['estimate'], target)} on "
        f"{largest['label']} ({prob:.0%} interval {format_change(largest['lower'], target)} to "
        f"{format_change(largest['upper'], target)}, P(gain) "
        f"{format_probability(largest['prob_gain'])})."
    )


def _choice_sentences(rows: pd.DataFrame, model: str, *, best_threshold: float) -> tuple[
        str, list[str]]:
    average = rows.groupby("dataset_id", sort=False)["prob_best"].mean().sort_values(
        ascending=False)
    leader, leader_p = str(average.index[0]), float(average.iloc[0])
    mine = rows[rows["dataset_id"].astype(str) == leader]
    low, high = mine.loc[mine["prob_best"].idxmin()], mine.loc[mine["prob_best"].idxmax()]
    spread = ("the same on every benchmark" if low["prob_best"] == high["prob_best"] else
              f"from {format_probability(low['prob_best'])} on {low['label']} to "
              f"{format_probability(high['prob_best'])} on {high['label']}")
    if leader_p >= best_threshold:
        lead = (f"{leader} is the better choice for {model} with probability "
                f"{format_probability(leader_p)}, averaged over {len(mine)} benchmarks "
                f"({spread}).")
    else:
        lead = (f"The data do not separate the {len(average)} candidates for {model}: no "
                f"dataset is the best with probability {best_threshold:.2f} or more on "
                f"average; the highest is {leader} with {format_probability(leader_p)} "
                f"({spread}).")
    winners = rows[rows["prob_best"] >= best_threshold]
    per_dataset = [
        f"{dataset} reaches P(best) of at least {best_threshold:.2f} on "
        + ", ".join(f"{r['label']} ({format_probability(r['prob_best'])})"
                    for _, r in part.iterrows()) + "."
        for dataset, part in winners.groupby("dataset_id", sort=False)]
    return leader, [lead, *per_dataset]


def recommendation(forecast: pd.DataFrame, *, prob: float, best_threshold: float = 0.75,
                   gain_threshold: float = 0.8) -> list[str]:
    """One paragraph per target model saying which candidate to use and how sure that is.

    Parameters
    ----------
    forecast : pandas.DataFrame
        A forecast summary: ``dataset_id, target_model, benchmark, estimate, lower, upper,
        prob_gain`` and, to compare candidates, ``prob_best``; a ``seen_model`` column that is
        false marks target models the predictor never saw fine-tuned.
    prob : float
        Mass of the ``lo``-``hi`` intervals (for the wording).
    best_threshold : float, default 0.75
        Average P(best) needed to call a candidate the better choice.
    gain_threshold : float, default 0.8
        P(gain) needed to call a change likely (``1 - gain_threshold`` for a likely loss).

    Returns
    -------
    list of str
        Paragraphs in the order the target models first appear.

    Examples
    --------
    >>> f = pd.DataFrame({"dataset_id": ["A", "B"], "target_model": ["m", "m"],
    ...                   "benchmark": ["b", "b"], "estimate": [0.02, -0.01],
    ...                   "lower": [0.0, -0.03], "upper": [0.04, 0.01], "prob_gain": [0.97, 0.2],
    ...                   "prob_best": [0.9, 0.1], "target": ["abs", "abs"]})
    >>> recommendation(f, prob=0.9)[0].split(",")[0]
    'A is the better choice for m with probability 0.90'
    """
    target = forecast_target(forecast)
    table = forecast.assign(label=_benchmark_labels(forecast))
    paragraphs = []
    for _, rows in table.groupby("target_model", sort=False):
        rows = rows.reset_index(drop=True)
        model = _model_name(rows)
        candidates = rows["dataset_id"].astype(str).unique()
        if len(candidates) > 1 and "prob_best" in rows.columns:
            leader, sentences = _choice_sentences(rows, model, best_threshold=best_threshold)
        else:
            leader, sentences = str(candidates[0]), [f"For {model}:"]
        sentences.append(_gain_sentence(rows, leader, target=target, prob=prob,
                                        gain_threshold=gain_threshold))
        if "seen_model" in rows.columns and not rows["seen_model"].astype(bool).all():
            sentences.append(f"{model} was not among the fine-tuned models, so these numbers "
                             f"rest on the trend over model size (see Caveats).")
        paragraphs.append(" ".join(sentences))
    return paragraphs
