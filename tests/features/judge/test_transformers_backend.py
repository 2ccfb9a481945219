"""The packed (prefix-sharing) judge equals one separately prefilled prompt per judgment."""

import numpy as np
import pytest
import torch
from conftest import read_samples

from metaq.features.judge.rubric import RUBRICS, ChatFrame, build_prompt
from metaq.features.judge.scoring.base import chat_frame_of, label_token_ids
from metaq.features.judge.scoring.packing import TokenizedPrompt, probe_groups, tokenize_prompt
from metaq.features.judge.scoring.transformers_backend import (
    TransformersJudgeBackend,
    tree_attention_mask,
)
from metaq.features.judge.steps import extract_premises, split_steps


def _prompts(backend, rows, language="en"):
    return [build_prompt(r["question"], extract_premises(r["question"]),
                         [s.text for s in split_steps(r["reasoning"])],
                         rubric=RUBRICS[language], frame=backend.chat_frame()) for r in rows]


def _naive(backend, prompt, probes):
    """One full forward pass per probe over its own prompt; softmax of the two label logits."""
    tokenized = tokenize_prompt(backend.tokenizer, prompt)
    out = []
    for i in probes:
        ids = torch.tensor([tokenized.full_prompt(i)])
        with torch.inference_mode():
            logits = backend.model(ids).logits[0, -1, list(backend.label_ids)]
        out.append(torch.softmax(logits.double(), 0)[0].item())
    return np.array(out)


def test_packed_equals_naive_on_real_traces(judge_backend):
    rows = read_samples("gsm8k_test_trace_styles.jsonl")[:3]
    prompts = _prompts(judge_backend, rows)
    scores = judge_backend.score(prompts)
    assert sum(len(p.probes) for p in prompts) == 4 * (5 + 10 + 5)
    for prompt, result in zip(prompts, scores, strict=True):
        assert set(result.status) == {"ok"}
        some = _spread(len(prompt.probes))  # first, last and between: every step position
        np.testing.assert_allclose(result.p_positive[some], _naive(judge_backend, prompt, some),
                                   atol=1e-5, rtol=0)


def _spread(n, k=7):
    return sorted(set(np.linspace(0, n - 1, k).round().astype(int).tolist()))


def test_polish_rubric_and_small_batches_give_the_same_probabilities(judge_path):
    backend = TransformersJudgeBackend(judge_path, device="cpu", batch_tokens=4096)
    rows = read_samples("gsm8k_model_solutions.jsonl")[:2]
    prompts = _prompts(backend, rows, language="pl")
    big = backend.score(prompts)
    backend.batch_tokens, backend.probe_tokens = 700, 30  # one trace a batch, many rounds
    small = backend.score(prompts)
    for a, b, prompt in zip(big, small, prompts, strict=True):
        np.testing.assert_allclose(a.p_positive, b.p_positive, atol=1e-5, rtol=0)
        some = _spread(len(prompt.probes), 4)
        np.testing.assert_allclose(a.p_positive[some], _naive(backend, prompt, some),
                                   atol=1e-5, rtol=0)


def test_probes_beyond_the_context_are_truncated_not_judged(judge_path):
    backend = TransformersJudgeBackend(judge_path, device="cpu")
    row = read_samples("gsm8k_test_trace_styles.jsonl")[1]
    prompt = _prompts(backend, [row])[0]
    lengths = tokenize_prompt(backend.tokenizer, prompt).prompt_lengths()
    backend.max_length = int(np.median(lengths))
    (result,) = backend.score([prompt])
    too_long = lengths > backend.max_length
    assert too_long.any() and not too_long.all()
    assert [s == "truncated" for s in result.status] == too_long.tolist()
    assert np.isnan(result.p_positive[too_long]).all()
    assert np.isfinite(result.p_positive[~too_long]).all()


def test_probe_groups_and_tree_mask_by_hand():
    tp = TokenizedPrompt([1, 2], [[3], [4, 5], [6]], [[9], [8, 8], [7]], [0, 1, 2])
    (g1, g2) = probe_groups(tp, np.array([0, 1, 2]), max_tokens=3)
    assert g1.probes.tolist() == [0, 1] and g2.probes.tolist() == [2]
    # probe 0 follows step 1 (history ends at 3), probe 1 follows step 2 (ends at 5)
    assert g1.position_ids.tolist() == [3, 5, 6]
    context_end, own_start = torch.tensor(g1.context_end[None]), torch.tensor(g1.own_start[None])
    mask = tree_attention_mask(context_end, own_start, 6, None)[0, 0].int().tolist()
    assert mask == [
        # history 0..5        probes 6..8
        [1, 1, 1, 0, 0, 0,    1, 0, 0],   # probe 0: history through step 1, itself
        [1, 1, 1, 1, 1, 0,    0, 1, 0],   # probe 1, token 1: through step 2, itself
        [1, 1, 1, 1, 1, 0,    0, 1, 1],   # probe 1, token 2: and its first token
    ]
    additive = tree_attention_mask(context_end, own_start, 6, torch.float32)
    assert ((additive[0, 0] == 0).int().tolist()) == mask


def test_chat_template_frame_and_label_ids(judge_path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(judge_path)
    assert chat_frame_of(tok) == ChatFrame()
    tok.chat_template = ("{% for m in messages %}<|user|>\n{{ m['content'] }}{% endfor %}"
                         "{% if add_generation_prompt %}\n<|assistant|>\n{% endif %}")
    frame = chat_frame_of(tok)
    assert frame == ChatFrame(head="<|user|>\n", tail="<|assistant|>\n")  # jinja trim_blocks
    pos, neg = label_token_ids(tok, frame)
    assert tok.decode([pos]).startswith("P") and tok.decode([neg]).startswith("N")


def test_identical_label_tokens_are_refused(judge_path):
    from transformers import AutoTokenizer

    from metaq.exceptions import MetaqError

    tok = AutoTokenizer.from_pretrained(judge_path)
    with pytest.raises(MetaqError, match="first tokens differ"):
        label_token_ids(tok, ChatFrame(), labels=("POSITIVE", "POSSIBLE"))


def test_eager_attention_takes_the_additive_mask(judge_path, judge_backend):
    from transformers import AutoModelForCausalLM

    eager = AutoModelForCausalLM.from_pretrained(judge_path, attn_implementation="eager").eval()
    backend = TransformersJudgeBackend.from_loaded("eager", eager, judge_backend.tokenizer)
    prompts = _prompts(backend, read_samples("gsm8k_train.jsonl")[:2])
    for a, b in zip(backend.score(prompts), judge_backend.score(prompts), strict=True):
        np.testing.assert_allclose(a.p_positive, b.p_positive, atol=1e-5, rtol=0)
