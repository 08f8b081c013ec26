"""On-call end to end: what the sync costs, hand-offs on time, usergroups, restarts, pacing, faults, the YAML CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from bot.outbox import OUTBOX_JOB
from bot.settings import ROOT, SettingsError
from tests.e2e.test_oncall import (
    ALICE,
    BOB,
    CAROL,
    HOUR,
    channel,
    on_call_now,
    oncall,
    schedule,
    settle,
    slack_calls,
    whole_now,
)

WRITES = r"/api/(conversations\.setTopic|usergroups\.users\.update)$"


def slack_api_calls(world) -> list[str]:
    """Every Slack call on-call could make (other capabilities' pollers use other methods)."""
    return [
        r.path for r in world.slack.calls("POST", r"/api/(conversations\.(info|setTopic)|usergroups\.|users\.lookup)")
    ]


# --- cost --------------------------------------------------------------------------------------------
def test_steady_state_costs_one_pagerduty_call_and_no_slack_call(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    on_call_now(world, "PTSTSEC", "Secondary", BOB)
    world.slack.add_usergroup("S0TSTOPS", "ops-oncall", users=["U0ALICE", "U0BOB"])
    oncall(bot, "link PTSTPRI C0OPS <!subteam^S0TSTOPS|@ops-oncall>")
    oncall(bot, "link PTSTSEC C0GENERAL <!subteam^S0TSTOPS|@ops-oncall>")
    settle(bot)
    world.slack.reset_requests()
    world.pagerduty.reset_requests()
    settle(bot)
    settle(bot)
    assert slack_api_calls(world) == []
    oncall_paths = [r.path for r in world.pagerduty.requests if r.path.startswith(("/oncalls", "/schedules", "/users"))]
    assert oncall_paths == ["/oncalls", "/oncalls"]  # both schedules in one call a cycle
    assert world.pagerduty.calls("GET", "^/oncalls$")[0].q_list("schedule_ids") == ["PTSTPRI", "PTSTSEC"]


def test_more_than_100_schedules_are_read_100_per_request(world, bot, tmp_path):
    now = whole_now()
    ids = [f"PBIG{n:03d}" for n in range(101)]
    for schedule_id in ids:
        world.pagerduty.add_schedule(schedule_id, schedule_id, shifts=[(ALICE, now - HOUR, now + HOUR)])
    world.pagerduty.add_escalation_policy("PBIGEP1", "Big", [ids])
    links_file = tmp_path / "links.yml"  # a command takes at most 10 schedules; a link file takes any number
    links_file.write_text(yaml.safe_dump({"links": [{"schedules": ids, "channels": ["C0OPS"]}]}))
    assert cli(world, "import", str(links_file)).returncode == 0
    world.pagerduty.reset_requests()
    settle(bot)
    assert [len(r.q_list("schedule_ids")) for r in world.pagerduty.calls("GET", "^/oncalls$")] == [100, 1]
    topic = world.slack.topic("C0OPS")
    assert topic.startswith("<@U0ALICE> is on-call for PBIG000, PBIG001,") and len(topic) == 250


def test_usergroup_already_right_is_not_written(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    world.slack.add_usergroup("S0TSTOPS", "ops-oncall", users=["U0ALICE"])
    answer = oncall(bot, "link PTSTPRI <!subteam^S0TSTOPS|@ops-oncall>")
    assert answer.endswith("• @ops-oncall members: <@U0ALICE>.")
    assert len(slack_calls(world, "usergroups.users.list")) == 1  # members unknown until read once
    assert not slack_calls(world, "usergroups.users.update")


def test_usergroup_gets_everyone_on_call_of_every_linked_schedule(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    on_call_now(world, "PTSTSEC", "Secondary", BOB)
    on_call_now(world, "PTSTDBA", "Database", ALICE)
    world.slack.add_usergroup("S0TSTOPS", "ops-oncall", users=["U0DAVE"])
    oncall(bot, "link PTSTPRI,PTSTDBA <!subteam^S0TSTOPS|@ops-oncall>")
    oncall(bot, "link PTSTSEC <!subteam^S0TSTOPS|@ops-oncall>")
    assert sorted(world.slack.usergroup_members("S0TSTOPS")) == ["U0ALICE", "U0BOB"]
    assert [c["users"] for c in slack_calls(world, "usergroups.users.update")] == ["U0ALICE", "U0ALICE,U0BOB"]


def test_usergroup_is_never_emptied(world, bot):
    world.pagerduty.add_user("PZOEXXX", "Zoe Zed", "zoe@elsewhere.example")
    on_call_now(world, "PTSTEXT", "External", "PZOEXXX")
    world.slack.add_usergroup("S0TSTOPS", "ops-oncall", users=["U0DAVE"])
    answer = oncall(bot, "link PTSTEXT <!subteam^S0TSTOPS|@ops-oncall>")
    assert answer.endswith("• @ops-oncall: nobody on call maps to a Slack user, so I keep its current members.")
    settle(bot)
    assert world.slack.usergroup_members("S0TSTOPS") == ["U0DAVE"]
    assert not slack_calls(world, "usergroups.users.update")
    assert "@ops-oncall: kept its members: nobody on call maps to a Slack user" in oncall(bot, "list")


def test_refused_usergroup_update_is_reported_once_and_not_retried_in_a_loop(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    world.slack.add_usergroup("S0TSTOPS", "ops-oncall", users=["U0DAVE"])
    world.slack.forbid_usergroup_updates("S0TSTOPS")
    answer = oncall(bot, "link PTSTPRI C0OPS <!subteam^S0TSTOPS|@ops-oncall>")
    assert "• @ops-oncall: Slack refused the update (`permission_denied`)" in answer
    assert world.slack.topic("C0OPS") == "<@U0ALICE> is on-call for Primary"  # the channel went on regardless
    for _ in range(3):
        settle(bot)
    assert len(slack_calls(world, "usergroups.users.update")) == 1
    assert "@ops-oncall: :warning: Slack refused the update: `permission_denied` — the workspace lets only admins" in (
        oncall(bot, "list")
    )
    world.slack.open_home("U0ALICE")
    world.slack.wait_for(lambda: "refused by Slack 1" in str(world.slack.home_view("U0ALICE")), message="Home")


def test_one_refused_channel_does_not_stop_the_others(world, bot):
    now = whole_now()
    channel(world, "C0GOOD")
    channel(world, "C0GONE")
    schedule(world, "PTSTPRI", "Primary", [(ALICE, now - HOUR, now + HOUR)])
    oncall(bot, "link PTSTPRI C0GONE C0GOOD")
    world.slack.archive_channel("C0GONE")
    world.pagerduty.set_shifts("PTSTPRI", [(BOB, now - HOUR, now + HOUR)])
    answer = oncall(bot, "sync")
    assert "• <#C0GOOD> topic: <@U0BOB> is on-call for Primary (was: <@U0ALICE> is on-call for Primary)" in answer
    assert "• :warning: <#C0GONE>: Slack said `is_archived` — the channel is archived" in answer
    assert world.slack.topic("C0GOOD") == "<@U0BOB> is on-call for Primary"
    assert "<#C0GONE>: :warning: Slack refused the topic: `is_archived`" in oncall(bot, "list")


def test_one_unreadable_schedule_keeps_its_last_topic_and_does_not_stop_the_others(world, bot):
    now = whole_now()
    channel(world, "C0SOLO")
    schedule(world, "PTSTSOLO", "Solo", [(CAROL, now - HOUR, now + HOUR)], policy=False)
    schedule(world, "PTSTPRI", "Primary", [(ALICE, now - HOUR, now + HOUR)])
    oncall(bot, "link PTSTSOLO C0SOLO")
    oncall(bot, "link PTSTPRI C0OPS")
    world.pagerduty.inject_fault(r"^/schedules/PTSTSOLO$", 500, times=-1)
    world.pagerduty.set_shifts("PTSTPRI", [(BOB, now - HOUR, now + HOUR)])
    assert "• <#C0OPS> topic: <@U0BOB> is on-call for Primary" in oncall(bot, "sync")
    assert world.slack.topic("C0SOLO") == "<@U0CAROL> is on-call for Solo"


# --- topics: human edits, restarts ---------------------------------------------------------------------
def test_human_topic_edits_are_learned_from_events_and_our_part_restored(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    oncall(bot, "link PTSTPRI")
    infos = len(slack_calls(world, "conversations.info"))
    envelope = world.slack.set_topic_as("U0CAROL", "C0OPS", "<@U0ALICE> is on-call for Primary | new runbook <#C0X|x>")
    world.slack.wait_for_ack(envelope)
    settle(bot)
    assert len(slack_calls(world, "conversations.setTopic")) == 1  # our part is intact: nothing to write
    envelope = world.slack.set_topic_as("U0CAROL", "C0OPS", "Freeze until Monday")
    world.slack.wait_for(
        lambda: world.slack.topic("C0OPS") == "<@U0ALICE> is on-call for Primary | Freeze until Monday"
    )
    world.slack.wait_for_ack(world.slack.redeliver(envelope))
    settle(bot)
    assert len(slack_calls(world, "conversations.setTopic")) == 2  # one restore, despite the redelivery
    assert len(slack_calls(world, "conversations.info")) == infos  # events taught us; Slack was never asked


def test_a_pipe_in_a_schedule_name_is_not_taken_for_the_separator_after_a_human_edit(world, bot):
    on_call_now(world, "PTSTPRI", "Ops | Primary", ALICE)
    oncall(bot, "link PTSTPRI")
    ours = "<@U0ALICE> is on-call for Ops \u00a6 Primary"
    assert world.slack.topic("C0OPS") == ours
    world.slack.wait_for_ack(world.slack.set_topic_as("U0CAROL", "C0OPS", f"{ours} | new runbook"))
    settle(bot)
    assert world.slack.topic("C0OPS") == f"{ours} | new runbook"  # not cut at the name's `|` and repeated
    assert len(slack_calls(world, "conversations.setTopic")) == 1


def test_restart_reads_each_unknown_topic_once_and_fixes_edits_made_while_away(world, make_bot):
    channel(world, "C0TEAM", "standup at 10")
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    first = make_bot()
    oncall(first, "link PTSTPRI C0OPS C0TEAM")
    first.stop()
    world.slack.set_topic_as("U0CAROL", "C0TEAM", "Freeze until Monday")  # nobody is connected to hear it
    world.slack.reset_requests()
    second = make_bot()
    world.slack.wait_for(
        lambda: world.slack.topic("C0TEAM") == "<@U0ALICE> is on-call for Primary | Freeze until Monday",
        message="the topic restored after the restart",
    )
    settle(second)
    assert sorted(c["channel"] for c in slack_calls(world, "conversations.info")) == ["C0OPS", "C0TEAM"]
    assert [c["channel"] for c in slack_calls(world, "conversations.setTopic")] == ["C0TEAM"]


# --- timing ------------------------------------------------------------------------------------------
def test_hand_off_takes_effect_on_time_with_one_dm(world, make_bot):
    now = whole_now()
    schedule(world, "PTSTPRI", "Primary", [(ALICE, now - HOUR, now + 3), (BOB, now + 3, now + HOUR)])
    world.slack.add_usergroup("S0TSTOPS", "ops-oncall", users=["U0ALICE"])
    bot = make_bot(ONCALL_HANDOFF_DM="true")
    oncall(bot, "link PTSTPRI C0OPS <!subteam^S0TSTOPS|@ops-oncall>")
    assert world.slack.topic("C0OPS") == "<@U0ALICE> is on-call for Primary"
    # the cycle is 5 minutes: only the run scheduled from the shift's end can make this in time
    world.slack.wait_for(lambda: world.slack.topic("C0OPS") == "<@U0BOB> is on-call for Primary", timeout=15)
    world.slack.wait_for(lambda: world.slack.usergroup_members("S0TSTOPS") == ["U0BOB"], timeout=5)
    dm = world.slack.wait_for_message(world.slack.dm_channel("U0BOB"), timeout=5)
    until = f"<!date^{now + HOUR}^{{date_short_pretty}} {{time}}|"
    assert dm["text"].startswith(f":pager: You are now on call for Primary until {until}")
    settle(bot)
    bot.runtime.scheduler.run_and_wait(OUTBOX_JOB)
    assert len(world.slack.dm_messages("U0BOB")) == 1 and not world.slack.dm_messages("U0ALICE")


# --- pacing and faults ---------------------------------------------------------------------------------
def test_writes_beyond_slacks_tier_2_budget_wait_their_turn(world, bot):
    channels = [channel(world, f"C0PACE{i:02d}") for i in range(21)]
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    answer = oncall(bot, "link PTSTPRI " + " ".join(channels))
    assert len(slack_calls(world, "conversations.setTopic")) == 20
    assert answer.endswith("• The topic of <#C0PACE20> will be:\n> <@U0ALICE> is on-call for Primary")
    assert "    <#C0PACE20>: waiting for its turn to write (Slack rate limit)" in oncall(bot, "list")
    assert bot.runtime.services["oncall"].counts()["writes waiting"] == 1


def test_slack_rate_limit_on_a_write_is_retried_after_retry_after(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    world.slack.inject_fault(r"/api/conversations\.setTopic$", 429, retry_after=1, times=2)
    oncall(bot, "link PTSTPRI")
    world.slack.wait_for(lambda: world.slack.topic("C0OPS") == "<@U0ALICE> is on-call for Primary", timeout=10)


def test_pagerduty_failure_changes_nothing_and_is_reported(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    oncall(bot, "link PTSTPRI")
    world.pagerduty.inject_fault(r"^/oncalls$", 500, times=-1)
    answer = oncall(bot, "sync")
    assert answer == (
        "The sync failed: `ServerHttpError (HTTP 500)`. Nothing changed; `/oncall list` shows the last good state."
    )
    assert ":warning: Last PagerDuty read failed 0s ago: `ServerHttpError (HTTP 500)`" in oncall(bot, "list")
    assert world.slack.topic("C0OPS") == "<@U0ALICE> is on-call for Primary"
    world.pagerduty.clear_faults()
    assert oncall(bot, "sync").endswith("Nothing changed: every topic and usergroup was already up to date.")


def test_capability_off_answers_how_to_turn_it_on(world, make_bot):
    bot = make_bot(PAGERDUTY_API_TOKEN="", SUPPORT_CHANNELS="")  # (support would need PagerDuty too)
    assert oncall(bot, "") == (
        "On-call topics and usergroups is off in this Switchboard: set PAGERDUTY_API_TOKEN and restart it."
    )


def test_malformed_setting_stops_startup_naming_it(world, make_bot):
    with pytest.raises(SettingsError, match=r"^ONCALL_SYNC_MINUTES must be a number of minutes between 0 and"):
        make_bot(ONCALL_SYNC_MINUTES="soon")
    with pytest.raises(SettingsError, match=r"^ONCALL_HANDOFF_DM must be true or false, got 'maybe'$"):
        make_bot(ONCALL_HANDOFF_DM="maybe")


# --- YAML export / import ------------------------------------------------------------------------------
def cli(world, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **world.env(SWITCHBOARD_RETRY_PROFILE="test")}
    return subprocess.run(
        [sys.executable, "app.py", "oncall", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_export_and_import_round_trip_with_a_diff_applied_atomically(world, bot, tmp_path):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    on_call_now(world, "PTSTSEC", "Secondary", BOB)
    oncall(bot, "link PTSTPRI=Front C0OPS")
    exported = tmp_path / "links.yml"
    assert cli(world, "export", str(exported)).stdout == f"exported 1 link(s) to {exported}\n"
    data = yaml.safe_load(exported.read_text())
    assert data == {"links": [{"schedules": ["PTSTPRI"], "names": {"PTSTPRI": "Front"}, "channels": ["C0OPS"]}]}
    data["links"].append({"schedules": ["PTSTSEC"], "channels": ["C0GENERAL"]})
    data["links"][0]["channels"] = ["C0OPS", "C0SUPPORT"]
    exported.write_text(yaml.safe_dump(data))
    dry = cli(world, "import", str(exported), "--dry-run")
    assert dry.stdout.splitlines() == [
        "~ link PTSTPRI: + channel C0SUPPORT",
        "+ link PTSTSEC → channels C0GENERAL",
        "dry run: 2 change(s) not applied",
    ]
    applied = cli(world, "import", str(exported))
    assert applied.returncode == 0 and applied.stdout.splitlines()[-1].startswith("applied 2 change(s)")
    assert cli(world, "import", str(exported)).stdout == "no changes\n"
    oncall(bot, "sync")
    assert world.slack.topic("C0GENERAL") == "<@U0BOB> is on-call for Secondary"
    assert world.slack.topic("C0SUPPORT") == "<@U0ALICE> is on-call for Front"


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("links: [", "links.yml: not valid YAML at line 1: expected the node content"),
        (
            "links:\n- schedules: [nope]\n  channels: [C0OPS]",
            "links.yml: link 1: 'nope' is not a PagerDuty schedule ID",
        ),
        ("links:\n- schedules: [PTSTPRI]", "links.yml: link 1: give at least one of `channels` or `usergroups`"),
        ("links:\n- schedules: [PNOSUCH]\n  channels: [C0OPS]", "schedule PNOSUCH not found in PagerDuty; nothing"),
    ],
)
def test_import_errors_are_one_line_exit_2_and_change_nothing(world, tmp_path, content, error):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    path = tmp_path / "links.yml"
    path.write_text(content)
    result = cli(world, "import", str(path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("switchboard oncall import: ")
    assert error in result.stderr.replace(str(tmp_path) + "/", "")
    assert yaml.safe_load(cli(world, "export", "-").stdout) == {"links": []}
