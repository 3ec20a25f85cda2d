"""Issue 4, shown 3: the Listing 5 answer parser on messy model answers; batched captioning by path."""

import numpy as np
import pytest
from PIL import Image

from hf_behavior.verbalize.captions import LISTING5_PROMPT, Captioner, parse_caption_answer

ANSWERS = [
    # (model answer, caption, keywords, parsed)
    ('{"caption": "A dog on a beach", "keywords": "dog, beach, sand"}', "A dog on a beach", ["dog", "beach", "sand"], True),
    ('```json\n{"caption": "A red car", "keywords": ["car", "red", "street"]}\n```', "A red car", ["car", "red", "street"], True),
    ("Sure! Here is the answer:\n{'caption': 'Two people hiking', 'keywords': 'hiking, mountain'}\nHope this helps.",
     "Two people hiking", ["hiking", "mountain"], True),
    ('{"caption": "A cake {with candles}", "keywords": "cake, candles, birthday"} extra', "A cake {with candles}",
     ["cake", "candles", "birthday"], True),
    ('{"Caption": "Sunset over water", "Keywords": "sunset; sea; orange sky"}', "Sunset over water",
     ["sunset", "sea", "orange sky"], True),
    ('{"caption": "A cat", "keywords": "cat, Cat, kitten, cat"}', "A cat", ["cat", "kitten"], True),
    ('"caption": "A crowded market", "keywords": "market, people"', "A crowded market", ["market", "people"], True),
    ('{"caption": "It\'s a \\"busy\\" street", "keywords": "street"}', 'It\'s a "busy" street', ["street"], True),
    ('{"caption": "A truncated answer", "keywords": "one, two', "A truncated answer", [], True),
    ("A man riding a horse across a field.", "A man riding a horse across a field.", [], False),
    ("", "", [], False),
    ('{"keywords": "only, keywords"}', '{"keywords": "only, keywords"}', [], False),
]


@pytest.mark.parametrize("answer, caption, keywords, parsed", ANSWERS)
def test_parse_messy_answers(answer, caption, keywords, parsed):
    result = parse_caption_answer(answer)
    assert (result.caption, result.keywords, result.parsed) == (caption, keywords, parsed)


def test_keywords_capped_at_twenty():
    answer = '{"caption": "many", "keywords": "%s"}' % ", ".join(f"k{i}" for i in range(30))
    assert parse_caption_answer(answer).keywords == [f"k{i}" for i in range(20)]


def test_prompt_is_listing_5():
    assert LISTING5_PROMPT.startswith("For the given image, write a one line caption and maximum 20 descriptive keywords")
    assert "Answer in JSON format only." in LISTING5_PROMPT


def test_captioner_batches_any_image_text_to_text_checkpoint(tiny_llava):
    captioner = Captioner(str(tiny_llava), batch_size=2, max_new_tokens=6)
    assert captioner.processor.tokenizer.padding_side == "left"
    images = [Image.fromarray(np.full((48 + 8 * i, 64, 3), 40 * i, np.uint8)) for i in range(5)]
    answers = captioner(images)
    assert len(answers) == 5
    # the batched answer for an image equals its answer alone (left padding does not leak across the batch)
    single = captioner(images[3:4])[0]
    assert answers[3].caption == single.caption
    assert all(isinstance(a.caption, str) and not a.parsed for a in answers)  # random weights do not write JSON
