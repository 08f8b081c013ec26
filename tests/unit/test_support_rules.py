"""Pure rules of the support desk: which Slack events count, what ticket events mean, on-call and report text."""

import pytest

from bot.clients.zendesk import ZendeskError
from bot.outbox import GiveUp, RetryLater
from bot.settings import SettingsError, load_settings
from bot.support.config import SETTINGS, SupportConfig, load
from bot.support.effects import for_outbox
from bot.support.hours import parse_office_hours
from bot.support.report import ReportTicket, report_text
from bot.support.rules import (
    REPORT_COMMAND_INTERVAL_SECONDS,
    OnCallPerson,
    StatusOutcome,
    after_status_change,
    classify,
    comment_for,
    oncall_notice,
    out_of_hours,
    people_on_call,
    report_command_wait,
    wants_email_ticket,
)
from bot.support.ticket_events import NewEmailTicket, StatusChange, ZendeskComment, interpret

CONFIG = SupportConfig(channels=("C0SUPPORT",), allowed_bot_ids=frozenset({"B0FRIEND"}))
BOT = 900001


def message(**fields):
    return {"type": "message", "channel": "C0SUPPORT", "user": "U0BOB", "text": "VPN down", "ts": "1.000100", **fields}


def test_a_top_level_message_is_a_new_request():
    found = classify(message(), CONFIG, "UBOT")
    assert (found.channel, found.ts, found.thread_ts, found.user, found.is_reply, found.is_edit) == (
        "C0SUPPORT",
        "1.000100",
        None,
        "U0BOB",
        False,
        False,
    )


def test_a_reply_names_its_thread():
    found = classify(message(ts="2.0", thread_ts="1.000100"), CONFIG, "UBOT")
    assert found.thread_ts == "1.000100" and found.is_reply
    broadcast = classify(message(ts="2.0", thread_ts="1.000100", subtype="thread_broadcast"), CONFIG, "UBOT")
    assert broadcast.is_reply


@pytest.mark.parametrize(
    "event",
    [
        message(channel="C0OPS"),
        message(user="UBOT"),
        message(bot_id="B0OTHER", subtype="bot_message", user=None),
        message(subtype="bot_message", user=None),
        message(subtype="channel_join"),
        message(subtype="channel_topic"),
        message(subtype="message_deleted"),
        message(subtype="me_message"),
        message(subtype="pinned_item"),
        message(text="  "),
    ],
)
def test_ignored_events(event):
    assert classify(event, CONFIG, "UBOT") is None


def test_allowed_bots_and_file_shares_count():
    bot = classify(message(user=None, bot_id="B0FRIEND", subtype="bot_message", username="Alertbot"), CONFIG, "UBOT")
    assert (bot.user, bot.bot_id, bot.bot_name) == (None, "B0FRIEND", "Alertbot")
    files = [{"id": "F1", "name": "trace.log", "permalink": "https://s/files/F1"}]
    shared = classify(message(subtype="file_share", text="", files=files), CONFIG, "UBOT")
    assert shared.files == [{"name": "trace.log", "permalink": "https://s/files/F1"}]


def test_processing_can_be_switched_off():
    off = SupportConfig(channels=("C0SUPPORT",), processing_disabled=True)
    assert classify(message(), off, "UBOT") is None


def test_edits_count_only_when_the_text_changed():
    edited = {"user": "U0BOB", "text": "VPN down again", "ts": "2.0", "thread_ts": "1.0", "edited": {"ts": "3.0"}}
    event = message(subtype="message_changed", message=edited, previous_message={**edited, "text": "VPN down"})
    found = classify(event, CONFIG, "UBOT")
    assert (found.ts, found.thread_ts, found.text, found.edit_ts, found.is_edit) == (
        "2.0",
        "1.0",
        "VPN down again",
        "3.0",
        True,
    )
    unfurl = message(subtype="message_changed", message=edited, previous_message=edited)
    assert classify(unfurl, CONFIG, "UBOT") is None
    own = message(subtype="message_changed", message={**edited, "user": "UBOT", "bot_id": "BBOT"}, previous_message={})
    assert classify(own, CONFIG, "UBOT") is None


