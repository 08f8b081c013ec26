"""Parser figures: how long each parser of outside text takes on adversarial inputs of 5, 10, 20 and 40 kB.

    .venv/bin/python -m bench.parsers [--sizes 5 10 20 40] [--budget 5] [--only zendesk]

The inputs are the shapes of `tests/property/shapes.py`: long runs of markup characters and openings that are
never closed (text for the on-call parser, the Zendesk → Slack converter and the Slack escapers; JSON for the
MESSAGE-SPEC parser). For each parser and shape it prints the time of one call at every size and the ratio
40 kB / 10 kB: about 4 means linear, about 16 quadratic, about 64 cubic (on a shared machine a linear parser
measures anywhere from 3 to 8, so the summary flags ratios above 8). A call that runs past the budget is stopped
and the larger sizes of that shape are skipped. The outcome column says how the call ended: `result`, the
parser's documented error, or (a bug) any other exception.
"""

from __future__ import annotations

import argparse
import gc
import signal
import time
from collections.abc import Callable
from types import FrameType

from bot.dispatch.message_spec import Defaults, InvalidMessage, parse_message
from bot.oncall.parse import CommandError, parse_command, parse_question
from bot.support.text import comment_from_slack, markdown_to_mrkdwn, slack_to_plain, zendesk_to_slack
from bot.text import escape, for_github, for_jira, link, producer_text
from tests.property.shapes import JSON_SHAPES, KB, TEXT_SHAPES, Shape

TICKET_URL = "https://acme.zendesk.com/agent/tickets/7"
DEFAULTS = Defaults("acme/alerts", github_user="acme/security", default_channel="C0ALERTS", pagerduty_service="PDEF")
DOCUMENTED_ERRORS = (CommandError, InvalidMessage)

PARSERS: dict[str, tuple[Callable[[str], object], dict[str, Shape]]] = {
    "oncall parse_command(text)": (parse_command, TEXT_SHAPES),
    'oncall parse_command("link " + text)': (lambda text: parse_command("link " + text), TEXT_SHAPES),
    'oncall parse_question("who is on call for " + text)': (
        lambda text: parse_question("who is on call for " + text, "U0BOT"),
        TEXT_SHAPES,
    ),
    "dispatch parse_message(json)": (lambda raw: parse_message(raw, DEFAULTS), JSON_SHAPES),
    "support zendesk_to_slack(text)": (lambda text: zendesk_to_slack(text, TICKET_URL), TEXT_SHAPES),
    "support markdown_to_mrkdwn(escape(text))": (lambda text: markdown_to_mrkdwn(escape(text)), TEXT_SHAPES),
    "support slack_to_plain(text)": (lambda text: slack_to_plain(text, lambda user: f"user {user}"), TEXT_SHAPES),
    "support comment_from_slack(text)": (lambda text: comment_from_slack("Ann", text, [], False), TEXT_SHAPES),
    "text escape(text)": (escape, TEXT_SHAPES),
    "text link(url, text)": (lambda text: link("https://x.example/a", text), TEXT_SHAPES),
    "text link(url, text, strict=True)": (lambda text: link("https://x.example/a", text, strict=True), TEXT_SHAPES),
    "text link(text)": (link, TEXT_SHAPES),
    "text producer_text(text)": (producer_text, TEXT_SHAPES),
    "text producer_text(text, allow_mentions=True)": (
        lambda text: producer_text(text, allow_mentions=True),
        TEXT_SHAPES,
    ),
    "text for_github(text)": (for_github, TEXT_SHAPES),
    "text for_jira(text)": (for_jira, TEXT_SHAPES),
}


class OverBudget(BaseException):
    """One call ran longer than the budget (raised from SIGALRM; `re` checks for signals while it backtracks).
    Not an Exception, so that `outcome` does not count it as the parser's own."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise OverBudget


def outcome(call: Callable[[str], object], text: str) -> str:
    try:
        call(text)
    except DOCUMENTED_ERRORS as error:
        return type(error).__name__
    except Exception as error:  # the point of the bench: any other exception is a finding, not a crash
        return f"{type(error).__name__} (a bug)"
    return "result"


def seconds_per_call(call: Callable[[str], object], text: str, budget: float) -> tuple[float | None, str]:
    """Best of five batches (a batch is as many calls as fill about 20 ms) and the outcome; no figure when the
    first call overran the budget."""
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        started = time.perf_counter()
        ended = outcome(call, text)
        first = time.perf_counter() - started
    except OverBudget:
        return None, f"stopped after {budget:g} s"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    calls = max(1, int(0.02 / max(first, 1e-7)))
    best = first
    gc.disable()  # as timeit does: a collection in the middle of a batch is noise, not the parser
    try:
        for _ in range(5 if first < 1 else 0):
            started = time.perf_counter()
            for _ in range(calls):
                outcome(call, text)
            best = min(best, (time.perf_counter() - started) / calls)
    finally:
        gc.enable()
    return best, ended


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.3g}"


def measure(name: str, sizes: list[int], budget: float) -> list[tuple[str, float | None]]:
    """Prints one parser's table; returns (shape, ratio 40 kB / 10 kB or None when stopped) per shape."""
    call, shapes = PARSERS[name]
    print(f"\n## {name}: ms per call")
    print(f"| Shape | {' | '.join(f'{size} kB' for size in sizes)} | ratio {sizes[-1]}/{sizes[1]} | Outcome |")
    print(f"| --- | {' | '.join('---' for _ in sizes)} | --- | --- |")
    ratios: list[tuple[str, float | None]] = []
    for shape_name, shape in shapes.items():
        figures: list[float | None] = []
        outcomes: list[str] = []
        for size in sizes:
            if figures and figures[-1] is None:
                figures.append(None)  # the smaller input already overran: the larger one would too
                continue
            figure, ended = seconds_per_call(call, shape(size * KB), budget)
            figures.append(figure)
            outcomes.append(ended)
        low, high = figures[1], figures[-1]
        ratio = high / low if low and high else None
        stopped = any(figure is None for figure in figures)
        ratio_text = f"> budget ({budget:g} s)" if stopped else f"{ratio:.1f}"
        ended = ", ".join(dict.fromkeys(outcomes))
        print(f"| {shape_name} | {' | '.join(_ms(f) for f in figures)} | {ratio_text} | {ended} |", flush=True)
        ratios.append((shape_name, None if stopped else ratio))
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 10, 20, 40], help="input sizes in kB")
    parser.add_argument("--budget", type=float, default=5.0, help="seconds one call may take before it is stopped")
    parser.add_argument("--only", default="", help="run the parsers whose name contains this text")
    args = parser.parse_args()
    if len(args.sizes) < 2:
        parser.error("--sizes needs at least two sizes (the ratio compares the last with the second)")
    signal.signal(signal.SIGALRM, _stop)
    summary: list[str] = []
    for name in PARSERS:
        if args.only not in name:
            continue
        ratios = measure(name, args.sizes, args.budget)
        slow = [
            f"{shape} ({'stopped' if ratio is None else f'{ratio:.0f}×'})"
            for shape, ratio in ratios
            if ratio is None or ratio > 8
        ]
        worst = max((ratio for _, ratio in ratios if ratio is not None), default=0.0)
        summary.append(f"| {name} | {worst:.1f} | {', '.join(slow) or 'none'} |")
    print("\n## Summary: worst ratio among the shapes that finished, and the shapes that grew faster than linear")
    print(f"| Parser | worst ratio {args.sizes[-1]}/{args.sizes[1]} | super-linear (ratio > 8, or stopped) |")
    print("| --- | --- | --- |")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
