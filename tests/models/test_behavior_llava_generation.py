"""Generation with media: every beam, returned sequence, assistant step and cache kind sees its own prompt's media."""

import numpy as np
import pytest
import torch

from hf_behavior.tiny import build_tiny_model_and_processor


@pytest.fixture(scope="module", params=["bpe", "sentencepiece"])
def tiny(request):
    model, processor = build_tiny_model_and_processor(seed=5, tokenizer=request.param)
    # Sharpen the context attention so that frames in the wrong order or from the wrong prompt change the logits.
    for projector in (model.model.context_query_projector, model.model.context_key_projector):
        torch.nn.init.normal_(projector.weight, std=1.0)
    return model.eval(), processor


def media(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (count, 40, 60, 3), dtype=np.uint8)


def conversation(question: str, blocks: list[dict]) -> list[dict]:
    return [{"role": "user", "content": [{"type": "text", "text": question}, *blocks]}]


PROMPTS = {
    # Two prompts, each with its own 3-frame video.
    "3-frame video": [
        conversation("Describe the video.", [{"type": "video", "video": media(3, seed=1)}]),
        conversation("What happens here?", [{"type": "video", "video": media(3, seed=2)}]),
    ],
    # Two prompts with two images each, and a text-only prompt between them.
    "two images": [
        conversation("Compare the images.", [{"type": "image", "image": frame} for frame in media(2, seed=3)]),
        conversation("Just text, no media.", []),
        conversation("Which is brighter?", [{"type": "image", "image": frame} for frame in media(2, seed=4)]),
    ],
}


def encode(processor, conversations):
    return processor.apply_chat_template(
        conversations,
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
        return_tensors="pt",
        processor_kwargs={"padding": True, "padding_side": "left"},
    )


def next_token_logits(model, inputs) -> torch.Tensor:
    with torch.no_grad():
        return model(**inputs).logits[:, -1]


@pytest.mark.parametrize("prompts", list(PROMPTS), ids=list(PROMPTS))
@pytest.mark.parametrize(
    "generation",
    [
        {"num_beams": 3, "num_return_sequences": 3},
        {"num_beams": 2, "do_sample": True, "num_return_sequences": 2},
        {"do_sample": True, "num_return_sequences": 3},
    ],
    ids=["beam", "beam-sample", "sample"],
)
def test_every_copy_starts_from_its_prompts_media(tiny, prompts, generation):
    """First-step logits of every beam / returned sequence equal one forward of its prompt (1e-5)."""
    model, processor = tiny
    inputs = encode(processor, PROMPTS[prompts])
    expected = next_token_logits(model, inputs)
    copies = generation.get("num_beams", generation["num_return_sequences"])
    with torch.no_grad():
        output = model.generate(
            **inputs, max_new_tokens=2, output_logits=True, return_dict_in_generate=True, **generation
        )
    first_step = output.logits[0].view(len(PROMPTS[prompts]), copies, -1)
    for copy in range(copies):
        torch.testing.assert_close(first_step[:, copy], expected, rtol=0, atol=1e-5)


def greedy(model, inputs, **kwargs) -> torch.Tensor:
    with torch.no_grad():
        return model.generate(**inputs, max_new_tokens=6, do_sample=False, **kwargs)


@pytest.mark.parametrize("prompts", list(PROMPTS), ids=list(PROMPTS))
def test_static_cache_generates_as_the_dynamic_cache(tiny, prompts):
    model, processor = tiny
    inputs = encode(processor, PROMPTS[prompts])
    with torch.no_grad():
        output = model.generate(
            **inputs, max_new_tokens=6, do_sample=False, cache_implementation="static", output_logits=True,
            return_dict_in_generate=True,
        )
    torch.testing.assert_close(output.logits[0], next_token_logits(model, inputs), rtol=0, atol=1e-5)
    assert output.sequences.tolist() == greedy(model, inputs).tolist()


@pytest.mark.parametrize("prompts", list(PROMPTS), ids=list(PROMPTS))
def test_batched_greedy_generates_as_each_prompt_alone(tiny, prompts):
    model, processor = tiny
    batched = greedy(model, encode(processor, PROMPTS[prompts]))[:, -6:]
    alone = [greedy(model, encode(processor, [prompt]))[0, -6:] for prompt in PROMPTS[prompts]]
    assert batched.tolist() == [tokens.tolist() for tokens in alone]


@pytest.mark.parametrize("assistance", [{"prompt_lookup_num_tokens": 2}, "same model"], ids=["prompt-lookup", "assistant"])
def test_assisted_decoding_generates_as_greedy(tiny, assistance):
    """Assisted decoding verifies candidates with the main model, which must see the video at its prefill."""
    model, processor = tiny
    inputs = encode(processor, PROMPTS["3-frame video"][:1])
    kwargs = {"assistant_model": model} if assistance == "same model" else assistance
    assert greedy(model, inputs, **kwargs).tolist() == greedy(model, inputs).tolist()