def audit(audit_id, ticket_id, children, via="Web form", updater=950001, timestamp=100):
    return {
        "id": audit_id,
        "ticket_id": ticket_id,
        "timestamp": timestamp,
        "via": via,
        "updater_id": updater,
        "child_events": children,
    }


def comment(comment_id, body, author=950001, public=True, channel="web"):
    return {
        "id": comment_id,
        "event_type": "Comment",
        "body": body,
        "public": public,
        "author_id": author,
        "via": {"channel": channel},
    }


def test_interpret_comments_status_and_email_tickets():
    events = [
        audit(
            1,
            7,
            [
                comment(11, "Slack text", author=BOT, channel="api"),
                {"id": 12, "event_type": "Create", "field_name": "status", "value": "new"},
            ],
            via="Web service",
        ),
        audit(2, 7, [comment(21, "Which version?"), comment(22, "internal", public=False)]),
        audit(3, 7, [comment(31, "Bob (Slack): 4.2", author=BOT, channel="api")], updater=BOT, via="Web service"),
        audit(
            4,
            7,
            [{"id": 41, "event_type": "Change", "field_name": "status", "value": "solved", "previous_value": "open"}],
        ),
        audit(
            5,
            8,
            [
                comment(51, "Help, it is down", author=900005, channel="email"),
                {"id": 52, "event_type": "Create", "subject": "Down"},
                {"id": 53, "event_type": "Create", "field_name": "group_id", "value": "360100"},
                {"id": 54, "event_type": "Create", "field_name": "requester_id", "value": 900005},
                {"id": 55, "event_type": "Create", "field_name": "status", "value": "new"},
            ],
            via="Mail",
        ),
        audit(6, 7, [{"id": 61, "event_type": "Change", "status": "open", "previous_value": "solved"}], updater=BOT),
    ]
    found = {a.audit_id: a.findings for a in interpret(events, BOT)}
    assert found[1] == [] and found[3] == []  # the description and the bot's own comments never come back
    assert found[2] == [ZendeskComment(7, 21, 950001, "Which version?", "web")]
    assert found[4] == [StatusChange(7, 41, "open", "solved", False)]
    assert found[5] == [NewEmailTicket(8, "Down", "Help, it is down", 900005, 360100, "new")]
    assert found[6] == [StatusChange(7, 61, "solved", "open", True)]


def test_status_changes_tell_the_thread_only_what_people_did():
    def outcome(previous, status, by_bot, ticket_status, closed_at):
        change = StatusChange(7, 41, previous, status, by_bot)
        return after_status_change(change, ticket_status, closed_at, 500.0)

    assert outcome("open", "solved", False, "open", None) == StatusOutcome(500.0, "solved")
    assert outcome("open", "solved", True, "open", None) == StatusOutcome(500.0, None)  # a `resolve`: said already
    assert outcome("solved", "closed", False, "solved", 400.0) == StatusOutcome(400.0, None)  # done since 400
    assert outcome("solved", "open", False, "solved", 400.0) == StatusOutcome(None, "reopened")
    assert outcome("solved", "open", True, "solved", 400.0) == StatusOutcome(None, None)
    assert outcome("new", "pending", False, "new", None) == StatusOutcome(None, None)


def test_emailed_tickets_come_to_slack_only_from_the_support_group():
    ticket = NewEmailTicket(8, "Down", "Help", 900005, 360100, "new")
    assert wants_email_ticket(SupportConfig(channels=("C0SUPPORT",), group_id=360100), ticket)
    assert not wants_email_ticket(SupportConfig(channels=("C0SUPPORT",), group_id=360200), ticket)
    assert not wants_email_ticket(SupportConfig(channels=("C0SUPPORT",)), ticket)  # no group: none
    solved = NewEmailTicket(8, "Down", "Help", 900005, 360100, "solved")
    assert not wants_email_ticket(SupportConfig(channels=("C0SUPPORT",), group_id=360100), solved)


