"""pipeline("behavior-simulation"), the optional behaviour head (trains, round-trips), and the LLM-as-judge hook."""

import pytest
import torch
from conftest import ANSWER, frames
from transformers import AutoModelForCausalLM, pipeline

import hf_behavior  # noqa: F401  (registers the pipeline task)
from hf_behavior.evaluation import BehaviorSimulationPipeline
from hf_behavior.evaluation.judge import judge_captions, judge_messages, judge_metrics, parse_score
from hf_behavior.evaluation.prompts import behavior_messages
from hf_behavior.tiny import build_tiny_model_and_processor
from hf_behavior.training.collator import BehaviorLlavaCollator

KEYS = {"like_percent", "comments", "replay", "scenes", "raw"}


def force(tokenizer, text):
    """A `prefix_allowed_tokens_fn` that makes `generate()` write `text` then </s>, whatever the weights say."""
    target = tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    prompt_lengths = {}

    def allowed(batch_id, input_ids):
        step = len(input_ids) - prompt_lengths.setdefault(batch_id, len(input_ids))
        return [target[min(step, len(target) - 1)]]

    return allowed


@pytest.fixture(scope="module")
def simulate(tiny_path):
    return pipeline("behavior-simulation", model=str(tiny_path))


def test_pipeline_structure_from_random_model(simulate):
    assert isinstance(simulate, BehaviorSimulationPipeline)
    results = simulate([frames(2, seed=5), {"media": frames(1, seed=6)[0], "title": "A cat"}], max_new_tokens=8)
    assert len(results) == 2
    for result in results:
        assert set(result) == KEYS
        assert isinstance(result["raw"], str) and isinstance(result["comments"], list)
        assert result["like_percent"] is None or isinstance(result["like_percent"], float)


def test_pipeline_parses_the_listing1_answer(simulate):
    video = frames(3, seed=7)
    tokenizer = simulate.processor.tokenizer
    expected = {
        "like_percent": 2.5,
        "comments": ["love it", "so cool"],
        "replay": [0.8, 0.3],
        "scenes": ["The scene shows a red square on a blue background.", "The scene shows a cat and a dog."],
        "raw": ANSWER,
    }
    result = simulate(video, title="Colour cuts", channel="Tiny Films", asr="go further", max_new_tokens=200,
                      prefix_allowed_tokens_fn=force(tokenizer, " " + ANSWER))
    assert result == expected
    # Batched: a video and an image of different prompt lengths, left-padded into one generate() call.
    batched = simulate([video, {"media": frames(1, seed=8)[0], "title": "A much longer title for this image"}],
                       batch_size=2, max_new_tokens=200, prefix_allowed_tokens_fn=force(tokenizer, " " + ANSWER))
    assert batched == [expected, expected]


def test_behaviour_head_trains_round_trips_and_reaches_the_pipeline(tmp_path):
    model, processor = build_tiny_model_and_processor(seed=0, behavior_head=True, behavior_loss_weight=0.5)
    samples = []
    for i, likes in enumerate([0.5, 1.5, 2.5, 3.5]):
        chat = behavior_messages({"type": "image", "image": frames(1, seed=i)[0]}, "image", title=f"post {i}")
        chat.append({"role": "assistant", "content": [{"type": "text", "text": f"Liked by {likes}% of viewers."}]})
        samples.append({"messages": chat})
    batch = BehaviorLlavaCollator(processor)(samples)
    targets = torch.tensor([0.5, 1.5, float("nan"), 3.5])  # NaN: no target for that sample
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    model.train()
    losses = []
    for _ in range(12):
        output = model(**batch, behavior_targets=targets)
        losses.append((output.loss.item(), output.lm_loss.item(), output.behavior_loss.item()))
        output.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    assert losses[-1][2] < 0.5 * losses[0][2]  # the head's MSE
    assert losses[-1][0] < losses[0][0]  # LM loss + weight * MSE
    assert losses[0][0] == pytest.approx(losses[0][1] + 0.5 * losses[0][2], rel=1e-5)

    model.eval()
    model.save_pretrained(tmp_path / "head")
    processor.save_pretrained(tmp_path / "head")
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "head").eval()
    assert reloaded.config.behavior_head and reloaded.config.behavior_loss_weight == 0.5
    with torch.no_grad():
        before, after = model(**batch).behavior_prediction, reloaded(**batch).behavior_prediction
    torch.testing.assert_close(before, after)

    simulate = pipeline("behavior-simulation", model=str(tmp_path / "head"))
    image = frames(1, seed=9)[0]
    result = simulate(image, title="new post", max_new_tokens=5)
    assert set(result) == KEYS | {"head_log_likes"}
    inputs = simulate.processor.apply_chat_template(
        behavior_messages({"type": "image", "image": image}, "image", title="new post"),
        add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt",
    )
    with torch.no_grad():
        sequence = reloaded.generate(**inputs, max_new_tokens=5, do_sample=False)
        expected = reloaded(**{**inputs, "input_ids": sequence, "attention_mask": torch.ones_like(sequence)})
    assert result["head_log_likes"] == pytest.approx(expected.behavior_prediction.item(), abs=1e-5)
    batched = simulate([image, image], title="new post", max_new_tokens=5, batch_size=2)
    assert [row["head_log_likes"] for row in batched] == pytest.approx([result["head_log_likes"]] * 2, abs=1e-4)


