"""BehaviorLlava: LLaMA-VID (Li et al. 2023) built from transformers parts, as trained by Behavior-LLaVA.

Every image or video frame becomes one *context* token (instruction-aware: Q-Former queries attend over the
patches) followed by its *content* token(s) (pooled patches through an MLP projector). The tokens of a video are
frame-major and replace the expanded `<video>` placeholder; an image replaces its `<image>` placeholder.
"""


from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import (
    AutoModel,
    Blip2VisionModel,
    GenerationMixin,
    InstructBlipQFormerModel,
    PreTrainedModel,
)
from transformers import initialization as init
from transformers.activations import ACT2FN
from transformers.cache_utils import Cache
from transformers.modeling_outputs import BaseModelOutputWithPooling, ModelOutput
from transformers.modeling_utils import slice_logits_to_keep
from transformers.utils.generic import can_return_tuple

from .configuration_behavior_llava import BehaviorLlavaConfig, slow_frame_mask

# Sub-models transformers' AutoModel does not map from their config.
SUBMODEL_CLASSES = {"blip_2_vision_model": Blip2VisionModel, "instructblip_qformer": InstructBlipQFormerModel}


def build_submodel(config):
    model_class = SUBMODEL_CLASSES.get(config.model_type)
    return model_class(config) if model_class is not None else AutoModel.from_config(config)


@dataclass
class BehaviorLlavaModelOutputWithPast(ModelOutput):
    last_hidden_state: torch.FloatTensor | None = None
    past_key_values: Cache | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None
    image_hidden_states: torch.FloatTensor | None = None
    video_hidden_states: torch.FloatTensor | None = None


@dataclass
class BehaviorLlavaCausalLMOutputWithPast(ModelOutput):
    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    past_key_values: Cache | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None
    image_hidden_states: torch.FloatTensor | None = None
    video_hidden_states: torch.FloatTensor | None = None
    lm_loss: torch.FloatTensor | None = None
    behavior_loss: torch.FloatTensor | None = None
    behavior_prediction: torch.FloatTensor | None = None


class BehaviorLlavaMultiModalProjector(nn.Module):
    """LLaVA's `mlp2x_gelu`: Linear(vision, text) -> GELU -> Linear(text, text)."""

    def __init__(self, in_features: int, out_features: int, act: str):
        super().__init__()
        self.linear_1 = nn.Linear(in_features, out_features)
        self.act = ACT2FN[act]
        self.linear_2 = nn.Linear(out_features, out_features)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act(self.linear_1(features)))


