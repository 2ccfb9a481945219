"""``metaq forecast``: forecast what fine-tuning on new datasets will do, before fine-tuning."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from metaq.cli._types import finite_float
from metaq.cli.extract import add_reading_options, column_mappings

EPILOG = """\
examples:
  # features already extracted: no extraction, the shipped default predictor
  metaq forecast --features new_features.csv --target-model PLLuM-8B-instruct --out forecast.csv

  # an unseen size and family, two benchmarks, 95 % intervals
  metaq forecast --model models/study_default.nc --features new_features.csv \\
      --target-model my-3b --params-b 3 --family qwen --benchmarks lightr1,mot_pl_eval \\
      --prob 0.95 --out forecast.csv

  # a model it never saw, whose untuned scores you measured (base_model, benchmark,
  # score_base, n_items): its untuned level comes from them instead of its size and family
  metaq forecast --features new_features.csv --target-model my-3b --params-b 3 \\
      --family qwen --base-scores my3b_untuned.csv --out forecast.csv

  # dataset files: extract the features the predictor needs (cached), then forecast for a
  # model the predictor saw and a 70B model it did not
  metaq forecast data/samples/*.jsonl --target-model Bielik-11B-v2.6-Instruct \\
      --target-model llama-70b --params-b 70 --family llama --out forecasts/

Features that need a model (token lengths, embeddings, perplexity, the FVCU judge) are
extracted only when you name the model (--tokenizer, --embedding-model, --lm, --judge-model);
otherwise they are integrated over and listed.

A target model the predictor saw needs only its name (its size is known); any other needs
--params-b (and --family, default: unknown, which integrates over families). --params-b and
--family apply to the --target-model before them. Without --target-model, every base model
of the predictor's training runs is a target.
"""


class _TargetModelAction(argparse.Action):
    """Collect ``--target-model NAME [--params-b N] [--family F]`` groups in order."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        targets = list(getattr(namespace, "target_models", None) or [])
        if self.dest == "target_models":
            targets.append({"name": values})
        elif not targets:
            parser.error(f"{option_string} {values} must follow a --target-model NAME")
        else:
            key = "params_b" if self.dest == "params_b" else "family"
            if key in targets[-1]:
                parser.error(f"{option_string} given twice for --target-model "
                             f"{targets[-1]['name']}")
            targets[-1] = {**targets[-1], key: values}
        namespace.target_models = targets


def add_target_model_options(parser: argparse.ArgumentParser) -> None:
    """Add the repeatable ``--target-model NAME [--params-b N] [--family F]`` group."""
    parser.add_argument("--target-model", dest="target_models", metavar="NAME",
                        action=_TargetModelAction, help="a model to forecast for (repeatable)")
    parser.add_argument("--params-b", dest="params_b", metavar="N", type=float,
                        action=_TargetModelAction,
                        help="size in billions of parameters of the --target-model before it")
    parser.add_argument("--family", dest="family", metavar="FAMILY", action=_TargetModelAction,
                        help="architecture family of the --target-model before it")
    parser.set_defaults(target_models=None)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``forecast`` subcommand."""
    parser = subparsers.add_parser(
        "forecast",
        help="forecast benchmark changes of fine-tuning on new datasets",
        description=(
            "Forecast, per dataset x target model x benchmark, the change of the benchmark "
            "score after fine-tuning: mean, central interval, P(gain) and P(best among the "
            "given datasets). Extracts the features the predictor needs from dataset files "
            "(cached), or takes a features table and extracts nothing. Features that are "
            "missing are integrated over their training distribution and listed."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("datasets", nargs="*", metavar="DATASET",
                        help="dataset files to extract features from (JSONL, Parquet, CSV, ...)")
    parser.add_argument("--features", metavar="FEATURES.csv",
                        help="a features table instead of dataset files (no extraction)")
    parser.add_argument("--model", metavar="MODEL.nc",
                        help="fitted predictor (default: the shipped default in models/)")
    add_target_model_options(parser)
    parser.add_argument("--benchmarks", metavar="B1,B2",
                        help="comma-separated benchmarks (default: all the predictor knows)")
    parser.add_argument("--base-scores", metavar="UNTUNED.csv",
                        help="untuned scores you measured (base_model, benchmark[, domain], "
                             "score_base[, n_items]); they replace the predictor's guess")
    parser.add_argument("--study", metavar="NAME",
                        help="forecast within this training study (its evaluation protocol), "
                             "for a predictor fitted on runs of several studies; default: a "
                             "new study")
    parser.add_argument("--item-noise", action="store_true",
                        help="forecast the score the benchmark prints (binomial sampling of "
                             "its items), not the model's accuracy")
    parser.add_argument("--prob", type=finite_float, default=0.9,
                        help="mass of the central interval lo..hi (default 0.9)")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="per-example feature cache when extracting (default: the runner's)")
    for flag, what in (("--tokenizer", "token lengths"), ("--embedding-model", "semantic "
                       "alignment/flow"), ("--lm", "perplexity"), ("--judge-model", "FVCU")):
        parser.add_argument(flag, metavar="ID|PATH",
                            help=f"extract {what} with this model (else integrated over)")
    parser.add_argument("--device", help="device of model-based extractors (cpu, cuda, ...)")
    parser.add_argument("--on-error", choices=("stop", "skip"), default="stop",
                        help="a bad record in a dataset file: stop (default) or skip and count")
    parser.add_argument("--dataset-id", action="append", dest="dataset_ids", metavar="ID",
                        help="dataset id of each DATASET, in order (default: file stems)")
    add_reading_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, metavar="FORECAST.csv|DIR",
                        help="a .csv/.parquet file, or a folder for forecast.csv + features.csv")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Forecast, write the table, print a compact summary."""
    from metaq._outputs import TABLE_SUFFIXES, check_output_path
    from metaq.forecasting import forecast_datasets

    out = Path(args.out)
    if out.suffix and out.suffix.lower() not in TABLE_SUFFIXES and not out.is_dir():
        check_output_path(out, option="--out", suffixes=TABLE_SUFFIXES)  # a name like x.xlsx
    check_output_path(out, option="--out", folder=out.suffix.lower() not in TABLE_SUFFIXES)
    benchmarks = args.benchmarks.split(",") if args.benchmarks else None
    result = forecast_datasets(
        args.datasets, features=args.features, model=args.model,
        target_models=args.target_models, benchmarks=benchmarks, prob=args.prob,
        cache_dir=args.cache_dir, on_error=args.on_error, random_seed=args.seed,
        base_scores=args.base_scores, item_noise=args.item_noise, study=args.study,
        dataset_ids=args.dataset_ids, columns=column_mappings(args),
        extractor_options={"tokenizer": args.tokenizer, "embedding_model": args.embedding_model,
                           "lm": args.lm, "judge_model": args.judge_model,
                           "device": args.device},
        out=args.out,
    )
    print(result.format_summary())
    for path in result.written:
        print(f"wrote {path}")
    return 0
