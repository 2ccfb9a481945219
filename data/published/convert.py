"""Build the corpus of published fine-tuning results in data/published/ from its sources.

Run from the repository root: ``python data/published/convert.py``. For every table of the
corpus it writes ``data/published/<table>/runs.csv`` and ``features.csv``, and it writes the
manifest ``data/published/manifest.csv`` (one row per table). The outputs are committed; this
script documents and reproduces them. Inputs:

* the transcriptions in ``data/published/source/`` (one small converter each, below) and the
  reference study in ``data/study/``;
* three registries kept by hand: ``datasets.csv`` (every training dataset's properties in the
  corpus vocabulary, with where each was stated), ``base_models.csv`` (canonical base-model
  names, sizes, families) and ``benchmarks.csv`` (canonical benchmark names, domains, item
  counts).

A converter keeps a source's controlled rows and names each row's dataset, base model and
benchmark (as printed); the shared code turns them into validated runs and features tables.
Provenance, encodings and exclusions are in data/README.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from metaq.importers import import_csv
from metaq.tables import validate_features, validate_runs

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source"
STUDY = HERE.parent / "study"
LORA_SUFFIX = "__lora"  # dataset_id of a LoRA run: the runs key has no fine-tuning method
DOMAINS = ("math", "code", "science", "general")
PROPERTIES = ("teacher_params_b", "human_written", "long_cot", "selected", "verified",
              *(f"domain_{d}" for d in DOMAINS))
RUNS_COLUMNS = {"dataset_id": "dataset_id", "base_model": "base_model", "params_b": "params_b",
                "family": "family", "benchmark": "benchmark", "domain": "domain",
                "score_ft": "score", "score_base": "base_score", "n_items": "n_items"}


def registry(name: str, key: list[str]) -> pd.DataFrame:
    """One of the hand-kept registries, indexed by its key."""
    frame = pd.read_csv(HERE / name, comment="#", keep_default_na=False, na_values=[""])
    return frame.fillna({c: "" for c in key}).set_index(key)


DATASETS = registry("datasets.csv", ["dataset_id"])
BASE_MODELS = registry("base_models.csv", ["base_model"])
BENCHMARKS = registry("benchmarks.csv", ["benchmark", "subset"])

# Printed labels -> canonical names (labels already canonical are not listed).
MODEL_NAMES = {"LLaMA-1-13B": "LLaMA-13B", "LLaMA-2-7B": "Llama-2-7B",
               "LLaMA-2-13B": "Llama-2-13B", "LLaMA-2-70B": "Llama-2-70B",
               "Qwen2.5-32B-Instruct (fine-tuned)": "Qwen2.5-32B-Instruct",
               "Qwen2.5-32B (pre-trained base)": "Qwen2.5-32B",
               "CodeLlama-7b-Python": "CodeLlama-7B-Python",
               "deepseek-coder-6.7b-base": "DeepSeek-Coder-6.7B-Base",
               "Llama3.2-3B-Instruct": "Llama-3.2-3B-Instruct"}
BENCHMARK_NAMES = {
    "AIME24": "aime24", "AIME2024": "aime24", "AIME24 pass@1 (64 average)": "aime24",
    "AIME25": "aime25", "AIME2025": "aime25", "AIME25 I": "aime25_i", "AMC23": "amc23",
    "MATH500": "math500", "Math500": "math500", "MATH-500": "math500", "MATH": "math",
    "GSM8K": "gsm8k", "GSM8k": "gsm8k", "GSM": "gsm8k", "Minerva": "minerva_math",
    "CollegeMath": "college_math", "DeepMind Mathematics": "deepmind_math",
    "OlympiadBench-Math": "olympiadbench_math_en",
    "OlympiadBench (Math, EN)": "olympiadbench_math_en", "OlympiadBench": "olympiadbench",
    "TheoremQA": "theoremqa", "AIME": "aime", "AMC": "amc", "HMMT": "hmmt_feb25", "MGSM": "mgsm",
    "MGSM (0 shot; `direct`)": "mgsm", "MGSM (8-shot; `direct`)": "mgsm_8shot",
    "GPQA-D": "gpqa_diamond", "GPQA Diamond": "gpqa_diamond", "GPQA-Diamond": "gpqa_diamond",
    "GPQA-Diamond pass@1": "gpqa_diamond", "JEEBench": "jeebench",
    "LCBv2": "lcb_v2", "LiveCodeBench v2 All": "lcb_v2", "LCB Easy": "lcb_easy",
    "LCB Med": "lcb_medium", "LCB Hard": "lcb_hard", "LiveCodeBench-Easy": "lcb_easy",
    "LiveCodeBench-Medium": "lcb_medium", "LiveCodeBench-Hard": "lcb_hard",
    "LiveCodeBench": "livecodebench", "LCB 06/24-01/25": "lcb_2406_2501",
    "LiveCodeBench (2024-08-2025-01)": "lcb_2408_2501",
    "LiveCodeBench (v5, 2024.10-2025.02)": "lcb_2410_2502", "CodeForces": "codeforces",
    "HumanEval": "humaneval", "HumanEval+": "humaneval_plus", "MBPP": "mbpp",
    "MBPP+": "mbpp_plus", "Codex-Eval": "codex_eval",
    "MMLU": "mmlu", "MMLU (0 shot; no CoT)": "mmlu", "MMLU (5 shot; no CoT)": "mmlu_5shot",
    "MMLU (5-shot)": "mmlu_5shot", "ARC": "arc_challenge", "ARC-C": "arc_challenge",
    "ARC-C (0 shot; no CoT)": "arc_challenge", "HellaSwag": "hellaswag",
    "TruthfulQA": "truthfulqa", "AlpacaEval": "alpaca_eval", "AlpacaEval (%)": "alpaca_eval",
    "IFEval": "ifeval", "IEval": "ifeval", "IFEval (prompt strict)": "ifeval",
    "Arena-Hard": "arena_hard", "BBH": "bbh", "TydiQA": "tydiqa"}
# Printed dataset labels -> dataset_id where the id is not the label's slug.
DATASET_IDS = {
    "Alpaca": "alpaca", "5% Alpaca": "alpaca_ifd_v1_5pct", "WizardLM": "wizardlm_70k",
    "WizardLM*": "wizardlm_filtered", "10% WizardLM": "wizardlm_ifd_v1_10pct",
    "40% WizardLM": "wizardlm_ifd_v1_40pct", "Nemotron": "llama_nemotron_post_training_v1",
    "NuminaMath (100k subset)": "numinamath_100k_subset", "LIMO": "limo", "s1K": "s1k",
    "1K-random": "s1_1k_random", "1K-diverse": "s1_1k_diverse",
    "1K-longest": "s1_1k_longest", "59K-full": "s1_59k_full",
    "OpenThoughts-114K": "openthoughts_114k", "OpenThoughts2-1M": "openthoughts2_1m",
    "OpenThoughts3-1.2M": "openthoughts3_1_2m", "Bespoke-Stratos-17k": "bespoke_stratos_17k",
    "7k QwQ samples": "sncontent_qwq_7k", "7k QwQ Samples": "sncontent_qwq_7k",
    "17k QwQ samples": "sncontent_qwq_17k", "17k QwQ Samples": "sncontent_qwq_17k",
    "17k R1 Samples": "sncontent_r1_17k",
    "Magicoder-OSS-Instruct-75K": "magicoder_oss_instruct_75k",
    "Magicoder-OSS-Instruct-75K then Magicoder-Evol-Instruct-110K":
        "magicoder_oss_instruct_75k_evol_110k"}


@dataclass(frozen=True)
class Converted:
    """A source's kept rows, and the dataset properties only that source gives.

    ``scores`` has ``dataset_id``, ``base_model``, ``benchmark`` (as printed), ``score`` and
    ``base_score`` (as printed), optionally ``domain`` and ``lora`` (0/1). ``extras`` is
    indexed by dataset_id; its column ``n_printed`` (the size as the table prints it) is
    checked against datasets.csv and not written.
    """

    scores: pd.DataFrame
    extras: pd.DataFrame | None = None


@dataclass(frozen=True)
class Table:
    """A corpus table: its converter and its manifest entry."""

    name: str
    convert: Callable[[], Converted]
    study: str
    source: str
    tier: str
    design: str  # controlled | before_after | single_dataset
    notes: str
    percent: bool = True  # scores printed in percent
    public_items: bool = True  # n_items = the benchmark's public size (benchmarks.csv)


TABLES: dict[str, Table] = {}


def table(name: str, **entry: object) -> Callable[[Callable[[], Converted]],
                                                   Callable[[], Converted]]:
    """Register a converter as the corpus table `name` with its manifest entry."""
    def register(convert: Callable[[], Converted]) -> Callable[[], Converted]:
        TABLES[name] = Table(name=name, convert=convert, **entry)
        return convert
    return register


# --- helpers shared by the converters ------------------------------------------------------

def read(name: str) -> pd.DataFrame:
    """Return a source transcription (``#`` lines are its header comments)."""
    return pd.read_csv(SOURCE / name, comment="#")


def slug(label: str) -> str:
    """Return `label` in lower case with every other character than a letter or digit as _."""
    return "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")