class BehaviorLlavaPreTrainedModel(PreTrainedModel):
    config: BehaviorLlavaConfig
    base_model_prefix = "model"
    input_modalities = ("image", "video", "text")
    supports_gradient_checkpointing = True
    _skip_keys_device_placement = ["past_key_values"]
    _supports_flash_attn = True
    _supports_sdpa = True
    _supports_flex_attn = True
    _supports_attention_backend = True
    _can_compile_fullgraph = True

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Map every Auto class we support in `auto_map`, so `trust_remote_code=True` loads without hf_behavior."""
        module = "modeling_behavior_llava"
        self.config.auto_map = {
            **(getattr(self.config, "auto_map", None) or {}),
            "AutoConfig": "configuration_behavior_llava.BehaviorLlavaConfig",
            "AutoModel": f"{module}.BehaviorLlavaModel",
            "AutoModelForCausalLM": f"{module}.BehaviorLlavaForCausalLM",
            "AutoModelForImageTextToText": f"{module}.BehaviorLlavaForCausalLM",
        }
        return super().save_pretrained(save_directory, *args, **kwargs)

    def enable_input_require_grads(self):
        """Hook the language model's embeddings only (gradient checkpointing and PEFT call this).

        transformers hooks every sub-model's embeddings, so the frozen vision tower's patch embeddings and the
        frozen Q-Former's word embeddings would make their outputs require grad: both towers then build a graph
        and run backward for nothing (a 7B step at 32 frames took 2.6x as long). Trainable towers need no hook:
        their own parameters make their activations require grad.
        """

        def make_output_require_grad(module, inputs, output):
            output.requires_grad_(True)

        self._require_grads_hooks = [self.get_input_embeddings().register_forward_hook(make_output_require_grad)]
        self._require_grads_hook = self._require_grads_hooks[0]

    def _init_weights(self, module):
        super()._init_weights(module)
        if isinstance(module, BehaviorLlavaModel) and module.query_tokens is not None:
            init.normal_(module.query_tokens, mean=0.0, std=self.config.qformer_config.initializer_range)


class BehaviorLlavaModel(BehaviorLlavaPreTrainedModel):
    def __init__(self, config: BehaviorLlavaConfig):
        super().__init__(config)
        vision_width = config.vision_config.hidden_size
        text_width = config.text_config.hidden_size
        self.vision_tower = build_submodel(config.vision_config)
        self.query_tokens = None
        if config.video_representation == "llama_vid":
            qformer_width = config.qformer_config.hidden_size
            self.qformer = build_submodel(config.qformer_config)
            self.query_tokens = nn.Parameter(torch.zeros(1, config.num_query_tokens, qformer_width))
            self.qformer_layernorm = nn.LayerNorm(vision_width)
            self.context_query_projector = nn.Linear(qformer_width, vision_width)
            self.context_key_projector = nn.Linear(vision_width, vision_width)
            self.context_value_projector = nn.Linear(vision_width, text_width)
        self.content_projector = BehaviorLlavaMultiModalProjector(vision_width, text_width, config.projector_hidden_act)
        self.language_model = AutoModel.from_config(config.text_config)
        self.post_init()

    def get_input_embeddings(self):
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value):
        self.language_model.set_input_embeddings(value)

    @can_return_tuple
    def get_image_features(
        self,
        pixel_values: torch.FloatTensor,
        qformer_input_ids: torch.LongTensor | None = None,
        qformer_attention_mask: torch.LongTensor | None = None,
        image_sample_index: torch.LongTensor | None = None,
        **kwargs,
    ) -> BaseModelOutputWithPooling:
        """The vision tower's output with `pooler_output` = one [tokens, text width] tensor per image.

        `image_sample_index`: the batch row of each image, whose Q-Former instruction it is paired with (default: row
        0, a single prompt). `kwargs`: `output_hidden_states` / `output_attentions` of the vision tower.
        """
        frame_counts = [1] * pixel_values.shape[0]
        return self._media_features(
            pixel_values, frame_counts, False, qformer_input_ids, qformer_attention_mask, image_sample_index, **kwargs
        )

    @can_return_tuple
    def get_video_features(
        self,
        pixel_values_videos: torch.FloatTensor,
        num_frames_per_video: torch.LongTensor | list[int],
        qformer_input_ids: torch.LongTensor | None = None,
        qformer_attention_mask: torch.LongTensor | None = None,
        video_sample_index: torch.LongTensor | None = None,
        **kwargs,
    ) -> BaseModelOutputWithPooling:
        """As `get_image_features`, per video: `pooler_output` holds each video's tokens, frame-major."""
        frame_counts = [int(count) for count in num_frames_per_video]
        if pixel_values_videos.shape[0] != sum(frame_counts):
            raise ValueError(
                f"got {pixel_values_videos.shape[0]} video frames but the frame counts add up to {sum(frame_counts)}."
            )
        return self._media_features(
            pixel_values_videos, frame_counts, True, qformer_input_ids, qformer_attention_mask, video_sample_index,
            **kwargs,
        )

    def get_placeholder_mask(
        self,
        input_ids: torch.LongTensor,
        inputs_embeds: torch.FloatTensor,
        image_features: torch.FloatTensor | None = None,
        video_features: torch.FloatTensor | None = None,
    ) -> tuple[torch.BoolTensor, torch.BoolTensor]:
        """[batch, seq, 1] masks of the `<image>` and `<video>` positions, checked against the given features."""
        masks = []
        for token_id, features, kind in (
            (self.config.image_token_id, image_features, "image"),
            (self.config.video_token_id, video_features, "video"),
        ):
            mask = input_ids == token_id
            if features is not None and int(mask.sum()) != features.shape[0]:
                raise ValueError(
                    f"input_ids has {int(mask.sum())} <{kind}> placeholder tokens but the {kind} features are "
                    f"{features.shape[0]} tokens."
                )
            masks.append(mask.unsqueeze(-1).to(inputs_embeds.device))
        return masks[0], masks[1]

    def media_sample_index(
        self, input_ids: torch.LongTensor, frame_counts: list[int], is_video: bool
    ) -> torch.LongTensor:
        """The batch row of each image or video: media fill the placeholder positions in row-major order."""
        kind = "video" if is_video else "image"
        mask = input_ids == (self.config.video_token_id if is_video else self.config.image_token_id)
        tokens_per_media = [self.config.num_visual_tokens(count, is_video) for count in frame_counts]
        if int(mask.sum()) != sum(tokens_per_media):
            raise ValueError(
                f"{len(frame_counts)} {kind}(s) need {sum(tokens_per_media)} <{kind}> placeholder tokens but input_ids "
                f"has {int(mask.sum())}: expand each <{kind}> with BehaviorLlavaProcessor (or "
                f"config.num_visual_tokens) and pass one {kind} per placeholder."
            )
        row_ends = mask.sum(dim=1).cumsum(0)
        media_ends = torch.as_tensor(tokens_per_media, device=row_ends.device).cumsum(0)
        return torch.searchsorted(row_ends, media_ends)

    def _media_features(
        self, pixel_values, frame_counts, is_video, qformer_input_ids, qformer_attention_mask, media_sample_index,
        output_hidden_states: bool | None = None, **vision_kwargs,
    ) -> BaseModelOutputWithPooling:
        pixel_values = pixel_values.to(self.vision_tower.dtype)
        vision = self.vision_tower(pixel_values=pixel_values, output_hidden_states=True, **vision_kwargs)
        features = vision.hidden_states[self.config.vision_feature_layer]  # before any post-layernorm, CLS kept
        patches = features[:, 1:] if self.config.vision_feature_select_strategy == "default" else features
        if self.config.video_representation != "llama_vid":
            tokens = self._pooled_tokens(patches, frame_counts, is_video)
        else:
            if media_sample_index is None:
                media_sample_index = torch.zeros(len(frame_counts), dtype=torch.long, device=features.device)
            tokens = self._llama_vid_tokens(
                features, patches, frame_counts, qformer_input_ids, qformer_attention_mask, media_sample_index
            )
        tokens_per_media = [self.config.num_visual_tokens(count, is_video) for count in frame_counts]
        if output_hidden_states is None:
            output_hidden_states = self.vision_tower.config.output_hidden_states
        return BaseModelOutputWithPooling(
            last_hidden_state=vision.last_hidden_state,
            pooler_output=tokens.split(tokens_per_media),
            hidden_states=vision.hidden_states if output_hidden_states else None,
            attentions=vision.attentions,
        )

    def _llama_vid_tokens(
        self, features, patches, frame_counts, qformer_input_ids, qformer_attention_mask, media_sample_index
    ) -> torch.Tensor:
        """Context + content tokens of every frame, frame-major: [total tokens, text width]."""
        if qformer_input_ids is None:
            raise ValueError(
                "video_representation='llama_vid' needs the instruction text for the Q-Former: pass qformer_input_ids "
                "and qformer_attention_mask (BehaviorLlavaProcessor returns them)."
            )
        if qformer_attention_mask is None:
            qformer_attention_mask = torch.ones_like(qformer_input_ids)
        # Every frame of a media item is paired with the instruction of the sample it belongs to.
        frame_sample_index = media_sample_index.to(qformer_input_ids.device).repeat_interleave(
            torch.as_tensor(frame_counts, device=qformer_input_ids.device)
        )
        text_ids = qformer_input_ids[frame_sample_index]
        text_mask = qformer_attention_mask[frame_sample_index]
        queries = self.query_tokens.expand(features.shape[0], -1, -1)
        query_mask = torch.ones(queries.shape[:2], dtype=text_mask.dtype, device=text_mask.device)
        qformer_output = self.qformer(
            input_ids=text_ids,
            attention_mask=torch.cat([query_mask, text_mask], dim=1),
            query_embeds=queries,
            encoder_hidden_states=self.qformer_layernorm(features),
        ).last_hidden_state[:, : queries.shape[1]]

        # Context token: the instruction-conditioned queries attend over the patches, averaged over queries.
        context_queries = self.context_query_projector(qformer_output)
        context_keys = self.context_key_projector(patches)
        context = F.scaled_dot_product_attention(context_queries, context_keys, patches).mean(dim=1, keepdim=True)
        context = self.context_value_projector(context)

        content = self.content_projector(self._compress(patches))
        return torch.cat([context, content], dim=1).flatten(0, 1)  # frame-major: ctx_1, content_1, ctx_2, ...

    def _compress(self, patches: torch.Tensor) -> torch.Tensor:
        compress = self.config.compress
        if compress == "mean":
            return patches.mean(dim=1, keepdim=True)
        if compress == "none":
            return patches
        grid = int(compress.split(":")[1])
        side = int(patches.shape[1] ** 0.5)
        return _avg_pool_patches(patches, side // grid)

    def _pooled_tokens(self, patches: torch.Tensor, frame_counts: list[int], is_video: bool) -> torch.Tensor:
        """`pool`: p x p average pool of every frame; `slowfast` (videos): p x p for slow frames, 2p x 2p for fast."""
        slow = _avg_pool_patches(patches, self.config.pool_size)
        if self.config.video_representation == "pool" or not is_video:
            return self.content_projector(slow).flatten(0, 1)
        fast = _avg_pool_patches(slow, 2)
        is_slow = [flag for count in frame_counts for flag in slow_frame_mask(count, self.config.slowfast_stride)]
        frames = [slow[i] if flag else fast[i] for i, flag in enumerate(is_slow)]
        return self.content_projector(torch.cat(frames, dim=0))

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values: torch.FloatTensor | None = None,
        pixel_values_videos: torch.FloatTensor | None = None,
        num_frames_per_video: torch.LongTensor | list[int] | None = None,
        qformer_input_ids: torch.LongTensor | None = None,
        qformer_attention_mask: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        use_cache: bool | None = None,
        **kwargs,
    ) -> BehaviorLlavaModelOutputWithPast:
        r"""
        pixel_values: images, [num_images, 3, H, W], in the order their `<image>` placeholders appear (row-major).
        pixel_values_videos: the frames of all videos concatenated, [sum(num_frames_per_video), 3, H, W].
        num_frames_per_video: frames of each video, in the order of their `<video>` placeholders.
        qformer_input_ids / qformer_attention_mask: each sample's instruction in the Q-Former tokenizer, [batch, L].
        """
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("Pass exactly one of input_ids or inputs_embeds.")
        has_media = pixel_values is not None or pixel_values_videos is not None
        if has_media and input_ids is None:
            raise ValueError("Images and videos need input_ids: their placeholders mark where the visual tokens go.")

        image_features = video_features = None
        if inputs_embeds is None:
            # Placeholder ids may lie outside the LLM vocabulary (LLaMA-VID checkpoints); embed them as token 0.
            text_ids = input_ids.masked_fill(_placeholder_mask(input_ids, self.config), 0)
            inputs_embeds = self.get_input_embeddings()(text_ids)

        if pixel_values is not None:
            sample_index = self.media_sample_index(input_ids, [1] * pixel_values.shape[0], is_video=False)
            image_features = self.get_image_features(
                pixel_values, qformer_input_ids, qformer_attention_mask, sample_index, return_dict=True
            ).pooler_output
            image_features = torch.cat(image_features).to(inputs_embeds.device, inputs_embeds.dtype)
            image_mask, _ = self.get_placeholder_mask(input_ids, inputs_embeds, image_features=image_features)
            inputs_embeds = inputs_embeds.masked_scatter(image_mask, image_features)
        if pixel_values_videos is not None:
            if num_frames_per_video is None:
                raise ValueError("pixel_values_videos needs num_frames_per_video (frames per video).")
            frame_counts = [int(count) for count in num_frames_per_video]
            sample_index = self.media_sample_index(input_ids, frame_counts, is_video=True)
            video_features = self.get_video_features(
                pixel_values_videos, frame_counts, qformer_input_ids, qformer_attention_mask, sample_index,
                return_dict=True,
            ).pooler_output
            video_features = torch.cat(video_features).to(inputs_embeds.device, inputs_embeds.dtype)
            _, video_mask = self.get_placeholder_mask(input_ids, inputs_embeds, video_features=video_features)
            inputs_embeds = inputs_embeds.masked_scatter(video_mask, video_features)

        outputs = self.language_model(
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            **kwargs,
        )
        return BehaviorLlavaModelOutputWithPast(
            last_hidden_state=outputs.last_hidden_state,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            image_hidden_states=image_features,
            video_hidden_states=video_features,
        )


