"""Convert the study's transcribed tables (data/study/paper/) into metaq's runs and features tables.

Run from the repository root: ``python data/study/convert.py``. The output files
(data/study/runs.csv, data/study/features.csv) are committed; this script documents and
reproduces how they were made. See data/README.md for the schema and provenance.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
PAPER = HERE / "paper"
MODELS = {  # base model -> (params_b, family)
    "PLLuM-8B-instruct": (8.0, "llama"),
    "Bielik-11B-v2.6-Instruct": (11.0, "mistral"),
}
BENCHMARKS = ["bel_pl", "bel_en", "aya_pl", "aya_en", "mot_pl_eval", "lightr1"]
N_ITEMS = 900
# MoT-PL-eval is stratified like the training set (Math 28 %, Code 17 %, Science 55 %); the
# domain accuracies of Table 6 reproduce the overall accuracy of Table 4 with these weights.
DOMAIN_ITEMS = {"math": 252, "code": 153, "science": 495}


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(PAPER / name, comment="#")


def general_runs() -> pd.DataFrame:
    table = read("table4_absolute_accuracy.csv").drop(columns="avg")
    long = table.melt(id_vars=["model", "variant"], var_name="benchmark", value_name="score")
    base = long[long["variant"] == "Original"].drop(columns="variant")
    ft = long[long["variant"] != "Original"]
    runs = ft.merge(base, on=["model", "benchmark"], suffixes=("_ft", "_base"))
    runs["domain"] = ""
    runs["n_items"] = N_ITEMS
    return runs


def domain_runs() -> pd.DataFrame:
    table = read("table6_motpl_by_domain.csv")
    rows = []
    for _, row in table.iterrows():
        for domain in DOMAIN_ITEMS:
            rows.append({"model": row["model"], "variant": row["variant"],
                         "domain": domain, "score": row[f"{domain}_acc"]})
    long = pd.DataFrame(rows)
    base = long[long["variant"] == "Original"].drop(columns="variant")
    ft = long[long["variant"] != "Original"]
    runs = ft.merge(base, on=["model", "domain"], suffixes=("_ft", "_base"))
    runs["benchmark"] = "mot_pl_eval"
    runs["n_items"] = runs["domain"].map(DOMAIN_ITEMS)
    return runs


def build_runs() -> pd.DataFrame:
    runs = pd.concat([general_runs(), domain_runs()], ignore_index=True)
    runs = runs.rename(columns={"model": "base_model", "variant": "dataset_id"})
    runs["params_b"] = runs["base_model"].map(lambda m: MODELS[m][0])
    runs["family"] = runs["base_model"].map(lambda m: MODELS[m][1])
    columns = ["dataset_id", "base_model", "params_b", "family", "benchmark", "domain",
               "score_base", "score_ft", "n_items"]
    return runs[columns].sort_values(["base_model", "dataset_id", "benchmark", "domain"])


def build_features() -> pd.DataFrame:
    fvcu = read("table2_fvcu.csv").set_index("dataset")
    fvcu = (fvcu / 100.0).round(4)  # percent -> share of positive steps
    analytical = read("table3_analytical.csv").set_index("dataset")
    lengths = read("table1_dataset_stats.csv")
    chars = lengths[lengths["tokenizer"] == "none"].set_index("metric").drop(
        columns="tokenizer").T
    tokens = lengths[lengths["tokenizer"] == "PLLuM-8B-instruct"].set_index("metric").drop(
        columns="tokenizer").T
    tokens = tokens.rename(columns=lambda c: c.replace("_tokens", "_tokens_pllum"))
    features = analytical.join(fvcu).join(chars).join(tokens)
    features.index.name = "dataset_id"
    features = features.reset_index()
    features["n_examples"] = 22_600  # "about 22.6k examples" per variant (approximate)
    features["n_judged"] = 1_000  # FVCU on a stratified 1,000-example subsample
    features["meta__source"] = "arXiv 2605.13290 Tables 1-3"
    order = ["Detailed", "Summarized", "BabyThink", "Lengthy"]
    return features.set_index("dataset_id").loc[order].reset_index()


def main() -> None:
    build_runs().to_csv(HERE / "runs.csv", index=False)
    build_features().to_csv(HERE / "features.csv", index=False)


if __name__ == "__main__":
    main()
