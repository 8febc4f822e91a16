"""Turn locust's final JSON stats into the stress report: counts, percentiles, requests/s.

Shared by the 100-requests-per-minute test and `make stress`:

    python -m tests.stress.report reports/stress/locust.json --run-time 60s --planned-rate 100

writes reports/stress/report.json and report.txt and prints the text. It reads locust's JSON
(`--json-file`), not its CSV, whose final row misses the last second of the run. It does not
import locust, which patches the standard library with gevent on import.
"""

import argparse
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

PERCENTILES = (0.50, 0.95, 0.99)
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([hms])")
SECONDS_PER_UNIT = {"h": 3600, "m": 60, "s": 1}


def duration_seconds(text: str) -> float:
    """Return the seconds in a locust-style duration: "90", "90s", "10m", "1h30m"."""
    text = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    parts = DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"not a duration: {text!r} (use e.g. 60s, 10m, 1h30m)")
    return sum(float(number) * SECONDS_PER_UNIT[unit] for number, unit in parts)


def percentile_ms(response_times: Counter[int], percent: float) -> int:
    """Return the response time that `percent` of the requests finished within.

    Locust's own rule (stats.calculate_response_time_percentile) on its histogram of response
    times rounded to a few significant digits.
    """
    total = sum(response_times.values())
    wanted = int(total * percent)
    processed = 0
    for response_time in sorted(response_times, reverse=True):
        processed += response_times[response_time]
        if total - processed <= wanted:
            return response_time
    return 0


def entry_summary(
    name: str, entries: list[dict[str, Any]], run_seconds: float | None
) -> dict[str, Any]:
    response_times: Counter[int] = Counter()
    for entry in entries:
        for response_time, count in entry["response_times"].items():
            response_times[int(float(response_time))] += count
    requests = sum(entry["num_requests"] for entry in entries)
    failures = sum(entry["num_failures"] for entry in entries)
    if run_seconds is None:
        started = min(entry["start_time"] for entry in entries)
        ended = max(entry["last_request_timestamp"] or started for entry in entries)
        run_seconds = max(ended - started, 1e-9)
    summary = {
        "name": name,
        "requests": requests,
        "failures": failures,
        "requests_per_second": round(requests / run_seconds, 3),
        "average_ms": round(sum(entry["total_response_time"] for entry in entries) / requests, 1)
        if requests
        else 0.0,
        "max_ms": round(max((entry["max_response_time"] for entry in entries), default=0)),
    }
    for percent in PERCENTILES:
        summary[f"p{round(percent * 100)}_ms"] = percentile_ms(response_times, percent)
    return summary


def stress_report(
    stats: list[dict[str, Any]], *, run_seconds: float | None = None, planned: int | None = None
) -> dict[str, Any]:
    """Return the report of a locust run from its `--json-file` stats."""
    if not stats:
        raise ValueError("locust recorded no requests")
    total = entry_summary("Aggregated", stats, run_seconds)
    report: dict[str, Any] = {
        **{key: value for key, value in total.items() if key != "name"},
        "run_seconds": run_seconds,
        "planned_requests": planned,
        "completed_share": round(total["requests"] / planned, 3) if planned else None,
        "endpoints": [
            entry_summary(f"{entry['method']} {entry['name']}", [entry], run_seconds)
            for entry in sorted(stats, key=lambda entry: entry["name"])
        ],
    }
    return report


def report_text(report: dict[str, Any]) -> str:
    """Return the report as a small table for people."""
    lines = [
        f"requests {report['requests']}, failures {report['failures']}, "
        f"{report['requests_per_second']:.2f} req/s"
        + (f" over {report['run_seconds']:g} s" if report["run_seconds"] else ""),
    ]
    if report["planned_requests"]:
        lines.append(
            f"planned {report['planned_requests']}, "
            f"completed {report['completed_share']:.1%} of them"
        )
    lines.append(
        f"latency p50 {report['p50_ms']} ms, p95 {report['p95_ms']} ms, "
        f"p99 {report['p99_ms']} ms, max {report['max_ms']} ms"
    )
    lines.append("")
    header = (
        f"{'endpoint':<26} {'reqs':>6} {'fails':>6} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}"
    )
    lines.append(header)
    for row in report["endpoints"] + [{**report, "name": "Aggregated"}]:
        lines.append(
            f"{row['name']:<26} {row['requests']:>6} {row['failures']:>6} "
            f"{row['requests_per_second']:>7.2f} {row['p50_ms']:>6} {row['p95_ms']:>6} "
            f"{row['p99_ms']:>6}"
        )
    return "\n".join(lines) + "\n"


def report_write(report: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """Write report.json and report.txt into directory and return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "report.json"
    text_path = directory / "report.txt"
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    text_path.write_text(report_text(report), encoding="utf-8")
    return json_path, text_path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stats", type=Path, help="the file locust wrote with --json-file")
    parser.add_argument("--run-time", help="how long locust ran (60s, 10m); default: measured")
    parser.add_argument(
        "--planned-rate", type=float, help="requests per minute the run was meant to make"
    )
    parser.add_argument("--out-dir", type=Path, default=Path("reports/stress"))
    args = parser.parse_args(argv)
    stats = json.loads(args.stats.read_text(encoding="utf-8"))
    run_seconds = duration_seconds(args.run_time) if args.run_time else None
    planned = None
    if args.planned_rate and run_seconds:
        planned = round(args.planned_rate * run_seconds / 60)
    report = stress_report(stats, run_seconds=run_seconds, planned=planned)
    report_write(report, args.out_dir)
    print(report_text(report), end="")


if __name__ == "__main__":
    main()
