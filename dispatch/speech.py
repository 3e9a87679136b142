"""Speech recognition (语音识别) behind one interface, for voice reports.

A recogniser takes the 16 kHz mono WAV that `dispatch.voice.prepare_voice` makes and answers a
`Transcript`: the text and how sure it is (0 to 1). What the ticket does with an empty or unsure answer
is decided by the ticket's use case, not here: the report is kept, with its audio, for a dispatcher.

- `SandboxRecogniser` is for development and tests: it hears only the recordings it was taught, answers
  anything else with an empty transcript, and can be switched into an outage.
- `VoskRecogniser` is the offline engine (Kaldi through the `vosk` package, installed with the `voice`
  extra) for a deployment that keeps speech on its own machines; it needs a model directory
  (`COURTYARD_SPEECH_MODEL`), such as one of Vosk's Chinese models, which no package registry carries.
- A cloud service (Aliyun 一句话识别, Tencent ASR, iFlytek) plugs in as another class with the same
  `transcribe` coroutine.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio.to_thread

__all__ = [
    "SandboxRecogniser",
    "SpeechRecogniser",
    "SpeechUnavailable",
    "Transcript",
    "VoskRecogniser",
]


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    confidence: float


class SpeechUnavailable(Exception):
    """The recogniser could not answer (down, refused, timed out)."""


class SpeechRecogniser(Protocol):
    name: str

    async def transcribe(self, recogniser_wav: bytes) -> Transcript: ...


def _sound_of(recogniser_wav: bytes) -> str:
    with wave.open(io.BytesIO(recogniser_wav), "rb") as reader:
        return hashlib.sha256(reader.readframes(reader.getnframes())).hexdigest()


@dataclass
class SandboxRecogniser:
    """Answers the recordings it was taught, by their samples; others get an empty, unsure transcript."""

    name: str = "sandbox"
    confidence: float = 0.95
    outage: bool = False
    _known: dict[str, str] = field(default_factory=dict)

    def teach(self, recogniser_wav: bytes, text: str) -> None:
        self._known[_sound_of(recogniser_wav)] = text

    async def transcribe(self, recogniser_wav: bytes) -> Transcript:
        if self.outage:
            raise SpeechUnavailable("the sandbox recogniser is in an outage")
        text = self._known.get(_sound_of(recogniser_wav))
        return Transcript(text, self.confidence) if text is not None else Transcript("", 0.0)


class VoskRecogniser:
    """Kaldi through Vosk, on this machine. The model is loaded on first use and shared; each recording is
    recognised in a worker thread, so the event loop keeps serving."""

    name = "vosk"

    def __init__(self, model_path: Path) -> None:
        if not (model_path / "conf").is_dir() and not (model_path / "am").is_dir():
            raise ValueError(f"{model_path} is not a Vosk model directory (it has neither am/ nor conf/)")
        self.model_path = model_path
        self._model: Any = None
        self._loading = threading.Lock()

    def _engine(self) -> tuple[Any, Any]:
        """The vosk module and the loaded model."""
        try:
            import vosk
        except ImportError as error:
            raise SpeechUnavailable("the vosk package is not installed (pip install 'courtyard[voice]')") from error
        with self._loading:
            if self._model is None:
                vosk.SetLogLevel(-1)
                self._model = vosk.Model(str(self.model_path))
        return vosk, self._model

    def _recognise(self, recogniser_wav: bytes) -> Transcript:
        vosk, model = self._engine()
        with wave.open(io.BytesIO(recogniser_wav), "rb") as reader:
            recogniser = vosk.KaldiRecognizer(model, reader.getframerate())
            recogniser.SetWords(True)
            recogniser.AcceptWaveform(reader.readframes(reader.getnframes()))
        result = json.loads(recogniser.FinalResult())
        words = result.get("result") or []
        # Chinese models answer words separated by spaces; the report reads as one sentence.
        text = "".join(str(result.get("text", "")).split())
        confidence = sum(float(word.get("conf", 0.0)) for word in words) / len(words) if words else 0.0
        return Transcript(text, round(confidence, 4))

    async def transcribe(self, recogniser_wav: bytes) -> Transcript:
        return await anyio.to_thread.run_sync(self._recognise, recogniser_wav)
