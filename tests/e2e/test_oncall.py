"""On-call end to end: `/oncall` commands and channel topics, the real bot over Socket Mode against the fakes.

The helpers at the top are shared with test_oncall_sync.py.
"""

from __future__ import annotations

import re
import time

from sandbox.world import World
from tests.e2e.harness import BotUnderTest

HOUR = 3600
# PagerDuty ids of the people World.seed creates (Slack U0ALICE… share their emails)
ALICE, BOB, CAROL, DAVE = "PALICEX", "PBOBXXX", "PCAROLX", "PDAVEXX"
MEMBERS = ["UBOT", "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"]


def whole_now() -> int:
    """PagerDuty speaks whole seconds; shifts on whole seconds keep hand-off arithmetic exact."""
    return int(time.time())


def schedule(
    world: World,
    schedule_id: str,
    name: str,
    shifts: list[tuple[str, float, float]],
    *,
    policy: bool = True,
    overrides: list[tuple[str, float, float]] = (),  # type: ignore[assignment]
) -> None:
    """A schedule; with `policy` it is used by an escalation policy, so GET /oncalls reports it."""
    world.pagerduty.add_schedule(schedule_id, name, shifts=shifts, overrides=overrides)
    if policy:
        world.pagerduty.add_escalation_policy(f"{schedule_id}EP", f"{name} policy", [[schedule_id]])


def on_call_now(world: World, schedule_id: str, name: str, person: str, *, policy: bool = True) -> None:
    now = whole_now()
    schedule(world, schedule_id, name, [(person, now - HOUR, now + 8 * HOUR)], policy=policy)


def channel(world: World, channel_id: str, topic: str = "", *, bot_member: bool = True) -> str:
    members = MEMBERS if bot_member else MEMBERS[1:]
    world.slack.add_channel(channel_id, channel_id.lower(), members=members, topic=topic)
    return channel_id


def oncall(bot: BotUnderTest, text: str, *, user: str = "U0ALICE", channel_id: str = "C0OPS") -> str:
    """Run `/oncall <text>` (Alice is an admin) and return the ephemeral answer."""
    return bot.command_reply(user, channel_id, "/oncall", text)


def slack_calls(world: World, method: str, **args: str) -> list[dict]:
    """Answered Web API calls of one method whose arguments include `args`."""
    found = []
    for request in world.slack.calls("POST", "/api/" + re.escape(method) + "$"):
        given = request.args()
        if request.status and all(str(given.get(k)) == v for k, v in args.items()):
            found.append(given)
    return found


def settle(bot: BotUnderTest) -> None:
    """One sync and one write pass, each waited for (the jobs never overlap themselves)."""
    bot.runtime.scheduler.run_and_wait("oncall.sync")
    bot.runtime.scheduler.run_and_wait("oncall.write")


def links(bot: BotUnderTest) -> int:
    return int(bot.runtime.store.scalar("SELECT COUNT(*) FROM oncall_links") or 0)


# --- /oncall: who is on call ------------------------------------------------------------------------
def test_who_is_on_call_by_name_and_id_with_next_person(world, bot):
    now = whole_now()
    schedule(world, "PTSTPRI", "Primary", [(ALICE, now - HOUR, now + HOUR), (BOB, now + HOUR, now + 3 * HOUR)])
    by_name = oncall(bot, "primary", user="U0BOB")
    assert by_name.startswith("*Primary*: <@U0ALICE> since <!date^")
    assert f"until <!date^{now + HOUR}^" in by_name
    assert f"Next: <@U0BOB> from <!date^{now + HOUR}^" in by_name and f"until <!date^{now + 3 * HOUR}^" in by_name
    assert oncall(bot, "PTSTPRI", user="U0BOB") == by_name


