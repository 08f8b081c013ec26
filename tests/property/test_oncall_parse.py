"""Properties of the `/oncall` parser: any text gives a command or a CommandError (whose message is the answer),
never another exception; what it reads back from a command it could have been sent is what was meant."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.oncall.parse import ACTIONS, CommandError, OncallCommand, ScheduleRef, parse_command, parse_question
from tests.property.shapes import KB, TEXT_SHAPES
from tests.property.strategies import PROPERTY, any_text

CHANNEL_ID = re.compile(r"[CG][A-Z0-9]+")
USERGROUP_ID = re.compile(r"S[A-Z0-9]+")
ADVERSARIAL = pytest.mark.parametrize("shape", TEXT_SHAPES.values(), ids=TEXT_SHAPES.keys())

# Words a schedule name can be made of without meaning anything else to the parser: lower case (a bare channel
# or usergroup ID is upper case), no `#`/`@` (targets), `,`/`=` (separators), quotes or `&` (entities).
word = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True).filter(lambda w: w not in ACTIONS)
schedule_name = st.lists(word, min_size=1, max_size=3).map(" ".join)
# In a question, `here`, `this channel` and a trailing `(right) now` mean something else.
question_word = word.filter(lambda w: w not in ("here", "this", "right", "now"))
question_name = st.lists(question_word, min_size=1, max_size=3).map(" ".join)
QUESTIONS = ("who is on call for ", "Who's on-call right now for ", "whos oncall for ")
channel_id = st.from_regex(r"C0[A-Z0-9]{6}", fullmatch=True)
usergroup_id = st.from_regex(r"S0[A-Z0-9]{6}", fullmatch=True)


def read(text: str) -> OncallCommand | CommandError:
    """The command, or the documented error; any other exception fails the test."""
    try:
        return parse_command(text)
    except CommandError as error:
        return error


def ask(text: str) -> OncallCommand | CommandError | None:
    """A question to the bot: the `who` command, None (not a question), or the documented error."""
    try:
        return parse_question(text, "U0BOT")
    except CommandError as error:
        return error


def assert_well_formed(outcome: OncallCommand | CommandError) -> None:
    if isinstance(outcome, CommandError):
        assert str(outcome).strip(), "the error's message is the answer the user sees"
        return
    assert outcome.action in ("who", *ACTIONS)
    assert all(CHANNEL_ID.fullmatch(channel) for channel in outcome.channels)
    assert all(USERGROUP_ID.fullmatch(group) for group in outcome.usergroups)
    assert all(ref.query for ref in outcome.schedules)
    if outcome.action in ("link", "unlink"):
        assert outcome.schedules, "link and unlink need a schedule"
    if outcome.action != "link":
        assert all(ref.display_name is None for ref in outcome.schedules), "display names are only for link"
    queries = [ref.query.casefold() for ref in outcome.schedules]
    assert len(queries) == len(set(queries)), "each schedule once"


@PROPERTY
@given(st.one_of(any_text, st.builds("{} {}".format, st.sampled_from(ACTIONS), any_text)))
def test_any_text_gives_a_command_or_the_documented_error(text):
    outcome = read(text)
    assert_well_formed(outcome)
    again = read(text)
    assert type(again) is type(outcome) and str(again) == str(outcome)
    if isinstance(outcome, OncallCommand):
        assert again == outcome


@PROPERTY
@given(st.lists(schedule_name, min_size=1, max_size=4, unique=True))
def test_who_reads_back_the_schedules_it_was_given(names):
    assert parse_command(", ".join(names)) == OncallCommand("who", schedules=[ScheduleRef(n) for n in names])


@PROPERTY
@given(
    st.lists(st.tuples(schedule_name, st.none() | schedule_name), min_size=1, max_size=4, unique_by=lambda s: s[0]),
    st.lists(channel_id, max_size=3),
    st.lists(usergroup_id, max_size=3),
    st.sampled_from(['"{}"', "{}"]),
)
def test_link_reads_back_what_was_picked(schedules, channels, usergroups, quoting):
    """`/oncall link` as Slack sends it after the user picked channels and usergroups (escaped markup)."""
    parts = [quoting.format(name if display is None else f"{name}={display}") for name, display in schedules]
    targets = [f"<#{channel}|ops>" for channel in channels] + [f"<!subteam^{group}|@oncall>" for group in usergroups]
    command = parse_command(f"link {','.join(parts)} {' '.join(targets)}")
    assert command.action == "link"
    assert command.schedules == [ScheduleRef(name, display) for name, display in schedules]
    assert (command.channels, command.usergroups) == (channels, usergroups)


@PROPERTY
@given(st.one_of(any_text, st.builds("{}{}".format, st.sampled_from(QUESTIONS), any_text)))
def test_any_message_gives_a_question_or_nothing(text):
    outcome = ask(text)
    if outcome is not None:
        assert_well_formed(outcome)
        assert isinstance(outcome, CommandError) or outcome.action == "who"
    again = ask(text)
    assert type(again) is type(outcome) and str(again) == str(outcome)


@PROPERTY
@given(st.sampled_from(QUESTIONS), st.lists(question_name, min_size=1, max_size=4, unique=True))
def test_a_question_reads_back_the_schedules_it_names(question, names):
    asked = ask(f"<@U0BOT> {question}{', '.join(names)}?")
    assert asked == OncallCommand("who", schedules=[ScheduleRef(name) for name in names])


@ADVERSARIAL
def test_a_40_kB_adversarial_question_gives_a_question_or_nothing(shape):
    outcome = ask("who is on call for " + shape(40 * KB))
    if outcome is not None:
        assert_well_formed(outcome)


@ADVERSARIAL
@pytest.mark.parametrize("prefix", ["", "link ", "unlink ", "link P0ABC12 "])
def test_40_kB_adversarial_text_gives_a_command_or_the_documented_error(shape, prefix):
    assert_well_formed(read(prefix + shape(40 * KB)))
