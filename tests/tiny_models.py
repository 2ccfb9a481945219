"""Tiny local models for tests: built in well under a second, no download.

Every function saves a folder that loads with the ordinary ``from_pretrained`` calls
(``AutoTokenizer`` + ``AutoModelForCausalLM`` / ``AutoModel``), so tests exercise the same
loading code as real models. Tokenizers are trained on the fly on a small corpus.

- :func:`build_tiny_causal_lm`: a GPT-2-style causal LM (2 layers, width 64, BPE tokenizer),
  random weights, optionally trained for a few steps on the corpus.
- :func:`build_tiny_encoder`: a BERT-style encoder (2 layers, width 64, WordPiece tokenizer
  adding ``[CLS]``/``[SEP]``); ``sentence_transformers=True`` also writes the
  sentence-transformers files (mean pooling) so ``SentenceTransformer(path)`` loads it.
- :func:`build_topic_lm`: the causal LM trained briefly on :func:`topic_corpus`.
- :func:`topic_corpus`: synthetic "question + reasoning" texts over two disjoint topic
  vocabularies: the question predicts the words of the reasoning, which a briefly trained
  tiny LM learns.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

TOPICS: dict[str, tuple[str, ...]] = {
    "animals": ("cat", "dog", "horse", "mouse", "bird", "fish", "sheep", "goat", "cow",
                "duck", "frog", "bear"),
    "numbers": ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "plus", "equals"),
}
SEPARATOR = "\n\n"


def topic_pair(topic: str, rng: random.Random, n_question: int = 4,
               n_reasoning: int = 12) -> tuple[str, str]:
    """One (question, reasoning) pair whose words all come from ``topic``'s vocabulary."""
    words = TOPICS[topic]
    question = "ask " + " ".join(rng.choice(words) for _ in range(n_question)) + " ?"
    reasoning = " ".join(rng.choice(words) for _ in range(n_reasoning)) + " ."
    return question, reasoning


def topic_corpus(n: int = 400, seed: int = 0, separator: str = SEPARATOR) -> list[str]:
    """``n`` texts ``question + separator + reasoning``, topics alternating."""
    rng = random.Random(seed)
    topics = sorted(TOPICS)
    return [separator.join(topic_pair(topics[i % len(topics)], rng)) for i in range(n)]


def _train_bpe_tokenizer(corpus: Sequence[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size,
                                  special_tokens=["<|endoftext|>", "<pad>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                                   eos_token="<|endoftext|>", unk_token="<|endoftext|>",
                                   pad_token="<pad>")


def _train_wordpiece_tokenizer(corpus: Sequence[str], vocab_size: int):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(corpus, trainers.WordPieceTrainer(vocab_size=vocab_size,
                                                              special_tokens=specials))
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def _default_corpus() -> list[str]:
    return topic_corpus(400) + [
        "The quick brown fox jumps over the lazy dog.",
        "Let x = 3. Then 2x + 1 = 7, so the answer is 7.",
        "First, add the numbers. Second, divide by two. The result is 12.",
    ]


def build_tiny_causal_lm(path: str | Path, corpus: Sequence[str] | None = None, *,
                         vocab_size: int = 512, n_positions: int = 256,
                         train_steps: int = 0, seed: int = 0) -> Path:
    """Build, optionally train, and save a tiny GPT-2-style causal LM with its tokenizer.

    Parameters
    ----------
    path : str or Path
        Folder to write (created).
    corpus : sequence of str, optional
        Texts to train the BPE tokenizer (and the model, when ``train_steps > 0``) on;
        default :func:`topic_corpus` plus a few English/math sentences.
    vocab_size : int
        Target BPE vocabulary size (a small corpus may fill less).
    n_positions : int
        Maximum sequence length of the model.
    train_steps : int
        AdamW steps (batch 32, lr 3e-3) on the corpus; 0 keeps random weights.
    seed : int
        Seed of the weights and of the batch order.

    Returns
    -------
    Path
        The folder, loadable with ``AutoTokenizer`` / ``AutoModelForCausalLM``.
    """
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    path = Path(path)
    corpus = list(corpus) if corpus is not None else _default_corpus()
    tokenizer = _train_bpe_tokenizer(corpus, vocab_size)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=n_positions, n_embd=64,
                        n_layer=2, n_head=2, bos_token_id=tokenizer.bos_token_id,
                        eos_token_id=tokenizer.eos_token_id,
                        pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    if train_steps > 0:
        _train_causal_lm(model, tokenizer, corpus, train_steps, seed)
    model.eval()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _train_causal_lm(model, tokenizer, corpus: Sequence[str], steps: int, seed: int) -> None:
    import torch

    rng = random.Random(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: extra threads only spin on a shared CPU
    model.train()
    try:
        for _ in range(steps):
            batch = tokenizer(rng.sample(list(corpus), min(32, len(corpus))),
                              return_tensors="pt", padding=True, truncation=True,
                              max_length=model.config.n_positions)
            labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
            loss = model(**batch, labels=labels).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)


def build_topic_lm(path: str | Path) -> Path:
    """A tiny GPT-2 trained for 30 steps on :func:`topic_corpus` (about a second on a free
    CPU): a question's topic then predicts the words of its reasoning, so conditioning on
    the right question lowers the reasoning's perplexity."""
    return build_tiny_causal_lm(path, topic_corpus(200), train_steps=30)


def build_tiny_encoder(path: str | Path, corpus: Sequence[str] | None = None, *,
                       vocab_size: int = 512, sentence_transformers: bool = False,
                       seed: int = 0) -> Path:
    """Build and save a tiny BERT-style encoder (random weights) with its tokenizer.

    Parameters
    ----------
    path : str or Path
        Folder to write (created).
    corpus : sequence of str, optional
        Texts to train the WordPiece tokenizer on (default as :func:`build_tiny_causal_lm`).
    vocab_size : int
        Target WordPiece vocabulary size.
    sentence_transformers : bool
        Also write the sentence-transformers module files (Transformer + mean Pooling), so
        ``SentenceTransformer(path)`` loads the folder.
    seed : int
        Seed of the weights.

    Returns
    -------
    Path
        The folder, loadable with ``AutoTokenizer`` / ``AutoModel``.
    """
    import torch
    from transformers import BertConfig, BertModel

    path = Path(path)
    tokenizer = _train_wordpiece_tokenizer(
        list(corpus) if corpus is not None else _default_corpus(), vocab_size)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=128,
                        max_position_embeddings=256, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = BertModel(config).eval()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    if sentence_transformers:
        from sentence_transformers import SentenceTransformer, models

        word = models.Transformer(str(path), max_seq_length=128)
        pooling = models.Pooling(word.get_embedding_dimension(), pooling_mode="mean")
        SentenceTransformer(modules=[word, pooling], device="cpu").save(str(path))
    return path

