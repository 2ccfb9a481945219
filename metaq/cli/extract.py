"""``metaq extract``: measure reasoning datasets and write their features table."""

from __future__ import annotations

import argparse

EPILOG = """\
examples:
  # the cheap text metrics of two datasets, one row each (dataset_id = file stem)
  metaq extract data/samples/gsm8k_train.jsonl data/samples/marco_o1_cot.jsonl \\
      --metrics text --out features.csv

  # study metrics by name, token lengths under a local tokenizer, one row per domain too
  metaq extract traces.parquet --dataset-id detailed --by-domain \\
      --metrics redundancy_ratio,symbolic_fraction,reasoning_chars,reasoning_tokens \\
      --tokenizer ./tokenizer --out features.parquet

  # model metrics (cached per example: re-runs and resumed runs skip finished work)
  metaq extract traces.jsonl --metrics semantic_alignment,semantic_flow,perplexity \\
      --embedding-model sdadas/mmlw-roberta-large --lm Qwen/Qwen3-4B --device cuda \\
      --cache .metaq-cache --out features.csv

  # chat records with <think> blocks; skip and count bad records instead of stopping
  metaq extract chats.jsonl --columns chat=messages --on-error skip --out f.csv

  # two layouts, one mapping each; add the rows to an existing table
  metaq extract puzzles.jsonl alpaca.json --columns question=puzzle,reasoning=completion \
      --columns question=instruction+input,reasoning=output --append features.csv \
      --out features.csv

  # see how the first records parse before extracting
  metaq inspect traces.jsonl --columns question=problem

  # the same extractors on a Ray cluster, 4 actors with one GPU each
  metaq extract big.jsonl --metrics perplexity --lm ./qwen3-4b --engine ray \\
      --ray-actors 4 --ray-gpus 1 --out f.parquet

--metrics takes metric names, extractor names and groups (`text`, `study`); `metaq metrics`
lists them. --engine local|ray chooses where extractors run; --engine transformers|vllm runs
locally and selects that model back-end for model-based extractors. Model options reach only
the extractors whose constructors take them. Empty reasoning is a bad record: use
--on-error skip to skip and count such records (n_skipped_empty_reasoning column).
"""

