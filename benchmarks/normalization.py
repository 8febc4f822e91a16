"""What normalization costs and catches here: `python benchmarks/normalization.py` (seconds).

Prints the warm-up time and memory of one process, the CPU time of one call on short and
10,000-character texts (best of 9 runs, so other work on shared cores counts as little as it
can), and the offline engine's hit rate on tests/data before and after normalization.
docs/normalization.md quotes these figures.
"""

import sys
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.normalization import normalized, normalizer_warm  # noqa: E402
from tests.data_files import data_rows  # noqa: E402

TOXIC = 0.5
CLEAN = "Thanks for the detailed write-up, I learned a lot and will try it at work tomorrow. "
CLEAN_NON_ASCII = "Merci pour le café ☕ and the naïve résumé tips 👍, спасибо! "
DISGUISED = (
    "you are a m0r0n, sooo stuuuupid, a l\u200bo\u200bs\u200be\u200br, what an "
    "\u0456d\u0456ot, f*ck off, y o u  s u c k. "
)
LONG = 10_000


def rss_megabytes() -> float:
    """Return this process's resident memory in MB, as Linux counts it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def full_width(text: str) -> str:
    """Return the text with each printable ASCII character in its full-width form."""
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


def repeated(sentence: str) -> str:
    """Return the sentence repeated to exactly LONG characters."""
    return (sentence * (LONG // len(sentence) + 1))[:LONG]


def seconds_per_call(text: str) -> float:
    """Return the CPU seconds of one normalization of the text, best of 9 runs."""
    normalized(text=text)
    number = 2000 if len(text) < 100 else 20
    runs = timeit.repeat(
        lambda: normalized(text=text), number=number, repeat=9, timer=time.process_time
    )
    return min(runs) / number


def warm_up() -> None:
    before = rss_megabytes()
    wall, cpu = time.perf_counter(), time.process_time()
    normalizer_warm()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = rss_megabytes()
    print(f"warm-up: {wall:.2f} s wall, {cpu:.2f} s CPU; RSS {before:.0f} -> {after:.0f} MB")


def speed() -> None:
    texts = {
        "short clean comment": "Thanks for the write-up, I learned a lot from it.",
        "short disguised comment": "you are a m0r0n and sooo stuuuupid",
        "10,000 chars clean ASCII": repeated(CLEAN),
        "10,000 chars clean, accents, emoji, Cyrillic": repeated(CLEAN_NON_ASCII),
        "10,000 chars disguised": repeated(DISGUISED),
        "10,000 chars full-width": full_width(repeated(CLEAN)),
    }
    for name, text in texts.items():
        seconds = seconds_per_call(text)
        shown = f"{seconds * 1e6:.0f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.1f} ms"
        print(f"{name:46} {shown:>9}")


def hit_rate() -> None:
    from profanity_check import predict_prob

    def caught(texts: list[str]) -> list[bool]:
        return [score >= TOXIC for score in predict_prob(texts)]

    disguised = data_rows("disguised_insults.csv")
    plain = caught([row["plain"] for row in disguised])
    before = caught([row["text"] for row in disguised])
    after = caught([normalized(text=row["text"]).text for row in disguised])
    print(
        f"offline engine, {len(disguised)} disguised insults: {sum(plain)} caught in plain form, "
        f"{sum(before)} disguised before normalization, {sum(after)} after"
    )
    clean = [row["text"] for row in data_rows("lookalike_clean.csv")]
    clean_before = caught(clean)
    clean_after = caught([normalized(text=text).text for text in clean])
    turned = sum(not was and now for was, now in zip(clean_before, clean_after, strict=True))
    changed = sum(normalized(text=text).changed for text in clean)
    print(
        f"{len(clean)} clean look-alike texts: {changed} changed by normalization, "
        f"{sum(clean_before)} toxic before, {sum(clean_after)} after, {turned} turned toxic"
    )


if __name__ == "__main__":
    warm_up()
    speed()
    hit_rate()
