"""The extractor registry: short names -> lazy ``"module:Class"`` targets.

Nothing here imports an extractor's module until it is built, so ``import metaq`` and
``metaq metrics`` never import torch, transformers or sentence-transformers. Each entry also
records the metrics the extractor emits and the Python packages it needs, so users can select
by metric name (``redundancy_ratio``), by extractor name (``embedding``) or by group (``text``)
and see what is installed without importing anything heavy.

Adding an extractor: write an :class:`~metaq.features.base.Extractor` subclass whose
``__init__`` takes keyword options only, then add one :class:`ExtractorSpec` line to
``_SPECS``. The runner and the CLI pass each constructor only the options its signature
accepts (:func:`build_extractor`), so a new extractor needs no CLI change as long as its
options use the shared names in :data:`OPTION_NAMES`.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from metaq.exceptions import UnknownNameError
from metaq.features.base import Extractor

#: Constructor keyword options the CLI forwards (``--embedding-model`` -> ``embedding_model``).
OPTION_NAMES: tuple[str, ...] = (
    "tokenizer", "embedding_model", "lm", "max_length", "device", "batch_tokens", "engine",
    "judge_model", "judge_engine", "judge_sample", "judge_aggregation", "spacy_model",
)


@dataclass(frozen=True)
class ExtractorSpec:
    """What the registry knows about an extractor without importing it.

    Attributes
    ----------
    name : str
        Short registry name (``"redundancy"``).
    target : str
        ``"module:Class"`` of the :class:`~metaq.features.base.Extractor` subclass.
    metrics : tuple of str
        Metric names it emits (columns of the features table).
    requires : tuple of str
        Importable modules it needs beyond metaq's core dependencies.
    extra : str
        The metaq extra that installs them (``pip install 'metaq[extra]'``).
    needs : str
        Other prerequisites in words (an option it cannot run without, a model to install).
    summary : str
        One line for ``metaq metrics``.
    """

    name: str
    target: str
    metrics: tuple[str, ...]
    requires: tuple[str, ...] = ()
    extra: str = ""
    needs: str = ""
    summary: str = ""

    def missing_modules(self) -> list[str]:
        """Return the required modules that cannot be found (checked without importing them)."""
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    def load(self) -> type[Extractor]:
        """Import and return the extractor class."""
        module_name, _, class_name = self.target.partition(":")
        return getattr(importlib.import_module(module_name), class_name)


_SPECS: tuple[ExtractorSpec, ...] = (
    ExtractorSpec("length", "metaq.features.text:LengthExtractor",
                  ("reasoning_chars", "answer_chars", "total_chars"),
                  summary="lengths in Unicode characters (total = question + reasoning + answer)"),
    ExtractorSpec("tokens", "metaq.features.text:TokenLengthExtractor",
                  ("reasoning_tokens", "answer_tokens", "total_tokens"),
                  requires=("transformers",), extra="extract", needs="--tokenizer ID|PATH",
                  summary="lengths in tokens of the given tokenizer (no special tokens)"),
    ExtractorSpec("redundancy", "metaq.features.text:RedundancyExtractor", ("redundancy_ratio",),
                  summary="1 - zlib-compressed / raw UTF-8 bytes of the reasoning (study)"),
    ExtractorSpec("symbolic", "metaq.features.text:SymbolicExtractor", ("symbolic_fraction",),
                  summary="non-alphanumeric / all characters of the reasoning (study)"),
    ExtractorSpec("syntax", "metaq.features.syntax:SyntaxExtractor", ("syntactic_depth",),
                  requires=("spacy",), extra="syntax",
                  needs="a spaCy pipeline with a parser (default en_core_web_sm)",
                  summary="mean over sentences of the max dependency-tree depth (study)"),
    ExtractorSpec("dedup", "metaq.features.dedup:NearDuplicateExtractor",
                  ("near_duplicate_rate",),
                  summary="share of examples that near-duplicate an earlier one (MinHash LSH)"),
    ExtractorSpec("language", "metaq.features.language:LanguageExtractor", ("language_share",),
                  requires=("pycld2",), extra="text",
                  summary="share of traces in the dataset's main language (CLD2)"),
    ExtractorSpec("answer", "metaq.features.answer:AnswerPresenceExtractor",
                  ("answer_present", "answer_in_reasoning"),
                  summary="answer non-empty; answer restated at the end of the reasoning"),
    ExtractorSpec("embedding", "metaq.features.embedding:EmbeddingExtractor",
                  ("semantic_alignment", "semantic_flow"),
                  requires=("wordllama",), extra="embed",
                  needs="offline defaults ship with metaq[embed] (wordllama on CPU, MiniLM on "
                        "GPU); --embedding-model ID|PATH for others",
                  summary="query-trace cosine; mean cosine of consecutive sentences (study; "
                          "a stratified sample, --sample)"),
    ExtractorSpec("perplexity", "metaq.features.perplexity:PerplexityExtractor",
                  ("perplexity", "conditional_perplexity", "ppl_ratio"),
                  requires=("torch", "transformers"), extra="extract", needs="--lm ID|PATH",
                  summary="exp mean token NLL of the reasoning, also given the question "
                          "(a stratified sample, --sample)"),
    ExtractorSpec("fvcu", "metaq.features.judge.extractor:FVCUExtractor",
                  ("factuality", "validity", "coherence", "utility", "factuality_prob",
                   "validity_prob", "coherence_prob", "utility_prob", "steps_per_example",
                   "judge_failure_rate", "judge_truncated_rate"),
                  requires=("torch", "transformers"), extra="extract",
                  needs="--judge-model ID|PATH",
                  summary="LLM-judged step factuality/validity/coherence/utility (study)"),
)

EXTRACTORS: dict[str, ExtractorSpec] = {spec.name: spec for spec in _SPECS}

#: Named selections: ``--metrics text`` means every cheap CPU text extractor that needs no
#: model (``syntax`` needs a spaCy pipeline: ask for it by name, or with ``study``).
GROUPS: dict[str, tuple[str, ...]] = {
    "text": ("length", "redundancy", "symbolic", "dedup", "language", "answer"),
    "study": ("length", "redundancy", "symbolic", "syntax", "embedding", "perplexity", "fvcu"),
}


def get_spec(name: str) -> ExtractorSpec:
    """Return the spec of extractor `name`.

    Raises
    ------
    UnknownNameError
        When no extractor has that name (the message suggests close names).
    """
    try:
        return EXTRACTORS[name]
    except KeyError:
        raise UnknownNameError(_unknown_message(name, EXTRACTORS)) from None


def metric_owner(metric: str) -> str:
    """Name of the extractor that emits `metric` (e.g. ``"redundancy_ratio"`` -> ``"redundancy"``).

    Raises
    ------
    UnknownNameError
        When no registered extractor emits it.
    """
    for spec in _SPECS:
        if metric in spec.metrics:
            return spec.name
    raise UnknownNameError(_unknown_message(metric, _all_names()))


def resolve_selection(names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Map a user selection of metric, extractor and group names to extractors and metrics.

    Parameters
    ----------
    names : iterable of str
        Any mix of metric names (``redundancy_ratio``), extractor names (``embedding``: all its
        metrics) and group names (``text``).

    Returns
    -------
    dict
        Extractor name -> the metrics requested from it, in registry order.

    Raises
    ------
    UnknownNameError
        On a name that is none of these, with did-you-mean suggestions.

    Examples
    --------
    >>> resolve_selection(["redundancy_ratio", "symbolic"])
    {'redundancy': ('redundancy_ratio',), 'symbolic': ('symbolic_fraction',)}
    """
    wanted: dict[str, set[str]] = {}
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if name in GROUPS:
            for member in GROUPS[name]:
                wanted.setdefault(member, set()).update(EXTRACTORS[member].metrics)
        elif name in EXTRACTORS:
            wanted.setdefault(name, set()).update(EXTRACTORS[name].metrics)
        else:
            wanted.setdefault(metric_owner(name), set()).add(name)
    return {spec.name: tuple(m for m in spec.metrics if m in wanted[spec.name])
            for spec in _SPECS if spec.name in wanted}


