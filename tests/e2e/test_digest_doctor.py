"""The daily digest and the doctor: the foundation's side (each capability's lines and findings are tested with it)."""

import os
import subprocess
import sys

from bot.digest import next_run
from bot.settings import ROOT


def test_the_digest_is_posted_once_per_channel_and_day(world, make_bot):
    world.slack.add_channel("C0DIGEST", "digest", members=["UBOT", "U0ALICE"])
    bot = make_bot(DIGEST_CHANNELS="C0DIGEST,C0OPS", DIGEST_TIME="09:00", DIGEST_TIMEZONE="Europe/London")
    bot.runtime.scheduler.run_and_wait("core.digest")
    bot.runtime.scheduler.run_and_wait("core.digest")  # the same day again: nothing more
    bot.drain_outbox()
    for channel in ("C0DIGEST", "C0OPS"):
        posts = [m["text"] for m in world.slack.messages(channel) if "daily digest" in m["text"]]
        assert len(posts) == 1 and posts[0].startswith("*Switchboard daily digest* — the 24 hours to ")
        assert "Europe/London" in posts[0]
    now = bot.command_reply("U0BOB", "C0OPS", "/switchboard", "digest")
    assert now.startswith("*Switchboard daily digest*")


def test_the_digest_runs_at_its_local_time_across_a_clock_change():
    london = "Europe/London"
    before_change = 1_792_540_800.0  # 2026-10-20 00:00 UTC (summer time: 09:00 local is 08:00 UTC)
    assert next_run("09:00", london, before_change) == 1_792_569_600.0
    after_change = 1_793_836_800.0  # 2026-11-04 00:00 UTC (winter time: 09:00 local is 09:00 UTC)
    assert next_run("09:00", london, after_change) == 1_793_869_200.0


def test_the_doctor_names_a_channel_the_bot_is_not_in_and_only_admins_run_it(world, make_bot):
    world.slack.add_channel("C0QUIET", "quiet", members=["U0ALICE"])  # the bot is not a member
    bot = make_bot(DIGEST_CHANNELS="C0QUIET")
    assert bot.command_reply("U0BOB", "C0OPS", "/switchboard", "doctor").startswith("Only Switchboard admins")
    found = bot.command_reply("U0ALICE", "C0OPS", "/switchboard", "doctor")
    assert "the bot is not in <#C0QUIET> (DIGEST_CHANNELS)" in found and "`/invite @Switchboard`" in found


def test_python_app_py_doctor_prints_the_findings_and_exits_1_when_there_are_any(world):
    world.slack.add_channel("C0QUIET", "quiet", members=["U0ALICE"])
    environ = {**os.environ, **world.env(SWITCHBOARD_RETRY_PROFILE="test", DIGEST_CHANNELS="C0QUIET")}
    result = subprocess.run(
        [sys.executable, "app.py", "doctor"], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1, result.stderr
    assert "problem(s) found" in result.stdout and "C0QUIET" in result.stdout