def test_who_in_a_linked_channel_lists_its_schedules_and_elsewhere_gives_a_hint(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    on_call_now(world, "PTSTSEC", "Secondary", BOB)
    oncall(bot, "link PTSTPRI,PTSTSEC=Backup")
    answer = oncall(bot, "", user="U0CAROL")
    assert answer.startswith("*Primary*: <@U0ALICE> since")
    assert "\n*Backup*: <@U0BOB> since" in answer  # the link's display name
    elsewhere = oncall(bot, "", user="U0CAROL", channel_id="C0GENERAL")
    assert elsewhere.startswith("No on-call schedule is linked to this channel.") and "\n" not in elsewhere


def test_unknown_schedule_and_ambiguous_name(world, bot):
    on_call_now(world, "PTSTPRI", "Primary EU", ALICE)
    on_call_now(world, "PTSTSEC", "Primary US", BOB)
    assert oncall(bot, "Nope", user="U0BOB") == "Schedule `Nope` not found in PagerDuty."
    ambiguous = oncall(bot, "primary", user="U0BOB")
    assert ambiguous.startswith("Schedule `primary` matches several schedules: ") and "`PTSTSEC`" in ambiguous


# --- link: validation, admin only ----------------------------------------------------------------------
def test_link_sets_the_topic_keeping_the_people_part_and_answers_with_it(world, bot):
    topic = "Welcome <!subteam^S0X|@ops> <https://wiki.example/a|run|book> | ask <mailto:a@b.example|a@b> first"
    channel(world, "C0TOPIC", topic)
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    answer = oncall(bot, "link PTSTPRI", channel_id="C0TOPIC")
    expected = "<@U0ALICE> is on-call for Primary | ask <mailto:a@b.example|a@b> first"
    assert world.slack.topic("C0TOPIC") == expected
    assert answer == f"Linked *Primary* to <#C0TOPIC>.\n• The topic of <#C0TOPIC> is:\n> {expected}"


def test_topic_without_separator_is_kept_whole_and_empty_topic_gets_only_our_part(world, bot):
    channel(world, "C0PLAIN", "Deploys freeze on Fridays <https://x.example/a|b>")
    channel(world, "C0EMPTY")
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    oncall(bot, "link PTSTPRI <#C0PLAIN|c0plain> C0EMPTY")
    ours = "<@U0ALICE> is on-call for Primary"
    assert world.slack.topic("C0PLAIN") == f"{ours} | Deploys freeze on Fridays <https://x.example/a|b>"
    assert world.slack.topic("C0EMPTY") == ours


def test_long_topic_is_cut_to_250_without_breaking_a_link(world, bot):
    link_text = "<https://runbooks.example/a-very-long-path-to-the-runbook|runbook>"
    rest = "x" * 150 + " " + link_text + " and more text after it"
    channel(world, "C0LONG", f"old | {rest}")
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    oncall(bot, "link PTSTPRI", channel_id="C0LONG")
    topic = world.slack.topic("C0LONG")
    assert len(topic) <= 250 and topic.endswith("...")
    assert topic == f"<@U0ALICE> is on-call for Primary | {'x' * 150}..."  # the link did not fit whole: left out


def test_override_nobody_fallback_deactivated_and_merge(world, bot):
    now = whole_now()
    world.pagerduty.add_user("PZOEXXX", "Zoe <Zed> & Co", "zoe@elsewhere.example")  # not in Slack
    world.pagerduty.add_user("PGONEXX", "Gone Person", "gone@sandbox.example", deleted=True)
    schedule(world, "PTSTPRI", "Primary", [(ALICE, now - HOUR, now + HOUR)], overrides=[(BOB, now - 60, now + 600)])
    schedule(world, "PTSTDBA", "Database", [(ALICE, now - HOUR, now + HOUR)])
    schedule(world, "PTSTWEB", "Web", [(ALICE, now - HOUR, now + HOUR)])
    schedule(world, "PTSTNIL", "Nights", [(CAROL, now + HOUR, now + 2 * HOUR)])
    on_call_now(world, "PTSTEXT", "External", "PZOEXXX")
    on_call_now(world, "PTSTOLD", "Legacy", "PGONEXX")
    oncall(bot, "link PTSTPRI,PTSTDBA,PTSTNIL,PTSTEXT,PTSTOLD,PTSTWEB")
    assert world.slack.topic("C0OPS") == (
        "<@U0BOB> (override) is on-call for Primary, <@U0ALICE> is on-call for Database and Web, "
        "No one is on-call for Nights, Zoe &lt;Zed&gt; &amp; Co is on-call for External, "
        "Deactivated User :scream: (Gone Person) is on-call for Legacy"
    )


def test_schedule_outside_any_escalation_policy_is_read_from_its_rendered_schedule(world, bot):
    now = whole_now()
    schedule(world, "PTSTSOLO", "Solo", [(CAROL, now - HOUR, now + HOUR)], policy=False)
    oncall(bot, "link PTSTSOLO")
    assert world.slack.topic("C0OPS") == "<@U0CAROL> is on-call for Solo"
    assert world.pagerduty.calls("GET", r"^/schedules/PTSTSOLO$")


def test_link_validates_everything_first_and_stores_nothing_on_error(world, bot):
    channel(world, "C0NOBOT", bot_member=False)
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    answer = oncall(bot, "link PTSTPRI,Nope <#C0NOBOT|c0nobot> #nowhere <!subteam^S0MISSING|@ghosts>")
    assert answer == (
        "Nothing changed:\n"
        "• Schedule `Nope` not found in PagerDuty.\n"
        "• Channel `#nowhere` not found in Slack: pick it from the list as you type.\n"
        "• I'm not in <#C0NOBOT> yet: `/invite @Switchboard` there, then link again.\n"
        "• Usergroup `S0MISSING` not found in Slack."
    )
    assert links(bot) == 0 and not slack_calls(world, "conversations.setTopic")


def test_malformed_commands_get_precise_answers(world, bot):
    assert oncall(bot, "link").startswith("`/oncall link` needs a PagerDuty schedule (its ID or name)")
    assert oncall(bot, 'link "Primary').startswith("I couldn't read that (No closing quotation); check the quotes.")
    assert oncall(bot, "link PTSTPRI #ops extra").startswith("I expected a #channel or @usergroup, not `extra`")
    assert oncall(bot, "list everything") == "`/oncall list` takes nothing after it."
    assert oncall(bot, "help").startswith("`/oncall` — who is on call for this channel")
    assert links(bot) == 0


def test_only_admins_change_links(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    oncall(bot, "link PTSTPRI")
    for text in ("link PTSTPRI #general", "unlink PTSTPRI", "sync"):
        assert oncall(bot, text, user="U0BOB") == "Only Switchboard admins can change on-call links."
    assert links(bot) == 1 and world.slack.topic("C0OPS") == "<@U0ALICE> is on-call for Primary"


def test_a_workspace_admin_counts_as_admin(world, make_bot):
    world.slack.add_user("U0OWNER", "owner", "Olive Owner", "olive@sandbox.example", is_owner=True)
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    bot = make_bot(SWITCHBOARD_ADMINS="")
    assert oncall(bot, "link PTSTPRI", user="U0OWNER").startswith("Linked *Primary*")


# --- unlink, list ------------------------------------------------------------------------------------
def test_unlink_removes_our_part_and_keeps_the_people_part(world, bot):
    channel(world, "C0TEAM", "Team room | standup at 10")
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    on_call_now(world, "PTSTSEC", "Secondary", BOB)
    oncall(bot, "link PTSTPRI,PTSTSEC C0TEAM C0OPS")
    assert world.slack.topic("C0TEAM").startswith("<@U0ALICE> is on-call for Primary, <@U0BOB>")
    answer = oncall(bot, "unlink Primary C0TEAM")
    assert answer == "Unlinked `PTSTPRI` from <#C0TEAM>.\n<#C0TEAM>: its topic keeps the other schedules."
    world.slack.wait_for(lambda: world.slack.topic("C0TEAM") == "<@U0BOB> is on-call for Secondary | standup at 10")
    oncall(bot, "unlink PTSTSEC C0TEAM")
    world.slack.wait_for(lambda: world.slack.topic("C0TEAM") == "standup at 10", message="our part removed")
    assert world.slack.topic("C0OPS") == "<@U0ALICE> is on-call for Primary, <@U0BOB> is on-call for Secondary"
    assert oncall(bot, "unlink PTSTSEC", channel_id="C0TEAM") == (
        "`PTSTSEC` is not linked to <#C0TEAM>; nothing changed. It feeds: <#C0OPS>."
    )


def test_list_shows_every_link_and_its_last_result(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    assert oncall(bot, "list", user="U0BOB").startswith("No on-call links yet.")
    world.slack.add_usergroup("S0TSTOPS", "ops-oncall", users=["U0DAVE"])
    oncall(bot, "link PTSTPRI <!subteam^S0TSTOPS|@ops-oncall> C0OPS")
    listed = oncall(bot, "list", user="U0BOB")
    lines = listed.splitlines()
    assert lines[:4] == [
        "*On-call links* (1)",
        "• *Primary* (`PTSTPRI`)",
        "    <#C0OPS>: topic up to date, set 0s ago",
        "    @ops-oncall: members up to date (<@U0ALICE>)",
    ]
    assert lines[4].startswith("Last PagerDuty read 0s ago; next shift change <!date^")
