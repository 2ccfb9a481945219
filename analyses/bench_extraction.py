"""Benchmark extraction end to end, every figure against a baseline measured in the same run.

1. End to end (``--n`` examples, default 100,000 distinct traces of about 1 KB built from
   the shipped samples' sentences): ``metaq extract --no-cache`` of the three study text
   metrics and of the whole ``text`` group (every core, and ``--workers 1``), and ``text``
   with an on-disk cache, each in a fresh process, against the plain loop in a fresh process
   (``json.loads`` + ``len`` + ``zlib`` + a per-character ``isalnum`` loop, the same three
   numbers). Cases are interleaved ``--repeat`` times and the fastest of each kept, so load
   from other jobs hits all cases alike; the machine's load average is recorded.
   Also the main process's peak resident memory at ``--n`` and ``--n / 10`` examples.
2. Per extractor: batched throughput against a one-example-at-a-time baseline (a character
   loop for the symbolic fraction, pure-Python MinHash for near duplicates, the same
   per-example call otherwise).
3. Language identification: CLD2 on the first 500 characters against CLD2 on the whole
   trace (agreement, speed) on the shipped samples.
4. Optionally (``--data-juicer-python``), data-juicer's equivalent ops on the same reasoning
   texts, run with the Python of a separate environment where ``py-data-juicer`` is
   installed (it is not a metaq dependency).
5. Optionally (``--study``), the offline ``study`` set minus the judge (length, redundancy,
   symbolic, syntax, embedding, perplexity under a tiny local GPT-2, one torch thread) with
   the default subsampling, against the plain loop on the same file.

Run: ``python analyses/bench_extraction.py [--n 100000] [--repeat 3] [--study]``. Results go
to ``analyses/out/bench_extraction/results.json``; generated files live in a temp folder.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from metaq.datasets import sample_path
from metaq.features.answer import AnswerPresenceExtractor
from metaq.features.base import Example, Extractor
from metaq.features.dedup import NearDuplicateExtractor
from metaq.features.language import LanguageExtractor
from metaq.features.text import LengthExtractor, RedundancyExtractor, SymbolicExtractor
from metaq.io import read_examples

OUT = Path(__file__).resolve().parent / "out" / "bench_extraction"
REPO = Path(__file__).resolve().parent.parent
SAMPLES = ("gsm8k_train.jsonl", "marco_o1_cot.jsonl", "gsm8k_test_trace_styles.jsonl",
           "gsm8k_model_solutions.jsonl")

PLAIN_CHILD = """
import json, sys, zlib
n, total = 0, [0.0, 0.0, 0.0]
with open(sys.argv[1], "rb") as handle:
    for line in handle:
        trace = json.loads(line)["reasoning"]
        raw = trace.encode("utf-8")
        total[0] += len(trace)
        total[1] += 1 - len(zlib.compress(raw)) / len(raw)
        total[2] += sum(not c.isalnum() for c in trace) / len(trace)
        n += 1
