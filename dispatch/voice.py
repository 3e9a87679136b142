"""Voice reports (语音报修): audio as phones and WeChat send it, made ready for speech recognition.

Owners record a voice message instead of typing. What arrives is AMR (WeChat and most Android voice
notes), M4A/AAC (iPhone), MP3 or WAV. Whatever the format, the recogniser is given the same thing: 16 kHz
mono 16-bit PCM in a WAV container, which is what every Chinese speech service and offline engine takes.
The conversion uses FFmpeg's decoders through PyAV (its wheels carry FFmpeg, AMR included), so nothing
is installed beside the Python packages. The type is decided by decoding, never by the file's name.
"""

from __future__ import annotations

import io
import logging
import wave
from dataclasses import dataclass

import anyio
import anyio.to_thread
import av

from dispatch.speech import SpeechRecogniser

__all__ = [
    "MIN_TRANSCRIPT_CONFIDENCE",
    "HeardVoice",
    "hear_voice",
    "MAX_VOICE_BYTES",
    "MAX_VOICE_SECONDS",
    "RECOGNISER_SAMPLE_RATE",
    "PreparedVoice",
    "RejectedAudio",
    "prepare_voice",
]

# WeChat caps a voice message at 60 s; a phone's recorder can run longer, and a report of a few minutes
# is still a report. Past that it is not a fault report (and not worth a recogniser's fee).
MAX_VOICE_SECONDS = 180
# Three minutes of uncompressed 48 kHz stereo WAV is 33 MiB; compressed voice is far smaller.
MAX_VOICE_BYTES = 40 * 1024 * 1024
RECOGNISER_SAMPLE_RATE = 16_000

_log = logging.getLogger(__name__)

# The containers phones and WeChat produce, by FFmpeg's demuxer names.
_ACCEPTED_CONTAINERS = {
    "amr": "audio/amr",
    "mov,mp4,m4a,3gp,3g2,mj2": "audio/mp4",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
}


class RejectedAudio(ValueError):
    """A file that is not a voice recording Courtyard takes, said in words an owner understands."""


@dataclass(frozen=True, slots=True)
class PreparedVoice:
    """The recording as the recogniser takes it, with what was learnt about the original."""

    recogniser_wav: bytes
    seconds: float
    source_type: str


def prepare_voice(data: bytes) -> PreparedVoice:
    """Decode `data` and resample it to 16 kHz mono PCM WAV. CPU-bound: call it off the event loop."""
    if not data:
        raise RejectedAudio("the recording is empty")
    if len(data) > MAX_VOICE_BYTES:
        raise RejectedAudio(f"a recording may be at most {MAX_VOICE_BYTES // (1024 * 1024)} MiB")
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError):
        raise RejectedAudio("the file is not a recording in AMR, M4A/AAC, MP3 or WAV") from None
    with container:
        source_type = _ACCEPTED_CONTAINERS.get(container.format.name)
        if source_type is None or not container.streams.audio:
            raise RejectedAudio("the file is not a recording in AMR, M4A/AAC, MP3 or WAV")
        if container.streams.video:
            raise RejectedAudio("this is a video: send it as a photo or video of the report")
        samples = _decode_to_recogniser_rate(container)
    seconds = len(samples) / 2 / RECOGNISER_SAMPLE_RATE
    if seconds == 0:
        raise RejectedAudio("the recording holds no sound")
    if seconds > MAX_VOICE_SECONDS:
        raise RejectedAudio(f"a recording may be at most {MAX_VOICE_SECONDS} seconds long")
    return PreparedVoice(_wav(samples), round(seconds, 2), source_type)


def _decode_to_recogniser_rate(container: av.container.InputContainer) -> bytes:
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RECOGNISER_SAMPLE_RATE)
    pcm = bytearray()
    # A recording that keeps going past the limit is refused once it is known to be too long, without
    # decoding (and holding) the rest of it.
    limit = (MAX_VOICE_SECONDS + 1) * RECOGNISER_SAMPLE_RATE * 2
    try:
        for frame in container.decode(audio=0):
            for resampled in resampler.resample(frame):
                pcm += bytes(resampled.planes[0])[: resampled.samples * 2]
            if len(pcm) > limit:
                break
        for resampled in resampler.resample(None):
            pcm += bytes(resampled.planes[0])[: resampled.samples * 2]
    except av.FFmpegError:
        raise RejectedAudio("the recording is damaged and cannot be played") from None
    return bytes(pcm)


def _wav(samples: bytes) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RECOGNISER_SAMPLE_RATE)
        writer.writeframes(samples)
    return buffer.getvalue()


# Below this a transcript is treated as a guess: the ticket waits for a dispatcher, who has the audio.
MIN_TRANSCRIPT_CONFIDENCE = 0.6
# A recogniser that takes longer than this is treated as down: the owner is waiting for an answer.
RECOGNISER_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True, slots=True)
class HeardVoice:
    """A voice report after conversion and recognition: what the ticket keeps and what it was told."""

    recording: bytes
    file_name: str | None
    prepared: PreparedVoice
    recogniser: str | None
    transcript: str
    confidence: float

    @property
    def understood(self) -> bool:
        return bool(self.transcript) and self.confidence >= MIN_TRANSCRIPT_CONFIDENCE


async def hear_voice(recording: bytes, file_name: str | None, recogniser: SpeechRecogniser | None) -> HeardVoice:
    """Convert and transcribe a recording. A refused recording raises RejectedAudio; a recogniser that is
    missing, down, slow or broken leaves the transcript empty, so the report is still filed."""
    prepared = await anyio.to_thread.run_sync(prepare_voice, recording)
    if recogniser is None:
        return HeardVoice(recording, file_name, prepared, None, "", 0.0)
    try:
        with anyio.fail_after(RECOGNISER_TIMEOUT_SECONDS):
            transcript = await recogniser.transcribe(prepared.recogniser_wav)
    except Exception:  # noqa: BLE001 - whatever the provider does wrong, the owner's report is kept
        _log.warning("speech recognition failed; the voice report goes to triage", exc_info=True)
        return HeardVoice(recording, file_name, prepared, recogniser.name, "", 0.0)
    return HeardVoice(recording, file_name, prepared, recogniser.name, transcript.text.strip(), transcript.confidence)
