"""PyAV decoding that survives damaged packets: a broken stretch of a real download costs the frames it held, not the
file (decord and `container.decode` give up at the first packet FFmpeg rejects). Scene detection and the ASR audio
loader decode through it; the video processor's PyAV fallback has the same loop written out, since the model folder
is also the checkpoint's standalone remote code."""

from __future__ import annotations

from collections.abc import Iterator

import av


def decode_frames(
    container: av.container.InputContainer, stream: av.stream.Stream, bad_packets: list[str] | None = None
) -> Iterator[av.VideoFrame | av.AudioFrame]:
    """The stream's frames, as ``container.decode(stream)`` gives them, except that a packet the decoder refuses
    as invalid data is skipped (its frames are missing) and described in ``bad_packets`` instead of ending the
    decode. When a frame is yielded, every packet skipped before it is already in ``bad_packets``."""
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError as error:
            if bad_packets is not None:
                bad_packets.append(f"packet at pts {packet.pts}: {error}")
            continue
        yield from frames
