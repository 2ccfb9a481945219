"""Convert published fine-tuning result tables (data/published/source/) into metaq tables.

Run from the repository root: ``python data/published/convert.py``. For each source it writes
``data/published/<name>/runs.csv`` and ``data/published/<name>/features.csv``; the outputs are
committed, this script documents and reproduces them. Provenance, encodings and caveats are
in data/README.md (section ``data/published``) and data/published/source/README.md.

Runs are built with :func:`metaq.importers.import_csv` (scores in percent -> fractions).
Features are the dataset properties each source prints, numeric or one-hot encoded.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from metaq.importers import import_csv
from metaq.tables import validate_features

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source"
LONG_MAP = {"dataset_id": "dataset_id", "base_model": "model", "params_b": "model_params_b",
            "family": "family", "benchmark": "benchmark", "score_ft": "score",
            "score_base": "base_score"}
# Public test-set sizes of the benchmarks (item counts of the evaluation sets, not numbers
# from the papers): they give each score its binomial noise.
OPEN_LLM_ITEMS = {"ARC": 1172, "HellaSwag": 10042, "MMLU": 14042, "TruthfulQA": 817}
DART_ITEMS = {"MATH": 5000, "GSM8K": 1319, "CollegeMath": 2818, "DeepMind Mathematics": 1000,
              "OlympiadBench-Math": 675, "TheoremQA": 800}
ALPACA_POOL = 52002  # Alpaca's released size (Tulu 1, Table 1)
# Public sizes of the reasoning benchmarks, keyed by the labels the sources print (checked
# against the sets' public copies: HuggingFaceH4/aime_2024 30; AIME 2025 I+II 30 and one
# contest 15; math-ai/amc23 40; HuggingFaceH4/MATH-500 500; GPQA Diamond 198; LiveCodeBench
# release_v2 511 (its README: May 2023 - May 2024); Minerva Math 272). Scores that average
# several samples per problem are not exact multiples of 1/n: the binomial count is rounded.
REASONING_ITEMS = {"AIME24": 30, "AIME25": 30, "AIME25 I": 15, "AMC23": 40, "MATH500": 500,
                   "GPQA-D": 198, "LCBv2": 511, "Minerva": 272}
ALPACA_EVAL_ITEMS = 805  # AlpacaEval's evaluation set (tatsu-lab/alpaca_eval)


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(SOURCE / name, comment="#")


def tulu1_13b() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tulu 1 Table 3: LLaMA-13B on 12 single instruction datasets, with the untuned row."""
    table = read("tulu1_table3_13b_dataset_comparison.csv")
    single = ~table["sourced_from"].str.startswith("mixture")
    scored = table["base_score"].notna()  # drops AlpacaEval and the printed Average
    table = table[single & scored].assign(dataset_id=lambda t: t["dataset"].map(_slug),
                                          family="llama")
    runs = import_csv(table, columns=LONG_MAP, percent=True)
    props = table.drop_duplicates("dataset_id").set_index("dataset_id")
    source = props["sourced_from"]
    features = pd.DataFrame({
        "log_n_examples": props["n_instances"].map(math.log),
        "avg_rounds": props["avg_rounds"],
        "log_prompt_length": props["avg_prompt_length"].map(math.log),
        "log_completion_length": props["avg_completion_length"].map(math.log),
        "source_nlp_datasets": source.str.startswith("NLP datasets").astype(float),
        "source_human_written": (source == "Human-written from scratch").astype(float),
        "n_examples": props["n_instances"],
        "meta__sourced_from": source,
        "meta__source": "Tulu 1 (arXiv:2306.04751) Tables 1 and 3",
    })
    return runs, features


