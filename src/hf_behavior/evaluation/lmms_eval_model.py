"""BehaviorLlava (or any chat VLM `hf-behavior eval` loads) as an lmms-eval model, so lmms-eval's task zoo runs it:

    pip install "hf-behavior[lmms-eval]"
    lmms-eval --model behavior_llava --model_args pretrained=PATH --tasks TASK

The `lmms_eval.models` entry point (pyproject.toml) registers `manifest()`. Prompts go through the processor's chat
template with the document's visuals (PIL images, or image / video paths) before the text, as `hf-behavior eval`
builds them; log-likelihoods and generation reuse `evaluation.scoring`, so both tools score a model the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from lmms_eval.api.model import lmms

from .benchmarks.common import VIDEO_EXTENSIONS
from .scoring import (
    continuation_logprobs,
    encode_prompts,
    generate_answers,
    load_chat_model,
)


def manifest():
    """The lmms-eval registration (`lmms_eval.models` entry point): model id `behavior_llava`, a simple model."""
    from lmms_eval.models.registry_v2 import ModelManifest

    return ModelManifest(model_id="behavior_llava", simple_class_path=f"{__name__}.BehaviorLlavaLmms")


class BehaviorLlavaLmms(lmms):
    """lmms-eval "simple" model: requests carry the prompt text, the task's `doc_to_visual` and the document id."""

    is_simple = True

    def __init__(self, pretrained: str, device: str | None = None, batch_size: int | str = 1,
                 max_new_tokens: int = 256, **unexpected):
        super().__init__()
        if unexpected:
            raise ValueError(f"behavior_llava: unknown --model_args {sorted(unexpected)} "
                             "(known: pretrained, device, batch_size, max_new_tokens)")
        self.model, self.processor = load_chat_model(pretrained, device)
        self.batch_size_per_gpu = int(batch_size)
        self.max_new_tokens = int(max_new_tokens)

    @property
    def batch_size(self) -> int:
        return self.batch_size_per_gpu

    def _conversation(self, context: str, doc_to_visual, doc_id, task: str, split: str) -> list[dict]:
        visuals = doc_to_visual(self.task_dict[task][split][doc_id]) if doc_to_visual is not None else []
        blocks = []
        for visual in _flatten(visuals or []):
            if isinstance(visual, str):
                kind = "video" if Path(visual).suffix.lower() in VIDEO_EXTENSIONS else "image"
                blocks.append({"type": kind, "path": visual})
            else:  # a PIL image (lmms-eval's image tasks)
                blocks.append({"type": "image", "image": visual})
        return [{"role": "user", "content": [*blocks, {"type": "text", "text": context}]}]

    def loglikelihood(self, requests) -> list[tuple[float, bool]]:
        """(summed log-probability of the continuation after the chat prompt, whether greedy decoding gives it)."""
        results = []
        for context, target, doc_to_visual, doc_id, task, split in (request.args for request in requests):
            continuation = target if isinstance(target, str) else target(self.task_dict[task][split][doc_id])
            conversation = self._conversation(context, doc_to_visual, doc_id, task, split)
            # the chat template puts " " before an answer (as label scoring in evaluation.scoring does)
            scored = continuation if continuation[:1].isspace() else " " + continuation
            logprobs = continuation_logprobs(self.model, self.processor, [conversation], [[(scored, True)]])[0]
            results.append((float(logprobs.sum()), self._is_greedy(conversation, scored)))
        return results

    @torch.no_grad()
    def _is_greedy(self, conversation: list[dict], continuation: str) -> bool:
        """Whether greedy decoding after the prompt yields exactly the continuation's tokens."""
        target = self.processor.tokenizer(continuation, add_special_tokens=False)["input_ids"]
        batch = encode_prompts(self.processor, [conversation]).to(self.model.device)
        output = self.model.generate(**batch, max_new_tokens=len(target), min_new_tokens=len(target), do_sample=False,
                                     pad_token_id=self.processor.tokenizer.pad_token_id)
        return output[0, batch["input_ids"].shape[1]:].tolist() == target

    def generate_until(self, requests) -> list[str]:
        """Greedy answers (sampling when the task's generation_kwargs ask for it), cut at the task's `until`."""
        answers: dict[int, str] = {}
        batches: dict[str, list[int]] = {}
        for index, request in enumerate(requests):  # one batch per distinct generation_kwargs
            batches.setdefault(json.dumps(request.args[1], sort_keys=True, default=str), []).append(index)
        for indices in batches.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = [requests[index].args for index in indices[start: start + self.batch_size]]
                kwargs = dict(chunk[0][1])
                until = kwargs.pop("until", None) or []
                until = [until] if isinstance(until, str) else list(until)
                max_new_tokens = int(kwargs.pop("max_new_tokens", self.max_new_tokens))
                temperature = float(kwargs.pop("temperature", 0) or 0)
                generate_kwargs = {"do_sample": True, "temperature": temperature} if temperature > 0 else {}
                conversations = [self._conversation(*args[:1], *args[2:]) for args in chunk]
                texts = generate_answers(self.model, self.processor, conversations, max_new_tokens, **generate_kwargs)
                for index, text in zip(indices[start: start + self.batch_size], texts):
                    for stop in until:
                        text = text.split(stop)[0] if stop else text
                    answers[index] = text
        return [answers[index] for index in range(len(requests))]

    def generate_until_multi_round(self, requests) -> list[str]:
        raise NotImplementedError("behavior_llava: multi-round generation is not supported")


def _flatten(items) -> list:
    return [leaf for item in items for leaf in (_flatten(item) if isinstance(item, (list, tuple)) else [item])]