@pytest.mark.parametrize(
    ("answer", "score"),
    [("8", 8), ("Score: 7/10", 7), ("10", 10), ("I would give it a 3.", 3), ("0.5", None), ("great", None), ("", None)],
)
def test_parse_judge_score(answer, score):
    assert parse_score(answer) == score


def test_judge_uses_listings_and_scores_with_any_chat_model(tiny):
    model, processor = tiny
    image = {"type": "image", "image": frames(1, seed=3)[0]}
    chat = judge_messages(image, "A red square.", "detail")
    assert chat[0]["content"][0]["text"] == "You are a great critique for analyzing images and captions."
    assert "Provide a score indicating the richness of detail, ranging from 1 (low detail) to 10 (high detail)." in (
        chat[1]["content"][1]["text"]
    )
    assert "Caption: A red square." in chat[1]["content"][1]["text"]

    rows = judge_captions(model, processor, [image, image], ["A red square.", "A cat."], max_new_tokens=4,
                          prefix_allowed_tokens_fn=force(processor.tokenizer, " 7"))
    assert [row["correctness"] for row in rows] == [7, 7] and rows[1]["quality_answer"].strip() == "7"
    summary = judge_metrics(rows + [{"correctness": None, "detail": 5, "quality": None}])
    assert summary == {"n": 3, "correctness": 7.0, "detail": pytest.approx(19 / 3), "quality": 7.0,
                       "n_unparsable": 2}


@pytest.mark.parametrize(
    "fields",
    [
        {"media_kind": "video", "title": "Perfect 10", "channel": "Kia America", "brand": True, "asr": "go  further"},
        {"media_kind": "video", "title": "Cats", "channel": "Cat TV"},
        {"media_kind": "image", "title": "My dog", "subreddit": "pics"},
    ],
)
def test_inference_question_and_parser_match_the_training_templates(fields):
    """The pipeline asks what training taught (data.templates wording) and reads back what training wrote."""
    from hf_behavior.data import templates
    from hf_behavior.evaluation.parsing import parse_behavior_answer

    video = fields["media_kind"] == "video"
    record = {**fields, "media_path": "m", "like_ratio": 0.025,
              "comments": [{"text": "love it so much"}, {"text": "so cool to see"}],
              "scenes": [{"caption": "A cat", "replay": 0.5}, {"caption": "A dog", "replay": 0.25}] if video
              else [{"caption": "A dog"}]}
    training = templates.behavior_messages(record)
    asked = behavior_messages({"type": fields["media_kind"], "path": "m"}, fields["media_kind"],
                              **{k: v for k, v in fields.items() if k != "media_kind"})
    assert asked == training[:2]
    parsed = parse_behavior_answer(training[2]["content"][0]["text"])
    assert parsed["like_percent"] == 2.5
    assert parsed["comments"] == ["love it so much", "so cool to see"]
    assert parsed["replay"] == ([0.5, 0.25] if video else [])
    assert len(parsed["scenes"]) == len(record["scenes"])
