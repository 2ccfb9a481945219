"""``metaq runs``: build runs tables from evaluation results (lm-eval JSON, other tables)."""

from __future__ import annotations

import argparse

from metaq.cli._types import finite_float
from metaq.exceptions import SchemaError

LM_EVAL_EPILOG = """\
examples:
  # one fine-tuned model, paired with its base model's results; the base model's name and
  # size are read from the base results' config (model_args, model_num_parameters)
  metaq runs import-lm-eval out/qwen7b-sft/ --dataset-id my_sft --family qwen \\
      --base-results out/qwen7b-base/ --out runs.csv

  # add a second run to the same table, naming the model, choosing the metric of one task
  metaq runs import-lm-eval out/llama8b-sft/ --dataset-id my_sft \\
      --base-model Llama-3.1-8B-Instruct --params-b 8 --family llama \\
      --base-results out/llama8b-base/ --metric gsm8k=exact_match,flexible-extract \\
      --append runs.csv --out runs.csv

  # older (0.3) BBH files: one metric for every task, only the bigbench tasks
  metaq runs import-lm-eval bbh_ft.json --base-results bbh_base.json --dataset-id sft \\
      --metric multiple_choice_grade --tasks 'bigbench_*' --out runs.csv

Default metric per task: the first of acc, exact_match, em, multiple_choice_grade, pass@1, mc1,
prompt_level_strict_acc, acc_norm that it reports (acc_norm first for arc_*, hellaswag and the
leaderboard's bbh, gpqa, musr; filter: none, then strict-match, then flexible-extract). Tasks
without such a per-item 0/1 metric are skipped and named (--strict: an error). Other metrics
(mc2, f1) only with --metric, and without an item count. Groups are imported, their members
are not, unless --tasks names them or --members-as-domains adds them as domains. Base and
fine-tuned runs evaluated with different few-shot counts, --limit or task versions are
refused (--allow-different-setup pairs them with a warning).
"""

CSV_EPILOG = """\
examples:
  # long table (one row per dataset x model x benchmark), scores in percent
  metaq runs import-csv results.csv --percent \\
      --map dataset_id=dataset,base_model=model,params_b=size_b,family=family,\\
benchmark=benchmark,score_ft=score,score_base=base_score --out runs.csv

  # wide table (one column per benchmark), the untuned model in rows named "Vanilla"
  metaq runs import-csv table3.csv --percent --map dataset_id=dataset \\
      --wide MMLU,GSM,BBH --base-rows dataset=Vanilla \\
      --set base_model=LLaMA-13B --set params_b=13 --set family=llama --out runs.csv
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``runs`` command and its ``import-lm-eval`` / ``import-csv`` subcommands."""
    parser = subparsers.add_parser(
        "runs", help="build runs tables from evaluation results",
        description="Build or extend a runs table (past fine-tuning results) from "
                    "lm-evaluation-harness result files or from tables in other layouts.")
    actions = parser.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    _register_lm_eval(actions)
    _register_csv(actions)


def _register_lm_eval(actions: argparse._SubParsersAction) -> None:
    parser = actions.add_parser(
        "import-lm-eval", help="runs from lm-evaluation-harness result files",
        description="Read the result JSON files of one fine-tuned model (recent and older "
                    "lm-eval layouts), pick a metric per task, pair each task with the base "
                    "model's score and write a validated runs table.",
        epilog=LM_EVAL_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", metavar="RESULTS",
                        help="result files or folders of the fine-tuned model")
    parser.add_argument("--dataset-id", required=True, help="the fine-tuning dataset")
    parser.add_argument("--base-model",
                        help="the model that was fine-tuned (default: from the results' "
                             "config.model_args)")
    parser.add_argument("--params-b", type=finite_float,
                        help="its size in billions of parameters (default: from "
                             "config.model_num_parameters)")
    parser.add_argument("--family", default="unknown", help="its family (default: unknown)")
    parser.add_argument("--base-results", nargs="+", metavar="RESULTS",
                        help="result files or folders of the untuned base model")
    parser.add_argument("--metric", action="append", default=[], metavar="[TASK=]METRIC",
                        help="metric of a task (TASK may be a glob), e.g. "
                             "gsm8k=exact_match,strict-match, or of every task, e.g. acc "
                             "(repeatable)")
    parser.add_argument("--tasks", help="comma-separated tasks or globs to import, e.g. "
                                        "'mmlu,bigbench_*' (default: all top-level tasks)")
    parser.add_argument("--strict", action="store_true",
                        help="a task without a usable metric is an error, not skipped")
    parser.add_argument("--members-as-domains", action="store_true",
                        help="also import each group's members, as domains of the group")
    parser.add_argument("--allow-different-setup", action="store_true",
                        help="pair base and fine-tuned runs evaluated differently (n-shot, "
                             "--limit, task version), with a warning")
    parser.add_argument("--append", metavar="RUNS",
                        help="runs table to extend (started when it does not exist)")
    parser.add_argument("--out", required=True,
                        help="runs table to write (.csv or .parquet; folders are created)")
    parser.set_defaults(func=run_lm_eval)