def dart_math() -> tuple[pd.DataFrame, pd.DataFrame]:
    """DART-Math README: MetaMathQA, DART-Math-Uniform and -Hard on four pre-trained bases."""
    table = read("dart_math_readme_tables.csv")
    sota = table["source_table"].str.startswith("README table 3")
    released_uniform = table["source_table"].str.startswith("README table 2") & (
        table["dataset"] == "DART-Math-Uniform")
    table = table[(sota | released_uniform) & (table["benchmark"] != "AVG")]
    table = table.assign(dataset_id=table["dataset"].map(_slug),
                         family=table["model_family"].str.lower(),
                         n_items=table["benchmark"].map(DART_ITEMS))
    runs = import_csv(table.rename(columns={"base_model": "model"}),
                      columns={**LONG_MAP, "n_items": "n_items"}, percent=True)
    props = table.drop_duplicates("dataset_id").set_index("dataset_id")
    features = pd.DataFrame({
        "log_n_examples": (props["n_samples_k"] * 1000).map(math.log),
        "teacher_gpt35": (props["synthesis_agent"] == "GPT-3.5").astype(float),
        "prop_to_difficulty": (props.index == "dart_math_hard").astype(float),
        "n_examples": props["n_samples_k"] * 1000,
        "meta__synthesis_agent": props["synthesis_agent"],
        "meta__source": "DART-Math README (github.com/hkust-nlp/dart-math) tables 2-3",
    })
    return runs, features


