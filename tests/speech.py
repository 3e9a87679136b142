"""Speech for the voice-report tests: synthesised by espeak-ng (Debian's package) and encoded the way
phones and WeChat send it, with FFmpeg's encoders through PyAV."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from functools import cache

import av
import pytest

# FFmpeg muxer, encoder and the sample rate each encoder takes.
_FORMATS = {
    "amr": ("amr", "libopencore_amrnb", 8000),
    "m4a": ("ipod", "aac", 44100),
    "mp3": ("mp3", "libmp3lame", 22050),
}


@cache
def spoken(text: str, voice: str = "cmn") -> bytes:
    """`text` read aloud by espeak-ng, as WAV. Without espeak-ng the test is skipped, except under CI=true,
    where `make test` has installed it (tests/ensure_espeak_ng.sh)."""
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("espeak-ng is missing: tests/ensure_espeak_ng.sh installs it")
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    return subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], check=True, capture_output=True).stdout


def encoded(wav: bytes, file_format: str) -> bytes:
    """The WAV recording re-encoded as an AMR, M4A or MP3 file."""
    muxer, codec, rate = _FORMATS[file_format]
    output = io.BytesIO()
    with av.open(io.BytesIO(wav)) as source, av.open(output, "w", format=muxer) as target:
        stream = target.add_stream(codec, rate=rate, layout="mono")
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=rate)
        frames = [*source.decode(audio=0), None]
        for frame in frames:
            for resampled in resampler.resample(frame):
                for packet in stream.encode(resampled):
                    target.mux(packet)
        for packet in stream.encode(None):
            target.mux(packet)
    return output.getvalue()