def _register_csv(actions: argparse._SubParsersAction) -> None:
    parser = actions.add_parser(
        "import-csv", help="runs from a table in another layout (column mapping)",
        description="Map the columns of a long or wide results table onto the runs table "
                    "and write it validated.",
        epilog=CSV_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", help="source table (.csv, # comments allowed, or .parquet)")
    parser.add_argument("--map", required=True, metavar="RUNS_COL=SRC_COL,...",
                        help="runs column = source column pairs, comma-separated")
    parser.add_argument("--set", action="append", default=[], metavar="RUNS_COL=VALUE",
                        help="a runs column with one value for all rows (repeatable)")
    parser.add_argument("--wide", metavar="COL,...",
                        help="source columns holding one benchmark's score each")
    parser.add_argument("--base-rows", metavar="SRC_COL=VALUE",
                        help="rows holding the untuned model's scores")
    parser.add_argument("--percent", action="store_true", help="scores are percentages")
    parser.add_argument("--append", metavar="RUNS", help="existing runs table to extend")
    parser.add_argument("--out", required=True,
                        help="runs table to write (.csv or .parquet; folders are created)")
    parser.set_defaults(func=run_csv)


def run_lm_eval(args: argparse.Namespace) -> int:
    """Import lm-eval results, write the runs table and print a summary."""
    from metaq._outputs import write_table
    from metaq.importers import import_lm_eval

    _check_out(args.out)
    runs = import_lm_eval(
        args.results, dataset_id=args.dataset_id, base_model=args.base_model,
        params_b=args.params_b, family=args.family, base_results=args.base_results,
        metrics=_metric_options(args.metric), strict=args.strict,
        tasks=args.tasks.split(",") if args.tasks else None,
        members_as_domains=args.members_as_domains,
        allow_different_setup=args.allow_different_setup, append=args.append)
    write_table(runs, args.out)
    inferred = runs.attrs["inferred"]
    model = inferred.get("base_model", args.base_model)
    for key, flag in (("base_model", "--base-model"), ("params_b", "--params-b")):
        if key in inferred:
            print(f"{key} {inferred[key]} read from the result files (override with {flag})")
    skipped = runs.attrs["skipped"]
    if skipped:
        print(f"skipped {len(skipped)} task(s) without a usable metric (warnings above): "
              f"{', '.join(skipped)}")
    new = runs[(runs["dataset_id"] == args.dataset_id) & (runs["base_model"] == model)]
    print(f"wrote {args.out}: {len(runs)} run(s), {len(new)} from {model} on "
          f"{args.dataset_id} ({int(new['score_base'].notna().sum())} with a base score)")
    return 0


def run_csv(args: argparse.Namespace) -> int:
    """Import a table in another layout, write the runs table and print a summary."""
    from metaq._outputs import write_table
    from metaq.importers import import_csv

    _check_out(args.out)
    base_rows = None
    if args.base_rows:
        (base_rows,) = _pairs([args.base_rows], "--base-rows").items()
    runs = import_csv(
        args.table, columns=_pairs(args.map.split(","), "--map"),
        constants=_pairs(args.set, "--set"),
        wide=args.wide.split(",") if args.wide else None, base_rows=base_rows,
        percent=args.percent, append=args.append)
    write_table(runs, args.out)
    print(f"wrote {args.out}: {len(runs)} run(s) of {runs['dataset_id'].nunique()} dataset(s) "
          f"x {runs['base_model'].nunique()} model(s) x {runs['benchmark'].nunique()} "
          f"benchmark(s); {int(runs['score_base'].isna().sum())} without a base score")
    return 0


def _check_out(out: str) -> None:
    from metaq._outputs import TABLE_SUFFIXES, check_output_path

    check_output_path(out, option="--out", suffixes=TABLE_SUFFIXES)


def _metric_options(items: list[str]) -> dict[str, str]:
    """``--metric`` values: ``TASK=METRIC`` for one task (or glob), ``METRIC`` for all."""
    plain = [item for item in items if "=" not in item]
    if len(plain) > 1:
        raise SchemaError(f"--metric: {plain} each name a metric for every task. Fix: give one "
                          f"plain --metric, and TASK=METRIC for the exceptions.")
    return {**({"*": plain[0].strip()} if plain else {}),
            **_pairs([item for item in items if "=" in item], "--metric")}


def _pairs(items: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise SchemaError(f"{option}: {item!r} is not KEY=VALUE. Fix: write e.g. "
                              f"{option} dataset_id=dataset.")
        pairs[key.strip()] = value.strip()
    return pairs
