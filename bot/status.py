"""`/switchboard status`: the Home tab's facts as one ephemeral message."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bot.home import job_line

if TYPE_CHECKING:
    from bot.runtime import Runtime

HELP = (
    "*Switchboard* — `/switchboard status` shows what is on and how the jobs are doing; "
    "`/switchboard digest` the last 24 hours of every capability; `/switchboard doctor` (admins) configuration "
    "problems, each with its fix; `/switchboard failed` (admins) lists work that failed for good, each with a "
    "Retry button in its alert; "
    "the app's Home tab shows the same, live."
)


def status_text(runtime: Runtime) -> str:
    now = time.time()
    lines = ["*Capabilities*"]
    lines += [f"• {c.name}: {c.why}" for c in runtime.capabilities]
    lines.append("*Jobs*")
    jobs = runtime.scheduler.status()
    lines += [f"• {job_line(job, now)}" for job in jobs] or ["• none"]
    return "\n".join(lines)
