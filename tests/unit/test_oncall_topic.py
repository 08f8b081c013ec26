from bot.oncall.topic import (
    Duty,
    ScheduleDuty,
    Written,
    compose_prefix,
    compose_topic,
    plan_removal,
    plan_topic,
    split_topic,
    topic_rest,
    truncate_topic,
)


def test_split_ignores_pipes_inside_slack_markup():
    topic = "<@U1> and <!subteam^S1|@ops> <https://x.example|a|b> <mailto:a@b|a@b> <#C1|ops> | rest <tel:1|call>"
    ours, rest = split_topic(topic)
    assert ours == "<@U1> and <!subteam^S1|@ops> <https://x.example|a|b> <mailto:a@b|a@b> <#C1|ops> "
    assert rest == " rest <tel:1|call>"


def test_split_without_separator():
    assert split_topic("no pipe <https://x|y>") == (None, "no pipe <https://x|y>")


def test_rest_is_kept_byte_for_byte():
    assert topic_rest("ours |  two spaces|and a pipe ") == "  two spaces|and a pipe "
    assert compose_topic("new", topic_rest("ours |  two spaces|and a pipe ")) == "new |  two spaces|and a pipe "


def test_topic_without_separator_is_kept_whole_and_empty_gives_only_our_part():
    assert compose_topic("new", topic_rest("Deploy freeze")) == "new | Deploy freeze"
    assert compose_topic("new", topic_rest("   ")) == "new"
    assert compose_topic("new", topic_rest("")) == "new"


def test_clauses_merge_one_person_and_mark_overrides():
    prefix = compose_prefix(
        [
            ScheduleDuty("Primary", (Duty("<@U1>", override=True),)),
            ScheduleDuty("DB", (Duty("<@U1>"),)),
            ScheduleDuty("Web", (Duty("<@U1>"),)),
            ScheduleDuty("API", (Duty("<@U1>"),)),
            ScheduleDuty("Nights", ()),
            ScheduleDuty("Weekend", ()),
        ]
    )
    assert prefix == (
        "<@U1> (override) is on-call for Primary, <@U1> is on-call for DB, Web and API, "
        "No one is on-call for Nights and Weekend"
    )


def test_truncation_never_breaks_markup_or_entities():
    base = "a" * 240
    assert truncate_topic(base + "<@U0ALICE> end") == base + "..."
    assert truncate_topic("b" * 245 + "&amp; more text") == "b" * 245 + "..."
    assert truncate_topic("c" * 300) == "c" * 247 + "..."
    assert truncate_topic("d" * 250) == "d" * 250


def test_plan_writes_only_when_our_part_differs():
    assert plan_topic("<@U1> is on-call for P", " <@U1> is on-call for P | x", None) is None
    plan = plan_topic("<@U2> is on-call for P", "<@U1> is on-call for P | x", None)
    assert plan == Written("<@U2> is on-call for P | x", "<@U2> is on-call for P", " x")


def test_plan_uses_what_we_wrote_when_the_topic_is_still_ours():
    written = Written("<@U1> is on-call for P", "<@U1> is on-call for P", None)  # the topic was empty
    assert plan_topic("<@U1> is on-call for P", written.topic, written) is None
    plan = plan_topic("<@U2> is on-call for P", written.topic, written)
    assert plan is not None and plan.topic == "<@U2> is on-call for P"  # not "<@U2> … | <@U1> …"


def test_a_truncated_topic_we_wrote_is_stable():
    long_rest = " " + "r" * 300
    first = plan_topic("ours", "old |" + long_rest, None)
    assert first is not None and len(first.topic) == 250
    assert plan_topic("ours", first.topic, first) is None


def test_removal_takes_out_only_our_part():
    written = Written("ours | people", "ours", " people")
    assert plan_removal("ours | people", written) == "people"
    assert plan_removal("ours | edited by people", written) == "edited by people"
    assert plan_removal("someone replaced it all", written) is None
    assert plan_removal("anything", None) is None


def test_a_pipe_in_a_name_does_not_become_our_separator():
    prefix = compose_prefix([ScheduleDuty("Ops | Primary", (Duty("<@U1>"), Duty("Zoe|Zed")))])
    assert prefix == "<@U1> is on-call for Ops \u00a6 Primary, Zoe\u00a6Zed is on-call for Ops \u00a6 Primary"
    assert split_topic(prefix) == (None, prefix)
    edited = f"{prefix} | a human edit"  # learned from a channel_topic event: our part is intact
    assert plan_topic(prefix, edited, Written(prefix, prefix, None)) is None