def build_extractor(name: str, options: Mapping[str, Any] | None = None) -> Extractor:
    """Import and construct extractor `name`, passing only the options it accepts.

    Options whose value is ``None`` are left out, so the constructor's defaults apply.

    Parameters
    ----------
    name : str
        Registry name.
    options : mapping, optional
        Keyword options (names from :data:`OPTION_NAMES` or any the constructor takes).

    Returns
    -------
    Extractor
        The constructed (not yet set up) extractor.
    """
    cls = get_spec(name).load()
    return cls(**accepted_options(cls, options or {}))


def accepted_options(cls: type, options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the subset of `options` (without ``None`` values) that ``cls.__init__`` accepts."""
    if cls.__init__ is object.__init__:  # no constructor of its own: takes no options
        return {}
    parameters = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    return {k: v for k, v in options.items()
            if v is not None and (takes_any or k in parameters)}


def describe_extractors() -> list[dict[str, str]]:
    """One row per extractor for ``metaq metrics``: metrics, needs, availability here.

    Returns
    -------
    list of dict
        Keys ``name``, ``metrics``, ``needs``, ``available`` (``"yes"`` or what is missing)
        and ``summary``.
    """
    rows = []
    for spec in _SPECS:
        missing = spec.missing_modules()
        needs = ", ".join(filter(None, [
            f"pip install 'metaq[{spec.extra}]'" if spec.extra else "", spec.needs]))
        rows.append({
            "name": spec.name,
            "metrics": ", ".join(spec.metrics),
            "needs": needs or "-",
            "available": "yes" if not missing else f"no: missing {', '.join(missing)}",
            "summary": spec.summary,
        })
    return rows


def _all_names() -> list[str]:
    metrics = [m for spec in _SPECS for m in spec.metrics]
    return [*metrics, *EXTRACTORS, *GROUPS]


def _unknown_message(name: str, known: Iterable[str]) -> str:
    known = list(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return (f"unknown metric or extractor {name!r}.{hint} Fix: use a name `metaq metrics` "
            f"lists (metrics, extractor names, groups {sorted(GROUPS)}).")
