"""Benchmark the model engines: batched perplexity, padding, embedding engines.

Each measurement has its baseline measured in the same run, on the same inputs:

1. Perplexity throughput (scored tokens/s) of :class:`metaq.engines.causal_lm.TransformersEngine`
   (length-sorted, token-budget batches, right padding, chunked head log-sum-exp) against the
   naive loop: one sequence at a time in input order, full-vocabulary ``log_softmax``. The
   two must agree (max relative difference of the perplexities is printed).
2. Padding waste of the same sequences: sorted token-budget batches, unsorted token-budget
   batches, unsorted fixed 32-row batches.
3. Embedding engines (``minilm``, ``wordllama``): texts/s on sample questions and traces, and
   the quality check: top-1 retrieval of each question's own trace among all traces of the
   file, and P(cos(matched) > cos(mismatched)) over all pairs.
4. Agreement of the CPU default embedder (wordllama) with MiniLM where it matters, at dataset
   level: the Spearman rank correlation, across the shipped samples' datasets and
   trace styles/domains, of mean semantic alignment and of mean semantic flow, with the
   extraction time of each embedder.
5. Subsampling: how far (in reported standard errors) the default-style stratified sample's
   embedding metrics lie from the exhaustive ones on each shipped sample.

The perplexity comparison is repeated ``--runs`` times (median speed-up reported): on a
shared CPU single runs swing widely.

Models have random weights, built from config dicts written here (nothing is downloaded);
token sequences are random ids whose lengths follow each sample file's traces
(characters / 4, at most 512), so short (GSM8K) and long (Marco-o1) traces are reported apart.
On the CPU: a tiny GPT-2 (2 layers, width 64) and a small one (4 layers, width 256). With
``--device cuda``: a Qwen3-4B-shaped model in bf16 on 1,024-token sequences, with
model-FLOPs utilisation against the GPU's dense bf16 peak. Throughput numbers depend on
the machine and its load; the ratios are the point.

Run: ``python analyses/bench_models.py [--device cpu|cuda] [--limit N] [--threads 1]
[--runs 5]``. Results go to ``analyses/out/bench_models/results.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from metaq.datasets import sample_path
from metaq.engines.batching import padding_waste, token_budget_batches
from metaq.engines.causal_lm import TransformersEngine
from metaq.engines.embedders import load_embedding_engine
from metaq.features.runner import extract_features

OUT = Path(__file__).resolve().parent / "out" / "bench_models"
SAMPLES = ("gsm8k_train.jsonl", "marco_o1_cot.jsonl", "gsm8k_test_trace_styles.jsonl")
QUALITY_SAMPLES = ("gsm8k_train.jsonl", "marco_o1_cot.jsonl")

CPU_MODELS: dict[str, dict[str, Any]] = {
    "tiny-gpt2": {"model_type": "gpt2", "vocab_size": 512, "n_positions": 1024, "n_embd": 64,
                  "n_layer": 2, "n_head": 2, "bos_token_id": 0, "eos_token_id": 0},
    "small-gpt2": {"model_type": "gpt2", "vocab_size": 8192, "n_positions": 1024,
                   "n_embd": 256, "n_layer": 4, "n_head": 4, "bos_token_id": 0,
                   "eos_token_id": 0},
}
GPU_MODELS: dict[str, dict[str, Any]] = {
    # Qwen3-4B's published architecture (config.json of Qwen/Qwen3-4B), random weights.
    "qwen3-4b-shape": {"model_type": "qwen3", "vocab_size": 151936, "hidden_size": 2560,
                       "intermediate_size": 9728, "num_hidden_layers": 36,
                       "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
                       "max_position_embeddings": 40960, "rope_theta": 1_000_000.0,
                       "rms_norm_eps": 1e-6, "tie_word_embeddings": True},
}
#: Dense bf16 peak FLOP/s by GPU name fragment (vendor data sheets, SXM parts).
BF16_PEAK = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12}


def read_samples(names: tuple[str, ...]) -> dict[str, list[dict[str, str]]]:
    out = {}
    for name in names:
        with open(sample_path(name), encoding="utf-8") as f:
            out[name] = [json.loads(line) for line in f]
    return out


def build_model(config: dict[str, Any], device: str, dtype: Any) -> Any:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    cfg = dict(config)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.for_model(cfg.pop("model_type"), **cfg),
                                             dtype=dtype)
    return model.to(device).eval()


def token_sequences(lengths_chars: list[int], vocab: int, max_len: int, seed: int = 0
                    ) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    lengths = np.clip(np.array(lengths_chars) // 4, 8, max_len)
    return [rng.integers(2, vocab, size=n).tolist() for n in lengths]


def naive_perplexities(model: Any, sequences: list[list[int]], bos: int) -> np.ndarray:
    """The textbook loop: one sequence at a time, in input order, HF loss over full logits."""
    import torch

    out = []
    with torch.inference_mode():
        for ids in sequences:
            ids_t = torch.tensor([[bos, *ids]], device=model.device)
            out.append(float(torch.exp(model(ids_t, labels=ids_t).loss.float())))
    return np.array(out)


def synchronise(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def flops_per_token(model: Any, mean_context: float) -> float:
    """Forward FLOPs per scored token: 2 x matmul parameters + causal attention scores.

    Matmul parameters exclude the input embedding (a lookup) and include the output head;
    attention adds ``2 * layers * context * heads * head_dim`` (QK^T and AV, averaged over
    causal positions).
    """
    cfg = model.config
    params = sum(p.numel() for p in model.parameters())
    params -= model.get_input_embeddings().weight.numel()
    params += model.get_output_embeddings().weight.numel() * cfg.tie_word_embeddings
    head_dim = getattr(cfg, "head_dim", cfg.hidden_size // cfg.num_attention_heads)
    attention = 2 * cfg.num_hidden_layers * mean_context * cfg.num_attention_heads * head_dim
    return 2 * params + attention


def bench_perplexity(name: str, config: dict[str, Any], sequences: list[list[int]],
                     device: str, batch_tokens: int) -> dict[str, Any]:
    import torch

    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    model = build_model(config, device, dtype)
    tokens = SimpleNamespace(bos_token_id=0, eos_token_id=0, pad_token_id=1)
    engine = TransformersEngine.from_model(model, tokens, name=name,
                                           max_length=max(map(len, sequences)) + 1,
                                           batch_tokens=batch_tokens)
    n_scored = sum(len(s) for s in sequences)
    engine.score_ids(sequences[:4])  # warm-up (allocator, kernels)
    naive_perplexities(model, sequences[:4], bos=0)
    synchronise(device)
    start = time.perf_counter()
    batched = engine.score_ids(sequences)
    synchronise(device)
    batched_s = time.perf_counter() - start
    start = time.perf_counter()
    naive = naive_perplexities(model, sequences, bos=0)
    synchronise(device)
    naive_s = time.perf_counter() - start
    result = {"model": name, "device": device, "dtype": str(dtype).removeprefix("torch."),
              "n_sequences": len(sequences), "scored_tokens": n_scored,
              "batch_tokens": batch_tokens,
              "batched_tokens_per_s": n_scored / batched_s,
              "naive_tokens_per_s": n_scored / naive_s, "speedup": naive_s / batched_s,
              "padding_waste": batched.stats.padding_waste,
              "max_rel_diff_perplexity": float(np.max(np.abs(batched.perplexity() - naive)
                                                      / naive))}
    if device.startswith("cuda"):
        gpu = torch.cuda.get_device_name()
        peak = next((v for k, v in BF16_PEAK.items() if k in gpu), None)
        per_token = flops_per_token(model, float(np.mean([len(s) for s in sequences])) / 2)
        result.update(gpu=gpu, flops_per_token=per_token,
                      mfu_batched=(result["batched_tokens_per_s"] * per_token / peak
                                   if peak else None),
                      peak_memory_gb=torch.cuda.max_memory_allocated() / 1e9)
    del model, engine
    return result


def padding_table(lengths: list[int], batch_tokens: int) -> dict[str, float]:
    fixed_rows = [list(range(i, min(i + 32, len(lengths)))) for i in range(0, len(lengths), 32)]
    return {"sorted_token_budget": padding_waste(lengths, token_budget_batches(lengths,
                                                                              batch_tokens)),
            "unsorted_token_budget": padding_waste(
                lengths, token_budget_batches(lengths, batch_tokens, sort=False)),
            "unsorted_32_rows": padding_waste(lengths, fixed_rows)}


def retrieval_quality(question_vectors: np.ndarray, trace_vectors: np.ndarray
                      ) -> dict[str, float]:
    sims = question_vectors @ trace_vectors.T
    n = len(sims)
    matched = np.diag(sims)
    off = ~np.eye(n, dtype=bool)
    return {"top1": float(np.mean(sims.argmax(axis=1) == np.arange(n))),
            "p_matched_gt_mismatched": float(np.mean((matched[:, None] > sims)[off])),
            "mean_matched": float(matched.mean()), "mean_mismatched": float(sims[off].mean())}


def bench_embeddings(samples: dict[str, list[dict[str, str]]], limit: int,
                     device: str) -> list[dict[str, Any]]:
    results = []
    for name in ("minilm", "wordllama"):
        start = time.perf_counter()
        engine = load_embedding_engine(name, device=device)
        load_s = time.perf_counter() - start
        for file in QUALITY_SAMPLES:
            records = samples[file][:limit]
            texts = [r["question"] for r in records] + [r["reasoning"] for r in records]
            engine.embed(texts[:8])
            start = time.perf_counter()
            vectors = engine.embed(texts)
            seconds = time.perf_counter() - start
            results.append({"engine": name, "file": file, "n_texts": len(texts),
                            "load_s": load_s, "texts_per_s": len(texts) / seconds,
                            "chars_per_s": sum(map(len, texts)) / seconds,
                            **retrieval_quality(vectors[:len(records)],
                                                vectors[len(records):])})
    return results


#: (file, field used as the unit's label): each file, or each trace style / domain of it.
UNITS = (("gsm8k_train.jsonl", None), ("marco_o1_cot.jsonl", "domain"),
         ("gsm8k_test_trace_styles.jsonl", "style"), ("gsm8k_model_solutions.jsonl", "style"))
EMBEDDING_METRICS = ("semantic_alignment", "semantic_flow")


def unit_means(model: str) -> tuple[dict[str, dict[str, float]], float]:
    """Mean alignment and flow of every unit under `model`, and the seconds it took."""
    means: dict[str, dict[str, float]] = {}
    start = time.perf_counter()
    for file, field in UNITS:
        table = extract_features(sample_path(file), "embedding", sample="all",
                                 on_error="skip", by_domain=field is not None,
                                 columns=f"domain={field}" if field else None,
                                 extractor_options={"embedding_model": model, "device": "cpu"})
        rows = table[table["domain"] != ""] if field else table
        for row in rows.itertuples(index=False):
            means[f"{file}:{row.domain}"] = {m: getattr(row, m) for m in EMBEDDING_METRICS}
    return means, time.perf_counter() - start


def embedder_agreement() -> dict[str, Any]:
    from scipy.stats import pearsonr, spearmanr

    minilm, minilm_s = unit_means("minilm")
    wordllama, wordllama_s = unit_means("wordllama")
    units = sorted(minilm)
    out: dict[str, Any] = {"units": units, "minilm_seconds": minilm_s,
                           "wordllama_seconds": wordllama_s,
                           "speedup_wordllama": minilm_s / wordllama_s}
    for metric in EMBEDDING_METRICS:
        a = np.array([minilm[u][metric] for u in units])
        b = np.array([wordllama[u][metric] for u in units])
        both = np.isfinite(a) & np.isfinite(b)  # flow is NaN where no trace has 2 sentences
        out[f"spearman_{metric}"] = float(spearmanr(a[both], b[both]).statistic)
        out[f"pearson_{metric}"] = float(pearsonr(a[both], b[both]).statistic)
        out[f"n_units_{metric}"] = int(both.sum())
        out[f"{metric}_minilm"], out[f"{metric}_wordllama"] = a.tolist(), b.tolist()
    return out


def subsample_distance(size: int = 100) -> list[dict[str, Any]]:
    """(sample estimate - exhaustive) / reported SE of the embedding metrics, per sample file."""
    rows = []
    for file, _ in UNITS:
        n = 60 if file.startswith("marco") else size
        options = {"extractor_options": {"embedding_model": "wordllama"}, "on_error": "skip"}
        sub = extract_features(sample_path(file), "embedding", sample=n, **options).iloc[0]
        full = extract_features(sample_path(file), "embedding", sample="all", **options).iloc[0]
        rows.append({"file": file, "sample": n, "examples": int(full["n_examples"]),
                     **{f"z_{m}": float((sub[m] - full[m]) / sub[f"{m}__se"])
                        for m in EMBEDDING_METRICS}})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--limit", type=int, default=300,
                        help="sequences per perplexity run / pairs per embedding file")
    parser.add_argument("--batch-tokens", type=int, default=None,
                        help="token budget (default 2048 on CPU, 65536 on CUDA)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--runs", type=int, default=5,
                        help="repeats of each perplexity comparison (median reported)")
    parser.add_argument("--skip-embeddings", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    on_gpu = args.device.startswith("cuda")
    batch_tokens = args.batch_tokens or (65536 if on_gpu else 2048)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    samples = read_samples(SAMPLES)
    # CPU: token lengths of each sample file's traces; GPU: 1,024-token sequences
    workloads = ({"1024-token": [4 * 1024] * args.limit} if on_gpu else
                 {name: [len(r["reasoning"]) for r in rows][:args.limit]
                  for name, rows in samples.items()})
    results: dict[str, Any] = {"threads": args.threads, "perplexity": [], "padding": {},
                               "embeddings": []}
    for name, config in (GPU_MODELS if on_gpu else CPU_MODELS).items():
        for workload, chars in workloads.items():
            sequences = token_sequences(chars, config["vocab_size"], 1024 if on_gpu else 512)
            runs = sorted((bench_perplexity(name, config, sequences, args.device, batch_tokens)
                           for _ in range(args.runs)), key=lambda r: r["speedup"])
            row = {"workload": workload, **runs[len(runs) // 2],  # the median run
                   "speedup": float(np.median([r["speedup"] for r in runs])),
                   "speedups": [r["speedup"] for r in runs]}
            results["perplexity"].append(row)
            print(f"perplexity {name:14s} {workload:30s} batched "
                  f"{row['batched_tokens_per_s']:>9,.0f} tok/s | naive "
                  f"{row['naive_tokens_per_s']:>9,.0f} tok/s | median x{row['speedup']:.1f} "
                  f"of {args.runs} | padding "
                  f"{100 * row['padding_waste']:.1f}% | max rel diff "
                  f"{row['max_rel_diff_perplexity']:.1e}"
                  + (f" | MFU {100 * row['mfu_batched']:.1f}%" if row.get("mfu_batched")
                     else ""))
    all_chars = [len(r["reasoning"]) for rows in samples.values() for r in rows]
    lengths = [len(s) + 1 for s in token_sequences(all_chars, 512, 512)]
    results["padding"] = padding_table(lengths, batch_tokens)
    print(f"padding waste, all {len(lengths)} sample traces:",
          {k: f"{100 * v:.1f}%" for k, v in results["padding"].items()})
    if not args.skip_embeddings:
        results["embeddings"] = bench_embeddings(samples, args.limit, args.device)
        for row in results["embeddings"]:
            print(f"embedding {row['engine']:10s} {row['file']:20s} "
                  f"{row['texts_per_s']:>8,.0f} texts/s | top1 {row['top1']:.3f} | "
                  f"P(matched>mismatched) {row['p_matched_gt_mismatched']:.3f} | cos "
                  f"{row['mean_matched']:.2f} vs {row['mean_mismatched']:.2f}")
        results["agreement"] = embedder_agreement()
        agreement = results["agreement"]
        print(f"wordllama vs MiniLM over {len(agreement['units'])} datasets/styles: Spearman "
              f"(Pearson) alignment {agreement['spearman_semantic_alignment']:.2f} "
              f"({agreement['pearson_semantic_alignment']:.2f}), flow "
              f"{agreement['spearman_semantic_flow']:.2f} "
              f"({agreement['pearson_semantic_flow']:.2f}); extraction x"
              f"{agreement['speedup_wordllama']:.1f} faster")
        results["subsample"] = subsample_distance()
        for row in results["subsample"]:
            print(f"subsample {row['file']:32s} {row['sample']}/{row['examples']}: z alignment "
                  f"{row['z_semantic_alignment']:+.2f}, z flow {row['z_semantic_flow']:+.2f}")
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
