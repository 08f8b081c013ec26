import pytest

from bot.oncall.link_file import LinkFileError, diff_links, export_yaml, parse_yaml
from bot.oncall.links import Link, add_link, load_links, remove_targets, replace_links, settle_targets


def test_linking_the_same_schedules_again_extends_the_link(store):
    with store.write() as db:
        add_link(db, Link(("PAAAAAA", "PBBBBBB"), {"PAAAAAA": "Front"}, ("C0OPS",)), "U1")
        add_link(db, Link(("PAAAAAA", "PBBBBBB"), {}, ("C0DEV",), ("S0GRP1",)), "U1")
        settle_targets(db)
    [link] = load_links(store)
    assert link.channels == ("C0OPS", "C0DEV") and link.usergroups == ("S0GRP1",)
    assert link.names == {"PAAAAAA": "Front"}
    assert store.scalar("SELECT COUNT(*) FROM oncall_channels") == 2


def test_unlinking_one_schedule_of_a_link_keeps_the_others_for_that_target(store):
    with store.write() as db:
        add_link(db, Link(("PAAAAAA", "PBBBBBB"), {"PBBBBBB": "Back"}, ("C0OPS", "C0DEV")), "U1")
        removed = remove_targets(db, "PAAAAAA", ("C0OPS",), ())
        settle_targets(db)
    assert removed == [("channel", "C0OPS")]
    links = load_links(store)
    assert [(link.schedules, link.channels, link.names) for link in links] == [
        (("PAAAAAA", "PBBBBBB"), ("C0DEV",), {"PBBBBBB": "Back"}),
        (("PBBBBBB",), ("C0OPS",), {"PBBBBBB": "Back"}),
    ]


def test_a_channel_no_longer_linked_is_marked_for_removal_of_our_part(store):
    with store.write() as db:
        add_link(db, Link(("PAAAAAA",), {}, ("C0OPS",), ("S0GRP1",)), "U1")
        settle_targets(db)
        remove_targets(db, "PAAAAAA", ("C0OPS",), ("S0GRP1",))
        settle_targets(db)
    assert load_links(store) == []
    assert store.query("SELECT channel_id, removing, dirty FROM oncall_channels") == [
        {"channel_id": "C0OPS", "removing": 1, "dirty": 1}
    ]
    assert store.scalar("SELECT COUNT(*) FROM oncall_usergroups") == 0


def test_yaml_round_trip_and_diff(store):
    links = [Link(("PAAAAAA",), {"PAAAAAA": "Front"}, ("C0OPS",)), Link(("PBBBBBB",), {}, (), ("S0GRP1",))]
    text = export_yaml(links)
    assert text.startswith("# Switchboard on-call links.")
    assert parse_yaml(text) == links
    wanted = [Link(("PAAAAAA",), {}, ("C0OPS", "C0DEV")), Link(("PCCCCCC",), {}, ("C0OPS",))]
    assert diff_links(links, wanted) == [
        "~ link PAAAAAA: + channel C0DEV, names {'PAAAAAA': 'Front'} → {}",
        "+ link PCCCCCC → channels C0OPS",
        "- link PBBBBBB → usergroups S0GRP1",
    ]
    with store.write() as db:
        replace_links(db, wanted)
    assert [(link.schedules, link.channels, link.names) for link in load_links(store)] == [
        (("PAAAAAA",), ("C0OPS", "C0DEV"), {}),
        (("PCCCCCC",), ("C0OPS",), {}),
    ]
    assert diff_links(load_links(store), wanted) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a", "expected a mapping with one key, `links:` (a list)"),
        ("links: {}", "`links` must be a list"),
        ("links:\n- schedules: PAAAAAA\n  channels: C0OPS\n  colour: red", "link 1: unknown key 'colour'"),
        ("links:\n- channels: [C0OPS]", "link 1: `schedules` is required"),
        ("links:\n- schedules: [PAAAAAA]\n  channels: [ops]", "link 1: 'ops' is not a Slack channel ID"),
        ("links:\n- schedules: [PAAAAAA]\n  usergroups: [U1]", "link 1: 'U1' is not a Slack usergroup ID"),
        ("links:\n- schedules: [PAAAAAA]\n  channels: [C0OPS]\n  names: {PBBBBBB: B}", "'PBBBBBB', which is not"),
        (
            "links:\n- {schedules: [PAAAAAA], channels: [C0OPS]}\n- {schedules: [PAAAAAA], channels: [C0DEV]}",
            "link 2: the schedules PAAAAAA are listed twice",
        ),
    ],
)
def test_malformed_files(text, message):
    with pytest.raises(LinkFileError) as raised:
        parse_yaml(text)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_an_empty_file_means_no_links():
    assert parse_yaml("") == [] and parse_yaml("links:\n") == []
