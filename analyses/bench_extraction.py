"""Benchmark the text extractors and the streaming reader.

Three measurements, each against a baseline measured in the same run:

1. Throughput of every CPU text extractor (examples/s, characters/s) in batches against a
   naive baseline: one example at a time through a plain-Python version of the definition
   (a character loop for the symbolic fraction, pure-Python MinHash for near duplicates).
2. Peak resident memory of a child process that streams a generated JSONL file of 10k and of
   1M examples, (a) reading and scoring batch by batch, (b) through ``extract_features`` with
   an on-disk cache (which keeps per-example scores for aggregation).
3. Optionally, data-juicer's equivalent ops on the same texts, run with the Python of a
   separate environment where ``py-data-juicer`` is installed (it is not a metaq dependency):
   ``--data-juicer-python /path/to/venv/bin/python``.

Run: ``python analyses/bench_extraction.py [--n 3000] [--stream 10000 1000000]``. Results go
to ``analyses/out/bench_extraction/`` (results.json); generated files live in a temp folder.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from metaq._paths import SAMPLES_DIR
from metaq.features.answer import AnswerPresenceExtractor
from metaq.features.base import Example, Extractor
from metaq.features.dedup import NearDuplicateExtractor
from metaq.features.language import LanguageExtractor
from metaq.features.text import LengthExtractor, RedundancyExtractor, SymbolicExtractor
from metaq.io import read_examples

OUT = Path(__file__).resolve().parent / "out" / "bench_extraction"
SAMPLES = ("gsm8k_train.jsonl", "marco_o1_cot.jsonl", "gsm8k_test_trace_styles.jsonl")


# -- naive baselines: one example at a time, plain Python ------------------------------------

def naive_symbolic(ex: Example) -> dict[str, float]:
    text = ex.reasoning
    return {"symbolic_fraction": sum(not c.isalnum() for c in text) / len(text)}


def naive_minhash(ex: Example, bands: int = 14, rows: int = 8) -> dict[str, float]:
    import re
    import zlib

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


# -- 1. throughput ---------------------------------------------------------------------------

def sample_examples(n: int) -> list[Example]:
    pool = [ex for name in SAMPLES
            for ex in read_examples(SAMPLES_DIR / name, on_error="skip")]
    random.Random(0).shuffle(pool)
    return [pool[i % len(pool)] for i in range(n)]


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


# -- 2. streaming memory ---------------------------------------------------------------------

STREAM_CHILD = """
import resource, sys, tempfile
from metaq.io import iter_example_batches
from metaq.features.text import LengthExtractor, RedundancyExtractor, SymbolicExtractor
path, mode = sys.argv[1], sys.argv[2]
extractors = [LengthExtractor(), RedundancyExtractor(), SymbolicExtractor()]
if mode == "stream":
    n = 0
    for batch in iter_example_batches(path, batch_size=256):
        for extractor in extractors:
            extractor.score_batch(batch)
        n += len(batch)
else:
    from metaq.features.runner import extract_features
    with tempfile.TemporaryDirectory() as cache:
        n = int(extract_features(path, extractors, cache_dir=cache)["n_examples"].iloc[0])
print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_generated(path: Path, n: int) -> None:
    rng = random.Random(1)
    words = [ex.reasoning.split() for ex in sample_examples(200)]
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            trace = " ".join(rng.choice(words)[:60])
            handle.write(json.dumps({"id": i, "question": f"Question {i}?", "reasoning": trace,
                                     "answer": str(i % 97), "domain": "math"}) + "\n")


def stream_memory(sizes: Sequence[int], modes: Sequence[str]) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            path = Path(folder) / f"gen_{n}.jsonl"
            write_generated(path, n)
            for mode in modes:
                start = time.perf_counter()
                out = subprocess.run([sys.executable, "-c", STREAM_CHILD, str(path), mode],
                                     check=True, capture_output=True, text=True)
                count, max_rss_kb = map(int, out.stdout.split()[-2:])
                rows.append({"mode": mode, "examples": count, "file_mb": path.stat().st_size / 1e6,
                             "peak_rss_mb": max_rss_kb / 1024,
                             "seconds": time.perf_counter() - start})
            path.unlink()
    return rows


# -- 3. data-juicer side by side ---------------------------------------------------------------

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


def print_rows(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    for row in rows:
        print("  " + ", ".join(f"{k}={v:,.3g}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in row.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="examples for throughput")
    parser.add_argument("--stream", type=int, nargs="*", default=[10_000, 1_000_000],
                        help="generated dataset sizes for the memory test")
    parser.add_argument("--stream-modes", nargs="*", default=["stream", "extract"])
    parser.add_argument("--data-juicer-python", help="python of an env with py-data-juicer")
    args = parser.parse_args()

    examples = sample_examples(args.n)
    results: dict[str, list[dict]] = {"throughput": throughput(examples)}
    print_rows(f"throughput, {args.n} real examples (batched vs naive one-by-one)",
               results["throughput"])
    if args.stream:
        results["stream_memory"] = stream_memory(args.stream, args.stream_modes)
        print_rows("peak RSS streaming generated JSONL", results["stream_memory"])
        for mode in args.stream_modes:
            peaks = [r["peak_rss_mb"] for r in results["stream_memory"] if r["mode"] == mode]
            print(f"  {mode}: peak RSS largest/smallest = {max(peaks) / min(peaks):.3f}")
    if args.data_juicer_python:
        results["data_juicer"] = data_juicer_side_by_side(examples, args.data_juicer_python)
        print_rows("metaq vs data-juicer ops on the same reasoning texts",
                   results["data_juicer"])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\nwrote {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
