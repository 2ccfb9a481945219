"""What does a judge's Validity say about graded GSM8K solutions, correct vs incorrect?

data/samples/gsm8k_model_solutions.jsonl holds 300 GPT-3 solutions to 75 GSM8K test
questions, each graded correct or incorrect. Every solution is split and judged (no
subsample); per group the script reports the mean per-solution Validity share and mean
P(POSITIVE) with the standard error over solutions (sd / sqrt(n): the comparison is about
solutions in general, not this file), their difference, and the AUC of the per-solution
Validity P(POSITIVE) for telling correct from incorrect (0.5 = no signal).

Without ``--judge-model`` it builds the tiny random-weight judge of the tests: such a judge
carries no signal, and the numbers show what "no signal" looks like. With a real judge:

    python analyses/judge_validity_gsm8k.py --judge-model Qwen/Qwen3-4B-Instruct-2507 --device cuda
    python analyses/judge_validity_gsm8k.py --judge-model MODEL --engine openai \\
        --base-url http://127.0.0.1:8000/v1        # a `vllm serve MODEL` server

Writes analyses/out/judge_validity_gsm8k/{per_solution.csv,summary.json}.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd
from scipy.stats import mannwhitneyu

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "analyses" / "out" / "judge_validity_gsm8k"

from metaq.datasets import sample_path  # noqa: E402
from metaq.features.base import Example  # noqa: E402
from metaq.features.judge.extractor import FVCUExtractor  # noqa: E402
from metaq.features.judge.rubric import CRITERIA, RUBRICS  # noqa: E402


def tiny_judge() -> str:
    sys.path.insert(0, str(REPO / "tests"))
    from tiny_models import build_tiny_causal_lm, topic_corpus

    rows = [json.loads(line) for line in open(sample_path("gsm8k_train.jsonl"))]
    corpus = (topic_corpus(100) + [r.instructions for r in RUBRICS.values()] * 5
              + [f"{r['question']}\n{r['reasoning']}" for r in rows])
    return str(build_tiny_causal_lm(OUT / "tiny_judge", corpus, vocab_size=1024,
                                    n_positions=2048))


def summarize(frame: pd.DataFrame) -> dict:
    out: dict = {}
    for column in [*CRITERIA, *(f"{c}_prob" for c in CRITERIA)]:
        groups = {flag: frame.loc[frame["is_correct"] == flag, column].dropna()
                  for flag in (True, False)}
        means = {flag: g.mean() for flag, g in groups.items()}
        ses = {flag: g.std(ddof=1) / math.sqrt(len(g)) for flag, g in groups.items()}
        out[column] = {"correct": means[True], "correct_se": ses[True],
                       "incorrect": means[False], "incorrect_se": ses[False],
                       "difference": means[True] - means[False],
                       "difference_se": math.hypot(ses[True], ses[False]),
                       "n_correct": len(groups[True]), "n_incorrect": len(groups[False])}
    correct = frame.loc[frame["is_correct"], "validity_prob"].dropna()
    wrong = frame.loc[~frame["is_correct"], "validity_prob"].dropna()
    u = mannwhitneyu(correct, wrong, alternative="two-sided")
    out["validity_prob_auc"] = u.statistic / (len(correct) * len(wrong))
    out["validity_prob_auc_pvalue"] = u.pvalue
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--judge-model", help="id or path (default: the tiny random judge)")
    parser.add_argument("--engine", default="transformers",
                        choices=("transformers", "vllm", "openai"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--base-url", help="OpenAI-compatible server (engine openai)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in open(sample_path("gsm8k_model_solutions.jsonl"))]
    examples = [Example(r["id"], r["question"], r["reasoning"], r["answer"], r["domain"])
                for r in rows]
    extractor = FVCUExtractor(
        judge_model=args.judge_model or tiny_judge(), judge_engine=args.engine,
        judge_sample="all", device=args.device,
        backend_options={"base_url": args.base_url} if args.base_url else None)
    extractor.setup()
    scores = pd.DataFrame(extractor.score_batch(examples))
    scores.insert(0, "id", [r["id"] for r in rows])
    scores.insert(1, "is_correct", [bool(r["is_correct"]) for r in rows])
    scores.insert(2, "style", [r["style"] for r in rows])
    scores.to_csv(OUT / "per_solution.csv", index=False)
    summary = {"judge": extractor.provenance(), **summarize(scores)}
    (OUT / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    for column in ("validity", "validity_prob"):
        s = summary[column]
        print(f"{column}: correct {s['correct']:.3f} ± {s['correct_se']:.3f} (n={s['n_correct']})"
              f", incorrect {s['incorrect']:.3f} ± {s['incorrect_se']:.3f} "
              f"(n={s['n_incorrect']}), difference {s['difference']:+.3f} ± "
              f"{s['difference_se']:.3f}")
    print(f"AUC of validity_prob for correct vs incorrect: {summary['validity_prob_auc']:.3f} "
          f"(Mann-Whitney p = {summary['validity_prob_auc_pvalue']:.2f})")
    print(f"judge: {summary['judge']['judge_model']} ({args.engine})")
    print(f"mean steps per solution: {scores['n_steps'].mean():.2f}; "
          f"P(POSITIVE) range {scores['validity_prob'].min():.3f}"
          f"-{scores['validity_prob'].max():.3f}")


if __name__ == "__main__":
    main()
