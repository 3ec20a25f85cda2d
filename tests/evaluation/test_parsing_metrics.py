"""Answer parsing (Listing 1 and messy variants) and the model-free metrics, against hand-computed values."""

import math

import numpy as np
import pytest
from conftest import ANSWER

from hf_behavior.evaluation import metrics
from hf_behavior.evaluation.parsing import (
    comment_spans,
    parse_behavior_answer,
    parse_like_percent,
    words_to_number,
)
from hf_behavior.evaluation.reports import relative_improvement


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("The video will be liked by 2% of viewers, and the popular comments could be:", 2.0),
        ("The video will be liked by 2.0 % of viewers.", 2.0),
        ("It will be liked by two percent of viewers.", 2.0),
        ("liked by twenty-five per cent of the audience", 25.0),
        ("liked by two point five percent", 2.5),
        ("liked by about 3,5% of viewers", 3.5),
        ("LIKED BY 12.75 % OF VIEWERS", 12.75),
        ("Around 7% of people would like it.", 7.0),  # no "liked by": first percentage
        ("Only 10% watched to the end, and it will be liked by 4% of viewers", 4.0),  # "liked by" wins
        ("The video will be liked by many viewers.", None),
        ("", None),
        ("liked by 150% of viewers", None),  # not a share of viewers
    ],
)
def test_like_percent_parser(answer, expected):
    assert parse_like_percent(answer) == expected


def test_words_to_number():
    assert words_to_number("one hundred") == 100.0
    assert words_to_number("forty two") == 42.0
    assert words_to_number("zero point zero five") == 0.05
    assert words_to_number("lots") is None


@pytest.mark.parametrize("layout", ["lines", "one line"])
def test_listing1_answer_parsed(layout):
    answer = ANSWER if layout == "lines" else ANSWER.replace("\n", " ")
    parsed = parse_behavior_answer(answer)
    assert parsed["like_percent"] == 2.5
    assert parsed["comments"] == ["love it", "so cool"]
    assert parsed["replay"] == [0.8, 0.3]
    assert parsed["scenes"] == [
        "The scene shows a red square on a blue background.",
        "The scene shows a cat and a dog.",
    ]
    assert [answer[s:e] for s, e in comment_spans(answer)] == ["love it", "so cool"]


def test_unquoted_comments_and_missing_sections():
    answer = "Liked by 3% of viewers, and the popular comments could be:\n1) wow\n2) great colours\n"
    parsed = parse_behavior_answer(answer)
    assert parsed["comments"] == ["wow", "great colours"]
    assert parsed["replay"] == [] and parsed["scenes"] == []
    assert parse_behavior_answer("nothing useful")["comments"] == []


def test_r2_matches_definition():
    truth, predicted = [1.0, 2.0, 3.0, 4.0], [1.1, 1.9, 3.2, 3.7]
    residual = sum((t - p) ** 2 for t, p in zip(truth, predicted))
    total = sum((t - np.mean(truth)) ** 2 for t in truth)
    assert metrics.r2(truth, predicted) == pytest.approx(1 - residual / total)
    assert math.isnan(metrics.r2([1.0], [1.0]))


def test_likes_r2_counts_unparsable_answers():
    answers = ["liked by 1% of viewers", "liked by two percent", "no idea", "liked by 4.0 % of viewers"]
    result = metrics.likes_r2(answers, [1.0, 2.5, 3.0, 4.0])
    assert (result["n"], result["n_parsed"], result["n_unparsable"]) == (4, 3, 1)
    assert result["likes_r2"] == pytest.approx(metrics.r2([1.0, 2.5, 4.0], [1.0, 2.0, 4.0]))


def test_replay_mae_and_spearman():
    predictions = [[0.8, 0.2], [0.5, 0.9, 0.1], []]
    references = [[1.0, 0.0], [0.4, 1.0]]
    result = metrics.replay_metrics(predictions, references + [[0.5]])
    pairs_pred, pairs_true = [0.8, 0.2, 0.5, 0.9], [1.0, 0.0, 0.4, 1.0]
    assert result["replay_mae"] == pytest.approx(np.mean(np.abs(np.subtract(pairs_pred, pairs_true))))
    rank_correlation = np.corrcoef([3, 1, 2, 4], [3.5, 1, 2, 3.5])[0, 1]  # Pearson of the (tied) ranks
    assert result["replay_spearman"] == pytest.approx(rank_correlation)
    assert (result["n_unparsable"], result["n_length_mismatch"], result["n_scenes_scored"]) == (1, 1, 4)


def test_perplexity_is_exp_mean_nll():
    result = metrics.perplexity([[1.0, 2.0], [3.0], []])
    assert result["perplexity"] == pytest.approx(math.exp(2.0))
    assert (result["n_tokens"], result["n_without_span"]) == (3, 1)


def test_generation_metrics():
    references = ["a red square on a blue background", "a cat sits next to a dog"]
    perfect = metrics.generation_metrics(references, references)
    assert perfect["bleu"] == pytest.approx(1.0)
    assert perfect["rouge1"] == perfect["rougeL"] == pytest.approx(1.0)
    assert perfect["meteor"] > 0.9
    worse = metrics.generation_metrics(["a green circle", "two dogs running"], references)
    assert worse["bleu"] < 0.2 and worse["rouge1"] < perfect["rouge1"] and worse["meteor"] < perfect["meteor"]
    from nltk.corpus import wordnet

    try:
        wordnet.ensure_loaded()
        has_wordnet = True
    except LookupError:
        has_wordnet = False
    assert perfect["meteor_synonyms"] is has_wordnet


def test_relative_improvement_direction():
    assert relative_improvement("accuracy", 0.5, 0.75) == pytest.approx(50.0)
    assert relative_improvement("perplexity", 20.0, 10.0) == pytest.approx(50.0)  # lower is better
    assert math.isnan(relative_improvement("accuracy", 0.0, 0.5))


def test_image_answer_and_comments_only_ablation():
    image = ('The description of the image is:\nThe image shows a dog.\nThe image will be liked by 4% of viewers, '
             'and the popular comments could be:\n1. "good boy"')
    assert parse_behavior_answer(image)["scenes"] == ["The image shows a dog."]
    comments_only = 'The popular comments on the video could be:\n1. "nice"\n2. "wow"'
    assert parse_behavior_answer(comments_only)["comments"] == ["nice", "wow"]
