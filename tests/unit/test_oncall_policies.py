"""Escalation-policy sources, paused links and the questions asked by @mention or DM, without any vendor."""

from typing import Any

import pytest

from bot.oncall.links import Link, add_link, load_links, remove_targets, set_paused, settle_targets
from bot.oncall.parse import CommandError, ScheduleRef, parse_command, parse_question
from bot.oncall.roster import Roster
from bot.oncall.sources import SOURCE_ID, policy_of, policy_query, policy_source
from bot.oncall.writer import SlackWriter, next_write_due


# --- sources -----------------------------------------------------------------------------------------
def test_a_source_is_a_schedule_or_a_policy():
    assert policy_source("PPOL123") == "policy:PPOL123" and policy_of("policy:PPOL123") == "PPOL123"
    assert policy_of("PSCHED1") is None
    assert policy_query("Policy: Payments ") == "Payments" and policy_query("Payments") is None
    assert SOURCE_ID.fullmatch("policy:PPOL123") and SOURCE_ID.fullmatch("PSCHED1")
    assert not SOURCE_ID.fullmatch("policy:payments")


class PagerDuty:
    """GET /oncalls as PagerDuty answers it for escalation_policy_ids[]: every level's entries."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = rows
        self.asked: list[dict[str, Any]] = []

    def iter_all(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.asked.append({"path": path, **params})
        return self.rows

    rget = iter_all


def oncall_row(policy: str, level: int, user: str, start: str | None, end: str | None) -> dict[str, Any]:
    return {
        "escalation_policy": {"id": policy, "summary": f"{policy} policy"},
        "escalation_level": level,
        "schedule": None,
        "user": {"id": user, "name": user.title(), "email": f"{user.lower()}@x"},
        "start": start,
        "end": end,
    }


def test_a_policy_source_is_its_first_level_each_person_once():
    client = PagerDuty(
        [
            oncall_row("PPOL123", 1, "PALICE1", "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z"),
            oncall_row("PPOL123", 1, "PALICE1", "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z"),  # two schedules
            oncall_row("PPOL123", 1, "PDAVE01", None, None),  # a user target: always on call
            oncall_row("PPOL123", 2, "PCAROL1", None, None),  # who it escalates to
            oncall_row("POTHER1", 1, "PBOB001", None, None),  # a policy nobody asked about
        ]
    )
    found = Roster(client).policy_oncalls(["policy:PPOL123"], 1_798_761_600.0, 1_798_848_000.0)
    assert [(p.schedule_id, p.user_id, p.start) for p in found["policy:PPOL123"]] == [
        ("policy:PPOL123", "PDAVE01", None),
        ("policy:PPOL123", "PALICE1", 1_798_761_600.0),
    ]
    assert client.asked[0]["escalation_policy_ids[]"] == ["PPOL123"] and client.asked[0]["include[]"] == ["users"]
    rendered = Roster(client).rendered("policy:PPOL123", 1_798_761_600.0, 1_798_848_000.0)
    assert rendered.schedule.id == "policy:PPOL123" and rendered.schedule.name == "PPOL123 policy"
    assert [p.user_id for p in rendered.people] == ["PDAVE01", "PALICE1"] and rendered.overrides == []


# --- paused links ------------------------------------------------------------------------------------
def test_pausing_keeps_the_link_and_a_split_keeps_the_pause(store):
    with store.write() as db:
        link_id = add_link(db, Link(("PAAAAAA", "PBBBBBB"), {}, ("C0OPS", "C0DEV")), "U1")
        set_paused(db, [link_id], "U0ALICE", 1000.0)
        remove_targets(db, "PAAAAAA", ("C0OPS",), ())
        settle_targets(db)
    links = load_links(store)
    assert [(link.schedules, link.channels, link.paused_at, link.paused_by) for link in links] == [
        (("PAAAAAA", "PBBBBBB"), ("C0DEV",), 1000.0, "U0ALICE"),
        (("PBBBBBB",), ("C0OPS",), 1000.0, "U0ALICE"),
    ]
    assert links[0] == Link(("PAAAAAA", "PBBBBBB"), {}, ("C0DEV",), id=links[0].id)  # the pause is state only
    with store.write() as db:
        set_paused(db, [int(link.id or 0) for link in links], "U0BOB", None)
    assert {(link.paused_at, link.paused_by) for link in load_links(store)} == {(None, None)}


class NoSlack:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a paused target must not be written: {name}")


def test_the_writer_leaves_targets_of_paused_links_and_does_not_wait_for_them(store):
    with store.write() as db:
        paused = add_link(db, Link(("PAAAAAA",), {}, ("C0OPS",), ("S0GRP12",)), "U1")
        set_paused(db, [paused], "U1", 1000.0)
        settle_targets(db)
        db.conn.execute("UPDATE oncall_channels SET dirty = 1, desired_prefix = 'x', topic_known = 1")
        db.conn.execute("UPDATE oncall_usergroups SET dirty = 1, desired = '[\"U1\"]'")
    writer = SlackWriter(store, NoSlack())  # type: ignore[arg-type]
    report = writer.run()
    assert report.changes == [] and report.calls == 0
    assert writer.waiting() == 0 and next_write_due(store) is None and writer.wake_at() is None
    with store.write() as db:
        set_paused(db, [paused], None, None)
    assert writer.waiting() == 2 and next_write_due(store) == 0.0


# --- questions and pause commands --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "schedules", "channels"),
    [
        ("<@UBOT> who is on call", [], []),
        ("<@UBOT|switchboard> WHO IS ON CALL?", [], []),
        ("who's on-call right now?", [], []),
        ("<@UBOT> who is on call here?", [], []),
        ("<@UBOT> whos oncall for Payments, Database", ["Payments", "Database"], []),
        ("<@UBOT> who is on call for R&amp;D now?", ["R&D"], []),
        ("who is on call for policy:PPOL123", ["policy:PPOL123"], []),
        ("<@UBOT> who is on call in <#C0PAY|payments>?", [], ["C0PAY"]),
    ],
)
def test_questions(text, schedules, channels):
    command = parse_question(text, "UBOT")
    assert command is not None and command.action == "who"
    assert command.schedules == [ScheduleRef(s) for s in schedules] and command.channels == channels


@pytest.mark.parametrize(
    "text", ["<@UBOT> please deploy", "who is on call for", "<@UBOT> is on call", "<@U0BOB> hi", "on call?"]
)
def test_other_messages_ask_nothing(text):
    assert parse_question(text, "UBOT") is None


def test_pause_and_resume_name_schedules():
    assert parse_command("pause Primary rotation").schedules == [ScheduleRef("Primary rotation")]
    assert parse_command("RESUME PAAAAAA, policy:PPOL123").action == "resume"
    with pytest.raises(CommandError, match=r"^`/oncall pause` needs a linked schedule"):
        parse_command("pause")
