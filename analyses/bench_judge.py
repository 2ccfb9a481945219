"""Benchmark the FVCU judge: packed prefix-sharing scoring vs one `generate` per judgment.

Both paths judge the same (step, criterion) probes of real long traces
(data/samples/marco_o1_cot.jsonl, traces of 10+ rule-split steps) with the same model:

- packed: :class:`TransformersJudgeBackend` (one packed forward pass per trace, tree attention
  mask, two-row label projection, length-sorted token-budget batches);
- naive: each probe's full prompt prefilled from scratch by ``model.generate`` of the label
  text (greedy, ``max_new_tokens`` = the label's token length), P(POSITIVE) read from the
  first step's scores. The naive path runs on the first ``--naive-probes`` probes only; its
  rates are per probe, so they compare directly.

Reported: judgments (probes) per second, steps judged per second (4 criteria per step),
prompt tokens per second (the logical prompt tokens: the sum of every probe's own prompt
length, i.e. what a server without prefix sharing prefills), the packed path's processed
token slots and padding, the speed-up, and the largest difference between the two paths'
probabilities. On CUDA also the model-FLOPs utilisation of the packed path against the bf16
dense peak (``--peak-tflops``, default from the device name: H100/H200 989).

Models: ``--arch tiny`` (CPU default) is a GPT-2-style model of width 64 with a BPE tokenizer
trained on the samples (tests/tiny_models.py); ``--arch small`` the same tokenizer with a
random GPT-2 of width 256 and 4 layers (where weights, not attention, dominate the cost);
``--arch qwen3-4b`` / ``qwen3-8b`` build that
architecture from its config with random weights in bf16 on the GPU (the tokenizer stays the
tiny one, whose ids are valid in the larger vocabulary). Writes
analyses/out/bench_judge/results.json.

    python analyses/bench_judge.py                       # CPU, tiny model
    python analyses/bench_judge.py --arch qwen3-4b --device cuda --traces 32
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the shared tiny-model builder

from tiny_models import build_tiny_causal_lm, topic_corpus  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForCausalLM,
    AutoTokenizer,
    GPT2Config,
    GPT2LMHeadModel,
    Qwen3Config,
)

from metaq.datasets import sample_path  # noqa: E402
from metaq.features.judge.rubric import RUBRICS, build_prompt  # noqa: E402
from metaq.features.judge.scoring.packing import tokenize_prompt  # noqa: E402
from metaq.features.judge.scoring.transformers_backend import (  # noqa: E402
    TransformersJudgeBackend,
)
from metaq.features.judge.steps import extract_premises, split_steps  # noqa: E402

OUT = REPO / "analyses" / "out" / "bench_judge"

# Published shapes (config.json of Qwen/Qwen3-4B and Qwen/Qwen3-8B).
ARCHS = {
    "qwen3-4b": dict(hidden_size=2560, intermediate_size=9728, num_hidden_layers=36,
                     num_attention_heads=32, num_key_value_heads=8, head_dim=128,
                     vocab_size=151936, tie_word_embeddings=True),
    "qwen3-8b": dict(hidden_size=4096, intermediate_size=12288, num_hidden_layers=36,
                     num_attention_heads=32, num_key_value_heads=8, head_dim=128,
                     vocab_size=151936, tie_word_embeddings=False),
}
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def read_rows(name: str) -> list[dict]:
    with open(sample_path(name), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def build_model(arch: str, device: str, workdir: Path):
    rows = read_rows("marco_o1_cot.jsonl") + read_rows("gsm8k_train.jsonl")
    corpus = (topic_corpus(100) + [r.instructions for r in RUBRICS.values()] * 5
              + [f"{r['question']}\n{r['reasoning']}" for r in rows])
    path = build_tiny_causal_lm(workdir / "tiny_judge", corpus, vocab_size=2048,
                                n_positions=8192)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if arch == "tiny":
        model = AutoModelForCausalLM.from_pretrained(path).to(device).eval()
    elif arch == "small":
        torch.manual_seed(0)
        config = GPT2Config(vocab_size=len(tokenizer), n_positions=8192, n_embd=256,
                            n_layer=4, n_head=4, bos_token_id=tokenizer.bos_token_id,
                            eos_token_id=tokenizer.eos_token_id)
        model = GPT2LMHeadModel(config).to(device).eval()
    else:
        config = Qwen3Config(max_position_embeddings=32768, **ARCHS[arch])
        torch.manual_seed(0)
        with torch.device(device):
            model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16,
                                                     attn_implementation="sdpa").eval()
    return model, tokenizer


def make_prompts(backend, n_traces: int, min_steps: int):
    prompts = []
    for row in read_rows("marco_o1_cot.jsonl"):
        steps = [s.text for s in split_steps(row["reasoning"])]
        if len(steps) >= min_steps:
            prompts.append(build_prompt(row["question"], extract_premises(row["question"]),
                                        steps, rubric=RUBRICS["en"],
                                        frame=backend.chat_frame()))
        if len(prompts) == n_traces:
            break
    return prompts


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_packed(backend, prompts, device):
    backend.score(prompts[:1])  # warm-up
    sync(device)
    start = time.perf_counter()
    scores = backend.score(prompts)
    sync(device)
    return time.perf_counter() - start, np.concatenate([s.p_positive for s in scores])


def run_naive(backend, prompts, n_probes, device):
    tok = backend.tokenizer
    label_len = max(len(tok.encode(backend.chat_frame().label_prefix + w,
                                   add_special_tokens=False)) for w in ("POSITIVE", "NEGATIVE"))
    jobs = []
    for prompt in prompts:
        tp = tokenize_prompt(tok, prompt)
        jobs.extend(tp.full_prompt(i) for i in range(len(tp.probes)))
    jobs = jobs[:n_probes]
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    p_naive = []
    sync(device)
    start = time.perf_counter()
    for ids in jobs:
        input_ids = torch.tensor([ids], device=backend.model.device)
        with torch.inference_mode():
            out = backend.model.generate(input_ids, attention_mask=torch.ones_like(input_ids),
                                         max_new_tokens=label_len, do_sample=False,
                                         output_scores=True, return_dict_in_generate=True,
                                         pad_token_id=pad)
        first = out.scores[0][0, list(backend.label_ids)].double()
        p_naive.append(torch.softmax(first, 0)[0].item())
    sync(device)
    return time.perf_counter() - start, np.array(p_naive), sum(len(j) for j in jobs)


def model_flops(model, tokens: int, attended: int) -> float:
    """2 x non-embedding parameters per token + 4 x layers x attention width per attended key."""
    cfg = model.config
    params = sum(p.numel() for n, p in model.named_parameters() if "embed" not in n
                 and "lm_head" not in n)
    width = cfg.num_attention_heads * getattr(cfg, "head_dim", cfg.hidden_size
                                              // cfg.num_attention_heads)
    return 2.0 * params * tokens + 4.0 * cfg.num_hidden_layers * width * attended


def attended_keys(backend, prompts) -> int:
    """Keys each query token sees, summed: causal history pass plus tree-masked probes."""
    from metaq.features.judge.scoring.packing import probe_groups

    total = 0
    for p in prompts:
        tp = tokenize_prompt(backend.tokenizer, p)
        keep = np.flatnonzero(tp.prompt_lengths() <= backend.max_length)
        if not keep.size:
            continue
        history = len(tp.history_ids(max(tp.probe_steps[i] for i in keep)))
        total += history * (history + 1) // 2
        for g in probe_groups(tp, keep, max_tokens=backend.probe_tokens):
            total += int((g.context_end + np.arange(len(g)) - g.own_start + 1).sum())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", choices=("tiny", "small", *ARCHS), default="tiny")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--traces", type=int, default=8)
    parser.add_argument("--min-steps", type=int, default=10)
    parser.add_argument("--naive-probes", type=int, default=400)
    parser.add_argument("--batch-tokens", type=int, default=16384)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--peak-tflops", type=float, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    OUT.mkdir(parents=True, exist_ok=True)
    model, tokenizer = build_model(args.arch, args.device, OUT)
    backend = TransformersJudgeBackend.from_loaded(args.arch, model, tokenizer,
                                                   batch_tokens=args.batch_tokens)
    prompts = make_prompts(backend, args.traces, args.min_steps)
    lengths = np.concatenate([tokenize_prompt(tokenizer, p).prompt_lengths() for p in prompts])
    n_probes = len(lengths)
    packed_s, p_packed = run_packed(backend, prompts, args.device)
    naive_s, p_naive, naive_tokens = run_naive(backend, prompts, args.naive_probes, args.device)
    n_naive = len(p_naive)
    result = {
        "arch": args.arch, "device": args.device,
        "device_name": (torch.cuda.get_device_name() if args.device.startswith("cuda")
                        else "cpu"),
        "threads": args.threads, "traces": len(prompts),
        "steps": int(sum(len(p.history) for p in prompts)), "probes": n_probes,
        "mean_prompt_tokens": float(lengths.mean()),
        "packed": {"seconds": packed_s, "probes_per_s": n_probes / packed_s,
                   "steps_per_s": n_probes / 4 / packed_s,
                   "prompt_tokens_per_s": float(lengths.sum()) / packed_s,
                   "processed_token_slots": backend.last_tokens,
                   "padding_waste": backend.last_padding_waste},
        "naive": {"probes": n_naive, "seconds": naive_s, "probes_per_s": n_naive / naive_s,
                  "steps_per_s": n_naive / 4 / naive_s,
                  "prompt_tokens_per_s": naive_tokens / naive_s},
        "max_abs_diff_p": float(np.abs(p_packed[:n_naive] - p_naive).max()),
    }
    result["speedup"] = result["packed"]["probes_per_s"] / result["naive"]["probes_per_s"]
    if args.device.startswith("cuda"):
        peak = args.peak_tflops or next((v for k, v in PEAK_BF16_TFLOPS.items()
                                         if k in result["device_name"]), None)
        real_tokens = round(backend.last_tokens * (1 - backend.last_padding_waste))
        flops = model_flops(model, real_tokens, attended_keys(backend, prompts))
        result["packed"]["model_tflops_per_s"] = flops / packed_s / 1e12
        if peak:
            result["packed"]["mfu"] = flops / packed_s / (peak * 1e12)
    (OUT / "results.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"packed vs naive: {result['speedup']:.1f}x judgments/s "
          f"({result['packed']['probes_per_s']:.1f} vs {result['naive']['probes_per_s']:.2f}); "
          f"max |p_packed - p_naive| = {result['max_abs_diff_p']:.2e}")


if __name__ == "__main__":
    main()