def cherry_ifd_v2() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cherry/IFD V2: Alpaca full vs IFD-selected 5/10/15 % on Llama-2-7B and -13B."""
    table = read("cherry_ifd_v2_llama2_7b_13b.csv")
    table = table[table["benchmark"].isin(OPEN_LLM_ITEMS)]
    fraction = table["fraction_selected_pct"]
    table = table.assign(
        dataset_id=fraction.map(lambda p: "alpaca_full" if p == 100 else f"alpaca_ifd_{p}pct"),
        family="llama", n_items=table["benchmark"].map(OPEN_LLM_ITEMS))
    runs = import_csv(table, columns={**LONG_MAP, "n_items": "n_items"}, percent=True)
    props = table.drop_duplicates("dataset_id").set_index("dataset_id")
    n_examples = (props["fraction_selected_pct"] / 100 * ALPACA_POOL).round()
    features = pd.DataFrame({
        "log_n_examples": n_examples.map(math.log),
        "ifd_selected": (props["fraction_selected_pct"] < 100).astype(float),
        "n_examples": n_examples,
        "meta__selection_method": props["selection_method"],
        "meta__source": "Cherry_LLM README V2 table (arXiv:2308.12032)",
    })
    return runs, features


def openthoughts2_7b() -> tuple[pd.DataFrame, pd.DataFrame]:
    """OpenThinker2 blog: Qwen2.5-7B-Instruct fine-tuned on six public reasoning datasets."""
    table = read("openthoughts2_blog_existing_reasoning_datasets_7b.csv")
    table = table.assign(dataset_id=table["dataset"].map(_slug), family="qwen",
                         n_items=table["benchmark"].map(REASONING_ITEMS))
    runs = import_csv(table, columns={**LONG_MAP, "n_items": "n_items"}, percent=True)
    props = table.drop_duplicates("dataset_id").set_index("dataset_id")
    n_rows = props["n_rows_as_reported"].map(_count)
    features = pd.DataFrame({
        "log_n_examples": n_rows.map(math.log),
        "n_examples": n_rows,
        "meta__n_rows_as_reported": props["n_rows_as_reported"],
        "meta__source": "OpenThoughts blog 'Outperforming DeepSeekR1-32B with OpenThinker2' "
                        "(arXiv:2506.04178), existing-datasets table",
    })
    return runs, features


def limo_32b() -> tuple[pd.DataFrame, pd.DataFrame]:
    """LIMO Table 3: OpenThoughts-114k, NuminaMath-100k and LIMO on Qwen2.5-32B-Instruct."""
    table = read("limo_table3_qwen25_32b.csv")
    table = table[table["benchmark"].isin(REASONING_ITEMS)]  # benchmarks of known size only
    table = table.assign(dataset_id=table["dataset"].map(_slug), family="qwen",
                         base_model="Qwen2.5-32B-Instruct",
                         n_items=table["benchmark"].map(REASONING_ITEMS))
    runs = import_csv(table, columns={**LONG_MAP, "base_model": "base_model",
                                      "n_items": "n_items"}, percent=True)
    props = table.drop_duplicates("dataset_id").set_index("dataset_id")
    features = pd.DataFrame({
        "log_n_examples": props["n_examples"].map(math.log),
        "n_examples": props["n_examples"],
        "meta__source": "LIMO (arXiv:2502.03387 v1) Table 3",
    })
    return runs, features


def deita() -> tuple[pd.DataFrame, pd.DataFrame]:
    """DEITA README: 10K random vs DEITA-selected 6K/10K SFT data on three bases, AlpacaEval."""
    table = read("deita_readme_full_evaluations.csv")
    controlled = table["dataset"].isin(["random sample from DEITA pool",
                                        "DEITA-selected (complexity+quality+diversity)"])
    table = table[controlled & (table["alignment"] == "SFT")
                  & (table["benchmark"] == "AlpacaEval (%)")]
    size = table["data_size_as_reported"].str.removesuffix(" SFT")
    selected = table["dataset"].str.startswith("DEITA")
    table = table.assign(
        dataset_id=selected.map({True: "deita_", False: "random_"}) + size.str.lower(),
        family=table["model_family"].str.lower().str.split("-").str[0],  # LLaMA-1, Llama-2
        benchmark="AlpacaEval", n_items=ALPACA_EVAL_ITEMS)
    runs = import_csv(table, columns={**LONG_MAP, "base_model": "base_model_group",
                                      "n_items": "n_items"}, percent=True)
    props = table.assign(n=size.map(_count)).drop_duplicates("dataset_id").set_index("dataset_id")
    features = pd.DataFrame({
        "log_n_examples": props["n"].map(math.log),
        "deita_selected": props["dataset"].str.startswith("DEITA").astype(float),
        "n_examples": props["n"],
        "meta__selection": props["dataset"],
        "meta__source": "DEITA README 'Full Evaluations' table (arXiv:2312.15685)",
    })
    return runs, features


def openthoughts1_verify() -> tuple[pd.DataFrame, pd.DataFrame]:
    """OpenThinker-32B blog: verified 114k vs unverified 173k at Qwen2.5-7B and -32B-Instruct."""
    table = read("openthoughts1_blog_verification_7b_32b.csv")
    table = table.assign(dataset_id=table["dataset"].map(_slug), family="qwen",
                         n_items=table["benchmark"].map(REASONING_ITEMS))
    runs = import_csv(table, columns={**LONG_MAP, "base_model": "base_model",
                                      "n_items": "n_items"}, percent=True)
    props = table.drop_duplicates("dataset_id").set_index("dataset_id")
    n_examples = props["n_examples_as_reported"].map(_count)
    features = pd.DataFrame({
        "log_n_examples": n_examples.map(math.log),
        "verified": (props["verified"] == "yes").astype(float),
        "n_examples": n_examples,
        "meta__source": "OpenThoughts blog 'Scaling up Open Reasoning with OpenThinker-32B' "
                        "(arXiv:2506.04178), verification table",
    })
    return runs, features


CONVERTERS = {"tulu1_13b": tulu1_13b, "dart_math": dart_math, "cherry_ifd_v2": cherry_ifd_v2,
              "openthoughts2_7b": openthoughts2_7b, "limo_32b": limo_32b, "deita": deita,
              "openthoughts1_verify": openthoughts1_verify}


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")


def _count(label: str) -> int:
    """A size as printed ("114k", "484K", "1M", "10K") as a number of examples."""
    scale = {"k": 1_000, "m": 1_000_000}
    label = label.strip().lower()
    return round(float(label[:-1]) * scale[label[-1]]) if label[-1] in scale else int(label)


def main() -> None:
    for name, convert in CONVERTERS.items():
        runs, features = convert()
        features = validate_features(features.rename_axis("dataset_id").reset_index(),
                                     source=name)
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        runs.sort_values(["base_model", "dataset_id", "benchmark"]).to_csv(
            folder / "runs.csv", index=False, float_format="%.6g")
        features.drop(columns="domain").to_csv(folder / "features.csv", index=False,
                                               float_format="%.6g")
        print(f"{name}: {len(runs)} runs, {runs['dataset_id'].nunique()} datasets x "
              f"{runs['base_model'].nunique()} models x {runs['benchmark'].nunique()} "
              f"benchmarks; {len(features)} feature rows")


if __name__ == "__main__":
    main()
