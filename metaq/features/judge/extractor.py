"""FVCUExtractor: share of steps judged positive on Factuality, Validity, Coherence, Utility.

Per example (every example, cheap): the number of steps. Per *judged* example: for each
criterion the share of judged steps whose P(POSITIVE) is at least ``threshold``
(``factuality``...), the mean P(POSITIVE) (``factuality_prob``...), and how many probes
failed or were truncated. Examples with zero steps are not judged (``n_zero_step``).

Which examples are judged: a stratified subsample (:mod:`metaq.features.sampling`, default
1,000, ``"all"`` for every one). The sample needs the whole dataset, so the first time a
batch from a file is seen the extractor reads that file once more, cheaply (text only, via
:mod:`metaq.io`), to draw it; examples given without a file location (direct API use) are
sampled within the ``score_batch`` call. Unselected examples are cached as not judged, so the
sample size and seed are part of the cache key.

Dataset level (:meth:`FVCUExtractor.aggregate`): with ``aggregation="examples"`` (default)
the mean over judged examples of the per-example share; with ``"steps"`` all judged steps
pooled (ratio estimator). The study did not say which it used. ``<metric>__se`` is the
sampling standard error of the dataset's value with the finite-population correction
(:mod:`metaq.features.sampling`); it is 0 when everything is judged.

Emitted metrics: ``factuality``, ``validity``, ``coherence``, ``utility`` (shares, 0-1),
``<criterion>_prob`` (mean P(POSITIVE)), ``steps_per_example`` (all examples),
``judge_failure_rate`` and ``judge_truncated_rate`` (shares of probes of judged examples);
counts ``n_judged``, ``n_steps`` (steps of judged examples), ``n_zero_step``, ``n_probes``,
``n_probes_failed``, ``n_probes_truncated``, ``n_atomizer_fallback``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from metaq.exceptions import InvalidParameterError
from metaq.features.base import Example, Extractor
from metaq.features.judge.atomizer import ATOMIZER_VERSION, atomize
from metaq.features.judge.rubric import (
    CRITERIA,
    RUBRIC_VERSION,
    JudgePrompt,
    build_prompt,
    get_rubric,
)
from metaq.features.judge.scoring.base import (
    ENGINES,
    FAILED,
    OK,
    TRUNCATED,
    JudgeBackend,
    ProbeScores,
    make_backend,
)
from metaq.features.judge.steps import extract_premises, split_steps
from metaq.features.sampling import (
    mean_se,
    ratio_se,
    sample_keys,
    sample_size,
    stratified_sample,
)

logger = logging.getLogger(__name__)

#: The study's judge (and atomizer). A single-GPU alternative: ``Qwen/Qwen3-4B-Instruct-2507``.
DEFAULT_JUDGE_MODEL = "Qwen/Qwen3-235B-A22B-Instruct-2507-FP8"
DEFAULT_SAMPLE = 1000
ATOMIZER_MAX_NEW_TOKENS = 4096


class FVCUExtractor(Extractor):
    """The FVCU step judge as a metric extractor (details in the module docstring).

    Parameters
    ----------
    judge_model : str
        Model id or local path (for ``judge_engine="openai"``: the served model name).
    judge_engine : {"transformers", "vllm", "openai"}
        Back-end (:mod:`metaq.features.judge.scoring`).
    judge_sample : int, "all" or None
        Examples judged per dataset (stratified); ``"all"``/``None`` judges every one.
    judge_aggregation : {"examples", "steps"}
        Mean of per-example shares, or all steps pooled.
    device : str
        Device of the transformers back-end.
    max_length : int, optional
        The judge's context in tokens (default: the model's).
    batch_tokens : int
        Padded history tokens per batch of traces (transformers).
    language : {"en", "pl"}
        Rubric language.
    threshold : float
        P(POSITIVE) at or above which a step counts as positive.
    splitter : {"rules", "llm"}
        Rule-based splitter or the LLM atomizer (the judge model splits).
    seed : int
        Seed of the subsample.
    backend_options : dict, optional
        Extra options for the back-end (``base_url``, ``concurrency``, ``tensor_parallel_size``,
        ``quantization``...).
    backend : JudgeBackend, optional
        A ready back-end (tests, notebooks); then ``judge_engine`` and the loading options are
        not used.
    """

    name: ClassVar[str] = "fvcu"
    version: ClassVar[str] = "1"
    metrics: ClassVar[tuple[str, ...]] = (
        *CRITERIA, *(f"{c}_prob" for c in CRITERIA), "steps_per_example",
        "judge_failure_rate", "judge_truncated_rate")
    requires: ClassVar[tuple[str, ...]] = ("torch", "transformers")
    extra: ClassVar[str] = "extract"

    def __init__(self, *, judge_model: str = DEFAULT_JUDGE_MODEL,
                 judge_engine: str = "transformers",
                 judge_sample: int | str | None = DEFAULT_SAMPLE,
                 judge_aggregation: Literal["examples", "steps"] = "examples",
                 device: str = "auto", max_length: int | None = None, batch_tokens: int = 8192,
                 language: Literal["en", "pl"] = "en", threshold: float = 0.5,
                 splitter: Literal["rules", "llm"] = "rules", seed: int = 0,
                 backend_options: dict[str, Any] | None = None,
                 backend: JudgeBackend | None = None) -> None:
        self.judge_model = judge_model
        self.judge_engine = judge_engine
        self.judge_sample = judge_sample
        self.judge_aggregation = judge_aggregation
        self.device = device
        self.max_length = max_length
        self.batch_tokens = batch_tokens
        self.language = language
        self.threshold = threshold
        self.splitter = splitter
        self.seed = seed
        self.backend_options = backend_options
        self.backend = backend

    # -- configuration -------------------------------------------------------------------
    def _sample_size(self) -> int | None:
        return sample_size(self.judge_sample, "judge_sample")

    def config(self) -> dict[str, Any]:
        """Return what changes the numbers: judge, rubric version, splitter, sample, threshold."""
        config = {"judge_model": self.judge_model, "judge_engine": self.judge_engine,
                  "rubric_version": RUBRIC_VERSION, "language": self.language,
                  "splitter": self.splitter, "judge_sample": self._sample_size() or "all",
                  "seed": self.seed, "threshold": self.threshold,
                  "max_length": self.max_length}
        if self.splitter == "llm":
            config["atomizer_version"] = ATOMIZER_VERSION
        return config

    def provenance(self) -> dict[str, str]:
        """Return the config plus what the back-end reports (engine, model, dtype...)."""
        described = self.backend.describe() if self.backend is not None else {}
        return {**super().provenance(), "aggregation": self.judge_aggregation,
                **{f"backend_{k}": v for k, v in described.items()}}

    def setup(self) -> None:
        """Validate the options and build the back-end (loads the judge model)."""
        get_rubric(self.language)
        self._sample_size()
        if self.judge_aggregation not in ("examples", "steps"):
            raise InvalidParameterError(
                f"judge_aggregation={self.judge_aggregation!r}: use 'examples' or 'steps'")
        if self.splitter not in ("rules", "llm"):
            raise InvalidParameterError(f"splitter={self.splitter!r}: use 'rules' or 'llm'")
        if not 0.0 < self.threshold < 1.0:
            raise InvalidParameterError(f"threshold={self.threshold!r} must lie in (0, 1)")
        if self.backend is None:
            if self.judge_engine not in ENGINES:
                raise InvalidParameterError(
                    f"judge_engine={self.judge_engine!r}: use one of {', '.join(ENGINES)}")
            defaults = {"transformers": {"device": self.device, "max_length": self.max_length,
                                         "batch_tokens": self.batch_tokens},
                        "vllm": {"max_length": self.max_length}}.get(self.judge_engine, {})
            self.backend = make_backend(self.judge_engine, self.judge_model,
                                        **{**defaults, **(self.backend_options or {})})
        self._samples: dict[str, frozenset[str]] = {}

    # -- scoring -------------------------------------------------------------------------
    def score_batch(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        """Split every example; judge the sampled ones with at least one step.

        Call :meth:`setup` first (the runner does).
        """
        selected = self._selected(examples)
        steps, fell_back = self._split([ex.reasoning for ex in examples])
        rubric = get_rubric(self.language)
        frame = self.backend.chat_frame()
        todo = [i for i, ex in enumerate(examples) if selected[i] and steps[i]]
        prompts = [build_prompt(examples[i].question, extract_premises(examples[i].question),
                                steps[i], rubric=rubric, frame=frame) for i in todo]
        scores = self.backend.score(prompts) if prompts else []
        judged = {i: (p, s) for i, p, s in zip(todo, prompts, scores, strict=True)}
        rows = []
        for i in range(len(examples)):
            row = _empty_row(len(steps[i]), fell_back[i])
            if i in judged:
                row.update(self._judged_row(*judged[i]))
            rows.append(row)
        return rows

    def _split(self, traces: list[str]) -> tuple[list[list[str]], list[bool]]:
        if self.splitter == "llm":
            return atomize(traces, lambda ps: self.backend.generate(
                ps, max_new_tokens=ATOMIZER_MAX_NEW_TOKENS))
        return [[s.text for s in split_steps(t)] for t in traces], [False] * len(traces)

    def _judged_row(self, prompt: JudgePrompt, scores: ProbeScores) -> dict[str, float]:
        row: dict[str, float] = {"judged": 1.0, "probes": float(len(prompt.probes)),
                                 "probes_failed": float(scores.status.count(FAILED)),
                                 "probes_truncated": float(scores.status.count(TRUNCATED))}
        for failure in {e for e in scores.errors if e}:
            logger.debug("judge failure: %s", failure)
        criteria = np.array([p.criterion for p in prompt.probes])
        ok = np.array([s == OK for s in scores.status])
        for c in CRITERIA:
            p = scores.p_positive[(criteria == c) & ok]
            positives = float((p >= self.threshold).sum())
            row[f"pos_{c}"], row[f"judged_{c}"] = positives, float(p.size)
            row[c] = positives / p.size if p.size else math.nan
            row[f"{c}_prob"] = float(p.mean()) if p.size else math.nan
        return row

    def _selected(self, examples: Sequence[Example]) -> list[bool]:
        size = self._sample_size()
        if size is None:
            return [True] * len(examples)
        out = []
        for ex in examples:
            source = ex.location.rpartition(":")[0]
            if not source:
                break
            if source not in self._samples:
                self._samples[source] = self._draw_from_file(source, size)
            out.append(ex.content_hash() in self._samples[source])
        else:
            return out
        mask = stratified_sample([ex.content_hash() for ex in examples],
                                 [ex.domain for ex in examples],
                                 [len(ex.reasoning) for ex in examples], size, seed=self.seed)
        return mask.tolist()

    def _draw_from_file(self, source: str, size: int) -> frozenset[str]:
        from metaq.io.reader import iter_example_batches

        keys = sample_keys(iter_example_batches(source, on_error="skip"), size, seed=self.seed)
        logger.info("%s: judging a stratified sample of %d examples (seed %d)",
                    source, len(keys), self.seed)
        return keys

    # -- aggregation ---------------------------------------------------------------------
    def aggregate(self, scores: pd.DataFrame) -> dict[str, float]:
        """Dataset-level shares with their sampling standard errors (module docstring)."""
        out: dict[str, float] = {}
        if scores.empty or "n_steps" not in scores:
            return out
        n_steps = scores["n_steps"].to_numpy(float)
        eligible = int((n_steps > 0).sum())
        judged = scores[(scores["judged"].to_numpy(float) == 1) & (n_steps > 0)]
        for c in CRITERIA:
            if self.judge_aggregation == "steps":
                has = judged[f"judged_{c}"].to_numpy(float) > 0
                out[c], out[f"{c}__se"] = ratio_se(judged[f"pos_{c}"].to_numpy(float)[has],
                                                   judged[f"judged_{c}"].to_numpy(float)[has],
                                                   eligible)
            else:
                out[c], out[f"{c}__se"] = mean_se(_finite(judged[c]), eligible)
            out[f"{c}_prob"], out[f"{c}_prob__se"] = mean_se(_finite(judged[f"{c}_prob"]),
                                                             eligible)
        out["steps_per_example"], out["steps_per_example__se"] = mean_se(n_steps, len(n_steps))
        probes = judged["probes"].to_numpy(float)
        for column, metric in (("probes_failed", "judge_failure_rate"),
                               ("probes_truncated", "judge_truncated_rate")):
            out[metric], out[f"{metric}__se"] = ratio_se(judged[column].to_numpy(float),
                                                         probes, eligible)
        out.update({
            "n_judged": int(len(judged)), "n_steps": int(judged["n_steps"].sum()),
            "n_zero_step": int((n_steps == 0).sum()), "n_probes": int(probes.sum()),
            "n_probes_failed": int(judged["probes_failed"].sum()),
            "n_probes_truncated": int(judged["probes_truncated"].sum()),
            "n_atomizer_fallback": int(scores["atomizer_fallback"].sum()),
        })
        return out


def _empty_row(n_steps: int, fell_back: bool) -> dict[str, float]:
    row = {"n_steps": float(n_steps), "atomizer_fallback": float(fell_back), "judged": 0.0,
           "probes": 0.0, "probes_failed": 0.0, "probes_truncated": 0.0}
    for c in CRITERIA:
        row.update({c: math.nan, f"{c}_prob": math.nan, f"pos_{c}": 0.0, f"judged_{c}": 0.0})
    return row


def _finite(column: pd.Series) -> np.ndarray:
    values = column.to_numpy(float)
    return values[np.isfinite(values)]