def _placeholder_mask(input_ids: torch.LongTensor, config: BehaviorLlavaConfig) -> torch.BoolTensor:
    return (input_ids == config.image_token_id) | (input_ids == config.video_token_id)


def _avg_pool_patches(patches: torch.Tensor, kernel: int) -> torch.Tensor:
    """[N, side*side, D] -> [N, (side/kernel)^2, D] by k x k average pooling on the patch grid."""
    num, count, dim = patches.shape
    side = int(count**0.5)
    grid = patches.transpose(1, 2).reshape(num, dim, side, side)
    return F.avg_pool2d(grid, kernel_size=kernel, stride=kernel).flatten(2).transpose(1, 2)


class BehaviorLlavaForCausalLM(BehaviorLlavaPreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"lm_head.weight": "model.language_model.embed_tokens.weight"}
    _tp_plan = {"lm_head": "colwise_gather_output"}

    def __init__(self, config: BehaviorLlavaConfig):
        super().__init__(config)
        self.model = BehaviorLlavaModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.behavior_head = nn.Linear(config.text_config.hidden_size, 1) if config.behavior_head else None
        self.post_init()

    def get_input_embeddings(self):
        return self.model.get_input_embeddings()

    def set_input_embeddings(self, value):
        self.model.set_input_embeddings(value)

    def get_output_embeddings(self):
        return self.lm_head

    def _expand_inputs_for_generation(self, expand_size=1, is_encoder_decoder=False, input_ids=None, **model_kwargs):
        """Give every copy of a prompt (beams, `num_return_sequences`) that prompt's whole media.

        Generation repeats each tensor row by row, which suits per-sample inputs but not our media, flat over frames:
        frames 0,1,2 of one video would become 0,0,1,1,2,2. Media are regrouped per sample and repeated per copy.
        """
        media = {}
        if expand_size > 1 and input_ids is not None:
            media = self._expand_media(input_ids, expand_size, model_kwargs)
        input_ids, model_kwargs = super()._expand_inputs_for_generation(
            expand_size=expand_size, is_encoder_decoder=is_encoder_decoder, input_ids=input_ids, **model_kwargs
        )
        model_kwargs.update(media)
        return input_ids, model_kwargs

    def _expand_media(self, input_ids: torch.LongTensor, expand_size: int, model_kwargs: dict) -> dict:
        """Pops the media inputs from `model_kwargs`; returns them with each sample's media repeated `expand_size` times."""
        media = {}
        for key, is_video in (("pixel_values", False), ("pixel_values_videos", True)):
            pixels = model_kwargs.pop(key, None)
            if pixels is None:
                continue
            counts = model_kwargs.pop("num_frames_per_video", None) if is_video else [1] * pixels.shape[0]
            if counts is None:
                raise ValueError("pixel_values_videos needs num_frames_per_video (frames per video).")
            counts = torch.as_tensor(counts, dtype=torch.long, device=pixels.device)
            sample_index = self.model.media_sample_index(input_ids, counts.tolist(), is_video).to(pixels.device)
            media_per_sample = torch.bincount(sample_index, minlength=input_ids.shape[0]).tolist()
            media_order = torch.cat(
                [group.repeat(expand_size) for group in torch.arange(len(counts), device=pixels.device).split(media_per_sample)]
            )
            starts = counts.cumsum(0) - counts
            frame_index = torch.cat([torch.arange(starts[m], starts[m] + counts[m]) for m in media_order.tolist()])
            media[key] = pixels[frame_index.to(pixels.device)]
            if is_video:
                media["num_frames_per_video"] = counts[media_order]
        return media

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values: torch.FloatTensor | None = None,
        pixel_values_videos: torch.FloatTensor | None = None,
        num_frames_per_video: torch.LongTensor | list[int] | None = None,
        qformer_input_ids: torch.LongTensor | None = None,
        qformer_attention_mask: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        labels: torch.LongTensor | None = None,
        behavior_targets: torch.FloatTensor | None = None,
        use_cache: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        **kwargs,
    ) -> BehaviorLlavaCausalLMOutputWithPast:
        r"""
        labels: next-token targets; placeholder positions are always ignored (-100).
        behavior_targets: per-sample log-likes for the optional behaviour head (NaN = no target for that sample).
        """
        outputs = self.model(
            input_ids=input_ids,
            pixel_values=pixel_values,
            pixel_values_videos=pixel_values_videos,
            num_frames_per_video=num_frames_per_video,
            qformer_input_ids=qformer_input_ids,
            qformer_attention_mask=qformer_attention_mask,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            return_dict=True,
            **kwargs,
        )
        hidden_states = outputs.last_hidden_state
        logits = self.lm_head(slice_logits_to_keep(hidden_states, logits_to_keep))

        lm_loss = None
        if labels is not None:
            if input_ids is not None:
                labels = labels.masked_fill(_placeholder_mask(input_ids, self.config), -100)
            lm_loss = self.loss_function(
                logits=logits, labels=labels, vocab_size=self.config.text_config.vocab_size, **kwargs
            )

        behavior_prediction = behavior_loss = None
        if self.behavior_head is not None:
            behavior_prediction = self.behavior_head(_last_token_states(hidden_states, attention_mask)).squeeze(-1)
            if behavior_targets is not None:
                targets = behavior_targets.to(behavior_prediction.dtype)
                known = ~torch.isnan(targets)
                if known.any():
                    behavior_loss = F.mse_loss(behavior_prediction[known], targets[known])

        loss = lm_loss
        if behavior_loss is not None:
            weighted = self.config.behavior_loss_weight * behavior_loss
            loss = weighted if loss is None else loss + weighted

        return BehaviorLlavaCausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            image_hidden_states=outputs.image_hidden_states,
            video_hidden_states=outputs.video_hidden_states,
            lm_loss=lm_loss,
            behavior_loss=behavior_loss,
            behavior_prediction=behavior_prediction,
        )


def _last_token_states(hidden_states: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """Hidden state of each row's last real token (works for left and right padding)."""
    if attention_mask is None or attention_mask.shape[1] != hidden_states.shape[1]:
        return hidden_states[:, -1]
    positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)
    last = (positions * attention_mask.to(positions.dtype)).argmax(dim=1)
    return hidden_states[torch.arange(hidden_states.shape[0], device=hidden_states.device), last]


# transformers' name for a VLM with an LM head, for users who look for it.
BehaviorLlavaForConditionalGeneration = BehaviorLlavaForCausalLM

BehaviorLlavaConfig.register_for_auto_class()
BehaviorLlavaModel.register_for_auto_class("AutoModel")
BehaviorLlavaForCausalLM.register_for_auto_class("AutoModelForCausalLM")

__all__ = [
    "BehaviorLlavaModel",
    "BehaviorLlavaForCausalLM",
    "BehaviorLlavaForConditionalGeneration",
    "BehaviorLlavaPreTrainedModel",
]
