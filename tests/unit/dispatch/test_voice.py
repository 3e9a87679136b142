"""Voice recordings as phones and WeChat send them, made ready for a recogniser, and what a recogniser
that is unsure, down or slow leaves behind."""

from __future__ import annotations

import asyncio
import io
import wave

import pytest

from dispatch import voice
from dispatch.attachments import MediaStore, RejectedMedia
from dispatch.speech import SandboxRecogniser, SpeechUnavailable, Transcript
from dispatch.voice import RECOGNISER_SAMPLE_RATE, RejectedAudio, hear_voice, prepare_voice
from tests.speech import encoded, spoken

SENTENCE = "厨房的水管漏水了"
MP4_VIDEO = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00" + bytes(500)


def _wav_facts(data: bytes) -> tuple[int, int, int, float]:
    with wave.open(io.BytesIO(data), "rb") as reader:
        frames = reader.getnframes()
        return reader.getnchannels(), reader.getsampwidth(), reader.getframerate(), frames / reader.getframerate()


def _silence(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(bytes(int(seconds * rate) * 2))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("file_format", "source_type"), [("amr", "audio/amr"), ("m4a", "audio/mp4"), ("mp3", "audio/mpeg")]
)
def test_each_phone_format_becomes_16_khz_mono_pcm_of_the_same_length(file_format: str, source_type: str) -> None:
    speech = spoken(SENTENCE)
    length = _wav_facts(prepare_voice(speech).recogniser_wav)[3]
    prepared = prepare_voice(encoded(speech, file_format))
    channels, width, rate, seconds = _wav_facts(prepared.recogniser_wav)
    assert (channels, width, rate, prepared.source_type) == (1, 2, RECOGNISER_SAMPLE_RATE, source_type)
    # Codecs pad a frame or two at either end; the recording is the same sentence.
    assert seconds == pytest.approx(length, abs=0.15)
    assert prepared.seconds == pytest.approx(seconds, abs=0.01)


def test_a_wav_recording_is_resampled_to_what_the_recogniser_takes() -> None:
    speech = spoken(SENTENCE)
    source_rate = _wav_facts(speech)[2]
    prepared = prepare_voice(speech)
    assert source_rate != RECOGNISER_SAMPLE_RATE
    assert (prepared.source_type, _wav_facts(prepared.recogniser_wav)[:3]) == ("audio/wav", (1, 2, RECOGNISER_SAMPLE_RATE))
    # espeak-ng streams its WAV, so the header cannot say how long it is: count the 16-bit samples after it.
    assert prepared.seconds == pytest.approx((len(speech) - 44) / 2 / source_rate, abs=0.01)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the recording is empty"),
        (b"<html>not a recording</html>" * 10, "the file is not a recording in AMR, M4A/AAC, MP3 or WAV"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(300), "the file is not a recording in AMR, M4A/AAC, MP3 or WAV"),
        (MP4_VIDEO, "the file is not a recording in AMR, M4A/AAC, MP3 or WAV"),
        (_silence(0), "the recording holds no sound"),
        (_silence(voice.MAX_VOICE_SECONDS + 2), "a recording may be at most 180 seconds long"),
    ],
)
def test_what_is_not_a_usable_recording_is_refused_saying_why(data: bytes, reason: str) -> None:
    with pytest.raises(RejectedAudio) as refusal:
        prepare_voice(data)
    assert str(refusal.value) == reason


def test_a_recording_at_the_length_limit_is_taken() -> None:
    assert prepare_voice(_silence(voice.MAX_VOICE_SECONDS)).seconds == voice.MAX_VOICE_SECONDS


def test_a_recording_larger_than_the_byte_limit_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voice, "MAX_VOICE_BYTES", 1024)
    with pytest.raises(RejectedAudio, match="at most 0 MiB"):
        prepare_voice(_silence(1))


async def test_the_sandbox_hears_what_it_was_taught_and_nothing_else() -> None:
    recogniser = SandboxRecogniser()
    taught = prepare_voice(encoded(spoken(SENTENCE), "amr"))
    recogniser.teach(taught.recogniser_wav, SENTENCE)
    assert await recogniser.transcribe(taught.recogniser_wav) == Transcript(SENTENCE, 0.95)
    other = prepare_voice(spoken("电梯坏了"))
    assert await recogniser.transcribe(other.recogniser_wav) == Transcript("", 0.0)
    recogniser.outage = True
    with pytest.raises(SpeechUnavailable):
        await recogniser.transcribe(taught.recogniser_wav)


async def test_hearing_keeps_the_recording_and_trusts_only_a_confident_transcript() -> None:
    recording = encoded(spoken(SENTENCE), "m4a")
    recogniser = SandboxRecogniser()
    recogniser.teach(prepare_voice(recording).recogniser_wav, SENTENCE)
    heard = await hear_voice(recording, "语音.m4a", recogniser)
    assert (heard.recording, heard.file_name, heard.transcript, heard.understood) == (recording, "语音.m4a", SENTENCE, True)
    recogniser.confidence = voice.MIN_TRANSCRIPT_CONFIDENCE - 0.01
    unsure = await hear_voice(recording, None, recogniser)
    assert (unsure.transcript, unsure.understood) == (SENTENCE, False)
    missing = await hear_voice(recording, None, None)
    assert (missing.recogniser, missing.transcript, missing.understood) == (None, "", False)


class _Broken:
    name = "broken"

    async def transcribe(self, recogniser_wav: bytes) -> Transcript:
        raise ConnectionResetError("the provider hung up")


class _Slow:
    name = "slow"

    async def transcribe(self, recogniser_wav: bytes) -> Transcript:
        await asyncio.sleep(5)
        return Transcript("太晚了", 1.0)


async def test_a_recogniser_that_fails_or_hangs_leaves_an_empty_transcript_not_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recording = spoken(SENTENCE)
    monkeypatch.setattr(voice, "RECOGNISER_TIMEOUT_SECONDS", 0.05)
    for recogniser in (_Broken(), _Slow()):
        heard = await hear_voice(recording, "a.wav", recogniser)
        assert (heard.recogniser, heard.transcript, heard.confidence, heard.understood) == (recogniser.name, "", 0.0, False)


def test_the_media_store_keeps_recordings_by_hash_and_only_as_recording_types(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = MediaStore(tmp_path, "k" * 32)
    recording = encoded(spoken(SENTENCE), "amr")
    stored = store.save_recording(recording, "audio/amr", "我的语音.amr")
    assert (stored.mime_type, stored.file_name, stored.storage_path.endswith(".amr")) == ("audio/amr", "我的语音.amr", True)
    assert store.path_of(stored.storage_path).read_bytes() == recording
    with pytest.raises(RejectedMedia):
        store.save_recording(recording, "text/html", "x.html")
    # a recording is not a photo
    with pytest.raises(RejectedMedia):
        store.save(recording, "语音.jpg")
