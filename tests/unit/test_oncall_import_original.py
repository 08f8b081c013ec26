import json

import pytest

from bot.oncall.import_original import OriginalFileError, names_to_look_up, parse_original, to_links
from bot.oncall.links import Link

NOW = 1_800_000_000.0


def scan(*items: dict | str) -> str:
    """`aws dynamodb scan --output json` of the original's table (a string item stays as it is: a broken row)."""
    typed = [
        {key: value if isinstance(value, dict) else {"S": value} for key, value in item.items()}
        if isinstance(item, dict)
        else item
        for item in items
    ]
    return json.dumps({"Items": typed, "Count": len(items), "ScannedCount": len(items), "ConsumedCapacity": None})


def no_lookup(row: int, name: str) -> str:
    raise AssertionError(f"row {row}: {name} should not need a lookup")


def test_a_scan_becomes_links_with_positional_names_channels_and_usergroups():
    text = scan(
        {"schedule": "PAAAAAA,PBBBBBB", "slack": "C0OPS C0DEV", "sched_name": "Front, Back"},
        {"schedule": "PCCCCCC", "slack": "C0OPS", "slack_groups": "S05J8PR5H0B,S0GRP12", "sched_name": ""},
        {"schedule": "PDDDDDD, PEEEEEE", "slack_groups": "S0GRP12 S0GRP34", "sched_name": ",Payments"},
    )
    table = parse_original(text, NOW)
    assert table.notes == []
    assert to_links(table, no_lookup) == [
        Link(("PAAAAAA", "PBBBBBB"), {"PAAAAAA": "Front", "PBBBBBB": "Back"}, ("C0OPS", "C0DEV")),
        Link(("PCCCCCC",), {}, ("C0OPS",), ("S05J8PR5H0B", "S0GRP12")),
        Link(("PDDDDDD", "PEEEEEE"), {"PEEEEEE": "Payments"}, (), ("S0GRP12", "S0GRP34")),
    ]


def test_a_plain_list_of_rows_reads_the_same():
    rows = [{"schedule": "PAAAAAA", "slack": "C0OPS", "sched_name": "Front"}]
    items = [{"schedule": {"S": "PAAAAAA"}, "slack": {"S": "C0OPS"}, "sched_name": {"S": "Front"}}]
    assert to_links(parse_original(json.dumps(rows), NOW), no_lookup) == to_links(
        parse_original(json.dumps({"Items": items}), NOW), no_lookup
    )


def test_every_bad_row_is_named_and_nothing_is_returned():
    text = scan(
        {"schedule": "PAAAAAA", "slack": "C0OPS"},
        {"slack": "C0OPS"},
        {"schedule": "PBBBBBB", "slack": "#ops"},
        {"schedule": "PCCCCCC", "slack_groups": "@ops"},
        {"schedule": "PDDDDDD"},
        {"schedule": "PEEEEEE", "slack": "C0OPS", "sched_name": "A,B"},
        {"schedule": {"N": "5"}, "slack": {"SS": ["C0OPS"]}},
        "not a row",
    )
    with pytest.raises(OriginalFileError) as raised:
        parse_original(text, NOW)
    assert raised.value.problems == [
        "row 2: schedule is missing",
        "row 3: slack has '#ops', which is not a Slack channel ID such as C0123ABCD",
        "row 4: slack_groups has '@ops', which is not a Slack usergroup ID such as S0123ABCD",
        "row 5: give slack (channel IDs) or slack_groups (usergroup IDs), or both",
        "row 6: sched_name has 2 comma-separated names for 1 schedule(s); give one name per schedule, in the same "
        "order",
        "row 7: slack must be a string, got a DynamoDB 'SS' value",
        "row 8: expected an object with schedule, slack, slack_groups and sched_name",
    ]


def test_expired_hipchat_and_unknown_fields_are_noted_not_imported():
    text = scan(
        {"schedule": "PAAAAAA", "slack": "C0OPS", "expiretime": {"N": str(int(NOW) - 60)}},
        {"schedule": "PBBBBBB", "hipchat": "ops-room"},
        {"schedule": "PCCCCCC", "slack": "C0OPS", "expiretime": {"N": str(int(NOW) + 60)}, "team": "payments"},
    )
    table = parse_original(text, NOW)
    assert table.notes == [
        "row 1: skipped, its expiretime has passed (DynamoDB deletes such rows)",
        "row 2: skipped, HipChat rooms are not supported",
        "row 3: ignored field(s) 'team'",
    ]
    assert to_links(table, no_lookup) == [Link(("PCCCCCC",), {}, ("C0OPS",))]


def test_schedule_names_are_looked_up_and_problems_name_their_row():
    text = scan(
        {"schedule": "Primary rotation,PBBBBBB", "slack": "C0OPS", "sched_name": "Front,Back"},
        {"schedule": "Nowhere", "slack": "C0DEV"},
    )
    table = parse_original(text, NOW)
    assert names_to_look_up(table) == ["Primary rotation", "Nowhere"]

    def lookup(row: int, name: str) -> str:
        if name == "Primary rotation":
            return "PAAAAAA"
        raise ValueError(f"row {row}: schedule {name!r} not found in PagerDuty")

    with pytest.raises(OriginalFileError) as raised:
        to_links(table, lookup)
    assert raised.value.problems == ["row 2: schedule 'Nowhere' not found in PagerDuty"]
    table.rows.pop()
    assert to_links(table, lookup) == [
        Link(("PAAAAAA", "PBBBBBB"), {"PAAAAAA": "Front", "PBBBBBB": "Back"}, ("C0OPS",))
    ]


def test_the_same_schedules_in_two_rows_must_be_merged():
    rows = [{"schedule": "PAAAAAA", "slack": "C0OPS"}, {"schedule": "PAAAAAA", "slack": "C0DEV"}]
    with pytest.raises(OriginalFileError) as raised:
        to_links(parse_original(json.dumps(rows), NOW), no_lookup)
    assert raised.value.problems == ["row 2: the schedules PAAAAAA are also in row 1; merge the two rows"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "not valid JSON at line 1: Expecting property name enclosed in double quotes"),
        ('{"Rows": []}', 'expected `aws dynamodb scan` output ({"Items": [...]}) or a JSON list of rows'),
        (
            '{"Items": [], "NextToken": "abc"}',
            "the scan is incomplete (it has a NextToken): run `aws dynamodb scan` without --max-items",
        ),
    ],
)
def test_files_that_are_not_a_table(text, problem):
    with pytest.raises(OriginalFileError) as raised:
        parse_original(text, NOW)
    assert raised.value.problems == [problem]
