"""Malformed input to every command: exit 2, one error line with a fix, never a traceback.

Each case writes its bad input under a temporary folder and runs ``metaq`` in-process. The
runs are cheap: every case must be refused before any sampling or model loading.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from fake_predictor import save_fake_predictor

from metaq.cli import main
from metaq.datasets import sample_path, study_path

RUNS_HEADER = "dataset_id,base_model,params_b,family,benchmark,score_base,score_ft,n_items\n"
RUNS_ROW = "Detailed,PLLuM-8B-instruct,8,llama,mot_pl_eval,0.4,0.5,900\n"
GOOD_RECORD = {"question": "Q", "reasoning": "R", "answer": "A"}


def _tables(root: Path) -> dict[str, Path]:
    """Broken table files, as CSV or Parquet, of each kind a user meets."""
    study = pd.read_csv(study_path("features"))
    texts: dict[str, str | bytes] = {
        "empty.csv": "", "comments.csv": "# a comment only\n\n",
        "header_only.csv": RUNS_HEADER, "fractions.csv": RUNS_HEADER + RUNS_ROW,
        "not_utf8.csv": b"dataset_id,x\n\xff\xfe\xfa,1\n",
        "utf16.csv": (RUNS_HEADER + RUNS_ROW).encode("utf-16"),
        "ragged.csv": RUNS_HEADER + RUNS_ROW.strip() + ",1,2\n",
        "repeated_header.csv": RUNS_HEADER.replace("family", "score_ft") + RUNS_ROW,
        "inf_score.csv": RUNS_HEADER + RUNS_ROW.replace("0.5", "inf"),
        "huge_size.csv": RUNS_HEADER + RUNS_ROW.replace(",8,", ",1e300,"),
        "decimal_comma.csv": RUNS_HEADER + RUNS_ROW.replace("0.4", '"0,4"'),
        "score_percent.csv": RUNS_HEADER + RUNS_ROW.replace("0.5", "52.1"),
        "corrupt.parquet": b"PAR1\x00\x01not really parquet",
    }
    paths = {}
    for name, content in texts.items():
        path = root / name
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
        paths[name] = path
    paths["index_column.csv"] = root / "index_column.csv"
    study.to_csv(paths["index_column.csv"])  # pandas' index as an unnamed first column
    inf_features = study.copy()
    inf_features.loc[0, "validity"] = float("inf")
    paths["inf_features.csv"] = root / "inf_features.csv"
    inf_features.to_csv(paths["inf_features.csv"], index=False)
    (root / "folder.csv").mkdir()
    paths["folder.csv"] = root / "folder.csv"
    return paths


def _models(root: Path) -> dict[str, Path]:
    contents = {"empty.nc": b"", "random.nc": os.urandom(4096), "text.nc": b"not a model\n",
                "pickle.nc": pickle.dumps({"posterior": [1, 2]})}
    paths = {}
    for name, content in contents.items():
        (root / name).write_bytes(content)
        paths[name] = root / name
    real = save_fake_predictor(root / "fake")
    truncated = root / "truncated.nc"
    truncated.write_bytes(real.read_bytes()[:2000])
    paths["truncated.nc"] = truncated
    broken_card = root / "fake2"
    broken_card.mkdir()
    copy = broken_card / "fake.nc"
    copy.write_bytes(real.read_bytes())
    copy.with_suffix(".json").write_text('{"spec_id": ')
    paths["broken_card.nc"] = copy
    paths["fake.nc"] = real
    return paths


def _datasets(root: Path) -> dict[str, Path]:
    lines = {
        "empty.jsonl": "",
        "all_missing.jsonl": json.dumps({"question": "Q", "answer": "A"}) + "\n",
        "deep.jsonl": '{"question": "Q", "reasoning": ' + "[" * 100_000 + "]" * 100_000 + "}\n",
        "nan_reasoning.jsonl": '{"question": "Q", "reasoning": NaN}\n',
        "surrogate.jsonl": '{"question": "Q", "reasoning": "a\\udc00"}\n',
        "alpaca.jsonl": json.dumps({"instruction": "I", "input": "", "output": "O"}) + "\n",
        "broken.json": '[{"question": "Q", "reasoning": ',
        "no_records.json": json.dumps({"a": 1}),
        "notes.txt": "just text\n",
        "bad_chat.jsonl": json.dumps({"messages": [{"role": "user", "content": "Q"}]}) + "\n",
    }
    paths = {}
    for name, content in lines.items():
        (root / name).write_text(content)
        paths[name] = root / name
    paths["fake_gzip.jsonl.gz"] = root / "fake_gzip.jsonl.gz"
    paths["fake_gzip.jsonl.gz"].write_text(json.dumps(GOOD_RECORD) + "\n")
    paths["truncated.jsonl.gz"] = root / "truncated.jsonl.gz"
    paths["truncated.jsonl.gz"].write_bytes(gzip.compress(
        (json.dumps(GOOD_RECORD) + "\n").encode() * 100)[:30])
    if os.path.exists("/dev/zero"):
        (root / "zero.jsonl").symlink_to("/dev/zero")
        paths["zero.jsonl"] = root / "zero.jsonl"
    return paths


def _lm_eval(root: Path) -> dict[str, Path]:
    payloads = {
        "scalar_task": {"results": {"arc_easy": 0.5}},
        "list_task": {"results": {"arc_easy": [0.5, 0.1]}},
        "samples_list": {"results": {"arc_easy": {"acc,none": 0.5}}, "n-samples": [5]},
        "group_string": {"results": {"g": {"acc,none": 0.5}}, "group_subtasks": {"g": "x"}},
        "no_results": {"config": {}},
        "perplexity_only": {"results": {"wikitext": {"word_perplexity,none": 9.1}}},
        "good": {"results": {"arc_easy": {"acc,none": 0.5, "acc_stderr,none": 0.01}},
                 "n-samples": {"arc_easy": {"original": 100, "effective": 100}}},
    }
    paths = {}
    for name, payload in payloads.items():
        paths[name] = root / f"{name}.json"
        paths[name].write_text(json.dumps(payload))
    paths["not_json"] = root / "not_json.json"
    paths["not_json"].write_text("{results: nope")
    (root / "empty_dir").mkdir()
    paths["empty_dir"] = root / "empty_dir"
    return paths


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("fuzz")
    found: dict[str, Path] = {}
    for kind, make in (("t", _tables), ("m", _models), ("d", _datasets), ("l", _lm_eval)):
        folder = root / kind
        folder.mkdir()
        found.update({f"{kind}/{name}": path for name, path in make(folder).items()})
    found["a_file"] = root / "a_file"
    found["a_file"].write_text("x")
    forecast = pd.DataFrame({"dataset_id": ["A"], "target_model": ["m"], "benchmark": ["b"],
                             "estimate": [0.1], "lower": [0.0], "upper": [0.2],
                             "prob_gain": [1.7]})
    found["forecast_prob"] = root / "forecast_prob.csv"
    forecast.to_csv(found["forecast_prob"], index=False)
    found["forecast_inf"] = root / "forecast_inf.csv"
    forecast.assign(prob_gain=0.5, upper=float("inf")).to_csv(found["forecast_inf"], index=False)
    found["candidates"] = root / "candidates.csv"
    pd.DataFrame({"dataset_id": ["good"], "validity": [0.9], "redundancy_ratio": [0.5],
                  "perplexity": [1.5]}).to_csv(found["candidates"], index=False)
    found["root"] = root
    return found


Case = Callable[[dict[str, Path]], list[str]]


def _out(f: dict[str, Path], name: str = "out.csv") -> str:
    return str(f["root"] / "outputs" / name)


def _table_cases() -> dict[str, Case]:
    """Every broken table as runs and as features of fit, correlate and validate."""
    cases: dict[str, Case] = {}
    broken = ["empty.csv", "comments.csv", "header_only.csv", "not_utf8.csv", "utf16.csv",
              "ragged.csv", "repeated_header.csv", "inf_score.csv", "huge_size.csv",
              "decimal_comma.csv", "score_percent.csv", "corrupt.parquet", "folder.csv"]
    for name in broken:
        cases[f"fit --runs {name}"] = lambda f, n=name: [
            "fit", "--runs", str(f[f"t/{n}"]), "--out", _out(f, "m.nc")]
    for name in ["index_column.csv", "inf_features.csv", "empty.csv", "corrupt.parquet"]:
        cases[f"correlate --features {name}"] = lambda f, n=name: [
            "correlate", "--features", str(f[f"t/{n}"]), "--out", _out(f)]
        cases[f"validate --features {name}"] = lambda f, n=name: [
            "validate", "--features", str(f[f"t/{n}"]), "--out", _out(f, "val")]
    cases["fit --features index_column.csv"] = lambda f: [
        "fit", "--features", str(f["t/index_column.csv"]), "--out", _out(f, "m.nc")]
    cases["import-csv decimal comma"] = lambda f: [
        "runs", "import-csv", str(f["t/decimal_comma.csv"]), "--map", _FULL_MAP,
        "--out", _out(f)]
    cases["import-csv --percent on fractions"] = lambda f: [
        "runs", "import-csv", str(f["t/fractions.csv"]), "--percent", "--map", _FULL_MAP,
        "--out", _out(f)]
    cases["import-csv header only"] = lambda f: [
        "runs", "import-csv", str(f["t/header_only.csv"]), "--map", _FULL_MAP, "--out", _out(f)]
    cases["import-csv utf16"] = lambda f: [
        "runs", "import-csv", str(f["t/utf16.csv"]), "--map", _FULL_MAP, "--out", _out(f)]
    cases["forecast --features inf"] = lambda f: [
        "forecast", "--model", str(f["m/fake.nc"]), "--features", str(f["t/inf_features.csv"]),
        "--out", _out(f)]
    cases["forecast --base-scores empty"] = lambda f: [
        "forecast", "--model", str(f["m/fake.nc"]), "--features", str(f["candidates"]),
        "--base-scores", str(f["t/empty.csv"]), "--target-model", "small-1b", "--out", _out(f)]
    cases["explain contributions --features inf"] = lambda f: [
        "explain", "contributions", "--model", str(f["m/fake.nc"]), "--features",
        str(f["t/inf_features.csv"]), "--out", _out(f)]
    return cases


_FULL_MAP = ("dataset_id=dataset_id,base_model=base_model,params_b=params_b,family=family,"
             "benchmark=benchmark,score_base=score_base,score_ft=score_ft")


def _model_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for name in ["empty.nc", "random.nc", "text.nc", "pickle.nc", "truncated.nc",
                 "broken_card.nc"]:
        cases[f"forecast --model {name}"] = lambda f, n=name: [
            "forecast", "--model", str(f[f"m/{n}"]), "--features", str(f["candidates"]),
            "--out", _out(f)]
    cases["explain --model random.nc"] = lambda f: [
        "explain", "importance", "--model", str(f["m/random.nc"]), "--out", _out(f)]
    cases["report --model text.nc"] = lambda f: [
        "report", "--model", str(f["m/text.nc"]), "--out", _out(f, "r.html")]
    return cases


def _dataset_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for name in ["empty.jsonl", "all_missing.jsonl", "deep.jsonl", "nan_reasoning.jsonl",
                 "surrogate.jsonl", "alpaca.jsonl", "broken.json", "no_records.json",
                 "notes.txt", "bad_chat.jsonl", "fake_gzip.jsonl.gz", "truncated.jsonl.gz",
                 "zero.jsonl"]:
        cases[f"extract {name}"] = lambda f, n=name: [
            "extract", str(f.get(f"d/{n}", f["d/empty.jsonl"])), "--metrics",
            "reasoning_chars", "--no-cache", "--out", _out(f)]
    cases["extract all skipped"] = lambda f: [
        "extract", str(f["d/all_missing.jsonl"]), "--on-error", "skip", "--no-cache",
        "--out", _out(f)]
    cases["extract missing path"] = lambda f: [
        "extract", str(f["root"] / "nope.jsonl"), "--no-cache", "--out", _out(f)]
    cases["extract bad --columns"] = lambda f: [
        "extract", str(sample_path("gsm8k_train.jsonl")), "--columns", "quest=x",
        "--no-cache", "--out", _out(f)]
    cases["extract unknown metric"] = lambda f: [
        "extract", str(sample_path("gsm8k_train.jsonl")), "--metrics", "redundancy_rato",
        "--no-cache", "--out", _out(f)]
    cases["forecast empty dataset"] = lambda f: [
        "forecast", str(f["d/empty.jsonl"]), "--model", str(f["m/fake.nc"]),
        "--target-model", "small-1b", "--out", _out(f)]
    cases["forecast all skipped"] = lambda f: [
        "forecast", str(f["d/all_missing.jsonl"]), "--model", str(f["m/fake.nc"]),
        "--on-error", "skip", "--target-model", "small-1b", "--out", _out(f)]
    cases["inspect broken.json"] = lambda f: ["inspect", str(f["d/broken.json"])]
    cases["inspect empty"] = lambda f: ["inspect", str(f["d/empty.jsonl"])]
    cases["inspect fake gzip"] = lambda f: ["inspect", str(f["d/fake_gzip.jsonl.gz"])]
    return cases


def _lm_eval_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for name in ["scalar_task", "list_task", "samples_list", "group_string", "no_results",
                 "perplexity_only", "not_json", "empty_dir"]:
        cases[f"import-lm-eval {name}"] = lambda f, n=name: [
            "runs", "import-lm-eval", str(f[f"l/{n}"]), "--dataset-id", "d",
            "--base-model", "m", "--params-b", "7", "--out", _out(f)]
    cases["import-lm-eval no size"] = lambda f: [
        "runs", "import-lm-eval", str(f["l/good"]), "--dataset-id", "d", "--base-model", "m",
        "--out", _out(f)]
    cases["import-lm-eval unknown task glob"] = lambda f: [
        "runs", "import-lm-eval", str(f["l/good"]), "--dataset-id", "d", "--base-model", "m",
        "--params-b", "7", "--tasks", "mmlu_*", "--out", _out(f)]
    cases["import-lm-eval two plain metrics"] = lambda f: [
        "runs", "import-lm-eval", str(f["l/good"]), "--dataset-id", "d", "--base-model", "m",
        "--params-b", "7", "--metric", "acc", "--metric", "acc_norm", "--out", _out(f)]
    cases["import-lm-eval inf size"] = lambda f: [
        "runs", "import-lm-eval", str(f["l/good"]), "--dataset-id", "d", "--base-model", "m",
        "--params-b", "inf", "--out", _out(f)]
    cases["import-lm-eval 1e300 size"] = lambda f: [
        "runs", "import-lm-eval", str(f["l/good"]), "--dataset-id", "d", "--base-model", "m",
        "--params-b", "1e300", "--out", _out(f)]
    return cases


def _output_cases() -> dict[str, Case]:
    """Unwritable outputs of every command: under a file, a folder, /proc, a bad suffix."""
    good_lm = ["runs", "import-lm-eval", "{l/good}", "--dataset-id", "d", "--base-model", "m",
               "--params-b", "7"]
    commands = {
        "demo": (["demo"], "folder"),
        "correlate": (["correlate"], ".csv"),
        "import-lm-eval": (good_lm, ".csv"),
        "extract": (["extract", str(sample_path("gsm8k_train.jsonl")), "--no-cache"], ".csv"),
        "report": (["report", "--no-model"], ".html"),
        "fit": (["fit"], ".nc"),
        "forecast": (["forecast", "--model", "{m/fake.nc}", "--features", "{candidates}"],
                     ".csv"),
        "explain": (["explain", "importance", "--model", "{m/fake.nc}"], ".csv"),
        "validate": (["validate"], "folder"),
    }
    cases: dict[str, Case] = {}
    for command, (argv, kind) in commands.items():
        suffix = "" if kind == "folder" else kind
        for where in ("under_file", "proc", "folder_given", "suffix"):
            if where == "folder_given" and (kind == "folder" or command == "forecast") \
                    or where == "suffix" and not suffix:
                continue  # a folder is what these write (forecast: a file or a folder)

            def case(f, argv=argv, where=where, suffix=suffix):
                out = {"under_file": str(f["a_file"] / f"x{suffix}"),
                       "proc": f"/proc/metaq-fuzz/x{suffix}",
                       "folder_given": str(f["root"]),
                       "suffix": str(f["root"] / "x.xyz")}[where]
                return [str(f[a[1:-1]]) if a.startswith("{") else a for a in argv] + [
                    "--out", out]
            cases[f"{command} --out {where}"] = case
    cases["explain --plot suffix"] = lambda f: [
        "explain", "importance", "--model", str(f["m/fake.nc"]), "--out", _out(f),
        "--plot", str(f["root"] / "p.xyz")]
    cases["report --pdf under file"] = lambda f: [
        "report", "--no-model", "--out", _out(f, "r.html"), "--pdf", str(f["a_file"] / "r.pdf")]
    cases["correlate --figures a file"] = lambda f: [
        "correlate", "--out", _out(f), "--figures", str(f["a_file"])]
    return cases


def _argument_cases() -> dict[str, Case]:
    return {
        "fit --draws 0": lambda f: ["fit", "--draws", "0", "--out", _out(f, "m.nc")],
        "fit --max-draws 0": lambda f: ["fit", "--max-draws", "0", "--out", _out(f, "m.nc")],
        "fit --chains x": lambda f: ["fit", "--chains", "x", "--out", _out(f, "m.nc")],
        "validate --draws 0": lambda f: ["validate", "--draws", "0", "--out", _out(f, "v")],
        "validate --k 1": lambda f: ["validate", "--k", "1", "--out", _out(f, "v")],
        "explain sweep --grid a,b": lambda f: [
            "explain", "sweep", "--model", str(f["m/fake.nc"]), "--feature", "validity",
            "--grid", "a,b", "--out", _out(f)],
        "explain next-run unknown dataset": lambda f: [
            "explain", "next-run", "--model", str(f["m/fake.nc"]), "--features",
            str(f["candidates"]), "--candidate", "Nope@small-1b", "--out", _out(f)],
        "forecast --prob nan": lambda f: [
            "forecast", "--features", str(f["candidates"]), "--prob", "nan", "--out", _out(f)],
        "forecast --params-b 1e300": lambda f: [
            "forecast", "--model", str(f["m/fake.nc"]), "--features", str(f["candidates"]),
            "--target-model", "huge", "--params-b", "1e300", "--out", _out(f)],
        "inspect -n 0": lambda f: ["inspect", str(sample_path("gsm8k_train.jsonl")), "-n", "0"],
        "report --forecast prob 1.7": lambda f: [
            "report", "--no-model", "--forecast", str(f["forecast_prob"]),
            "--out", _out(f, "r.html")],
        "report --forecast inf": lambda f: [
            "report", "--no-model", "--forecast", str(f["forecast_inf"]),
            "--out", _out(f, "r.html")],
        "report --forecast corrupt": lambda f: [
            "report", "--no-model", "--forecast", str(f["t/corrupt.parquet"]),
            "--out", _out(f, "r.html")],
    }


CASES: dict[str, Case] = {**_table_cases(), **_model_cases(), **_dataset_cases(),
                          **_lm_eval_cases(), **_output_cases(), **_argument_cases()}


def test_there_are_enough_cases_across_all_commands():
    assert len(CASES) >= 60
    commands = {name.split()[0] for name in CASES}
    assert {"fit", "correlate", "validate", "forecast", "explain", "report", "extract",
            "inspect", "import-lm-eval", "import-csv", "demo"} <= commands


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_input_is_one_line_exit_2(name, files, capsys):
    argv = CASES[name](files)
    try:
        status = main(["-q", *argv])
    except SystemExit as exit_:  # usage errors from argparse
        status = exit_.code
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines()
              if line.strip() and not line.startswith(("WARNING ", "INFO "))]
    assert "Traceback" not in captured.err + captured.out
    assert status == 2, f"{name}: exit {status}; stderr: {captured.err[-500:]}"
    assert len(errors) == 1, f"{name}: {errors}"
    assert "error:" in errors[0] and "Fix" in errors[0], f"{name}: {errors[0]}"
