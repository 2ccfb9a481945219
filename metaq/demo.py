"""The main job on the shipped data: reproduce the study, measure samples, forecast, report.

``metaq demo`` (and ``make demo``) runs the whole product end to end with no download and no
GPU:

1. reproduce the study's correlation analysis (Tables 7 and 8, p-values, FDR, heatmaps);
2. measure the shipped sample datasets (the three GSM8K trace styles of the same questions and
   the Marco-o1 long chain-of-thought sample) with every extractor that runs offline here;
3. forecast them with the shipped default predictor for the study's two models and for a size
   it never saw, with importance, contributions, what-if sweeps and a ranking;
4. write the HTML uncertainty report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from metaq.datasets import sample_path

logger = logging.getLogger(__name__)

#: Target models of the demo: the study's two and one size the predictor never saw.
DEMO_TARGETS: tuple[dict, ...] = (
    {"name": "PLLuM-8B-instruct"},
    {"name": "Bielik-11B-v2.6-Instruct"},
    {"name": "unseen-3B", "params_b": 3.0, "family": "llama"},
)
#: Metrics measured on the samples: everything that runs offline on a CPU. Perplexity needs
#: a causal LM and FVCU a judge model; no such weights ship, so those features are missing
#: and the predictor integrates over them (the report says so).
DEMO_METRICS = "length,redundancy,symbolic,syntax,dedup,language,answer,embedding"
#: The model-free subset (``quick``): seconds instead of a minute, no embedding model loaded.
QUICK_METRICS = "length,redundancy,symbolic,dedup,language,answer"
#: Measured on the samples but not used for the forecast: the shipped predictor learned them
#: from the study's embeddings (sdadas/mmlw-roberta-large, Polish), and the offline MiniLM
#: default puts cosines on another scale. Values from another instrument would look like a
#: far extrapolation; the predictor integrates over these features instead.
NOT_COMPARABLE = ("semantic_alignment", "semantic_flow")
TRACE_STYLES = "gsm8k_test_trace_styles.jsonl"


@dataclass
class DemoResult:
    """Where the main job wrote its outputs.

    Attributes
    ----------
    out_dir : Path
        The output folder.
    reference_study : dict of str to Path
        Reproduced correlation tables, comparison with the paper, heatmaps, summary.
    features : Path
        Features table of the sample datasets.
    forecast : dict of str to Path
        Every report table (forecast, ranking, importance, contributions, what-if sweeps,
        diagnostics, ...) as CSV and, where one exists, its figure as PNG.
    report : Path
        The HTML report.
    ranking : pandas.DataFrame
        P(best) and expected regret of each candidate per target model.
    """

    out_dir: Path
    reference_study: dict[str, Path]
    features: Path
    forecast: dict[str, Path]
    report: Path
    ranking: pd.DataFrame = field(repr=False)


def sample_datasets(out_dir: str | Path) -> list[Path]:
    """Write the demo's candidate datasets: one file per GSM8K trace style, plus Marco-o1.

    The trace-styles sample holds the same 100 questions written three ways (natural, socratic,
    equations only); each style becomes its own candidate dataset.

    Returns
    -------
    list of Path
        The candidate dataset files (JSONL).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    styles = pd.read_json(sample_path(TRACE_STYLES), lines=True)
    paths = []
    for style, rows in styles.groupby("style", sort=True):
        path = out_dir / f"gsm8k_{style}.jsonl"
        rows.to_json(path, orient="records", lines=True, force_ascii=False)
        paths.append(path)
    paths.append(sample_path("marco_o1_cot.jsonl"))
    return paths


def run_demo(out_dir: str | Path = "outputs/demo", *, model: str | Path | None = None,
             targets: Sequence[dict] = DEMO_TARGETS, prob: float = 0.9,
             pdf: bool = False, random_seed: int = 0, progress: bool = False,
             quick: bool = False) -> DemoResult:
    """Run the main job end to end on the shipped data.

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created).
    model : str or Path, optional
        A fitted predictor; the shipped default when omitted.
    targets : sequence of dict
        Target models (``name`` and, for models the predictor did not see, ``params_b``).
    prob : float, default 0.9
        Interval mass of every table.
    pdf : bool, default False
        Also print the report to PDF (needs Chromium or WeasyPrint).
    random_seed : int, default 0
        Seed of every random draw.
    progress : bool, default False
        Show extraction progress bars.
    quick : bool, default False
        Measure only the model-free metrics (:data:`QUICK_METRICS`): the forecast then
        integrates over the embedding features too.

    Returns
    -------
    DemoResult
        Paths of everything written and the ranking table.
    """
    from metaq.features.runner import extract_features
    from metaq.forecasting import forecast_datasets, load_predictor
    from metaq.report.report import Report
    from metaq.stats.reference_study import reference_study_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    logger.info("1/4 reproducing the reference study's correlation analysis")
    study = reference_study_report(out / "reference_study")

    logger.info("2/4 measuring the sample datasets")
    datasets = sample_datasets(out / "datasets")
    features_path = out / "features.csv"
    extract_features(datasets, QUICK_METRICS if quick else DEMO_METRICS,
                     cache_dir=out / ".cache", on_error="skip",
                     progress=progress, out=features_path)

    logger.info("3/4 forecasting them for %d target models (not using %s: measured with "
                "another embedding model than the predictor's training data)", len(targets),
                ", ".join(NOT_COMPARABLE))
    comparable = pd.read_csv(features_path).drop(
        columns=[c for m in NOT_COMPARABLE for c in (m, f"{m}__se")], errors="ignore")
    predictor = load_predictor(model)
    forecast = forecast_datasets(features=comparable, model=predictor,
                                 target_models=list(targets), prob=prob,
                                 random_seed=random_seed)

    logger.info("4/4 explaining them and writing the report")
    report = Report(predictor, forecast=forecast, candidates=forecast.features, prob=prob,
                    random_seed=random_seed)
    tables = report.write_tables(out / "forecast")
    html = report.to_html(out / "report.html")
    if pdf:
        from metaq.report.pdf import html_to_pdf

        html_to_pdf(html, html.with_suffix(".pdf"))
    return DemoResult(out_dir=out, reference_study=study, features=features_path,
                      forecast=tables, report=html, ranking=pd.read_csv(tables["ranking"]))
