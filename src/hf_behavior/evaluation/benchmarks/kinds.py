"""Scoring kinds the paper's benchmarks need beyond the YAML tasks' ones, on the same `TaskConfig` and runner.

- `rating` (Table 3, memorability): the next-token logits over a numeric scale (`labels`, e.g. "0".."9") give an
  expected rating per record, scored by Spearman's rho against the ground-truth score (`target_column`). This is
  the paper's "logits of the next token from the given task vocabulary" for a regression target.
- `choice` (Table 5, action / reason): each record carries its own candidate statements (`candidates_column`);
  the candidate with the highest summed log-probability is the answer, correct when it is one of the record's
  true statements (`answer_column`, a string or a list).
- `multilabel` (Table 9, HVU): every label of the vocabulary is scored by its log-probability; mean average
  precision over the labels (sklearn), the metric HVU reports.
- `regression` (Table 1, LVU like ratio / views): the model writes a number, parsed and scored by mean squared
  error; answers without a number are counted, never scored as zero.
- `qa_judge` (Table 6, MSVD / MSRVTT / ActivityNet-QA): the model answers the question; a judge chat model (any
  local model, `--judge-model`) grades each answer with LLaMA-VID's / Video-ChatGPT's prompt, reporting a yes/no
  and a 0-5 score; accuracy = yes / (yes + no), score = mean score, unparsable judgements counted.

The prompt of `qa_judge` is LLaMA-VID's `llamavid/eval/eval_msvd_qa.py` (Apache-2.0), kept word for word so the
scores compare with the paper's Table 6. The runner calls `task.predict_records` / `task.metrics` for these kinds
(see `runner.predict_batch`).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..tasks import KINDS, TaskConfig

BENCHMARK_KINDS = ("rating", "choice", "multilabel", "regression", "qa_judge")

QA_JUDGE_SYSTEM = (
    "You are an intelligent chatbot designed for evaluating the correctness of generative outputs for "
    "question-answer pairs. Your task is to compare the predicted answer with the correct answer and determine if "
    "they match meaningfully. Here's how you can accomplish the task:------##INSTRUCTIONS: - Focus on the "
    "meaningful match between the predicted answer and the correct answer.\n- Consider synonyms or paraphrases as "
    "valid matches.\n- Evaluate the correctness of the prediction compared to the answer."
)
QA_JUDGE_USER = (
    "Please evaluate the following video-based question-answer pair:\n\nQuestion: {question}\n"
    "Correct Answer: {answer}\nPredicted Answer: {prediction}\n\nProvide your evaluation only as a yes/no and score "
    "where the score is an integer value between 0 and 5, with 5 indicating the highest meaningful match. Please "
    "generate the response in the form of a Python dictionary string with keys 'pred' and 'score', where value of "
    "'pred' is  a string of 'yes' or 'no' and value of 'score' is in INTEGER, not STRING.DO NOT PROVIDE ANY OTHER "
    "OUTPUT TEXT OR EXPLANATION. Only provide the Python dictionary string. For example, your response should look "
    "like this: {{'pred': 'yes', 'score': 4.8}}."
)
NUMBER_RE = re.compile(r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass
class BenchmarkTask(TaskConfig):
    """A `TaskConfig` that also accepts the kinds above (`log_scale`: a regression scored on log values)."""

    candidates_column: str | None = None
    question_column: str | None = None
    log_scale: bool = False

    def __post_init__(self):
        if self.kind in KINDS:
            super().__post_init__()
            return
        where = self.source or self.name
        if self.kind not in BENCHMARK_KINDS:
            raise ValueError(f"task {where}: kind must be one of {KINDS + BENCHMARK_KINDS}, got {self.kind!r}")
        if self.prompt is None:
            raise ValueError(f"task {where}: a {self.kind} task needs `prompt`")
        needs = {"rating": ("labels", "target_column"), "choice": ("candidates_column", "answer_column"),
                 "multilabel": ("labels", "label_column"), "regression": ("target_column",),
                 "qa_judge": ("question_column", "answer_column")}[self.kind]
        missing = [name for name in needs if not getattr(self, name)]
        if missing:
            raise ValueError(f"task {where}: a {self.kind} task needs {missing}")

    @property
    def needs_judge(self) -> bool:
        return self.kind in ("judge", "qa_judge")

    @property
    def has_own_scoring(self) -> bool:
        return self.kind in BENCHMARK_KINDS

    # -- prediction ------------------------------------------------------------------------------------------------
    def predict_records(self, model, processor, records: list[dict], data_dir, judge=None) -> list[dict]:
        from ..scoring import generate_answers, label_logprobs

        conversations = [self.conversation(record, data_dir) for record in records]
        if self.kind == "rating":
            scores = label_logprobs(model, processor, conversations, self.labels)
            values = [float(label) for label in self.labels]
            expected = (scores.softmax(dim=-1) * scores.new_tensor(values)).sum(dim=-1).tolist()
            return [{"prediction": value, "reference": float(record[self.target_column]), "scores": row}
                    for value, record, row in zip(expected, records, scores.tolist())]
        if self.kind == "multilabel":
            scores = label_logprobs(model, processor, conversations, self.labels)
            return [{"scores": row, "reference": list(record[self.label_column])}
                    for row, record in zip(scores.tolist(), records)]
        if self.kind == "choice":
            predictions = []
            for conversation, record in zip(conversations, records):
                candidates = list(record[self.candidates_column])
                scores = label_logprobs(model, processor, [conversation], candidates)[0]
                truth = record[self.answer_column]
                truth = [truth] if isinstance(truth, str) else list(truth)
                best = candidates[int(scores.argmax())]
                predictions.append({"prediction": best, "reference": truth, "scores": scores.tolist()})
            return predictions
        answers = generate_answers(model, processor, conversations, self.max_new_tokens)
        if self.kind == "regression":
            return [{"answer": answer, "reference": float(record[self.target_column])}
                    for answer, record in zip(answers, records)]
        if judge is None:
            raise ValueError(f"task {self.name}: a qa_judge task needs a judge model (--judge-model)")
        judged = judge_qa(*judge, [record[self.question_column] for record in records],
                          [str(record[self.answer_column]) for record in records], answers)
        return [{"answer": answer, **row} for answer, row in zip(answers, judged)]

    # -- metrics ---------------------------------------------------------------------------------------------------
    def metrics(self, predictions: list[dict]) -> dict:
        from .. import metrics

        if self.kind == "rating":
            return {"spearman": metrics.spearman([p["reference"] for p in predictions],
                                                 [p["prediction"] for p in predictions]), "n": len(predictions)}
        if self.kind == "choice":
            correct = [p["prediction"] in p["reference"] for p in predictions]
            return {"accuracy": sum(correct) / len(correct) if correct else math.nan, "n": len(predictions)}
        if self.kind == "multilabel":
            return {"mAP": mean_average_precision(self.labels, predictions), "n": len(predictions)}
        if self.kind == "regression":
            parsed = [(parse_number(p["answer"]), p["reference"]) for p in predictions]
            if self.log_scale:  # LVU scores view counts as log(views); a non-positive count has no log
                parsed = [(math.log(v) if v is not None and v > 0 else None, math.log(r)) for v, r in parsed]
            scored = [(value, reference) for value, reference in parsed if value is not None]
            mse = sum((v - r) ** 2 for v, r in scored) / len(scored) if scored else math.nan
            return {"mse": mse, "n": len(predictions), "n_parsed": len(scored),
                    "n_unparsable": len(predictions) - len(scored)}
        verdicts = [p["judge_pred"] for p in predictions if p.get("judge_pred") in ("yes", "no")]
        scores = [p["judge_score"] for p in predictions if p.get("judge_score") is not None]
        return {
            "accuracy": verdicts.count("yes") / len(verdicts) if verdicts else math.nan,
            "score": sum(scores) / len(scores) if scores else math.nan,
            "n": len(predictions),
            "n_unparsable": len(predictions) - len(verdicts),
        }


def mean_average_precision(labels: Sequence[str], predictions: list[dict]) -> float:
    """Macro mean of per-label average precision over the labels that occur in the references (sklearn)."""
    import numpy as np
    from sklearn.metrics import average_precision_score

    index = {label: i for i, label in enumerate(labels)}
    truth = np.zeros((len(predictions), len(labels)))
    for row, prediction in enumerate(predictions):
        for label in prediction["reference"]:
            truth[row, index[label]] = 1
    present = truth.sum(axis=0) > 0
    if not predictions or not present.any():
        return math.nan
    scores = np.asarray([prediction["scores"] for prediction in predictions])
    return float(average_precision_score(truth[:, present], scores[:, present], average="macro"))


def parse_number(answer: str) -> float | None:
    """The first number in a generated answer ("about 1,200 views" -> 1200.0); None when there is none."""
    match = NUMBER_RE.search(answer or "")
    return float(match.group(0).replace(",", "")) if match else None


def qa_judge_messages(question: str, answer: str, prediction: str) -> list[dict]:
    return [
        {"role": "system", "content": [{"type": "text", "text": QA_JUDGE_SYSTEM}]},
        {"role": "user", "content": [{"type": "text", "text": QA_JUDGE_USER.format(
            question=question, answer=answer, prediction=prediction)}]},
    ]


def parse_qa_judgement(text: str) -> tuple[str | None, float | None]:
    """('yes'|'no'|None, score|None) from the judge's reply: its Python dict, else the words it used."""
    try:
        reply = ast.literal_eval(text.strip()[text.find("{"): text.rfind("}") + 1])
    except (SyntaxError, ValueError):
        reply = None
    if isinstance(reply, dict):
        verdict, score = str(reply.get("pred", reply.get("predicted", ""))).lower(), reply.get("score")
    else:
        verdict_match = re.search(r"\b(yes|no)\b", text, re.IGNORECASE)
        score_match = re.search(r"score\W+(\d+(?:\.\d+)?)", text, re.IGNORECASE)
        verdict = verdict_match.group(1).lower() if verdict_match else ""
        score = score_match.group(1) if score_match else None
    verdict = "yes" if "yes" in verdict else "no" if "no" in verdict else None
    try:
        score = float(score) if score is not None else None
    except (TypeError, ValueError):
        score = None
    return verdict, score


