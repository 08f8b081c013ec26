"""On-call end to end, as an abuser would try it: one command cannot spend the PagerDuty and Slack budgets the whole
bot shares, and PagerDuty names reach Slack as plain text."""

from __future__ import annotations

from sandbox.world import World
from tests.e2e.test_oncall import ALICE, HOUR, channel, links, on_call_now, oncall, schedule, slack_calls, whole_now

TOO_MANY = (
    "One `/oncall` command takes at most 10 schedules, and this one names 11: split them over several commands. "
    "Nothing was done."
)
CHANGE_OVER_LIMIT = (
    "That would take more than 25 calls to PagerDuty and Slack, the most one `/oncall` command makes; "
    "nothing changed. Name fewer schedules, channels or usergroups at once."
)


def pagerduty_reads(world: World) -> list[str]:
    """The PagerDuty requests on-call makes (other capabilities poll incidents, not these)."""
    return [r.path for r in world.pagerduty.calls("GET", r"^/(schedules|users|oncalls)")]


def vendor_calls(world: World) -> int:
    """Every PagerDuty and Slack request a `/oncall` command can make while it validates and reads."""
    slack = world.slack.calls("POST", r"/api/(conversations\.info|usergroups\.list|users\.lookupByEmail)$")
    return len(pagerduty_reads(world)) + len(slack)


# --- one command, bounded cost ------------------------------------------------------------------------
def test_a_schedule_named_400_times_is_read_once(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    world.pagerduty.reset_requests()
    answer = oncall(bot, ",".join(["PTSTPRI"] * 400), user="U0BOB")
    assert answer.startswith("*Primary*: <@U0ALICE> since") and "\n" not in answer
    assert pagerduty_reads(world) == ["/schedules/PTSTPRI", "/users/PALICEX"]  # its shifts, then Alice's email


def test_link_with_a_schedule_named_400_times_checks_it_once(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    world.pagerduty.reset_requests()
    answer = oncall(bot, "link " + ", ".join(["PTSTPRI"] * 400))
    assert answer.startswith("Linked *Primary* to <#C0OPS>.")
    assert len(world.pagerduty.calls("GET", "^/schedules/PTSTPRI$")) == 1
    assert bot.runtime.store.scalar("SELECT schedules FROM oncall_links") == "PTSTPRI"


def test_more_than_ten_schedules_get_the_limit_and_no_vendor_call(world, bot):
    ids = [f"PTSTM{n:02d}" for n in range(11)]
    for schedule_id in ids:
        on_call_now(world, schedule_id, schedule_id, ALICE)
    world.pagerduty.reset_requests()
    world.slack.reset_requests()
    assert oncall(bot, ",".join(ids), user="U0BOB") == TOO_MANY
    assert oncall(bot, "link " + ",".join(ids)) == TOO_MANY
    assert oncall(bot, "unlink " + ",".join(ids)) == TOO_MANY
    assert pagerduty_reads(world) == [] and vendor_calls(world) == 0
    assert links(bot) == 0


def test_link_needing_too_many_calls_is_refused_before_any(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    channels = [channel(world, f"C0MANY{n:02d}") for n in range(25)]
    world.pagerduty.reset_requests()
    world.slack.reset_requests()
    answer = oncall(bot, "link PTSTPRI " + " ".join(channels))  # 1 schedule + 25 channels to check
    assert answer == CHANGE_OVER_LIMIT
    assert vendor_calls(world) == 0 and links(bot) == 0


def test_link_stops_at_25_calls_and_stores_nothing(world, bot):
    channels = [channel(world, f"C0LIM{n:02d}") for n in range(6)]
    unknown = [f"PNONE{n:02d}" for n in range(10)]  # each costs two calls: by ID, then by name
    world.pagerduty.reset_requests()
    world.slack.reset_requests()
    answer = oncall(bot, f"link {','.join(unknown)} {' '.join(channels)}")
    assert answer == CHANGE_OVER_LIMIT
    assert vendor_calls(world) == 25
    assert len(slack_calls(world, "conversations.info")) == 5  # the sixth channel was never asked about
    assert links(bot) == 0 and not slack_calls(world, "conversations.setTopic")


def test_who_stops_at_25_calls_and_says_what_it_left_unread(world, bot):
    now = whole_now()
    ids = [f"PTSTW{n:02d}" for n in range(10)]
    for n, schedule_id in enumerate(ids):  # two people per schedule, unknown to the bot: four lookups each
        for who in ("NOW", "NXT"):
            world.pagerduty.add_user(f"P{who}{n:02d}X", f"{who} {n}", f"{who.lower()}{n}@elsewhere.example")
        shifts = [(f"PNOW{n:02d}X", now - HOUR, now + HOUR), (f"PNXT{n:02d}X", now + HOUR, now + 2 * HOUR)]
        schedule(world, schedule_id, f"Team {n}", shifts)
    world.pagerduty.reset_requests()
    world.slack.reset_requests()
    lines = oncall(bot, ",".join(ids), user="U0BOB").splitlines()
    # 10 schedules read (10 calls), then 4 lookups each for the first three (22), the fourth stops at 25
    assert [line.split(":")[0] for line in lines[:3]] == ["*Team 0*", "*Team 1*", "*Team 2*"]
    unread = ", ".join(f"*Team {n}* (`PTSTW{n:02d}`)" for n in range(3, 10))  # named, so each can be asked about
    assert lines[3:] == [
        "…and 7 more schedule(s) not read: one `/oncall` command makes at most 25 calls to PagerDuty and Slack. "
        f"Ask about them with `/oncall <schedule>`: {unread}."
    ]
    assert vendor_calls(world) == 25


# --- PagerDuty names reach Slack as text ---------------------------------------------------------------
def test_pagerduty_names_cannot_link_or_notify(world, bot):
    now = whole_now()
    world.pagerduty.add_user("PEVILXX", "<!channel> Mallory", "mallory@elsewhere.example")  # not in Slack
    schedule(world, "PTSTEVL", "<https://evil.example|Primary> @here", [("PEVILXX", now - HOUR, now + HOUR)])
    schedule(world, "PTSTEV2", "<https://evil.example|Primary> @here too", [(ALICE, now - HOUR, now + HOUR)])
    name = "&lt;https://evil.example|Primary&gt; @\u2060here"
    answer = oncall(bot, "PTSTEVL", user="U0BOB")
    assert answer.startswith(f"*{name}*: &lt;!channel&gt; Mallory since <!date^")
    ambiguous = oncall(bot, "evil.example", user="U0BOB")
    assert ambiguous.startswith(f"Schedule `evil.example` matches several schedules: {name} (`PTSTEVL`)")
    assert oncall(bot, "&lt;!here&gt;", user="U0BOB") == "Schedule `&lt;!here&gt;` not found in PagerDuty."
    linked = oncall(bot, "link PTSTEVL")
    assert linked.startswith(f"Linked *{name}* to <#C0OPS>.")
    topic = world.slack.topic("C0OPS")
    assert topic.startswith("&lt;!channel&gt; Mallory is on-call for &lt;https://evil.example")
    assert "<" not in topic and "@here" not in topic
    listed = oncall(bot, "list", user="U0BOB")
    assert f"• *{name}* (`PTSTEVL`)" in listed