def test_out_of_hours_needs_office_hours():
    hours = parse_office_hours("Mon-Fri 09:00-17:00 UTC")
    monday_noon, monday_night = 1_720_440_000.0, 1_720_476_000.0  # 2024-07-08 12:00 and 22:00 UTC
    assert not out_of_hours(hours, monday_noon) and out_of_hours(hours, monday_night)
    assert not out_of_hours(None, monday_night)


def test_zendesk_errors_map_to_outbox_outcomes():
    assert isinstance(for_outbox(ZendeskError(None, "ConnectionError")), RetryLater)
    limited = for_outbox(ZendeskError(429, "slow down", retry_after=30.0))
    assert isinstance(limited, RetryLater) and limited.seconds == 30.0
    assert isinstance(for_outbox(ZendeskError(503, "down")), RetryLater)
    assert isinstance(for_outbox(ZendeskError(422, "invalid")), GiveUp)


def test_every_support_setting_is_declared_once_for_support():
    names = [setting.name for setting in SETTINGS]
    assert len(names) == len(set(names))
    assert all(setting.capability == "support" and setting.help for setting in SETTINGS)
    assert {"SUPPORT_CHANNELS", "ZENDESK_POLL_SECONDS", "SUPPORT_OFFICE_HOURS", "ZENDESK_GROUP_ID"} <= set(names)
    assert not {"ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "ZENDESK_URL"} & set(names)  # core


def test_config_defaults_and_errors():
    base = {"SUPPORT_CHANNELS": "C0SUPPORT, C0OPS"}
    config = load(load_settings(base, dotenv_path=None))
    assert config.channels == ("C0SUPPORT", "C0OPS") and config.home_channel == "C0SUPPORT"
    assert config.poll_seconds == 30 and config.office_hours is None and config.resolve_status == "solved"
    assert config.report_time is not None and config.report_time.describe() == "Mon-Fri 09:00 UTC"
    hours = load(load_settings({**base, "SUPPORT_OFFICE_HOURS": "Mon-Fri 08:00-16:00 Europe/Paris"}, None))
    assert hours.report_time.describe() == "Mon-Fri 09:00 Europe/Paris"
    assert "Mon-Fri 08:00-16:00 Europe/Paris" in hours.out_of_hours_message
    assert load(load_settings({**base, "SUPPORT_REPORT_TIME": "off"}, None)).report_time is None


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"SUPPORT_CHANNELS": "support"}, "SUPPORT_CHANNELS"),
        ({"ZENDESK_GROUP_ID": "ops"}, "ZENDESK_GROUP_ID"),
        ({"ZENDESK_ASSIGNEE_ID": "-4"}, "ZENDESK_ASSIGNEE_ID"),
        ({"SUPPORT_OFFICE_HOURS": "9 to 5"}, "SUPPORT_OFFICE_HOURS"),
        ({"SUPPORT_REPORT_TIME": "Mon-Fri 25:00"}, "SUPPORT_REPORT_TIME"),
        ({"ZENDESK_POLL_SECONDS": "2"}, "ZENDESK_POLL_SECONDS"),
        ({"SUPPORT_ESCALATION_POLICY": "support"}, "SUPPORT_ESCALATION_POLICY"),
        ({"SUPPORT_ESCALATION_POLICY": "PSUPEP1"}, "PAGERDUTY_API_TOKEN"),
        ({"SUPPORT_ALLOWED_BOT_IDS": "U0BOB"}, "SUPPORT_ALLOWED_BOT_IDS"),
        ({"SUPPORT_RESOLVE_STATUS": "done"}, "SUPPORT_RESOLVE_STATUS"),
        ({"SUPPORT_DISABLE_MESSAGE_PROCESSING": "maybe"}, "SUPPORT_DISABLE_MESSAGE_PROCESSING"),
    ],
)
def test_bad_settings_are_named(extra, named):
    with pytest.raises(SettingsError, match=named):
        load(load_settings({"SUPPORT_CHANNELS": "C0SUPPORT", **extra}, dotenv_path=None))


