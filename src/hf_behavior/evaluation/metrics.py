"""The paper's metrics as plain functions of predictions and references (no model in here).

Classification and R² come from scikit-learn, Spearman from scipy, BLEU and METEOR from nltk, ROUGE from
rouge-score. Unparsable predictions are counted and reported next to the score, never silently dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from .parsing import parse_like_percent

# Metrics where a smaller value is better; `--compare` flips the sign of their relative improvement.
LOWER_IS_BETTER = {"perplexity", "replay_mae", "mean_nll", "mse"}


def classification_metrics(references: Sequence[str], predictions: Sequence[str], labels: Sequence[str]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(references, predictions)),
        "macro_f1": float(f1_score(references, predictions, labels=list(labels), average="macro", zero_division=0)),
        "n": len(references),
    }


def r2(references: Sequence[float], predictions: Sequence[float]) -> float:
    """Coefficient of determination; NaN with fewer than two pairs (undefined, not zero)."""
    from sklearn.metrics import r2_score

    if len(references) < 2:
        return math.nan
    return float(r2_score(references, predictions))


def likes_r2(answers: Sequence[str], references: Sequence[float]) -> dict:
    """Parse "liked by X%" from each generated answer and score R² on the parsable ones; count the rest."""
    pairs = [(parse_like_percent(answer), float(ref)) for answer, ref in zip(answers, references, strict=True)]
    parsed = [(pred, ref) for pred, ref in pairs if pred is not None]
    return {
        "likes_r2": r2([ref for _, ref in parsed], [pred for pred, _ in parsed]),
        "n": len(pairs),
        "n_parsed": len(parsed),
        "n_unparsable": len(pairs) - len(parsed),
    }


def spearman(references: Sequence[float], predictions: Sequence[float]) -> float:
    from scipy.stats import spearmanr

    if len(references) < 2:
        return math.nan
    return float(spearmanr(references, predictions).statistic)


def replay_metrics(predictions: Sequence[Sequence[float]], references: Sequence[Sequence[float]]) -> dict:
    """Per-scene replay error (MAE) and Spearman rank correlation over all (scene, sample) pairs.

    Scenes are aligned by index; a prediction with no replay values is counted unparsable, one with a different
    number of scenes is scored on the common prefix and counted in `n_length_mismatch`.
    """
    predicted, truth = [], []
    unparsable = mismatched = 0
    for pred, ref in zip(predictions, references, strict=True):
        if not pred:
            unparsable += 1
            continue
        mismatched += len(pred) != len(ref)
        common = min(len(pred), len(ref))
        predicted.extend(pred[:common])
        truth.extend(ref[:common])
    return {
        "replay_mae": float(np.mean(np.abs(np.subtract(predicted, truth)))) if truth else math.nan,
        "replay_spearman": spearman(truth, predicted),
        "n": len(references),
        "n_unparsable": unparsable,
        "n_length_mismatch": mismatched,
        "n_scenes_scored": len(truth),
    }


def perplexity(token_nlls: Sequence[Sequence[float]]) -> dict:
    """Corpus perplexity: exp of the mean negative log-likelihood over all scored tokens of all samples."""
    flat = [value for sample in token_nlls for value in sample]
    mean_nll = float(np.mean(flat)) if flat else math.nan
    return {
        "perplexity": math.exp(mean_nll) if flat else math.nan,
        "mean_nll": mean_nll,
        "n": len(token_nlls),
        "n_tokens": len(flat),
        "n_without_span": sum(1 for sample in token_nlls if len(sample) == 0),
    }


def _words(text: str) -> list[str]:
    """Lower-cased word/punctuation tokens (nltk's word_tokenize needs the punkt download, so a regex instead)."""
    return re.findall(r"\w+|[^\w\s]", text.lower())


class _NoWordNet:
    """Stands in for nltk's WordNet when its data is not installed: METEOR's synonym stage then matches nothing."""

    def synsets(self, *args, **kwargs):
        return []


def _wordnet():
    from nltk.corpus import wordnet

    try:
        wordnet.ensure_loaded()
        return wordnet, True
    except LookupError:
        return _NoWordNet(), False


def generation_metrics(predictions: Sequence[str], references: Sequence[str | Sequence[str]]) -> dict:
    """Corpus BLEU-4 (nltk, smoothing 1), mean ROUGE-1/2/L F1 (rouge-score) and mean METEOR (nltk).

    METEOR's synonym matching needs nltk's WordNet data; without it (offline) METEOR runs on exact and stem matches
    only, and `meteor_synonyms` says so in the result.
    """
    from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu
    from nltk.translate.meteor_score import meteor_score
    from rouge_score import rouge_scorer

    reference_lists = [[ref] if isinstance(ref, str) else list(ref) for ref in references]
    if len(reference_lists) != len(predictions):
        raise ValueError(f"{len(predictions)} predictions but {len(reference_lists)} references")
    wordnet, has_synonyms = _wordnet()
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    rouge = {key: [] for key in ("rouge1", "rouge2", "rougeL")}
    meteor = []
    for prediction, refs in zip(predictions, reference_lists):
        scores = [scorer.score(ref, prediction) for ref in refs]
        for key in rouge:
            rouge[key].append(max(score[key].fmeasure for score in scores))
        meteor.append(meteor_score([_words(ref) for ref in refs], _words(prediction), wordnet=wordnet))
    bleu = corpus_bleu(
        [[_words(ref) for ref in refs] for refs in reference_lists],
        [_words(prediction) for prediction in predictions],
        smoothing_function=SmoothingFunction().method1,
    )
    return {
        "bleu": float(bleu),
        **{key: float(np.mean(values)) for key, values in rouge.items()},
        "meteor": float(np.mean(meteor)),
        "meteor_synonyms": has_synonyms,
        "n": len(predictions),
    }
