"""Benchmark the Telegram bot end to end against the local Bot API stand-in, next to a minimal echo bot.

Run: ``python bench/bot.py [--questions 400]``. Prints a table; a measurement, not a test. Each bot runs as its own
process (``python -m bot run``, and ``bench/echo_bot.py``) with long polling against the same stand-in, which runs in
this process; the rate limiter is off (TELEGRAM_RATE_LIMIT=0). Many distinct askers send questions from
eval/dev.yaml. Measured: questions answered per second when all arrive at once, and the time from an update being
queued to the answer reaching the stand-in, one at a time (p50, p99). A third bot, the echo bot answering every
message with one of the fact-check bot's answer cards, shows how much of the difference is the longer reply with its
buttons rather than the matching.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.evaluation import load_questions  # noqa: E402
from tests.botapi import BotAPI  # noqa: E402

TOKEN = "123:BENCH"


def launch(command: list[str], api: BotAPI, database: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.base_url, "TELEGRAM_RATE_LIMIT": "0",
           "DATABASE_PATH": str(database), "ASKER_QUESTIONS_PER_MINUTE": "100000",
           "GROUP_QUESTIONS_PER_MINUTE": "100000", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api.wait_for(method="setMyCommands", timeout=60)  # polling has begun
    return process


def halt(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


async def measure(api: BotAPI, questions: list[str], latency_samples: int) -> tuple[float, list[float]]:
    # throughput: everything queued at once, from distinct askers
    mark = api.mark()
    started = time.perf_counter()
    for n, q in enumerate(questions):
        api.push(api.private_message(10_000 + n, q))
    expected = len(questions)
    while sum(1 for r in api.calls[mark:] if r.method == "sendMessage") < expected:
        if time.perf_counter() - started > 120:
            raise TimeoutError("the bot did not answer everything in 120 s")
        await asyncio.sleep(0.005)
    rate = expected / (time.perf_counter() - started)
    # latency: one at a time
    latencies = []
    for n, q in enumerate(questions[:latency_samples]):
        mark = api.mark()
        t0 = time.time()
        api.push(api.private_message(50_000 + n, q))
        record = await api.wait_for_async(method="sendMessage", after=mark, timeout=10)
        latencies.append(record.timestamp - t0)
    return rate, latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=400)
    parser.add_argument("--latency-samples", type=int, default=100)
    args = parser.parse_args()
    pool = [q.text for q in load_questions(ROOT / "eval" / "dev.yaml")]
    questions = (pool * (args.questions // len(pool) + 1))[: args.questions]

    rows = []
    bots = [("fact-check bot", [sys.executable, "-m", "bot", "run"]),
            ("echo bot", [sys.executable, str(ROOT / "bench" / "echo_bot.py")]),
            ("card echo bot", [sys.executable, str(ROOT / "bench" / "echo_bot.py"), "--card"])]
    async with BotAPI(max_poll_timeout=1) as api:
        for name, command in bots:
            api.reset()
            with tempfile.TemporaryDirectory() as tmp:
                process = await asyncio.to_thread(launch, command, api, Path(tmp) / "bench.sqlite3")
                try:
                    rows.append((name, *await measure(api, questions, args.latency_samples)))
                finally:
                    await asyncio.to_thread(halt, process)

    print(f"{len(questions)} questions from distinct askers; {args.latency_samples} one-at-a-time for latency\n")
    print(f"{'bot':<16}{'answers/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for name, rate, lat in rows:
        lat = sorted(lat)
        p99 = lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))]
        print(f"{name:<16}{rate:>10.0f}{statistics.median(lat) * 1000:>9.1f}{p99 * 1000:>9.1f}")
    print(f"\nratio: the bot answers at {rows[0][1] / rows[1][1]:.0%} of the echo bot's rate "
          f"(the card echo bot at {rows[2][1] / rows[1][1]:.0%})")


if __name__ == "__main__":
    asyncio.run(main())