def user(user_id, name, email=None):
    return {"id": user_id, "name": name, "summary": name, "email": email}


def test_on_call_people_sorted_by_level_and_distinct():
    oncalls = [
        {"escalation_level": 2, "user": user("P2", "Dave")},
        {"escalation_level": 1, "user": user("P1", "Carol", "carol@x")},
        {"escalation_level": 1, "user": user("P1", "Carol", "carol@x")},
        {"escalation_level": 3, "user": user("P3", "Erin")},
    ]
    people = people_on_call(oncalls)
    assert [p.name for p in people] == ["Carol", "Dave", "Erin"]
    render = lambda person: person.name  # noqa: E731
    assert oncall_notice(people, render) == "📧 Primary on call: Carol\nℹ️ Secondary on call: Dave."
    assert oncall_notice([OnCallPerson("P1", "Carol", None)], render) == "📧 Primary on call: Carol."
    assert oncall_notice([], render) == "📧 Nobody is on call for support right now."


def test_report_lists_open_tickets_oldest_first():
    now = 1_000_000.0
    tickets = [
        ReportTicket(2, "https://z/2", "Newer <b>", now - 3600 * 5, "https://s/archives/C/p2"),
        ReportTicket(1, "https://z/1", "Older", now - 86400 * 3, None),
    ]
    text = report_text(title_date="Tue 9 Jul", closed_since="Mon 8 Jul", closed_count=4, open_tickets=tickets, now=now)
    assert text.splitlines() == [
        "📊 *Daily support report* — Tue 9 Jul",
        "",
        "*Closed 🤘: 4* (since Mon 8 Jul)",
        "",
        "*Open 🔥: 2*, oldest first:",
        "• <https://z/1|#1> Older — open 3d",
        "• <https://z/2|#2> Newer &lt;b&gt; — open 5h — <https://s/archives/C/p2|thread>",
    ]
    empty = report_text(title_date="Tue 9 Jul", closed_since="Mon 8 Jul", closed_count=0, open_tickets=[], now=now)
    assert "*Open 🔥: 0*" in empty


@pytest.mark.parametrize(
    ("text", "sent"),
    [("reply: On it", "On it"), ("Reply:On it", "On it"), ("  REPLY :  On it", "On it"), ("reply:\nline", "line")],
)
def test_on_an_emailed_ticket_only_a_reply_prefix_is_public(text, sent):
    comment = comment_for("email", text)
    assert (comment.text, comment.public) == (sent, True)


@pytest.mark.parametrize("text", ["I'll call her", "replying: soon", "no reply: yet", "*reply:* bold", ""])
def test_on_an_emailed_ticket_anything_else_is_an_internal_note(text):
    comment = comment_for("email", text)
    assert (comment.text, comment.public) == (text, False)


def test_replies_in_slack_originated_threads_stay_public_and_unchanged():
    kept = comment_for("slack", "reply: hi")
    assert (kept.text, kept.public) == ("reply: hi", True)
    assert comment_for("slack", "internal chatter").public is True


def test_report_command_waits_ten_minutes_per_channel_except_for_admins():
    now = 10_000.0
    assert REPORT_COMMAND_INTERVAL_SECONDS == 600
    assert report_command_wait([None], now, admin=False) == 0
    assert report_command_wait([], now, admin=False) == 0
    assert report_command_wait([now - 60], now, admin=False) == 540
    assert report_command_wait([now - 600], now, admin=False) == 0
    assert report_command_wait([None, now - 500, now - 100], now, admin=False) == 500  # the latest counts
    assert report_command_wait([now - 1], now, admin=True) == 0
