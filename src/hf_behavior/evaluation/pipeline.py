"""`pipeline("behavior-simulation")`: how will people react to this video or image?

    import hf_behavior  # registers the task
    simulate = pipeline("behavior-simulation", model="path/to/behavior-llava")
    simulate("ad.mp4", title="Perfect 10", channel="Kia America", brand=True)
    # {"like_percent": 2.5, "comments": [...], "replay": [...], "scenes": [...], "raw": "..."}

The model is asked the Listing-1 question and its answer is read back with the tolerant parser of
`hf_behavior.evaluation.parsing`; a field it did not produce comes back as None / []. With a behaviour head
(`config.behavior_head=True`) the output also carries `head_log_likes`, the head's prediction read at the last token
of the prompt + generated answer (where training puts it: the last real token of the conversation).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, Pipeline
from transformers.pipelines import PIPELINE_REGISTRY

from .parsing import parse_behavior_answer
from .prompts import behavior_messages

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".gif"}
QUESTION_FIELDS = ("title", "channel", "asr", "brand", "subreddit")


def media_block(media) -> tuple[dict, str]:
    """A chat content block for a path, PIL image, frame array ([H,W,3] image, [T,H,W,3] video) or media dict."""
    if isinstance(media, dict):
        kind = "video" if "video" in media or media.get("type") == "video" else "image"
        return ({"type": kind, **media}, kind)
    if isinstance(media, (str, Path)):
        kind = "video" if Path(media).suffix.lower() in VIDEO_SUFFIXES else "image"
        return {"type": kind, "path": str(media)}, kind
    if isinstance(media, np.ndarray) and media.ndim == 4:
        return {"type": "video", "video": media}, "video"
    if isinstance(media, np.ndarray) and media.ndim != 3:
        raise ValueError(f"frame arrays must be [H,W,3] (image) or [T,H,W,3] (video), got shape {media.shape}")
    return {"type": "image", "image": media}, "image"


class BehaviorSimulationPipeline(Pipeline):
    """Media (+ optional title / channel / ASR transcript) in; simulated likes, comments and replay graph out.

    Inputs are one media item (or a dict `{"media": ..., "title": ..., "channel": ..., "asr": ...}`) or a list of
    them (`brand=True` words the question as an ad, `subreddit=` as a Reddit post); generation parameters
    (`max_new_tokens`, `do_sample`, ...) pass through to `generate()`.
    """

    _load_processor = True
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False
    _load_tokenizer = False
    _pipeline_calls_generate = True

    def _sanitize_parameters(self, title=None, channel=None, asr=None, brand=None, subreddit=None, **generate_kwargs):
        question = (title, channel, asr, brand, subreddit)
        preprocess_params = {k: v for k, v in zip(QUESTION_FIELDS, question) if v is not None}
        return preprocess_params, {"generate_kwargs": generate_kwargs}, {}

    def __call__(self, inputs, batch_size: int | None = None, **kwargs):
        """As any pipeline; a list with `batch_size > 1` is encoded and generated in left-padded batches."""
        batch_size = batch_size or self._batch_size or 1
        if not isinstance(inputs, list) or batch_size == 1:
            return super().__call__(inputs, **kwargs)
        preprocess_params, forward_params, _ = self._sanitize_parameters(**kwargs)
        preprocess_params = {**self._preprocess_params, **preprocess_params}
        forward_params = {**self._forward_params, **forward_params}
        results = []
        for start in range(0, len(inputs), batch_size):
            chunk = [self._messages(item, **preprocess_params) for item in inputs[start : start + batch_size]]
            model_inputs = self._encode(chunk).to(self.device)
            with torch.no_grad():
                results += self._results(self._forward(model_inputs, **forward_params))
        return results

    def _messages(self, inputs, **question) -> list[dict]:
        if isinstance(inputs, dict) and "media" in inputs:
            question = {**question, **{k: inputs[k] for k in QUESTION_FIELDS if inputs.get(k) is not None}}
            inputs = inputs["media"]
        block, kind = media_block(inputs)
        return behavior_messages(block, kind, **question)

    def _encode(self, conversations: list[list[dict]]):
        self.processor.tokenizer.padding_side = "left"
        return self.processor.apply_chat_template(
            conversations, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt",
            processor_kwargs={"padding": True},
        )

    def preprocess(self, inputs, **question):
        return self._encode([self._messages(inputs, **question)])

    def _forward(self, model_inputs, generate_kwargs=None):
        pad_token_id = self.processor.tokenizer.pad_token_id
        generate_kwargs = self._prepare_generate_kwargs(generate_kwargs or {})
        generate_kwargs.setdefault("pad_token_id", pad_token_id)
        generate_kwargs.setdefault("max_new_tokens", 512)
        prompt_length = model_inputs["input_ids"].shape[1]
        sequences = self.model.generate(**model_inputs, **generate_kwargs)
        generated = sequences[:, prompt_length:]
        outputs = {"generated": generated}
        if getattr(self.model, "behavior_head", None) is not None:
            # The head reads the last token of the whole conversation, as in training: prompt + generated answer.
            attention_mask = torch.cat([model_inputs["attention_mask"], (generated != pad_token_id).long()], dim=1)
            conversation = {**model_inputs, "input_ids": sequences, "attention_mask": attention_mask}
            outputs["head_log_likes"] = self.model(**conversation).behavior_prediction
        return outputs

    def _results(self, model_outputs) -> list[dict]:
        answers = self.processor.batch_decode(model_outputs["generated"], skip_special_tokens=True)
        results = [parse_behavior_answer(answer.strip()) for answer in answers]
        if "head_log_likes" in model_outputs:
            for result, value in zip(results, model_outputs["head_log_likes"].reshape(-1).tolist()):
                result["head_log_likes"] = float(value)
        return results

    def postprocess(self, model_outputs):
        return self._results(model_outputs)[0]


PIPELINE_REGISTRY.register_pipeline(
    "behavior-simulation", pipeline_class=BehaviorSimulationPipeline, pt_model=AutoModelForCausalLM, type="multimodal"
)