_MODEL_OPTIONS = (
    ("--tokenizer", str, "tokenizer id or path for token lengths (without it: characters only)"),
    ("--embedding-model", str, "sentence-embedding model id or path"),
    ("--lm", str, "causal LM id or path for perplexity"),
    ("--max-length", int, "maximum tokens per text for model-based extractors"),
    ("--device", str, "cpu, cuda, cuda:1 or auto"),
    ("--batch-tokens", int, "token budget per model batch"),
    ("--judge-model", str, "judge model id or path (FVCU)"),
    ("--judge-engine", str, "judge back-end (see `metaq metrics`)"),
    ("--judge-sample", str, "examples judged per dataset: a number or `all`"),
    ("--judge-aggregation", str, "examples or steps"),
    ("--spacy-model", str, "spaCy pipeline for syntactic_depth (default en_core_web_sm)"),
)


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--columns`` (repeatable: one for all paths or one per path) and ``--chat-turns``."""
    parser.add_argument("--columns", action="append", metavar="PART=FIELD,...",
                        help="field mapping, e.g. question=prompt,reasoning=cot or "
                             "question=instruction+input; once for all paths or once per path")
    parser.add_argument("--chat-turns", choices=("last", "each"), default="last",
                        help="chat records: the final assistant turn (default) or every "
                             "assistant turn with reasoning as an example")


def column_mappings(args: argparse.Namespace) -> list:
    """Build the ``ColumnMapping`` of each ``--columns`` (one default without), with turns."""
    from dataclasses import replace

    from metaq.io import ColumnMapping

    texts = args.columns or [""]
    return [replace(ColumnMapping.parse(t), turns=args.chat_turns) for t in texts]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``extract`` subcommand."""
    parser = subparsers.add_parser(
        "extract",
        help="measure datasets: write their features table",
        description=(
            "Read reasoning datasets (JSONL, JSON, Parquet, CSV, `datasets` folders; chat "
            "records with <think>), compute per-example metrics (cached on disk, resumable) "
            "and write one row per dataset (and per domain) with means and standard errors."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="dataset files or folders")
    parser.add_argument("--metrics", default="text", metavar="NAME,NAME",
                        help="metric, extractor or group names (default: text)")
    parser.add_argument("--out", required=True, metavar="FEATURES.csv|.parquet",
                        help="features table to write")
    parser.add_argument("--dataset-id", action="append", dest="dataset_ids", metavar="ID",
                        help="dataset id of each PATH, in order (default: file stems)")
    parser.add_argument("--by-domain", action="store_true", help="add one row per domain")
    parser.add_argument("--cache", default=".metaq-cache", metavar="DIR",
                        help="per-example result cache (default .metaq-cache)")
    parser.add_argument("--no-cache", action="store_true", help="keep results in memory only")
    parser.add_argument("--on-error", choices=("stop", "skip"), default="stop",
                        help="bad records: stop with an error (default) or skip and count")
    parser.add_argument("--engine", choices=("local", "ray", "transformers", "vllm"),
                        default="local", help="where to run (local, ray) or model back-end")
    add_reading_options(parser)
    parser.add_argument("--append", metavar="FEATURES",
                        help="features table to add the new rows to (started when missing)")
    parser.add_argument("--split", help="split of a `datasets` folder (default train)")
    parser.add_argument("--batch-size", type=int, default=256, help="examples per batch")
    parser.add_argument("--workers", type=_positive_int, metavar="N",
                        help="processes for the CPU text metrics (default: every core)")
    parser.add_argument("--sample", type=_sample, default=1000, metavar="N|all",
                        help="examples per dataset for embeddings and perplexity, stratified "
                             "by domain x length quartile (default 1000; `all`: every one)")
    models = parser.add_argument_group("model options (passed to extractors that take them)")
    for flag, kind, text in _MODEL_OPTIONS:
        models.add_argument(flag, type=kind, help=text)
    ray = parser.add_argument_group("Ray options (--engine ray)")
    ray.add_argument("--ray-address", help="cluster address (default: RAY_ADDRESS or local)")
    ray.add_argument("--ray-actors", type=int, default=1, help="actors (model copies)")
    ray.add_argument("--ray-gpus", type=float, default=0, help="GPUs per actor")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Extract, write the table, print one line per row."""
    from metaq._outputs import TABLE_SUFFIXES, check_output_path
    from metaq.features.runner import extract_features

    check_output_path(args.out, option="--out", suffixes=TABLE_SUFFIXES)
    options = {flag[2:].replace("-", "_"): getattr(args, flag[2:].replace("-", "_"))
               for flag, _, _ in _MODEL_OPTIONS}
    if options["judge_sample"] is not None and options["judge_sample"].isdigit():
        options["judge_sample"] = int(options["judge_sample"])
    engine = args.engine
    if engine in ("transformers", "vllm"):
        options["engine"], engine = engine, "local"
    table = extract_features(
        args.paths, args.metrics, cache_dir=None if args.no_cache else args.cache,
        dataset_ids=args.dataset_ids, by_domain=args.by_domain, on_error=args.on_error,
        engine=engine, batch_size=args.batch_size, progress=not args.quiet,
        extractor_options=options,
        columns=column_mappings(args), split=args.split, append=args.append,
        ray_options={"address": args.ray_address, "concurrency": args.ray_actors,
                     "num_gpus": args.ray_gpus},
        out=args.out, sample=args.sample, workers=args.workers,
    )
    for row in table.itertuples(index=False):
        where = f"{row.dataset_id}" + (f" [{row.domain}]" if row.domain else "")
        skipped = getattr(row, "n_skipped", None)
        extra = f", {skipped} skipped" if row.domain == "" and skipped else ""
        print(f"{where}: {row.n_examples} examples{extra}")
    for column in (c for c in table.columns if c.startswith("meta__") and c.endswith("_skipped")):
        print(f"not computed: {table[column].iloc[0]}")
    print(f"wrote {args.out} ({len(table)} rows, {table.shape[1]} columns)")
    return 0


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _sample(text: str) -> int | None:
    return None if text.strip().lower() == "all" else _positive_int(text)
