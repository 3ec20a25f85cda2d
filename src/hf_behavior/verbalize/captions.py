"""Caption + keywords for keyframes from any Hugging Face image-text-to-text model (paper Listing 5).

The model is loaded by path with ``AutoModelForImageTextToText`` / ``AutoProcessor``, prompted through the
processor's chat template and run with ``generate`` in left-padded batches. Answers are meant to be JSON
but rarely are exactly; ``parse_caption_answer`` recovers what it can and says when it could not.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:  # annotations only
    import torch

LISTING5_PROMPT = (
    "For the given image, write a one line caption and maximum 20 descriptive keywords, no more than that.\n"
    " For example:\n"
    ' {"caption": "This is a sample caption", "keywords": "keyword_1, keyword_2, keyword_3"}\n'
    " Answer in JSON format only. Do not include any other information in your answer."
)
MAX_KEYWORDS = 20

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_FIELD = re.compile(r"""["']?(caption|keywords)["']?\s*[:=]\s*(\[[^\]]*\]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""", re.I)


@dataclass
class CaptionAnswer:
    caption: str
    keywords: list[str]
    parsed: bool  # False: the answer was not JSON-like and is kept whole as the caption


def _first_object(text: str) -> str | None:
    """The first balanced {...} block (ignoring braces inside quotes)."""
    start = text.find("{")
    while start != -1:
        depth, quote = 0, None
        for position in range(start, len(text)):
            char = text[position]
            if quote:
                if char == "\\":
                    continue
                if char == quote and text[position - 1] != "\\":
                    quote = None
            elif char in "\"'" and (position == 0 or not text[position - 1].isalnum()):
                quote = char
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return text[start : position + 1]
        start = text.find("{", start + 1)
    return None


def _as_mapping(block: str) -> dict | None:
    for loader in (json.loads, ast.literal_eval):
        try:
            value = loader(block)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if isinstance(value, dict):
            return value
    return None


def _keyword_list(value) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else re.split(r"[,;\n]|#", str(value))
    keywords: list[str] = []
    for item in items:
        word = str(item).strip().strip("\"'.").strip()
        if word and word.lower() not in (k.lower() for k in keywords):
            keywords.append(word)
    return keywords[:MAX_KEYWORDS]


def parse_caption_answer(text: str) -> CaptionAnswer:
    """Recover ``{"caption", "keywords"}`` from a model answer: fenced, wrapped in prose, single-quoted,
    keywords as a list or a comma string. An unparsable answer becomes the caption with no keywords."""
    cleaned = text.strip()
    fenced = _FENCE.search(cleaned)
    body = fenced.group(1) if fenced else cleaned
    block = _first_object(body)
    mapping = _as_mapping(block) if block else None
    if mapping is None:
        fields = {name.lower(): _as_mapping(f"{{'v': {value}}}") for name, value in _FIELD.findall(body)}
        mapping = {name: found["v"] for name, found in fields.items() if found}
    mapping = {str(key).lower().strip(): value for key, value in mapping.items()}
    caption = mapping.get("caption")
    if isinstance(caption, str) and caption.strip():
        return CaptionAnswer(caption.strip(), _keyword_list(mapping.get("keywords", [])), parsed=True)
    return CaptionAnswer(" ".join(cleaned.split()), [], parsed=False)


class Captioner:
    """Batched Listing 5 captioning with any image-text-to-text checkpoint (bf16 on GPU)."""

    def __init__(self, model_path: str, device: torch.device | str = "cpu", batch_size: int = 8,
                 max_new_tokens: int = 96, dtype: torch.dtype | None = None):
        import torch  # here, not at import: `hf-behavior verbalize --help` needs neither torch nor transformers
        from transformers import AutoModelForImageTextToText, AutoProcessor

        device = torch.device(device)
        if dtype is None:
            dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
        self.processor = AutoProcessor.from_pretrained(model_path)
        self.processor.tokenizer.padding_side = "left"  # decoder-only generation continues on the right
        self.model = AutoModelForImageTextToText.from_pretrained(model_path, dtype=dtype).to(device).eval()
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens

    def _generate(self, images: list[Image.Image]) -> list[str]:
        conversations = [
            [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": LISTING5_PROMPT}]}]
            for image in images
        ]
        inputs = self.processor.apply_chat_template(
            conversations, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt",
            processor_kwargs={"padding": True},
        ).to(self.model.device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        import torch

        with torch.inference_mode():
            output = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        return self.processor.batch_decode(output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)

    def __call__(self, images: list[Image.Image]) -> list[CaptionAnswer]:
        answers: list[CaptionAnswer] = []
        for start in range(0, len(images), self.batch_size):
            answers += [parse_caption_answer(text) for text in self._generate(images[start : start + self.batch_size])]
        return answers
