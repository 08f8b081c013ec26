"""On-call end to end: links to an escalation policy (`policy:<ID>`, its first level's people), and pausing and
resuming a link (`/oncall pause|resume <schedule>`: no writes meanwhile, the link kept)."""

from __future__ import annotations

from tests.e2e.test_oncall import ALICE, BOB, CAROL, DAVE, HOUR, on_call_now, oncall, settle, slack_calls, whole_now

WRITES = ("conversations.setTopic", "usergroups.users.update")


def payments_policy(world) -> None:
    """Level 1: the First line schedule (Alice now, Bob next) and Dave directly; level 2: Carol."""
    now = whole_now()
    first = [(ALICE, now - HOUR, now + HOUR), (BOB, now + HOUR, now + 9 * HOUR)]
    world.pagerduty.add_schedule("PTSTFST", "First line", shifts=first)
    world.pagerduty.add_schedule("PTSTSND", "Second line", shifts=[(CAROL, now - HOUR, now + 9 * HOUR)])
    world.pagerduty.add_escalation_policy("PTSTPOL", "Payments", [["PTSTFST", DAVE], ["PTSTSND"]])
    world.slack.add_usergroup("S0PAYON", "payments-oncall", users=["U0CAROL"])


def writes(world) -> int:
    return sum(len(slack_calls(world, method)) for method in WRITES)


# --- escalation policies -----------------------------------------------------------------------------
def test_a_policy_link_shows_and_keeps_on_call_its_first_level(world, bot):
    payments_policy(world)
    answer = oncall(bot, "link policy:PTSTPOL C0OPS S0PAYON")
    assert answer.startswith("Linked *Payments* to <#C0OPS>, @payments-oncall.")
    topic = world.slack.topic("C0OPS")
    assert "<@U0ALICE> is on-call for Payments" in topic and "<@U0DAVE> is on-call for Payments" in topic
    assert "U0CAROL" not in topic  # level 2 is who it escalates to, not who is on call
    assert sorted(world.slack.usergroup_members("S0PAYON")) == ["U0ALICE", "U0DAVE"]
    listed = oncall(bot, "list")
    assert "• *Payments* (`policy:PTSTPOL`)" in listed
    # `/oncall` in the channel and by name read the policy like a schedule: now, and who comes next.
    here = oncall(bot, "", user="U0BOB")
    assert here.startswith("*Payments*: ") and "Next: <@U0BOB> from " in here
    assert oncall(bot, "policy:payments", user="U0BOB") == here
    assert oncall(bot, "policy:PTSTPOL", user="U0BOB") == here


def test_a_policy_link_follows_changes_at_its_first_level(world, bot):
    payments_policy(world)
    oncall(bot, "link policy:PTSTPOL=Pay C0OPS S0PAYON")
    now = whole_now()
    world.pagerduty.add_override("PTSTFST", BOB, now - 60, now + HOUR)  # Bob takes over from Alice
    settle(bot)
    topic = world.slack.topic("C0OPS")
    assert "<@U0BOB> is on-call for Pay" in topic and "U0ALICE" not in topic
    assert sorted(world.slack.usergroup_members("S0PAYON")) == ["U0BOB", "U0DAVE"]


def test_unknown_policies_are_refused_and_unlink_takes_the_policy_form(world, bot):
    payments_policy(world)
    assert oncall(bot, "link policy:PNOSUCH1 C0OPS") == (
        "Nothing changed:\n• Escalation policy `PNOSUCH1` not found in PagerDuty."
    )
    assert oncall(bot, "link policy: C0OPS").startswith("Nothing changed:\n• `policy:` needs an escalation policy")
    oncall(bot, "link policy:PTSTPOL C0OPS")
    assert oncall(bot, "unlink policy:PTSTPOL C0OPS").startswith("Unlinked `policy:PTSTPOL` from <#C0OPS>.")
    settle(bot)
    assert world.slack.topic("C0OPS") == ""


# --- pause and resume --------------------------------------------------------------------------------
def test_a_paused_link_gets_no_writes_and_resuming_catches_up(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    world.slack.add_usergroup("S0TSTOPS", "ops-oncall", users=["U0DAVE"])
    oncall(bot, "link PTSTPRI C0OPS S0TSTOPS")
    assert world.slack.topic("C0OPS") == "<@U0ALICE> is on-call for Primary"
    paused = oncall(bot, "pause Primary")
    assert paused == (
        "Paused *Primary*: I won't change <#C0OPS>, @ops-oncall until `/oncall resume PTSTPRI`. The link stays; "
        "`/oncall list` shows it as paused."
    )
    assert "*paused* by <@U0ALICE>" in oncall(bot, "list")
    before = writes(world)
    now = whole_now()
    world.pagerduty.add_override("PTSTPRI", BOB, now - 60, now + HOUR)
    world.slack.set_topic_as("U0CAROL", "C0OPS", "deploy freeze")  # our part is gone; a paused link leaves it
    sync = oncall(bot, "sync")
    assert sync.startswith("Synced 1 link(s)") and "wait for Slack" not in sync
    assert writes(world) == before
    assert world.slack.topic("C0OPS") == "deploy freeze"
    assert world.slack.usergroup_members("S0TSTOPS") == ["U0ALICE"]
    assert bot.runtime.services["oncall"].counts()["paused links"] == 1
    assert oncall(bot, "pause PTSTPRI") == "`PTSTPRI` is already paused; nothing changed."
    resumed = oncall(bot, "resume primary")
    assert resumed.startswith("Resumed *Primary*: <#C0OPS>, @ops-oncall follow PagerDuty again.")
    assert world.slack.topic("C0OPS") == "<@U0BOB> (override) is on-call for Primary | deploy freeze"
    assert world.slack.usergroup_members("S0TSTOPS") == ["U0BOB"]
    assert "paused" not in oncall(bot, "list")
    assert oncall(bot, "resume PTSTPRI") == "`PTSTPRI` is not paused; nothing changed."


def test_pause_is_for_admins_and_for_linked_schedules(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    on_call_now(world, "PTSTSEC", "Secondary", BOB)
    oncall(bot, "link PTSTPRI C0OPS")
    assert oncall(bot, "pause PTSTPRI", user="U0BOB") == "Only Switchboard admins can change on-call links."
    assert oncall(bot, "pause PTSTSEC") == (
        "`PTSTSEC` is not linked anywhere; nothing changed. `/oncall list` shows every link."
    )
    assert oncall(bot, "pause").startswith("`/oncall pause` needs a linked schedule")
    assert oncall(bot, "list").count("paused") == 0


def test_a_paused_link_survives_a_restart_and_a_relink(world, make_bot):
    bot = make_bot()
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    oncall(bot, "link PTSTPRI C0OPS")
    oncall(bot, "pause PTSTPRI")
    linked = oncall(bot, "link PTSTPRI C0GENERAL")
    assert linked.splitlines()[-1] == (
        ":double_vertical_bar: This link is paused: its topics and usergroups stay as they are until "
        "`/oncall resume PTSTPRI`."
    )
    assert world.slack.topic("C0GENERAL") == ""
    bot.stop()
    again = make_bot()
    settle(again)
    assert world.slack.topic("C0GENERAL") == ""
    assert "*paused* by <@U0ALICE>" in oncall(again, "list")
    oncall(again, "resume PTSTPRI")
    assert world.slack.topic("C0GENERAL") == "<@U0ALICE> is on-call for Primary"
