"""The converter against a reference forward written here from the original LLaMA-VID / LAVIS equations."""

import json
import math

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

from hf_behavior.cli import main
from hf_behavior.models.behavior_llava.convert_llama_vid_to_hf import convert_llama_vid_checkpoint

VISION, PATCH, IMAGE, VISION_LAYERS, VISION_HEADS = 32, 14, 28, 2, 2
QFORMER, QFORMER_LAYERS, QFORMER_HEADS, QUERIES, BERT_VOCAB = 16, 2, 2, 4, 50
TEXT = LlamaConfig(hidden_size=24, intermediate_size=48, num_hidden_layers=2, num_attention_heads=2,
                   num_key_value_heads=2, vocab_size=40)


def original_checkpoint(seed: int = 0) -> tuple[dict, dict]:
    """(LLaMA-VID state dict incl. the EVA tower, LAVIS eva_vit_g.pth-style state dict) with random weights."""
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape, scale=0.2):
        return torch.randn(*shape, generator=generator) * scale

    def norm(prefix, width):
        return {f"{prefix}.weight": 1 + rand(width, scale=0.1), f"{prefix}.bias": rand(width, scale=0.1)}

    def linear(prefix, fan_in, fan_out):
        return {f"{prefix}.weight": rand(fan_out, fan_in), f"{prefix}.bias": rand(fan_out, scale=0.05)}

    patches = (IMAGE // PATCH) ** 2
    eva = {"cls_token": rand(1, 1, VISION), "pos_embed": rand(1, 1 + patches, VISION),
           "patch_embed.proj.weight": rand(VISION, 3, PATCH, PATCH, scale=0.05), "patch_embed.proj.bias": rand(VISION),
           "norm.weight": torch.ones(VISION), "norm.bias": torch.zeros(VISION)}  # LAVIS' unused head norm
    for i in range(VISION_LAYERS):
        block = f"blocks.{i}"
        eva |= norm(f"{block}.norm1", VISION) | norm(f"{block}.norm2", VISION)
        eva |= {f"{block}.attn.qkv.weight": rand(3 * VISION, VISION), f"{block}.attn.q_bias": rand(VISION),
                f"{block}.attn.v_bias": rand(VISION)}
        eva |= linear(f"{block}.attn.proj", VISION, VISION)
        eva |= linear(f"{block}.mlp.fc1", VISION, 3 * VISION) | linear(f"{block}.mlp.fc2", 3 * VISION, VISION)

    bert = "model.vlm_att_encoder.bert"
    state = {"model.vlm_att_query": rand(1, QUERIES, QFORMER),
             f"{bert}.embeddings.word_embeddings.weight": rand(BERT_VOCAB, QFORMER),
             f"{bert}.embeddings.position_embeddings.weight": rand(64, QFORMER),
             f"{bert}.embeddings.position_ids": torch.arange(64)[None]}
    state |= norm(f"{bert}.embeddings.LayerNorm", QFORMER)
    for i in range(QFORMER_LAYERS):
        layer = f"{bert}.encoder.layer.{i}"
        kinds = ["attention", "crossattention"] if i % 2 == 0 else ["attention"]
        for kind in kinds:
            source = VISION if kind == "crossattention" else QFORMER
            state |= linear(f"{layer}.{kind}.self.query", QFORMER, QFORMER)
            state |= linear(f"{layer}.{kind}.self.key", source, QFORMER)
            state |= linear(f"{layer}.{kind}.self.value", source, QFORMER)
            state |= linear(f"{layer}.{kind}.output.dense", QFORMER, QFORMER) | norm(f"{layer}.{kind}.output.LayerNorm", QFORMER)
        for suffix in ("", "_query"):
            state |= linear(f"{layer}.intermediate{suffix}.dense", QFORMER, 2 * QFORMER)
            state |= linear(f"{layer}.output{suffix}.dense", 2 * QFORMER, QFORMER)
            state |= norm(f"{layer}.output{suffix}.LayerNorm", QFORMER)
    state |= norm("model.vlm_att_ln", VISION)
    state |= linear("model.vlm_att_projector", QFORMER, VISION)
    state |= linear("model.vlm_att_key_projector", VISION, VISION)
    state |= linear("model.vlm_att_val_projector", VISION, TEXT.hidden_size)
    state |= linear("model.mm_projector.0", VISION, TEXT.hidden_size)
    state |= linear("model.mm_projector.2", TEXT.hidden_size, TEXT.hidden_size)
    torch.manual_seed(seed)
    state |= LlamaForCausalLM(TEXT).state_dict()  # LLaMA-VID's LLM keys are LlamaForCausalLM's
    return state, eva


# --- the reference forward, from the original equations ---------------------------------------------------------


def layer_norm(x, sd, prefix, eps):
    return F.layer_norm(x, x.shape[-1:], sd[f"{prefix}.weight"], sd[f"{prefix}.bias"], eps)


def lin(x, sd, prefix):
    return F.linear(x, sd[f"{prefix}.weight"], sd[f"{prefix}.bias"])


def attention(q, k, v, heads, additive_mask=None):
    (n, lq, d), lk = q.shape, k.shape[1]
    split = lambda t, length: t.view(n, length, heads, d // heads).transpose(1, 2)  # noqa: E731
    scores = split(q, lq) @ split(k, lk).transpose(-1, -2) / math.sqrt(d // heads)
    if additive_mask is not None:
        scores = scores + additive_mask
    return (scores.softmax(-1) @ split(v, lk)).transpose(1, 2).reshape(n, lq, d)


def eva_forward(eva, pixels):
    """LAVIS EVA-ViT: x + attn(norm1(x)); x + mlp(norm2(x)); all tokens, no final norm."""
    x = F.conv2d(pixels, eva["patch_embed.proj.weight"], eva["patch_embed.proj.bias"], stride=PATCH)
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([eva["cls_token"].expand(x.shape[0], -1, -1), x], dim=1) + eva["pos_embed"]
    for i in range(VISION_LAYERS):
        b = f"blocks.{i}"
        h = layer_norm(x, eva, f"{b}.norm1", 1e-6)
        bias = torch.cat([eva[f"{b}.attn.q_bias"], torch.zeros(VISION), eva[f"{b}.attn.v_bias"]])
        q, k, v = F.linear(h, eva[f"{b}.attn.qkv.weight"], bias).chunk(3, dim=-1)
        x = x + lin(attention(q, k, v, VISION_HEADS), eva, f"{b}.attn.proj")
        x = x + lin(F.gelu(lin(layer_norm(x, eva, f"{b}.norm2", 1e-6), eva, f"{b}.mlp.fc1")), eva, f"{b}.mlp.fc2")
    return x


def qformer_forward(sd, input_ids, text_mask, image_features):
    """LAVIS BertModel with query_embeds: queries first, cross-attention on even layers for the queries only."""
    bert = "model.vlm_att_encoder.bert"
    n = input_ids.shape[0]
    text = sd[f"{bert}.embeddings.word_embeddings.weight"][input_ids]
    text = text + sd[f"{bert}.embeddings.position_embeddings.weight"][: input_ids.shape[1]]
    x = torch.cat([sd["model.vlm_att_query"].expand(n, -1, -1), text], dim=1)
    x = layer_norm(x, sd, f"{bert}.embeddings.LayerNorm", 1e-12)
    mask = torch.cat([torch.ones(n, QUERIES), text_mask.float()], dim=1)
    additive = ((1 - mask) * torch.finfo(torch.float32).min)[:, None, None, :]

    def block(h, kv, prefix, extra_mask=None):
        ctx = attention(lin(h, sd, f"{prefix}.self.query"), lin(kv, sd, f"{prefix}.self.key"),
                        lin(kv, sd, f"{prefix}.self.value"), QFORMER_HEADS, extra_mask)
        return layer_norm(lin(ctx, sd, f"{prefix}.output.dense") + h, sd, f"{prefix}.output.LayerNorm", 1e-12)

    def feed_forward(h, layer, suffix):
        out = lin(F.gelu(lin(h, sd, f"{layer}.intermediate{suffix}.dense")), sd, f"{layer}.output{suffix}.dense")
        return layer_norm(out + h, sd, f"{layer}.output{suffix}.LayerNorm", 1e-12)

    for i in range(QFORMER_LAYERS):
        layer = f"{bert}.encoder.layer.{i}"
        h = block(x, x, f"{layer}.attention", additive)
        queries, words = h[:, :QUERIES], h[:, QUERIES:]
        if i % 2 == 0:
            queries = block(queries, image_features, f"{layer}.crossattention")
        x = torch.cat([feed_forward(queries, layer, "_query"), feed_forward(words, layer, "")], dim=1)
    return x[:, :QUERIES]


def reference_logits(state, eva, pixels, qformer_ids, qformer_mask, before_ids, after_ids):
    """LLaMA-VID `encode_images` + `token_generation` (compress 'mean') + the LLM on the spliced embeddings."""
    features = eva_forward(eva, pixels)
    frames = features.shape[0]
    query_output = qformer_forward(state, qformer_ids.expand(frames, -1), qformer_mask.expand(frames, -1),
                                   layer_norm(features, state, "model.vlm_att_ln", 1e-5))
    text_q = lin(query_output, state, "model.vlm_att_projector")
    patches = features[:, 1:]
    scores = text_q @ lin(patches, state, "model.vlm_att_key_projector").transpose(-1, -2) / patches.shape[-1] ** 0.5
    context = lin((scores.softmax(-1) @ patches).mean(1)[:, None], state, "model.vlm_att_val_projector")
    content = lin(F.gelu(lin(patches.mean(1, keepdim=True), state, "model.mm_projector.0")), state, "model.mm_projector.2")
    visual = torch.cat([context, content], dim=1).flatten(0, 1)
    llm = LlamaForCausalLM(TEXT)
    llm.load_state_dict({k: v for k, v in state.items() if k.startswith(("model.embed", "model.layers", "model.norm", "lm_head"))})
    embed = llm.get_input_embeddings()
    inputs = torch.cat([embed(before_ids), visual, embed(after_ids)])[None]
    return llm(inputs_embeds=inputs).logits[0]


def write_checkpoint(folder, state, eva, *, eva_inside: bool, shards_as: str):
    folder.mkdir(parents=True, exist_ok=True)
    config = TEXT.to_dict() | {"mm_hidden_size": VISION, "num_query": QUERIES, "compress_type": "mean",
                               "bert_type": "qformer_pretrain_freeze_all", "mm_projector_type": "mlp2x_gelu",
                               "mm_vision_select_feature": "patch", "mm_vision_tower": "eva_vit_g.pth",
                               "architectures": ["LlavaLlamaAttForCausalLM"]}
    (folder / "config.json").write_text(json.dumps(config))
    weights = dict(state)
    if eva_inside:
        weights |= {f"model.vision_tower.vision_tower.{k}": v for k, v in eva.items()}
    else:
        torch.save(eva, folder / "eva_vit_g.pth")
    keys = sorted(weights)
    halves = [dict((k, weights[k].contiguous()) for k in keys[: len(keys) // 2]),
              dict((k, weights[k].contiguous()) for k in keys[len(keys) // 2 :])]
    for i, half in enumerate(halves):
        if shards_as == "safetensors":
            save_file(half, folder / f"model-0000{i + 1}-of-00002.safetensors")
        else:
            torch.save(half, folder / f"pytorch_model-0000{i + 1}-of-00002.bin")


@pytest.mark.parametrize(("eva_inside", "shards_as"), [(True, "safetensors"), (False, "bin")])
def test_converted_logits_equal_the_reference_forward(tmp_path, eva_inside, shards_as):
    state, eva = original_checkpoint()
    write_checkpoint(tmp_path / "ckpt", state, eva, eva_inside=eva_inside, shards_as=shards_as)
    model = convert_llama_vid_checkpoint(tmp_path / "ckpt", vision_heads=VISION_HEADS, qformer_heads=QFORMER_HEADS).eval()
    config = model.config
    assert (config.num_query_tokens, config.compress, config.vision_config.num_hidden_layers) == (QUERIES, "mean", 2)

    generator = torch.Generator().manual_seed(1)
    frames = 3
    pixels = torch.randn(frames, 3, IMAGE, IMAGE, generator=generator)
    qformer_ids = torch.randint(0, BERT_VOCAB, (1, 7), generator=generator)
    qformer_mask = torch.tensor([[1, 1, 1, 1, 1, 0, 0]])
    before, after = torch.tensor([1, 5, 9, 11]), torch.tensor([3, 7, 2])
    with torch.no_grad():
        expected = reference_logits(state, eva, pixels, qformer_ids, qformer_mask, before, after)
        placeholders = torch.full((2 * frames,), config.video_token_id)
        ours = model(
            input_ids=torch.cat([before, placeholders, after])[None], pixel_values_videos=pixels,
            num_frames_per_video=[frames], qformer_input_ids=qformer_ids, qformer_attention_mask=qformer_mask,
        ).logits[0]
    assert ours.shape == expected.shape
    assert (ours - expected).abs().max() < 1e-5


def test_saved_conversion_round_trips(tmp_path):
    state, eva = original_checkpoint()
    write_checkpoint(tmp_path / "ckpt", state, eva, eva_inside=True, shards_as="safetensors")
    code = main(["convert-llama-vid", "--checkpoint", str(tmp_path / "ckpt"), "--output", str(tmp_path / "hf"),
                 "--vision-heads", "2", "--qformer-heads", "2", "--dtype", "float32"])
    assert code == 0 and (tmp_path / "hf" / "model.safetensors").is_file()
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "hf")
    torch.testing.assert_close(model.model.query_tokens, state["model.vlm_att_query"])


def test_missing_key_fails_with_its_name(tmp_path):
    state, eva = original_checkpoint()
    del state["model.vlm_att_key_projector.weight"]
    write_checkpoint(tmp_path / "ckpt", state, eva, eva_inside=True, shards_as="safetensors")
    with pytest.raises(KeyError, match="model.context_key_projector.weight"):
        convert_llama_vid_checkpoint(tmp_path / "ckpt", vision_heads=VISION_HEADS, qformer_heads=QFORMER_HEADS)


def test_unmapped_key_fails_with_its_name(tmp_path):
    state, eva = original_checkpoint()
    state["model.some_new_adapter.weight"] = torch.zeros(2)
    write_checkpoint(tmp_path / "ckpt", state, eva, eva_inside=True, shards_as="safetensors")
    with pytest.raises(KeyError, match="model.some_new_adapter.weight"):
        convert_llama_vid_checkpoint(tmp_path / "ckpt", vision_heads=VISION_HEADS, qformer_heads=QFORMER_HEADS)