def judge_qa(judge_model, judge_processor, questions, answers, predictions, max_new_tokens: int = 32) -> list[dict]:
    """The judge's verdict and score for each (question, reference answer, predicted answer). The judge is a chat
    VLM (its processor) or a text-only chat LLM (`load_chat_model` then returns its tokenizer)."""
    from ..scoring import generate_answers

    conversations = [qa_judge_messages(q, a, p) for q, a, p in zip(questions, answers, predictions)]
    if hasattr(judge_processor, "tokenizer"):
        replies = generate_answers(judge_model, judge_processor, conversations, max_new_tokens)
    else:
        replies = generate_with_tokenizer(judge_model, judge_processor, conversations, max_new_tokens)
    rows = []
    for reply in replies:
        verdict, score = parse_qa_judgement(reply)
        rows.append({"judge_pred": verdict, "judge_score": score, "judge_answer": reply})
    return rows


def generate_with_tokenizer(model, tokenizer, conversations: Sequence[list[dict]], max_new_tokens: int) -> list[str]:
    """Greedy answers of a text-only chat LLM: string contents (what text chat templates expect), left padding."""
    import torch

    plain = [[{"role": m["role"], "content": "\n".join(b["text"] for b in m["content"])} for m in conversation]
             for conversation in conversations]
    tokenizer.padding_side = "left"
    batch = tokenizer.apply_chat_template(plain, add_generation_prompt=True, tokenize=True, return_dict=True,
                                          return_tensors="pt", padding=True).to(model.device)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    with torch.no_grad():
        output = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad_id)
    return tokenizer.batch_decode(output[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
