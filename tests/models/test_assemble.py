"""Assembling BehaviorLlava from a saved vision tower, Q-Former and LLM: weights kept, new modules only initialised."""

import copy

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import (
    AutoModelForCausalLM,
    AutoProcessor,
    Blip2VisionModel,
    InstructBlipConfig,
    InstructBlipForConditionalGeneration,
    InstructBlipQFormerModel,
    LlamaForCausalLM,
    SiglipImageProcessor,
    SiglipVisionConfig,
    SiglipVisionModel,
)

import hf_behavior  # noqa: F401  (registers the Auto classes)
from hf_behavior.models.behavior_llava import assemble_behavior_llava
from hf_behavior.synthetic_media import write_scene_video
from hf_behavior.training.tiny_data import training_samples
from hf_behavior.tiny import build_tiny_qformer_tokenizer, build_tiny_tokenizer, tiny_config


SHAPE_KEYS = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "image_size",
              "patch_size")


def plain_llm(tie: bool, seed: int):
    """A tiny LLaMA and its tokenizer without <image>/<video> and without a pad token."""
    tokenizer = build_tiny_tokenizer(placeholders=False)
    tokenizer.pad_token = None
    text_config = copy.deepcopy(tiny_config().text_config)
    text_config.vocab_size, text_config.pad_token_id, text_config.tie_word_embeddings = len(tokenizer), None, tie
    torch.manual_seed(seed)
    return LlamaForCausalLM(text_config), tokenizer


def save(model, path, *tokenizers):
    model.save_pretrained(path)
    for tokenizer in tokenizers:
        tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    """Saved tiny parts: a Blip2VisionModel, an InstructBlipQFormerModel + BERT tokenizer, a LLaMA + tokenizer."""
    root = tmp_path_factory.mktemp("parts")
    config = tiny_config()
    torch.manual_seed(0)
    vision = Blip2VisionModel(config.vision_config)
    qformer = InstructBlipQFormerModel(config.qformer_config)
    llm, tokenizer = plain_llm(tie=False, seed=1)
    return {
        "vision": (vision, save(vision, root / "vision")),
        "qformer": (qformer, save(qformer, root / "qformer", build_tiny_qformer_tokenizer())),
        "llm": (llm, save(llm, root / "llm", tokenizer)),
        "root": root,
    }


@pytest.fixture(scope="module")
def assembled(parts):
    model, processor = assemble_behavior_llava(parts["vision"][1], parts["qformer"][1], parts["llm"][1])
    return model, processor


def assert_same_weights(module, reference):
    expected = reference.state_dict()
    actual = module.state_dict()
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(actual[key], value), key


def batch(processor, root):
    """The quickstart's video chat and image chat, through the processor's chat template."""
    video = write_scene_video(root / "scenes.mp4")
    image = root / "image.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(image)
    conversations = [sample["messages"] for sample in training_samples(video, image)]
    return processor.apply_chat_template(
        conversations, tokenize=True, return_dict=True, return_tensors="pt", processor_kwargs={"padding": True}
    )


def test_parts_keep_their_weights(parts, assembled):
    model, _ = assembled
    assert_same_weights(model.model.vision_tower, parts["vision"][0])
    assert_same_weights(model.model.qformer, parts["qformer"][0])
    llm = parts["llm"][0]
    old_rows = llm.get_input_embeddings().weight.shape[0]
    for key, value in llm.model.state_dict().items():
        actual = model.model.language_model.state_dict()[key]
        assert torch.equal(actual[:old_rows] if key == "embed_tokens.weight" else actual, value), key
    assert torch.equal(model.lm_head.weight[:old_rows], llm.lm_head.weight)
    # New placeholder rows are mean-resized, not left empty.
    for matrix in (model.get_input_embeddings().weight, model.lm_head.weight):
        torch.testing.assert_close(matrix[old_rows:], matrix[:old_rows].mean(0).expand(2, -1), atol=1e-3, rtol=0)
    tensors = [*model.named_parameters(), *model.named_buffers()]
    assert not [name for name, tensor in tensors if tensor.is_meta]
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    # The modules LLaMA-VID adds are initialised by _init_weights: normal(0, initializer_range) weights, zero biases.
    projector = model.model.content_projector.linear_1
    assert torch.count_nonzero(projector.bias) == 0
    assert 0.5 < projector.weight.std().item() / model.config.text_config.initializer_range < 2
    assert 0.5 < model.model.query_tokens.std().item() / model.config.qformer_config.initializer_range < 2
    assert not model.config.tie_word_embeddings and model.lm_head.weight is not model.get_input_embeddings().weight


def test_placeholders_and_pad_token(parts, assembled):
    model, processor = assembled
    tokenizer, config = processor.tokenizer, model.config
    old_vocab = parts["llm"][0].config.vocab_size
    assert sorted([config.image_token_id, config.video_token_id]) == [old_vocab, old_vocab + 1]
    assert (config.image_token_id, config.video_token_id) == (processor.image_token_id, processor.video_token_id)
    assert tokenizer.convert_ids_to_tokens([config.image_token_id, config.video_token_id]) == ["<image>", "<video>"]
    assert config.text_config.vocab_size == len(tokenizer) == model.get_input_embeddings().weight.shape[0]
    # LLaMA-VID pads with unk.
    assert tokenizer.pad_token == "<unk>" and config.pad_token_id == tokenizer.unk_token_id
    assert model.generation_config.pad_token_id == tokenizer.unk_token_id
    assert processor.num_patches == config.num_patches