def dataset_id(label: str) -> str:
    """Return the dataset_id of a printed dataset label."""
    return DATASET_IDS.get(label, slug(label))


def count(label: str) -> int:
    """Return a size as printed ("114k", "484K", "1M", "10K", "~1M") as a count."""
    scale = {"k": 1_000, "m": 1_000_000}
    label = label.strip().lstrip("~").lower()
    return round(float(label[:-1]) * scale[label[-1]]) if label[-1] in scale else int(label)


def scores(frame: pd.DataFrame, *, dataset: pd.Series | str, model: pd.Series | str,
           lora: pd.Series | int = 0) -> pd.DataFrame:
    """Return the standard score rows of `frame` (its benchmark, score, base_score)."""
    base = frame["base_score"] if "base_score" in frame else np.nan
    return pd.DataFrame({"dataset_id": dataset, "base_model": model,
                         "benchmark": frame["benchmark"], "score": frame["score"],
                         "base_score": base, "lora": lora}, index=frame.index)


def per_dataset(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """`frame`'s columns, one row per dataset of `rows` (the first row of each)."""
    return frame.assign(dataset_id=rows["dataset_id"]).drop_duplicates("dataset_id") \
        .set_index("dataset_id")


# --- converters, one per source table ------------------------------------------------------

@table("tulu1_13b", study="tulu1", tier="C", design="controlled", public_items=False,
       source="Wang et al. 2023, How Far Can Camels Go? (Tulu 1), arXiv:2306.04751, "
              "Tables 1 and 3",
       notes="12 single datasets on LLaMA-13B; the two mixtures (only their summed size is "
             "printed) and AlpacaEval (no untuned score) are not carried; n_items empty: the "
             "subsets evaluated are not given")
def _tulu1_13b() -> Converted:
    table_ = read("tulu1_table3_13b_dataset_comparison.csv")
    single = ~table_["sourced_from"].str.startswith("mixture")
    table_ = table_[single & table_["base_score"].notna()]  # drops AlpacaEval and Average
    rows = scores(table_, dataset=table_["dataset"].map(slug), model="LLaMA-13B")
    props = per_dataset(table_, rows)
    source = props["sourced_from"]
    extras = pd.DataFrame({
        "avg_rounds": props["avg_rounds"],
        "log_prompt_length": props["avg_prompt_length"].map(math.log),
        "log_completion_length": props["avg_completion_length"].map(math.log),
        "source_nlp_datasets": source.str.startswith("NLP datasets").astype(float),
        "source_human_written": (source == "Human-written from scratch").astype(float),
        "n_printed": props["n_instances"],
        "meta__sourced_from": source})
    return Converted(rows, extras)


@table("dart_math", study="dart_math", tier="A", design="controlled",
       source="Tong et al. 2024, DART-Math, README tables 2-3, github.com/hkust-nlp/dart-math",
       notes="MetaMathQA vs DART-Math-Uniform and -Hard on 4 pre-trained bases; "
             "DART-Math-Uniform has MATH, GSM8K and CollegeMath only; AVG not carried")
def _dart_math() -> Converted:
    table_ = read("dart_math_readme_tables.csv")
    sota = table_["source_table"].str.startswith("README table 3")
    released_uniform = table_["source_table"].str.startswith("README table 2") & (
        table_["dataset"] == "DART-Math-Uniform")
    table_ = table_[(sota | released_uniform) & (table_["benchmark"] != "AVG")]
    rows = scores(table_, dataset=table_["dataset"].map(slug), model=table_["base_model"])
    props = per_dataset(table_, rows)
    extras = pd.DataFrame({
        "teacher_gpt35": (props["synthesis_agent"] == "GPT-3.5").astype(float),
        "prop_to_difficulty": (props.index == "dart_math_hard").astype(float),
        "n_printed": props["n_samples_k"] * 1000})
    return Converted(rows, extras)


@table("cherry_ifd_v2", study="cherry_ifd", tier="A", design="controlled",
       source="Li et al. 2024, From Quantity to Quality (Cherry/IFD), arXiv:2308.12032, "
              "README table V2, github.com/tianyi-lab/Cherry_LLM",
       notes="Alpaca full vs IFD-selected 5/10/15 % on Llama-2-7B and -13B; Open LLM "
             "benchmarks only (AlpacaEval is printed for the 100 % and 5 % rows only); "
             "the subsets were selected per base size but share a dataset_id")
def _cherry_ifd_v2() -> Converted:
    table_ = read("cherry_ifd_v2_llama2_7b_13b.csv")
    table_ = table_[table_["benchmark"].isin(["ARC", "HellaSwag", "MMLU", "TruthfulQA"])]
    fraction = table_["fraction_selected_pct"]
    ids = fraction.map(lambda p: "alpaca" if p == 100 else f"alpaca_ifd_{p}pct")
    rows = scores(table_, dataset=ids, model=table_["model"])
    extras = pd.DataFrame({"meta__selection_method": per_dataset(table_, rows)[
        "selection_method"]})
    return Converted(rows, extras)


@table("cherry_ifd_v1", study="cherry_ifd", tier="A", design="controlled",
       source="Li et al. 2024, From Quantity to Quality (Cherry/IFD), arXiv:2308.12032, "
              "README table V1 (llama 1 and llama 2 models), github.com/tianyi-lab/Cherry_LLM",
       notes="LLaMA-7B on Alpaca / WizardLM full and IFD subsets; Llama-2-7B on WizardLM and "
             "the same subsets; the row labelled 20 % WizardLM (UNCERTAIN: linked to the 30 % "
             "file) and Avg are not carried")
def _cherry_ifd_v1() -> Converted:
    table_ = pd.concat([read("cherry_ifd_v1_llama1_7b.csv"),
                        read("cherry_ifd_v1data_llama2_7b_wizardlm.csv")], ignore_index=True)
    certain = ~table_["notes"].fillna("").str.contains("UNCERTAIN")
    table_ = table_[certain & (table_["benchmark"] != "Avg")]
    return Converted(scores(table_, dataset=table_["dataset_label_in_source"].map(dataset_id),
                            model=table_["model"]))


@table("deita", study="deita", tier="A", design="controlled",
       source="Liu et al. 2024, What Makes Good Data for Alignment? (DEITA), arXiv:2312.15685, "
              "README Full Evaluations, github.com/hkust-nlp/deita",
       notes="10K random from the DEITA pool vs DEITA-selected 6K/10K SFT data; third-party "
             "models, SFT+DPO rows, MT-Bench (0-10 score) and the OpenLLM average not carried")
def _deita() -> Converted:
    table_ = read("deita_readme_full_evaluations.csv")
    controlled = table_["dataset"].isin(["random sample from DEITA pool",
                                         "DEITA-selected (complexity+quality+diversity)"])
    table_ = table_[controlled & (table_["alignment"] == "SFT")
                    & (table_["benchmark"] == "AlpacaEval (%)")]
    size = table_["data_size_as_reported"].str.removesuffix(" SFT")
    selected = table_["dataset"].str.startswith("DEITA")
    ids = selected.map({True: "deita_", False: "deita_random_"}) + size.str.lower()
    rows = scores(table_, dataset=ids, model=table_["base_model_group"])
    props = per_dataset(table_.assign(n=size.map(count)), rows)
    extras = pd.DataFrame({"n_printed": props["n"], "meta__selection": props["dataset"]})
    return Converted(rows, extras)


@table("metamath", study="metamath", tier="A", design="before_after",
       source="Yu et al. 2023, MetaMath, arXiv:2309.12284, README results table, "
              "github.com/meta-math/MetaMath",
       notes="MetaMathQA on Llama-2 7/13/70B (untuned rows printed) and on Mistral-7B and "
             "Llemma-7B (no untuned rows); WizardMath (SFT + RL) and RFT-7B (base not stated) "
             "not carried")
def _metamath() -> Converted:
    table_ = read("metamath_readme_gsm8k_math.csv")
    table_ = table_[table_["dataset"] == "MetaMathQA"]
    by_family = table_["model_family"].map({"Mistral": "Mistral-7B", "Llemma": "Llemma-7B"})
    return Converted(scores(table_, dataset="metamathqa",
                            model=table_["base_model"].fillna(by_family)))


@table("openthoughts2_7b", study="openthoughts_thinkagain", tier="A", design="controlled",
       source="OpenThoughts blog 'Outperforming DeepSeekR1-32B with OpenThinker2' "
              "(thinkagain.mdx; arXiv:2506.04178), existing-datasets table, "
              "github.com/open-thoughts/open-thoughts-website",
       notes="Qwen2.5-7B-Instruct fine-tuned on 6 public reasoning datasets")
def _openthoughts2_7b() -> Converted:
    table_ = read("openthoughts2_blog_existing_reasoning_datasets_7b.csv")
    rows = scores(table_, dataset=table_["dataset"].map(dataset_id), model=table_["model"])
    props = per_dataset(table_, rows)
    extras = pd.DataFrame({"n_printed": props["n_rows_as_reported"].map(count),
                           "meta__n_rows_as_reported": props["n_rows_as_reported"]})
    return Converted(rows, extras)


@table("openthoughts2_code_sources_7b", study="openthoughts_thinkagain", tier="A",
       design="controlled",
       source="OpenThoughts blog 'Outperforming DeepSeekR1-32B with OpenThinker2' "
              "(thinkagain.mdx; arXiv:2506.04178), code question-source table, "
              "github.com/open-thoughts/open-thoughts-website",
       notes="15 code question sources, 5,000 questions each with DeepSeek-R1 answers, on "
             "Qwen2.5-7B-Instruct, LCBv2; the 12 math sources are not carried (only an "
             "average over six benchmarks is printed)")
def _openthoughts2_code_sources_7b() -> Converted:
    table_ = read("openthoughts2_blog_question_sources_7b.csv")
    table_ = table_[table_["domain"] == "code"]
    rows = scores(table_, dataset="ot2_q_" + table_["dataset"].map(slug), model=table_["model"])
    return Converted(rows, pd.DataFrame({"n_printed": per_dataset(table_, rows)["n_questions"]}))


@table("limo_32b", study="limo", tier="B", design="controlled",
       source="Ye et al. 2025, LIMO: Less is More for Reasoning, arXiv:2502.03387 v1, Table 3 "
              "(arXiv HTML)",
       notes="OpenThoughts-114k, NuminaMath 100k and LIMO on Qwen2.5-32B-Instruct with its "
             "column; only AIME24, MATH500, AMC23 and Minerva carried (the other benchmarks' "
             "evaluated subsets or sizes are not established; AVG. is a mean)")
def _limo_32b() -> Converted:
    table_ = read("limo_table3_qwen25_32b.csv")
    table_ = table_[table_["benchmark"].isin(["AIME24", "MATH500", "AMC23", "Minerva"])]
    rows = scores(table_, dataset=table_["dataset"].map(dataset_id), model="Qwen2.5-32B-Instruct")
    return Converted(rows, pd.DataFrame({"n_printed": per_dataset(table_, rows)["n_examples"]}))


@table("openthoughts1_verify", study="openthoughts_scale", tier="A", design="controlled",
       source="OpenThoughts blog 'Scaling up Open Reasoning with OpenThinker-32B' (scale.mdx; "
              "arXiv:2506.04178), verification table, "
              "github.com/open-thoughts/open-thoughts-website",
       notes="OpenThoughts-114k (verified) vs the unverified 173k at 7B and 32B")
def _openthoughts1_verify() -> Converted:
    table_ = read("openthoughts1_blog_verification_7b_32b.csv")
    rows = scores(table_, dataset=table_["dataset"].map(dataset_id), model=table_["base_model"])
    props = per_dataset(table_, rows)
    return Converted(rows, pd.DataFrame({"n_printed": props["n_examples_as_reported"].map(count)}))


def openthoughts_post(post: str, models: dict[str, tuple[str, str]]) -> Converted:
    """Return the rows of one OpenThoughts post's model tables.

    `models` maps a model to its dataset_id and base model; the post's own row of the untuned
    base model, if it has one, gives ``base_score``.
    """
    table_ = read("openthoughts_blog_model_comparison_tables.csv")
    table_ = table_[table_["source_post"].str.startswith(post)]
    untuned = table_[table_["n_train_examples_as_stated"].astype(str) == "0"]
    base = untuned.rename(columns={"model": "base_model", "score": "base_score"})[
        ["base_model", "benchmark", "base_score"]]
    kept = table_[table_["model"].isin(models)]
    data, model = zip(*kept["model"].map(models), strict=True)
    rows = scores(kept, dataset=pd.Series(data, index=kept.index),
                  model=pd.Series(model, index=kept.index))
    rows = rows.drop(columns="base_score").merge(base, on=["base_model", "benchmark"],
                                                 how="left", validate="many_to_one")
    return Converted(rows)  # sizes printed rounded ("0.8k" for LIMO's 817): not checked


OT_114K_7B = ("openthoughts_114k", "Qwen2.5-7B-Instruct")
OT_114K_32B = ("openthoughts_114k", "Qwen2.5-32B-Instruct")


@table("openthoughts_launch_7b", study="openthoughts_launch", tier="A", design="controlled",
       source="OpenThoughts blog 'Launching the Open Thoughts Project' (launch.mdx; "
              "arXiv:2506.04178), model table, github.com/open-thoughts/open-thoughts-website",
       notes="OpenThinker-7B vs Bespoke-Stratos-7B, both SFT of Qwen2.5-7B-Instruct (the "
             "latter's base per the open-thoughts README of Jan 2025); DeepSeek-R1-Distill "
             "(closed data) not carried; LCB release not printed")
def _openthoughts_launch_7b() -> Converted:
    return openthoughts_post("launch", {
        "OpenThinker-7B": OT_114K_7B,
        "Bespoke-Stratos-7B": ("bespoke_stratos_17k", "Qwen2.5-7B-Instruct")})


@table("openthoughts_scale_32b", study="openthoughts_scale", tier="A", design="controlled",
       source="OpenThoughts blog 'Scaling up Open Reasoning with OpenThinker-32B' (scale.mdx; "
              "arXiv:2506.04178), model table, github.com/open-thoughts/open-thoughts-website",
       notes="OpenThinker-32B, LIMO-32B, s1-32B and s1.1-32B, all SFT of Qwen2.5-32B-Instruct "
             "(bases of LIMO and s1/s1.1 per their papers and repository), trained by different "
             "teams; s1K and s1K-1.1 share their questions (Gemini vs DeepSeek-R1 traces); "
             "R1-Distill-32B (closed data) not carried")
def _openthoughts_scale_32b() -> Converted:
    return openthoughts_post("scale", {
        "OpenThinker-32B": OT_114K_32B, "LIMO-32B": ("limo", "Qwen2.5-32B-Instruct"),
        "s1-32B": ("s1k", "Qwen2.5-32B-Instruct"),
        "s1.1-32B": ("s1k_1_1", "Qwen2.5-32B-Instruct")})


@table("openthoughts2_models", study="openthoughts_thinkagain", tier="A", design="controlled",
       source="OpenThoughts blog 'Outperforming DeepSeekR1-32B with OpenThinker2' "
              "(thinkagain.mdx; arXiv:2506.04178), 32B and 7B model tables, "
              "github.com/open-thoughts/open-thoughts-website",
       notes="OpenThoughts2-1M vs OpenThoughts-114k at Qwen2.5-7B- and -32B-Instruct, and "
             "s1K-1.1 at 32B (base per the s1 repository); R1-Distill (closed data), "
             "Light-R1-32B (SFT + DPO), OlympicCoder-7B and OpenR1-Math-7B (base or data not "
             "stated) not carried")
def _openthoughts2_models() -> Converted:
    ot2 = "openthoughts2_1m"
    return openthoughts_post("thinkagain", {
        "OpenThinker2-32B": (ot2, "Qwen2.5-32B-Instruct"), "OpenThinker-32B": OT_114K_32B,
        "OpenThinker2-7B": (ot2, "Qwen2.5-7B-Instruct"), "OpenThinker-7B": OT_114K_7B,
        "S1.1-32B": ("s1k_1_1", "Qwen2.5-32B-Instruct")})


@table("openthoughts3_7b", study="openthoughts_ot3", tier="A", design="before_after",
       source="OpenThoughts blog on OpenThinker3 (ot3.mdx; arXiv:2506.04178), model table, "
              "github.com/open-thoughts/open-thoughts-website",
       notes="OpenThinker3-7B (OpenThoughts3-1.2M) with the untuned Qwen2.5-7B-Instruct row of "
             "the same table; DS-R1-Distill (closed data), OpenR1-Distill, Nemotron-Nano and "
             "AceReason (base or data not stated, RL) not carried")
def _openthoughts3_7b() -> Converted:
    return openthoughts_post("ot3", {
        "OpenThinker3-7B": ("openthoughts3_1_2m", "Qwen2.5-7B-Instruct")})


def lcb_all_only(table_: pd.DataFrame) -> pd.DataFrame:
    """Drop LiveCodeBench v2 Easy/Medium/Hard where the table prints All (the same items)."""
    return table_[~table_["benchmark"].str.match(r"LiveCodeBench v2 (Easy|Medium|Hard)")]


@table("bespoke_stratos_7b", study="openthoughts_readme_2025_01", tier="A",
       design="before_after",
       source="open-thoughts README results table of 2025-01-27/28, "
              "github.com/open-thoughts/open-thoughts",
       notes="Bespoke-Stratos-7B with the Qwen2.5-7B-Instruct column of the same table; "
             "LiveCodeBench v2 Easy/Medium/Hard not carried (All covers the same items); "
             "DeepSeek-R1-Distill (closed data) not carried")
def _bespoke_stratos_7b() -> Converted:
    table_ = lcb_all_only(read("openthoughts_readme_jan2025_bespoke_stratos_7b.csv"))
    table_ = table_[table_["trained_model"] == "Bespoke-Stratos-7B"]
    return Converted(scores(table_, dataset=table_["dataset"].map(dataset_id),
                            model=table_["base_model"]),
                     pd.DataFrame({"n_printed": [17_000]}, index=["bespoke_stratos_17k"]))


@table("bespoke_stratos_32b", study="bespoke_stratos", tier="A", design="controlled",
       source="Bespoke Labs blog 'Bespoke-Stratos: The unreasonable effectiveness of reasoning "
              "distillation' (Jan 2025), first table, bespokelabs.ai/blog",
       notes="Bespoke-Stratos-17k vs Sky-T1 data, both on Qwen2.5-32B-Instruct (per the blog), "
             "evaluated by Bespoke Labs; LiveCodeBench v2 Easy/Medium/Hard not carried (All "
             "covers the same items); DeepSeek-R1-Distill-Qwen-32B (closed data) not carried")
def _bespoke_stratos_32b() -> Converted:
    table_ = lcb_all_only(read("bespoke_stratos_blog_32b.csv"))
    data = {"Bespoke-Stratos-32B": "bespoke_stratos_17k", "Sky-T1-32B": "sky_t1_data_17k"}
    table_ = table_[table_["trained_model"].isin(data)]
    return Converted(scores(table_, dataset=table_["trained_model"].map(data),
                            model="Qwen2.5-32B-Instruct"))


@table("sky_t1_32b", study="skythought", tier="A", design="before_after",
       source="NovaSky-AI SkyThought README (Sky-T1-32B-Preview), both results tables, "
              "github.com/NovaSky-AI/SkyThought",
       notes="Sky-T1_data_17k on Qwen2.5-32B-Instruct with the base column of the same tables, "
             "on reasoning and general benchmarks; LLM-as-a-Judge (0-10 score) and BFCL-v3 (an "
             "average over categories) not carried")
def _sky_t1_32b() -> Converted:
    table_ = read("skythought_readme_sky_t1_32b_preview.csv")
    table_ = table_[~table_["benchmark"].isin(["LLM-as-a-Judge", "BFCL-v3"])]
    return Converted(scores(table_, dataset="sky_t1_data_17k", model=table_["base_model"]),
                     pd.DataFrame({"n_printed": [17_000]}, index=["sky_t1_data_17k"]))


@table("light_r1_32b", study="light_r1", tier="A", design="controlled",
       source="Wen et al. 2025, Light-R1, arXiv:2503.10460, README curriculum SFT & DPO table, "
              "github.com/Qihoo360/Light-R1",
       notes="SFT stage 1 (76k) and stage 1 then 2 (+3k) on Qwen2.5-32B-Instruct, with its "
             "row; DPO and merged models and the -DS models (continued from R1-Distill; RL or "
             "data not stated) not carried")
def _light_r1_32b() -> Converted:
    table_ = read("light_r1_readme_tables.csv")
    stages = {"Light-R1-SFT-stage1": "light_r1_sft_stage1",
              "Light-R1-SFT-stage2": "light_r1_sft_stage1_2"}
    table_ = table_[table_["trained_model"].isin(stages)]
    rows = scores(table_, dataset=table_["trained_model"].map(stages), model=table_["base_model"])
    return Converted(rows, pd.DataFrame({"n_printed": [76_000]}, index=["light_r1_sft_stage1"]))


@table("structure_not_content_32b", study="structure_not_content", tier="B",
       design="controlled",
       source="Li et al. 2025, LLMs Can Easily Learn to Reason from Demonstrations, "
              "arXiv:2502.07374 v1, Tables 1 and 3 (arXiv HTML)",
       notes="7k and 17k QwQ samples and 17k R1 samples, full SFT and LoRA, on "
             "Qwen2.5-32B-Instruct with its row; LoRA runs have dataset_id <data>__lora "
             "(rank 64, 256 for the R1 rows of Table 3); Table 4 not carried (Short CoT "
             "UNCERTAIN; Long CoT repeats Table 2's Correct row)")
def _structure_not_content_32b() -> Converted:
    table_ = pd.concat([read("structure_not_content_table1_qwen25_32b.csv"),
                        read("structure_not_content_tables3_4_qwen25_32b.csv")], ignore_index=True)
    table_ = table_[table_["source_table"].fillna("Table 1").str.match(r"Table [13]")]
    rows = scores(table_, dataset=table_["dataset"].map(dataset_id),
                  model=table_["model"].map(lambda m: MODEL_NAMES.get(m, m)),
                  lora=table_["finetune_method"].str.startswith("LoRA").astype(int))
    printed = per_dataset(table_.assign(n=table_["n_examples"].fillna(
        table_["n_examples_as_stated"]).map(count)), rows)["n"]
    return Converted(rows, pd.DataFrame({"n_printed": printed}))


@table("structure_not_content_perturbations_32b", study="structure_not_content", tier="B",
       design="controlled",
       source="Li et al. 2025, LLMs Can Easily Learn to Reason from Demonstrations, "
              "arXiv:2502.07374 v1, Table 2 (arXiv HTML)",
       notes="one long-CoT trace set, unperturbed and with 17 content or structure "
             "perturbations, on Qwen2.5-32B-Instruct with its row; Avg not carried")
def _structure_not_content_perturbations_32b() -> Converted:
    table_ = read("structure_not_content_table2_perturbations_qwen25_32b.csv")
    table_ = table_[table_["benchmark"] != "Avg"]
    kind = table_["perturbation"].map(slug)
    ids = "sncontent_traces_" + kind.where(kind == "none", kind + "_" + table_[
        "fraction_perturbed_pct"].astype(str)).replace("none", "correct")
    rows = scores(table_, dataset=ids, model="Qwen2.5-32B-Instruct")
    props = per_dataset(table_, rows)
    fraction = props["fraction_perturbed_pct"] / 100
    extras = pd.DataFrame({
        "content_perturbed_fraction": fraction.where(props["perturbation_group"] == "content", 0),
        "structure_perturbed_fraction": fraction.where(
            props["perturbation_group"] == "structure", 0),
        "meta__perturbation": props["perturbation"]})
    return Converted(rows, extras)


@table("s1_ablations_32b", study="s1", tier="B",
       design="controlled",
       source="Muennighoff et al. 2025, s1: Simple test-time scaling, arXiv:2501.19393, Table 2",
       notes="five sets from one 59K pool (random, diverse, longest, full, s1K) on "
             "Qwen2.5-32B-Instruct (per the abstract); every score with budget forcing; tier "
             "B- (PDF-to-markdown conversion, cross-checked)")
def _s1_ablations_32b() -> Converted:
    table_ = read("s1_table2_data_ablations_qwen25_32b.csv")
    rows = scores(table_, dataset=table_["dataset"].map(dataset_id), model="Qwen2.5-32B-Instruct")
    props = per_dataset(table_, rows)
    return Converted(rows, pd.DataFrame({"n_printed": props["n_examples"],
                                         "meta__selection": props["selection_method"]}))


@table("am_distill_source_32b", study="am_distill_source", tier="A",
       design="controlled",
       source="Tian et al. 2025, Not All Correct Answers Are Equal: Why Your Distillation "
              "Source Matters, arXiv:2505.14464, Table 1 (authors' PDF in "
              "github.com/a-m-team/a-m-models)",
       notes="the same ~1.89M queries answered by AM-Thinking-v1, Qwen3-235B-A22B or "
             "DeepSeek-R1, on the pre-trained Qwen2.5-32B; tier A- (machine-extracted PDF)")
def _am_distill_source_32b() -> Converted:
    table_ = read("am_distill_source_table1_qwen25_32b.csv")
    teachers = {"AM-Thinking-v1": "am_distill_1_89m_am_thinking_v1",
                "Qwen3-235B-A22B": "am_distill_1_89m_qwen3_235b",
                "DeepSeek-R1": "am_distill_1_89m_deepseek_r1"}
    return Converted(scores(table_, dataset=table_["teacher"].map(teachers),
                            model=table_["base_model"].map(MODEL_NAMES)))


@table("am_answer_styles_32b", study="am_reasoning_answers", tier="A",
       design="controlled",
       source="Wang et al. 2025, Leveraging Reasoning Model Answers to Enhance Non-Reasoning "
              "Model Capability, arXiv:2504.09639 v1, Table 1 (authors' PDF in "
              "github.com/a-m-team/a-m-models)",
       notes="four response variants for the same ~1.3M prompts on the pre-trained Qwen2.5-32B; "
             "AlignBench and MT-Bench (0-10 judge scores) not carried; tier A-")
def _am_answer_styles_32b() -> Converted:
    table_ = read("am_reasoning_answers_table1_qwen25_32b.csv")
    table_ = table_[~table_["benchmark"].isin(["AlignBench", "MTBench"])]
    styles = {"AM-32B-Raw-Answer-SFT(Baseline)": "am_answers_1_3m_raw",
              "AM-32B-R1-Answer-SFT": "am_answers_1_3m_r1_answer",
              "AM-32B-Think-Summarization-SFT": "am_answers_1_3m_r1_think_summary",
              "AM-32B-DeepSeek-V3-Answer-SFT": "am_answers_1_3m_v3"}
    rows = scores(table_, dataset=table_["model_label_in_source"].map(styles),
                  model=table_["base_model"].map(MODEL_NAMES))
    return Converted(rows, pd.DataFrame({"meta__cot_style": per_dataset(table_, rows)[
        "cot_style"]}))


def am_single_dataset(paper: str, label: str, data: str) -> Converted:
    """One a-m-team dataset at the Qwen2.5-32B and -72B bases (no untuned scores)."""
    table_ = read("am_distilled_1p4m_deepdistill_32b_72b.csv")
    kept = table_["source_paper"].str.startswith(paper) & table_["dataset"].str.startswith(label)
    table_ = table_[kept & (table_["benchmark"] != "Average")]
    return Converted(scores(table_, dataset=data, model=table_["base_model"]))


@table("am_distilled_1p4m", study="am_distilled_1p4m", tier="A", design="single_dataset",
       source="Zhao et al. 2025, 1.4 Million Open-Source Distilled Reasoning Dataset "
              "(AM-DeepSeek-R1-Distilled), arXiv:2503.19633, Table 2 (authors' PDF in "
              "github.com/a-m-team/a-m-models)",
       notes="one dataset on the pre-trained Qwen2.5-32B and -72B; the re-evaluated "
             "DeepSeek-R1-Distill models (data not described) and Average not carried; tier A-")
def _am_distilled_1p4m() -> Converted:
    return am_single_dataset("arXiv:2503.19633", "AM-DeepSeek-R1-Distilled-1.4M",
                             "am_deepseek_r1_distilled_1_4m")


@table("deepdistill", study="deepdistill", tier="A", design="single_dataset",
       source="Tian et al. 2025, DeepDistill, arXiv:2504.17565, Table 1 (authors' PDF in "
              "github.com/a-m-team/a-m-models)",
       notes="Stage I data (5M difficulty-graded samples) on the pre-trained Qwen2.5-32B and "
             "-72B; Stage II (continued from the Stage I model, not an untuned base) not "
             "carried; tier A-")
def _deepdistill() -> Converted:
    return am_single_dataset("arXiv:2504.17565 Table 1", "DeepDistill Stage I (",
                             "deepdistill_stage1_5m")


@table("tora", study="tora", tier="A", design="single_dataset",
       source="Gou et al. 2024, ToRA, arXiv:2309.17452, README results table, "
              "github.com/microsoft/ToRA",
       notes="one recipe (ToRA-Corpus-16k + output space shaping) on Llama-2 7/13/70B and "
             "CodeLlama 7/13/34B; AVG over 10 tasks, GPT-4 and self-consistency rows not "
             "carried")
def _tora() -> Converted:
    table_ = read("tora_readme_llama2_codellama_7b_70b.csv")
    table_ = table_[table_["benchmark"] != "AVG@10 math tasks"]
    model = table_["base_model_family"] + "-" + table_["model_params_b"].astype(str) + "B"
    return Converted(scores(table_, dataset="tora_corpus_16k", model=model),
                     pd.DataFrame({"n_printed": [16_000]}, index=["tora_corpus_16k"]))


@table("magicoder", study="magicoder", tier="A", design="controlled",
       source="Wei et al. 2023, Magicoder: Source Code Is All You Need, arXiv:2312.02120, "
              "README Models table, github.com/ise-uiuc/magicoder",
       notes="OSS-Instruct-75K, and the same followed by Evol-Instruct-110K (Magicoder-S), on "
             "CodeLlama-7B-Python and DeepSeek-Coder-6.7B-Base (bases per the repository's "
             "experiments/README.md); no untuned scores")
def _magicoder() -> Converted:
    table_ = read("magicoder_readme_humaneval_mbpp.csv")
    rows = scores(table_, dataset=table_["dataset"].map(dataset_id), model=table_["base_model"])
    return Converted(rows, pd.DataFrame({"n_printed": [75_000]},
                                        index=["magicoder_oss_instruct_75k"]))


@table("small_models_learnability_gap_3b", study="small_models_learnability_gap", tier="B",
       design="controlled", public_items=False,
       source="Li et al. 2025, Small Models Struggle to Learn from Strong Reasoners, "
              "arXiv:2502.12143, Table 3 (arXiv HTML)",
       notes="7.5k MATH training samples answered by different teachers (long vs short CoT, "
             "large vs small teacher, and mixes) on Qwen2.5-3B- and Llama-3.2-3B-Instruct; the "
             "Llama student's Strong/Weak/Mix-Large rows (teacher UNCERTAIN) and Average not "
             "carried; n_items empty (which MATH, AMC and AIME sets is not printed)")
def _small_models_learnability_gap_3b() -> Converted:
    table_ = read("small_models_learnability_gap_table3_3b.csv")
    certain = ~table_["notes"].fillna("").str.contains("UNCERTAIN")
    table_ = table_[certain & (table_["benchmark"] != "Average")]
    methods = {"Long CoT": "slg_math_qwq_long", "Short CoT": "slg_math_qwen32b_short",
               "Strong Model CoT": "slg_math_qwen72b", "Weak Model CoT": "slg_math_qwen3b",
               "Deepseek-R1-32B (Long CoT)": "slg_math_r1_32b_long", "Mix-Long": "slg_mix_long",
               "Mix-Large": "slg_mix_large_qwen"}
    rows = scores(table_, dataset=table_["distillation_method"].map(methods),
                  model=table_["student_model"])
    return Converted(rows, pd.DataFrame({"n_printed": [7_500]}, index=["slg_math_qwq_long"]))


@table("reference_study", study="langner2026", tier="study", design="controlled",
       percent=False,
       source="Langner et al. 2026, What properties of reasoning supervision are associated "
              "with improved downstream model quality?, arXiv:2605.13290, Tables 1-4 and 6 "
              "(data/study)",
       notes="the reference study: one Polish reasoning set in four trace variants on "
             "PLLuM-8B-instruct and Bielik-11B-v2.6-Instruct, with measured metrics; built "
             "from data/study/runs.csv and features.csv")
def _reference_study() -> Converted:
    runs = pd.read_csv(STUDY / "runs.csv", keep_default_na=False, na_values=[""])
    rows = pd.DataFrame({"dataset_id": runs["dataset_id"], "base_model": runs["base_model"],
                         "benchmark": runs["benchmark"], "domain": runs["domain"].fillna(""),
                         "score": runs["score_ft"], "base_score": runs["score_base"], "lora": 0})
    metrics = pd.read_csv(STUDY / "features.csv").set_index("dataset_id")
    extras = metrics.drop(columns=["meta__source"]).rename(columns={"n_examples": "n_printed"})
    return Converted(rows, extras)


# --- building the tables -------------------------------------------------------------------

def runs_table(table_: Table, rows: pd.DataFrame) -> pd.DataFrame:
    """Return the runs: canonical names, sizes, families, item counts, corpus columns."""
    frame = rows.assign(domain=rows.get("domain", ""), benchmark_label=rows["benchmark"])
    frame["benchmark"] = frame["benchmark_label"].map(lambda b: BENCHMARK_NAMES.get(b, b))
    frame["base_model"] = frame["base_model"].map(lambda m: MODEL_NAMES.get(m, m))
    frame["dataset_id"] = frame["dataset_id"].where(frame["lora"] == 0,
                                                    frame["dataset_id"] + LORA_SUFFIX)
    model = _lookup(BASE_MODELS, frame["base_model"], table_.name, "base_models.csv")
    frame["params_b"] = model["params_b"].to_numpy()
    frame["family"] = model["family"].to_numpy()
    bench = _lookup(BENCHMARKS, pd.MultiIndex.from_frame(frame[["benchmark", "domain"]]),
                    table_.name, "benchmarks.csv")
    frame["n_items"] = bench["n_items"].to_numpy() if table_.public_items else np.nan
    runs = import_csv(frame, columns=RUNS_COLUMNS, percent=table_.percent)
    corpus = frame.assign(study=table_.study)[["study", "lora", "benchmark_label"]]
    return pd.concat([runs, corpus.reset_index(drop=True)], axis=1)


def features_table(table_: Table, runs: pd.DataFrame, extras: pd.DataFrame | None
                   ) -> pd.DataFrame:
    """Return the features: the corpus vocabulary of each run's dataset, then extras."""
    ids = pd.Series(pd.unique(runs["dataset_id"]), name="dataset_id")
    data = ids.str.removesuffix(LORA_SUFFIX)
    props = _lookup(DATASETS, data, table_.name, "datasets.csv")
    n_examples = props["n_examples"]
    frame = pd.DataFrame({"dataset_id": ids, "log_n_examples": np.log(n_examples)})
    for column in PROPERTIES:
        frame[column] = props[column].to_numpy()
    frame["lora"] = ids.str.endswith(LORA_SUFFIX).astype(float)
    extras = pd.DataFrame(index=data.unique()) if extras is None else extras
    _check_printed_sizes(table_.name, extras, DATASETS)
    frame = frame.join(extras.drop(columns="n_printed", errors="ignore").reindex(data)
                       .reset_index(drop=True))
    frame["n_examples"] = n_examples.to_numpy()
    frame["meta__teacher"] = props["teacher"].to_numpy()
    frame["meta__source"] = table_.source
    frame["meta__properties"] = props["properties_source"].to_numpy()
    return validate_features(frame, source=f"{table_.name} features", allow_missing=True)


def domain_match(runs: pd.DataFrame, features: pd.DataFrame) -> pd.Series:
    """Return 1 where a run's dataset covers one of its benchmark's domains.

    0 where it covers none of them, missing where that depends on a domain no source states.
    """
    covers = features.set_index("dataset_id")[[f"domain_{d}" for d in DOMAINS]]
    bench = BENCHMARKS["domain"].loc[pd.MultiIndex.from_frame(runs[["benchmark", "domain"]])]
    match = []
    for data, domains in zip(runs["dataset_id"], bench, strict=True):
        values = covers.loc[data, [f"domain_{d}" for d in domains.split("+")]]
        match.append(1.0 if (values == 1).any() else 0.0 if (values == 0).all() else np.nan)
    return pd.Series(match, index=runs.index, name="domain_match")


def build(table_: Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the validated runs and features tables of one corpus table."""
    converted = table_.convert()
    runs = runs_table(table_, converted.scores)
    features = features_table(table_, runs, converted.extras)
    runs["domain_match"] = domain_match(runs, features)
    return validate_runs(runs, source=f"{table_.name} runs"), features


def manifest_row(table_: Table, runs: pd.DataFrame) -> dict[str, object]:
    """Return the manifest row of a corpus table."""
    return {"table": table_.name, "study": table_.study, "source": table_.source,
            "tier": table_.tier, "design": table_.design,
            "n_datasets": runs["dataset_id"].nunique(),
            "n_base_models": runs["base_model"].nunique(),
            "n_benchmarks": runs["benchmark"].nunique(), "n_runs": len(runs),
            "has_untuned_scores": _share(runs["score_base"].notna()),
            "has_item_counts": _share(runs["n_items"].notna()), "notes": table_.notes}


def _share(present: pd.Series) -> str:
    return "all" if present.all() else "some" if present.any() else "none"


def _lookup(registry_: pd.DataFrame, keys: pd.Series | pd.MultiIndex, table_name: str,
            file: str) -> pd.DataFrame:
    missing = sorted({str(k) for k in keys if k not in registry_.index})
    if missing:
        raise KeyError(f"{table_name}: {missing} not in {file}; add a row for each")
    return registry_.loc[keys].reset_index(drop=True)


def _check_printed_sizes(table_name: str, extras: pd.DataFrame, datasets: pd.DataFrame) -> None:
    if "n_printed" not in extras:
        return
    registered = datasets["n_examples"].reindex(extras.index)
    differ = extras.index[registered.to_numpy() != extras["n_printed"].to_numpy()]
    if len(differ):
        raise ValueError(f"{table_name}: printed sizes of {list(differ)} differ from "
                         f"datasets.csv ({registered.loc[differ].tolist()})")


def main() -> None:
    """Write every corpus table and the manifest."""
    rows = []
    for table_ in TABLES.values():
        runs, features = build(table_)
        folder = HERE / table_.name
        folder.mkdir(exist_ok=True)
        runs.sort_values(["base_model", "dataset_id", "benchmark", "domain"]).to_csv(
            folder / "runs.csv", index=False, float_format="%.6g")
        features.drop(columns="domain").to_csv(folder / "features.csv", index=False,
                                               float_format="%.6g")
        rows.append(manifest_row(table_, runs))
        print(f"{table_.name}: {len(runs)} runs, {runs['dataset_id'].nunique()} datasets x "
              f"{runs['base_model'].nunique()} models x {runs['benchmark'].nunique()} benchmarks")
    pd.DataFrame(rows).to_csv(HERE / "manifest.csv", index=False)


if __name__ == "__main__":
    main()
