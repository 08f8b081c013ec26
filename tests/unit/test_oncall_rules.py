import json
from dataclasses import asdict

from bot.oncall import rules
from bot.oncall.links import Link
from bot.oncall.roster import OnCall, Override

NOW = 1_700_000_000.0
HOUR = 3600.0


def person(schedule_id: str, user_id: str, start: float = NOW - HOUR, end: float | None = NOW + HOUR, **kw) -> OnCall:
    return OnCall(schedule_id, user_id, user_id.title(), f"{user_id.lower()}@example.com", start, end, **kw)


def stored(*people: OnCall) -> dict:
    return {"people": json.dumps([{**asdict(p), "override": False} for p in people]), "signature": ""}


WHO = {"PALICE": ("U0ALICE", "<@U0ALICE>"), "PBOB": ("U0BOB", "<@U0BOB>"), "PEVE": (None, "Eve")}


def test_a_first_sight_of_a_schedule_is_no_handoff():
    assert rules.handoffs({"PPRI": [person("PPRI", "PALICE")]}, {}, WHO, {"PPRI": "Primary"}, NOW) == []


def test_a_handoff_names_every_schedule_taken_over_and_keeps_the_outbox_key_format():
    current = {"PPRI": [person("PPRI", "PBOB", end=NOW + HOUR)], "PDB": [person("PDB", "PBOB", end=NOW + 2 * HOUR)]}
    previous = {"PPRI": stored(person("PPRI", "PALICE")), "PDB": stored(person("PDB", "PALICE"))}
    [handoff] = rules.handoffs(current, previous, WHO, {"PPRI": "Primary", "PDB": "Database"}, NOW)
    assert handoff.line == "<@U0BOB> took over Primary and Database"
    assert handoff.slack_id == "U0BOB"
    assert handoff.dm_key == f"oncall:handoff:PBOB:{int(NOW - HOUR)}:PDB,PPRI"
    assert handoff.dm_text.startswith(":pager: You are now on call for Primary and Database until <!date^")
    assert f"<!date^{int(NOW + HOUR)}^" in handoff.dm_text  # the earliest end


def test_deactivated_people_take_nothing_over():
    current = {"PPRI": [person("PPRI", "PEVE", deactivated=True)]}
    assert rules.handoffs(current, {"PPRI": stored(person("PPRI", "PALICE"))}, WHO, {"PPRI": "Primary"}, NOW) == []


def test_a_schedule_that_could_not_be_read_keeps_its_last_people():
    alice = person("PPRI", "PALICE")
    later = person("PSEC", "PBOB", start=NOW + HOUR, end=NOW + 2 * HOUR)
    current = rules.on_call_now({"PPRI": [], "PSEC": [later]}, {"PPRI": stored(alice)}, {"PPRI"}, NOW)
    assert current == {"PPRI": [alice], "PSEC": []}
    assert rules.next_boundary({"PSEC": [later]}, NOW) == NOW + HOUR


def test_a_channel_fed_by_two_links_shows_their_schedules_in_order_with_override_marks():
    links = [Link(("PPRI", "PDB"), channels=("C1",)), Link(("PSEC", "PPRI"), channels=("C1", "C2"))]
    current = {"PPRI": [person("PPRI", "PALICE")], "PDB": [person("PDB", "PALICE")], "PSEC": []}
    flags = {"PPRI": ({"PALICE": True}, ""), "PDB": ({}, ""), "PSEC": ({}, "")}
    names = {"PPRI": "Primary", "PDB": "Database", "PSEC": "Secondary"}
    assert rules.channel_prefixes(links, current, flags, WHO, names) == {
        "C1": "<@U0ALICE> (override) is on-call for Primary, <@U0ALICE> is on-call for Database, "
        "No one is on-call for Secondary",
        "C2": "No one is on-call for Secondary, <@U0ALICE> (override) is on-call for Primary",
    }


def test_usergroups_get_only_people_slack_knows():
    links = [Link(("PPRI",), usergroups=("S1",)), Link(("PSEC",), usergroups=("S1", "S2"))]
    current = {"PPRI": [person("PPRI", "PALICE")], "PSEC": [person("PSEC", "PEVE")]}
    assert rules.usergroup_members(links, current, WHO) == {"S1": {"U0ALICE"}, "S2": set()}
    row = {"members": json.dumps(["U0ALICE"]), "members_known": 1}
    assert not rules.usergroup_needs_write(row, {"U0ALICE"})
    assert rules.usergroup_needs_write({**row, "members_known": 0}, {"U0ALICE"})


def test_unknown_schedules_are_described_first_and_stale_ones_a_few_at_a_time():
    fresh = {"checked_at": NOW - 60, "missing": 0}
    stale = {"checked_at": NOW - 2 * rules.METADATA_MAX_AGE, "missing": 0}
    missing = {"checked_at": NOW - 2 * rules.MISSING_RECHECK_SECONDS, "missing": 1}
    rows = {"PFRESH": fresh, "PSTALE": stale, "PMISSING": missing}
    asked = rules.schedules_to_describe(["PFRESH", "PSTALE", "PMISSING", "PNEW"], rows, NOW)
    assert asked == ["PNEW", "PSTALE", "PMISSING"]
    many = {f"P{n:06d}": stale for n in range(50)}
    assert len(rules.schedules_to_describe(list(many), many, NOW)) == rules.METADATA_REFRESH_PER_CYCLE


def test_override_marks_cover_only_the_moment():
    people = [person("PPRI", "PALICE"), person("PPRI", "PBOB")]
    overrides = [Override("PALICE", NOW - 60, NOW + 60), Override("PBOB", NOW + 60, NOW + 120)]
    assert rules.override_marks(people, overrides, NOW) == {"PALICE": True, "PBOB": False}


def test_an_edited_topic_needs_a_write_only_when_our_part_is_gone():
    row = {
        "removing": 0,
        "desired_prefix": "<@U0ALICE> is on-call for Primary",
        "written_topic": "<@U0ALICE> is on-call for Primary | runbook",
        "written_prefix": "<@U0ALICE> is on-call for Primary",
        "written_rest": " runbook",
    }
    assert not rules.edited_topic_needs_write(row, "<@U0ALICE> is on-call for Primary | new runbook")
    assert rules.edited_topic_needs_write(row, "just a runbook")
    assert not rules.edited_topic_needs_write({**row, "removing": 1}, "just a runbook")
    assert rules.slack_user_of("<@U0ALICE>") == "U0ALICE" and rules.slack_user_of("Eve") is None


def test_current_and_next_are_the_only_people_an_answer_shows():
    alice, bob = person("PPRI", "PALICE"), person("PPRI", "PBOB")
    later_alice = person("PPRI", "PALICE", start=NOW + HOUR, end=NOW + 2 * HOUR)
    carol = person("PPRI", "PCAROL", start=NOW + 2 * HOUR, end=NOW + 3 * HOUR)
    dave = person("PPRI", "PDAVE", start=NOW + 3 * HOUR, end=NOW + 4 * HOUR)
    assert rules.current_and_next([alice, bob, later_alice, carol, dave], NOW) == ([alice, bob], carol)
    assert rules.current_and_next([later_alice], NOW) == ([], later_alice)
    assert rules.current_and_next([alice], NOW) == ([alice], None)