def test_image_and_video_chat_trains_and_round_trips(parts, assembled, tmp_path):
    model, processor = assembled
    inputs = batch(processor, tmp_path)
    ids = inputs["input_ids"]
    assert (ids == model.config.video_token_id).any() and (ids == model.config.image_token_id).any()
    model.train()
    output = model(**inputs, labels=inputs["input_ids"])
    assert torch.isfinite(output.loss)
    output.loss.backward()
    for module in (model.model.vision_tower, model.model.qformer, model.model.context_key_projector, model.lm_head):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters()), type(module).__name__
    model.zero_grad()

    model.eval()
    model.save_pretrained(tmp_path / "assembled")
    processor.save_pretrained(tmp_path / "assembled")
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "assembled").eval()
    reloaded_inputs = batch(AutoProcessor.from_pretrained(tmp_path / "assembled"), tmp_path)
    for key, value in inputs.items():
        assert torch.equal(reloaded_inputs[key], value), key
    with torch.no_grad():
        torch.testing.assert_close(reloaded(**inputs).logits, model(**inputs).logits, rtol=0, atol=0)


def test_instructblip_checkpoint_parts_tied_llm_bfloat16(parts):
    """A full InstructBLIP checkpoint gives both the tower and the Q-Former (with its query tokens)."""
    root, config = parts["root"], tiny_config()
    instructblip = InstructBlipForConditionalGeneration(
        InstructBlipConfig(
            vision_config=config.vision_config.to_dict(),
            qformer_config=config.qformer_config.to_dict(),
            text_config=config.text_config.to_dict(),
            num_query_tokens=3,
        )
    )
    path = save(instructblip, root / "instructblip")
    build_tiny_qformer_tokenizer().save_pretrained(root / "instructblip" / "qformer_tokenizer")
    llm, tokenizer = plain_llm(tie=True, seed=2)
    model, processor = assemble_behavior_llava(
        path, path, save(llm, root / "tied_llm", tokenizer), dtype="bfloat16", compress="grid:2"
    )
    assert model.config.num_query_tokens == 3 and model.config.compress == "grid:2"
    instructblip = instructblip.to(torch.bfloat16)
    assert torch.equal(model.model.query_tokens, instructblip.query_tokens)
    assert_same_weights(model.model.vision_tower, instructblip.vision_model)
    assert_same_weights(model.model.qformer, instructblip.qformer)
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    assert model.config.tie_word_embeddings and model.lm_head.weight is model.get_input_embeddings().weight
    assert torch.equal(model.lm_head.weight[: llm.config.vocab_size], llm.lm_head.weight.to(torch.bfloat16))
    assert processor.compress == "grid:2"


def test_siglip_tower_with_its_image_processor(parts):
    """An AutoModel tower without CLS: patches kept whole, its own image processor and normalisation used."""
    tower_config = SiglipVisionConfig(**{key: getattr(tiny_config().vision_config, key) for key in SHAPE_KEYS})
    image_processor = SiglipImageProcessor(size={"height": 56, "width": 56})
    path = save(SiglipVisionModel(tower_config), parts["root"] / "siglip", image_processor)
    model, processor = assemble_behavior_llava(path, parts["qformer"][1], parts["llm"][1], video_representation="pool")
    assert model.config.vision_feature_select_strategy == "full" and not hasattr(model.model, "qformer")
    assert isinstance(processor.image_processor, SiglipImageProcessor)
    assert list(processor.video_processor.image_mean) == [0.5, 0.5, 0.5]
    image = np.random.default_rng(1).integers(0, 255, (40, 60, 3), dtype=np.uint8)
    inputs = processor(text="USER: <image>\nWhat is shown? ASSISTANT:", images=[image], return_tensors="pt")
    assert model(**inputs).image_hidden_states.shape[0] == model.config.num_visual_tokens(1)


def test_bad_parts_raise_clear_errors(parts):
    qformer_config = copy.deepcopy(tiny_config().qformer_config)
    qformer_config.encoder_hidden_size = 48
    wide = InstructBlipQFormerModel(qformer_config)
    path = save(wide, parts["root"] / "wide_qformer", build_tiny_qformer_tokenizer())
    with pytest.raises(ValueError, match=r"48-wide vision features but the vision tower .* is 32 wide"):
        assemble_behavior_llava(parts["vision"][1], path, parts["llm"][1])
    with pytest.raises(ValueError, match=r"holds a 'llama' model, not a vision tower"):
        assemble_behavior_llava(parts["llm"][1], parts["qformer"][1], parts["llm"][1])
    with pytest.raises(ValueError, match=r"the Q-Former must be an InstructBlipQFormerModel"):
        assemble_behavior_llava(parts["vision"][1], parts["vision"][1], parts["llm"][1])
