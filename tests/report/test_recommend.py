from __future__ import annotations

import pandas as pd
from report_tables import make_forecast

from metaq.report.recommend import recommendation


def test_names_the_better_choice_only_above_the_threshold():
    eight, eleven, seventy = recommendation(make_forecast(), prob=0.9, best_threshold=0.75)
    assert eight.startswith("Detailed is the better choice for PLLuM-8B-instruct (8B) with "
                            "probability 0.80, averaged over 2 benchmarks (the same on every "
                            "benchmark).")
    assert "Detailed reaches P(best) of at least 0.75 on mot_pl_eval (0.80), light_r1 (0.80)." \
        in eight
    for text, model in ((eleven, "Bielik-11B-v2.6-Instruct (11B)"), (seventy, "Unseen-70B (70B)")):
        assert text.startswith(f"The data do not separate the 4 candidates for {model}: no "
                               f"dataset is the best with probability 0.75 or more on average; "
                               f"the highest is Detailed with 0.25")
        assert "better choice" not in text


def test_unseen_models_are_flagged_in_their_paragraph():
    forecast = make_forecast().assign(seen_model=lambda f: f["target_model"] != "Unseen-70B")
    eight, _, seventy = recommendation(forecast, prob=0.9)
    assert seventy.endswith("Unseen-70B (70B) was not among the fine-tuned models, so these "
                            "numbers rest on the trend over model size (see Caveats).")
    assert "not among" not in eight


def test_a_higher_threshold_withdraws_the_claim():
    eight = recommendation(make_forecast(), prob=0.9, best_threshold=0.85)[0]
    assert eight.startswith("The data do not separate the 4 candidates for PLLuM-8B-instruct")


def test_gain_sentence_counts_benchmarks_by_p_gain():
    # Detailed: mean 0.03 -> P(gain) 0.95 on both benchmarks; largest change +3.0 points
    eight = recommendation(make_forecast(), prob=0.9)[0]
    assert ("Of 2 benchmarks, fine-tuning on Detailed is forecast to raise the score on 2 "
            "and to lower it on 0 (each with probability at least 0.80); on 0 the direction is "
            "uncertain. Its largest expected change is +3.0 points on mot_pl_eval (90% "
            "interval +1.0 points to +5.0 points, P(gain) 0.95).") in eight


def test_single_candidate_reports_gain_and_loss_without_a_choice():
    forecast = pd.DataFrame({
        "dataset_id": "only", "target_model": "m", "benchmark": ["a", "b", "c"],
        "domain": ["", "", "math"], "estimate": [2.0, -4.0, 0.5], "lower": [1.0, -6.0, -1.0],
        "upper": [3.0, -2.0, 2.0], "prob_gain": [0.9, 0.05, 0.6], "target": "rel"})
    (text,) = recommendation(forecast, prob=0.5)
    assert text == ("For m: Of 3 benchmarks, fine-tuning on only is forecast to raise the "
                    "score on 1 and to lower it on 1 (each with probability at least 0.80); on 1 "
                    "the direction is uncertain. Its largest expected change is -4.0 % on "
                    "b (50% interval -6.0 % to -2.0 %, P(gain) 0.05).")
