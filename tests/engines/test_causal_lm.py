import math

import numpy as np
import pytest
import torch

from metaq.engines.base import ScoringEngine
from metaq.engines.causal_lm import TransformersEngine, target_logprobs
from metaq.exceptions import ModelNotFoundError

TEXTS = ["cat dog horse", "one two three four five six seven eight", "x",
         "The quick brown fox jumps over the lazy dog. " * 6, "Let x = 3. Then 2x + 1 = 7.",
         "ask cat ? mouse bird fish frog bear sheep goat cow duck ."]


@pytest.fixture(scope="module")
def engine(tiny_lm):
    return TransformersEngine(tiny_lm, device="cpu", batch_tokens=96)


def plain_loop_logprobs(model, ids):
    """log p(ids[t] | ids[:t]) for t >= 1 from full logits, one position at a time."""
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double()
    out = []
    for t in range(1, len(ids)):
        row = logits[t - 1]
        out.append(float(row[ids[t]] - math.log(sum(math.exp(v) for v in row.tolist()))))
    return np.array(out)


def test_engine_satisfies_protocol_and_describes_itself(engine):
    assert isinstance(engine, ScoringEngine)
    described = engine.describe()
    assert described["model"] == str(engine.name)
    assert described["long_text"] == "sliding(max_length=256,stride=128)"
    assert described["dtype"] == "float32" and described["device"] == "cpu"


def test_perplexity_matches_hand_computation(engine):
    result = engine.score(TEXTS[:2])
    for text, logprobs, ppl in zip(TEXTS[:2], result.logprobs, result.perplexity(),
                                   strict=True):
        ids = [engine.tokenizer.bos_token_id] + engine.tokenizer(
            text, add_special_tokens=False)["input_ids"]
        expected = plain_loop_logprobs(engine.model, ids)
        np.testing.assert_allclose(logprobs, expected, atol=1e-5)
        assert ppl == pytest.approx(math.exp(-expected.mean()), rel=1e-5)


def test_batched_equals_one_by_one(engine, tiny_lm):
    batched = engine.score(TEXTS)
    assert batched.stats.n_batches > 1 and batched.stats.n_batches < len(TEXTS)
    single = TransformersEngine(tiny_lm, device="cpu", batch_tokens=1)
    for text, logprobs in zip(TEXTS, batched.logprobs, strict=True):
        alone = single.score([text])
        assert alone.stats.padded_tokens == alone.stats.real_tokens
        np.testing.assert_allclose(logprobs, alone.logprobs[0], atol=1e-5)


def test_contexts_are_conditioned_on_but_not_scored(engine):
    plain = engine.score(["cat dog"]).logprobs[0]
    given = engine.score(["cat dog"], contexts=["ask cat ?\n\n"]).logprobs[0]
    assert plain.shape == given.shape
    ids = ([engine.tokenizer.bos_token_id]
           + engine.tokenizer("ask cat ?\n\n", add_special_tokens=False)["input_ids"])
    n_context = len(ids)
    ids += engine.tokenizer("cat dog", add_special_tokens=False)["input_ids"]
    np.testing.assert_allclose(given, plain_loop_logprobs(engine.model, ids)[n_context - 1:],
                               atol=1e-5)
    with pytest.raises(ValueError, match="got 2 contexts for 1 texts"):
        engine.score(["a"], contexts=["b", "c"])


def test_sliding_window_equals_full_when_window_covers_text(tiny_lm, engine):
    full = engine.score(TEXTS).logprobs
    covering = TransformersEngine(tiny_lm, device="cpu", max_length=64, stride=8)
    longest = max(len(ids) for ids in covering.encode(TEXTS)) + 1
    assert longest <= 64
    for a, b in zip(full, covering.score(TEXTS).logprobs, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_sliding_window_scores_every_token_of_a_long_text(tiny_lm, engine):
    text = TEXTS[3]
    n_targets = len(engine.encode([text])[0])
    sliding = TransformersEngine(tiny_lm, device="cpu", max_length=16, stride=8)
    result = sliding.score([text])
    assert result.logprobs[0].size == n_targets and result.stats.unscored_tokens == 0
    assert result.stats.n_segments == math.ceil((n_targets + 1 - 16) / 8) + 1
    # the first window sees exactly what the full run sees
    np.testing.assert_allclose(result.logprobs[0][:15], engine.score([text]).logprobs[0][:15],
                               atol=1e-5)
    truncated = TransformersEngine(tiny_lm, device="cpu", max_length=16, window="truncate")
    cut = truncated.score([text])
    assert cut.logprobs[0].size == 15 and cut.stats.unscored_tokens == n_targets - 15
    assert truncated.describe()["long_text"] == "truncate(max_length=16)"


def test_chunked_head_equals_full_log_softmax():
    torch.manual_seed(0)
    head = torch.nn.Linear(8, 50, bias=True)
    hidden, targets = torch.randn(23, 8), torch.randint(0, 50, (23,))
    full = torch.log_softmax(head(hidden), -1)[torch.arange(23), targets]
    chunked = target_logprobs(hidden, targets, head, chunk_elements=50 * 4)  # 4 rows a chunk
    torch.testing.assert_close(chunked, full, atol=1e-6, rtol=0)
    capped = target_logprobs(hidden, targets, head, softcap=2.0)
    expected = torch.log_softmax(torch.tanh(head(hidden) / 2.0) * 2.0, -1)
    torch.testing.assert_close(capped, expected[torch.arange(23), targets], atol=1e-6, rtol=0)


def test_stats_report_padding_and_accumulate(tiny_lm):
    engine = TransformersEngine(tiny_lm, device="cpu", batch_tokens=96)
    result = engine.score(TEXTS)
    stats = result.stats
    lengths = [len(ids) + 1 for ids in engine.encode(TEXTS)]
    assert stats.real_tokens == sum(lengths)
    assert stats.scored_tokens == sum(n - 1 for n in lengths)
    assert 0 < stats.padding_waste == pytest.approx(1 - stats.real_tokens / stats.padded_tokens)
    engine.score(TEXTS[:1])
    assert engine.stats.n_texts == len(TEXTS) + 1


def test_empty_text_gives_nan(engine):
    result = engine.score(["", "cat"])
    assert result.logprobs[0].size == 0 and math.isnan(result.perplexity()[0])
    assert math.isfinite(result.perplexity()[1])


def test_missing_model_raises_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match=r"offline \(HF_HUB_OFFLINE=1\).*local folder"):
        TransformersEngine("no-such-org/no-such-model-xyz", device="cpu")
    with pytest.raises(ModelNotFoundError, match="cannot load the tokenizer"):
        TransformersEngine(tmp_path, device="cpu")


def test_from_model_wraps_a_loaded_model(engine):
    wrapped = TransformersEngine.from_model(engine.model, engine.tokenizer, name="shared",
                                            max_length=32, window="truncate")
    assert wrapped.describe()["model"] == "shared" and wrapped.max_length == 32
    np.testing.assert_allclose(wrapped.score(TEXTS[:2]).logprobs[1],
                               engine.score(TEXTS[:2]).logprobs[1], atol=1e-6)


@pytest.mark.gpu
def test_cuda_bf16_agrees_with_cpu_fp32(tiny_lm, engine):
    gpu = TransformersEngine(tiny_lm, device="cuda")
    assert gpu.describe()["dtype"] == "bfloat16"
    np.testing.assert_allclose(gpu.score(TEXTS).perplexity(), engine.score(TEXTS).perplexity(),
                               rtol=0.05)
