import pytest

from bot.oncall.parse import MAX_SCHEDULES_PER_COMMAND, CommandError, ScheduleRef, parse_command


def test_who():
    assert parse_command("").action == "who"
    command = parse_command("Primary rotation, PABC123")
    assert command.action == "who"
    assert command.schedules == [ScheduleRef("Primary rotation"), ScheduleRef("PABC123")]


def test_link_with_escaped_targets_names_and_display_names():
    command = parse_command(
        'link "Primary rotation"=Front,PDEF456="R&amp;D team" <#C0123ABC|ops> <!subteam^S0456DEF|@oncall> '
        "G0PRIV1 S0GRP12 #typed @typed"
    )
    assert command.action == "link"
    assert command.schedules == [ScheduleRef("Primary rotation", "Front"), ScheduleRef("PDEF456", "R&D team")]
    assert command.channels == ["C0123ABC", "G0PRIV1"]
    assert command.usergroups == ["S0456DEF", "S0GRP12"]
    assert command.channel_names == ["typed"] and command.usergroup_handles == ["typed"]


def test_unquoted_names_with_spaces_and_smart_quotes():
    assert parse_command("link Primary rotation #ops").schedules == [ScheduleRef("Primary rotation")]
    assert parse_command("link “Primary, EU”=P").schedules == [ScheduleRef("Primary"), ScheduleRef("EU", "P")]


def test_schedule_names_that_look_like_words_are_not_targets():
    assert parse_command("link SRE").schedules == [ScheduleRef("SRE")]
    assert not parse_command("link SRE").has_targets


def test_repeated_schedules_count_once_keeping_the_first_place_and_the_last_display_name():
    assert parse_command(",".join(["PABC123"] * 400)).schedules == [ScheduleRef("PABC123")]
    command = parse_command("link " + ", ".join(["PABC123"] * 400) + ",primary,Primary=Front,PABC123=Main")
    assert command.schedules == [ScheduleRef("PABC123", "Main"), ScheduleRef("primary", "Front")]


def test_at_most_ten_schedules_per_command():
    ten = [f"PABC{n:03d}" for n in range(MAX_SCHEDULES_PER_COMMAND)]
    assert len(parse_command("link " + ",".join([*ten, ten[0].lower()])).schedules) == 10
    for text in (",".join([*ten, "PMORE01"]), "link " + ",".join([*ten, "Extra"]), "unlink " + ",".join([*ten, "X"])):
        with pytest.raises(CommandError) as raised:
            parse_command(text)
        assert str(raised.value) == (
            "One `/oncall` command takes at most 10 schedules, and this one names 11: split them over several "
            "commands. Nothing was done."
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("link", "`/oncall link` needs a PagerDuty schedule"),
        ("unlink <#C0123ABC|ops>", "`/oncall unlink` needs a PagerDuty schedule"),
        ("link P1 #ops P2", "I expected a #channel or @usergroup, not `P2`"),
        ('link "Primary', "I couldn't read that (No closing quotation)"),
        ("unlink P1=Name", "Display names (`<schedule>=<name>`) are only for `/oncall link`."),
        ("link P1=", "`P1=` has an empty display name after `=`."),
        ("sync now", "`/oncall sync` takes nothing after it."),
    ],
)
def test_errors(text, message):
    with pytest.raises(CommandError, match=None) as raised:
        parse_command(text)
    assert str(raised.value).startswith(message)
