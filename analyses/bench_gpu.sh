#!/usr/bin/env bash
# One command for a lent GPU: perplexity and judge throughput against the bf16 ceiling.
#   bash analyses/bench_gpu.sh            (from the repository root, after `make venv`)
# Each benchmark runs against its naive baseline in the same run and reports tokens/s and
# model-FLOPs utilisation against the GPU's dense bf16 peak (989 TFLOP/s for H100/H200).
# Results: analyses/out/bench_models/results.json, analyses/out/bench_judge/results.json,
# and the console log analyses/out/bench_gpu.log. Each step is capped so the whole script
# stays within about 12 minutes of device time.
set -u
PY=${PY:-.venv/bin/python}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
mkdir -p analyses/out
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"
  timeout 360 $PY analyses/bench_models.py --device cuda --limit 64 --runs 3 --skip-embeddings
  timeout 300 $PY analyses/bench_judge.py --arch qwen3-4b --device cuda --traces 32
} 2>&1 | tee analyses/out/bench_gpu.log