print(n, [t / n for t in total])
"""

METAQ_CHILD = """
import resource, sys
from metaq.cli import main
code = main(sys.argv[1:])
print("peak_rss_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""


# -- corpus ----------------------------------------------------------------------------------

def sample_examples() -> list[Example]:
    return [ex for name in SAMPLES for ex in read_examples(sample_path(name), on_error="skip")]


def write_corpus(path: Path, n: int, trace_chars: int = 1000, seed: int = 0) -> None:
    """`n` distinct traces of about `trace_chars` characters: random runs of sample sentences."""
    pool = sample_examples()
    sentences = [s for ex in pool for s in re.split(r"(?<=[.!?\n])\s+", ex.reasoning)
                 if s.strip()]
    questions = [ex.question for ex in pool]
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            parts, size = [], 0
            while size < trace_chars:
                parts.append(rng.choice(sentences))
                size += len(parts[-1]) + 1
            handle.write(json.dumps({"id": i, "question": rng.choice(questions),
                                     "reasoning": " ".join(parts),
                                     "answer": str(rng.randint(0, 999)),
                                     "domain": rng.choice(("math", "code", "other"))}) + "\n")


# -- 1. end to end ---------------------------------------------------------------------------

def run_child(argv: list[str], **env: str) -> dict:
    start = time.perf_counter()
    done = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", **env})
    seconds = time.perf_counter() - start
    rss = re.search(r"peak_rss_kb (\d+)", done.stdout)
    return {"seconds": seconds, "peak_rss_mb": int(rss.group(1)) / 1024 if rss else None}


def end_to_end_cases(path: Path, folder: Path) -> dict[str, Callable[[], list[str]]]:
    metaq = [sys.executable, "-c", METAQ_CHILD, "-q", "extract", str(path),
             "--out", str(folder / "features.csv")]

    def cached() -> list[str]:
        cache = folder / f"cache-{time.monotonic_ns()}"
        return [*metaq, "--metrics", "text", "--cache", str(cache)]

    return {
        "plain loop (1 process)": lambda: [sys.executable, "-c", PLAIN_CHILD, str(path)],
        "length,redundancy,symbolic --no-cache": lambda: [
            *metaq, "--metrics", "length,redundancy,symbolic", "--no-cache"],
        "text --no-cache": lambda: [*metaq, "--metrics", "text", "--no-cache"],
        "text --no-cache --workers 1": lambda: [*metaq, "--metrics", "text", "--no-cache",
                                                "--workers", "1"],
        "text --cache (fresh)": cached,
    }


def end_to_end(path: Path, repeat: int) -> list[dict]:
    size_mb = path.stat().st_size / 1e6
    with tempfile.TemporaryDirectory() as folder:
        cases = end_to_end_cases(path, Path(folder))
        best: dict[str, dict] = {}
        for _ in range(repeat):
            for label, argv in cases.items():
                result = run_child(argv())
                if label not in best or result["seconds"] < best[label]["seconds"]:
                    best[label] = result
    plain = best["plain loop (1 process)"]["seconds"]
    no_cache = best["text --no-cache"]["seconds"]
    return [{"case": label, "seconds": r["seconds"], "mb_per_s": size_mb / r["seconds"],
             "speedup_vs_plain": plain / r["seconds"],
             **({"cache_cost_vs_no_cache": r["seconds"] / no_cache - 1}
                if label.startswith("text --cache") else {}),
             "peak_rss_mb": r["peak_rss_mb"]} for label, r in best.items()]


# -- 2. per extractor ------------------------------------------------------------------------

def naive_symbolic(ex: Example) -> dict[str, float]:
    text = ex.reasoning
    return {"symbolic_fraction": sum(not c.isalnum() for c in text) / len(text)}


def naive_minhash(ex: Example, bands: int = 14, rows: int = 8) -> dict[str, float]:
    words = re.findall(r"\w+", f"{ex.question}\n{ex.reasoning}".casefold())
    width = min(5, len(words))
    shingles = {zlib.crc32(" ".join(words[i:i + width]).encode())
                for i in range(len(words) - width + 1)}
    prime = (1 << 61) - 1
    signature = [min((a * s + b) % prime for s in shingles)
                 for a, b in ((2 * k + 1, 7 * k + 3) for k in range(bands * rows))]
    return {f"band_{i:02d}": float(hash(tuple(signature[i * rows:(i + 1) * rows])))
            for i in range(bands)}


def per_example(extractor: Extractor) -> Callable[[Example], dict[str, float]]:
    return lambda ex: extractor.score_batch([ex])[0]


def best_time(function: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def throughput(examples: list[Example], batch_size: int = 256) -> list[dict]:
    chars = sum(len(ex.question) + len(ex.reasoning) + len(ex.answer) for ex in examples)
    cases: list[tuple[Extractor, Callable[[Example], dict], int]] = [
        (LengthExtractor(), per_example(LengthExtractor()), len(examples)),
        (RedundancyExtractor(), per_example(RedundancyExtractor()), len(examples)),
        (SymbolicExtractor(), naive_symbolic, len(examples)),
        (NearDuplicateExtractor(), naive_minhash, min(200, len(examples))),
        (LanguageExtractor(), per_example(LanguageExtractor()), len(examples)),
        (AnswerPresenceExtractor(), per_example(AnswerPresenceExtractor()), len(examples)),
    ]
    rows = []
    for extractor, naive, n_naive in cases:
        extractor.setup()
        extractor.score_batch(examples[:8])  # loads compiled kernels
        batched = best_time(lambda e=extractor: [e.score_batch(examples[i:i + batch_size])
                                                 for i in range(0, len(examples), batch_size)])
        subset = examples[:n_naive]
        baseline = best_time(lambda f=naive, s=subset: [f(ex) for ex in s],
                             repeat=1 if n_naive < len(examples) else 3) * len(examples) / n_naive
        rows.append({"extractor": extractor.name, "examples_per_s": len(examples) / batched,
                     "chars_per_s": chars / batched,
                     "naive_examples_per_s": len(examples) / baseline,
                     "speedup": baseline / batched})
    return rows


# -- 3. language identification --------------------------------------------------------------

def language_truncation() -> list[dict]:
    rows = []
    for name in SAMPLES:
        examples = read_examples(sample_path(name), on_error="skip")
        whole, short = LanguageExtractor(max_chars=10**9), LanguageExtractor()
        start = time.perf_counter()
        full = [s["language"] for s in whole.score_batch(examples)]
        whole_s = time.perf_counter() - start
        start = time.perf_counter()
        cut = [s["language"] for s in short.score_batch(examples)]
        short_s = time.perf_counter() - start
        rows.append({"file": name, "n": len(examples),
                     "agreement_500_vs_whole": sum(a == b for a, b in zip(full, cut,
                                                                          strict=True)) / len(cut),
                     "share_unknown": cut.count("un") / len(cut),
                     "speedup_500_vs_whole": whole_s / short_s})
    return rows


# -- 4. data-juicer side by side ---------------------------------------------------------------

DJ_CHILD = """
import json, sys, time
from data_juicer.ops.filter.alphanumeric_filter import AlphanumericFilter
from data_juicer.ops.filter.text_length_filter import TextLengthFilter
from data_juicer.ops.filter.character_repetition_filter import CharacterRepetitionFilter
from data_juicer.ops.deduplicator.document_minhash_deduplicator import (
    DocumentMinhashDeduplicator)
from data_juicer.utils.constant import Fields
texts = json.load(open(sys.argv[1]))
def batched(op):
    best = float("inf")
    for _ in range(3):
        samples = {"text": list(texts), Fields.stats: [{} for _ in texts]}
        start = time.perf_counter()
        for i in range(0, len(texts), 256):
            op.compute_stats_batched({"text": samples["text"][i:i + 256],
                                      Fields.stats: samples[Fields.stats][i:i + 256]})
        best = min(best, time.perf_counter() - start)
    return best, [s for s in samples[Fields.stats]]
out = {}
t, stats = batched(AlphanumericFilter())
out["alnum_ratio"] = {"seconds": t, "values": [s["alnum_ratio"] for s in stats]}
out["text_len"] = {"seconds": batched(TextLengthFilter())[0]}
out["char_rep_ratio"] = {"seconds": batched(CharacterRepetitionFilter())[0]}
dedup = DocumentMinhashDeduplicator(num_permutations=112, num_bands=14, num_rows_per_band=8)
start = time.perf_counter()
for text in texts:
    dedup.compute_hash({"text": text})
out["minhash"] = {"seconds": time.perf_counter() - start}
print(json.dumps(out))
"""


def data_juicer_side_by_side(examples: list[Example], python: str) -> list[dict]:
    texts = [ex.reasoning for ex in examples]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "texts.json").write_text(json.dumps(texts))
    done = subprocess.run([python, "-c", DJ_CHILD, str(OUT / "texts.json")], check=True,
                          capture_output=True, text=True)
    dj = json.loads(done.stdout.strip().splitlines()[-1])
    only_reasoning = [Example(ex.id, "", ex.reasoning) for ex in examples]
    ours = {
        "text_len": best_time(lambda: LengthExtractor().score_batch(only_reasoning)),
        "alnum_ratio": best_time(lambda: SymbolicExtractor().score_batch(only_reasoning)),
        "char_rep_ratio": best_time(lambda: RedundancyExtractor().score_batch(only_reasoning)),
        "minhash": best_time(lambda: NearDuplicateExtractor().score_batch(only_reasoning), 1),
    }
    symbolic = [s["symbolic_fraction"] for s in SymbolicExtractor().score_batch(only_reasoning)]
    gap = max(abs(s - (1 - a)) for s, a in zip(symbolic, dj["alnum_ratio"]["values"],
                                               strict=True))
    names = {"text_len": "length", "alnum_ratio": "symbolic_fraction",
             "char_rep_ratio": "redundancy_ratio (zlib; dj: n-gram repetition)",
             "minhash": "near-duplicate signatures (112 perms)"}
    return [{"data_juicer_op": op, "metaq": names[op],
             "data_juicer_examples_per_s": len(texts) / dj[op]["seconds"],
             "metaq_examples_per_s": len(texts) / ours[op],
             "speedup": dj[op]["seconds"] / ours[op],
             **({"max_abs_diff_1_minus_alnum": gap} if op == "alnum_ratio" else {})}
            for op in names]


# -- 5. the study set minus the judge ----------------------------------------------------------

def study_minus_judge(path: Path) -> dict:
    sys.path.insert(0, str(REPO / "tests"))
    from tiny_models import build_tiny_causal_lm

    with tempfile.TemporaryDirectory() as folder:
        lm = build_tiny_causal_lm(Path(folder) / "tiny_lm")
        study = run_child([sys.executable, "-c", METAQ_CHILD, "-q", "extract", str(path),
                           "--metrics", "length,redundancy,symbolic,syntax,embedding,perplexity",
                           "--lm", str(lm), "--device", "cpu", "--no-cache",
                           "--out", str(Path(folder) / "study.csv")], OMP_NUM_THREADS="1")
        plain = run_child([sys.executable, "-c", PLAIN_CHILD, str(path)])
    return {"study_minus_judge_seconds": study["seconds"], "plain_loop_seconds": plain["seconds"],
            "ratio_study_over_plain": study["seconds"] / plain["seconds"],
            "lm": "tiny GPT-2 (2 layers, width 64, random weights)", "sample": 1000,
            "torch_threads": 1}


def print_rows(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    for row in rows:
        print("  " + ", ".join(f"{k}={v:,.3g}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in row.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="examples of the generated corpus")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (best kept)")
    parser.add_argument("--per-extractor", type=int, default=3000,
                        help="real examples for the per-extractor table (0: skip)")
    parser.add_argument("--study", action="store_true", help="time the study set minus judge")
    parser.add_argument("--data-juicer-python", help="python of an env with py-data-juicer")
    args = parser.parse_args()
    results: dict = {"load_average_before": os.getloadavg(), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as folder:
        big, small = Path(folder) / "corpus.jsonl", Path(folder) / "corpus_small.jsonl"
        write_corpus(big, args.n)
        write_corpus(small, max(args.n // 10, 1))
        results["corpus"] = {"examples": args.n, "mb": big.stat().st_size / 1e6}
        results["end_to_end"] = end_to_end(big, args.repeat)
        print_rows(f"end to end, {args.n:,} examples ({results['corpus']['mb']:.1f} MB), "
                   f"best of {args.repeat}", results["end_to_end"])
        results["end_to_end_small"] = end_to_end(small, 1)
        for large, little in zip(results["end_to_end"], results["end_to_end_small"],
                                 strict=True):
            if large["peak_rss_mb"] and little["peak_rss_mb"]:
                large["peak_rss_ratio_vs_tenth"] = large["peak_rss_mb"] / little["peak_rss_mb"]
        print_rows("peak RSS of the main process, n vs n/10",
                   [{k: r[k] for k in ("case", "peak_rss_mb", "peak_rss_ratio_vs_tenth")}
                    for r in results["end_to_end"] if r.get("peak_rss_ratio_vs_tenth")])
        if args.study:
            results["study_minus_judge"] = study_minus_judge(big)
            print_rows("study set minus the judge, default subsampling",
                       [results["study_minus_judge"]])
    pool = sample_examples()
    if args.per_extractor:
        random.Random(0).shuffle(pool)
        examples = [pool[i % len(pool)] for i in range(args.per_extractor)]
        results["per_extractor"] = throughput(examples)
        print_rows(f"per extractor, {args.per_extractor} real examples (batched vs one by one)",
                   results["per_extractor"])
        if args.data_juicer_python:
            results["data_juicer"] = data_juicer_side_by_side(examples, args.data_juicer_python)
            print_rows("metaq vs data-juicer ops on the same reasoning texts",
                       results["data_juicer"])
    results["language_truncation"] = language_truncation()
    print_rows("CLD2 on 500 characters vs the whole trace", results["language_truncation"])
    results["load_average_after"] = os.getloadavg()
    print(f"\nload average before {results['load_average_before']}, after "
          f"{results['load_average_after']}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
