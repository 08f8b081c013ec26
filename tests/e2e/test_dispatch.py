"""Dispatch end to end: the real bot over Socket Mode against the Slack, GitHub and PagerDuty emulators.

Messages enter through the service's one intake function (the CLI and HTTP intake are exercised in
test_dispatch_intake.py); buttons are clicked through Socket Mode.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from bot.outbox import OUTBOX_JOB
from sandbox.scenes.dispatch import OTHER_SERVICE, SERVICE
from tests.e2e.harness import BotUnderTest

ENV = {
    "PAGERDUTY_SERVICE_ID": SERVICE,
    "SLACK_DEFAULT_CHANNEL": "#ops",
    "GITHUB_DEFAULT_USER": "sandbox-oncall",
}
REPO = "sandbox/alerts"
FROM = "alice@sandbox.example"  # PAGERDUTY_FROM_EMAIL in the world
LABELS = ["login"]
RESPONSES = {"yes_response": "Closed, thanks.", "no_response": "Paged!"}


def dispatch_bot(make_bot: Any, **overrides: str) -> BotUnderTest:
    return make_bot(**{**ENV, **overrides})


def self_service(request_id: str, user: str = "U0BOB", **extra: Any) -> dict[str, Any]:
    message = {
        "type": "self-service",
        "requestId": request_id,
        "users": [{"slack": user[2:].lower(), "slackId": user, "github": user[2:].lower()}],
        "body": {
            "github": {
                "title": f"Unusual login {request_id}",
                "body": "A login from a new place.",
                "labels": ["login"],
            },
            "slack": {
                "message": f"Login alarm {request_id}",
                "prompt": "Was this you?",
                "actions": {
                    "yes": "It was me",
                    "no": "Not me",
                    "yes_response": "Closed, thanks.",
                    "no_response": "Paged!",
                },
            },
        },
    }
    message.update(extra)
    return message


def broadcast(request_id: str, users: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    message = {
        "type": "broadcast",
        "requestId": request_id,
        "users": users,
        "body": {
            "github": {"title": f"Broadcast {request_id}", "body": "Rotate your keys."},
            "slack": {"message": f"Please rotate your keys ({request_id})"},
        },
    }
    message.update(extra)
    return message


def submit(bot: BotUnderTest, message: dict[str, Any]) -> str:
    accepted, _ = bot.runtime.services["dispatch"].submit(message, "test")
    return accepted.request_id


def alert(bot: BotUnderTest, request_id: str) -> dict[str, Any]:
    return bot.runtime.services["dispatch"].alerts.by_request_id(request_id)


def wait_state(bot: BotUnderTest, request_id: str, *states: str) -> dict[str, Any]:
    return bot.slack.wait_for(
        lambda: (row := alert(bot, request_id)) and row["state"] in states and row,
        message=f"{request_id} to reach {states}",
    )


def dm_messages(bot: BotUnderTest, user: str) -> list[dict[str, Any]]:
    return bot.slack.dm_messages(user)


def wait_prompt(bot: BotUnderTest, user: str, text: str = "Was this you?") -> dict[str, Any]:
    return bot.slack.wait_for_message(bot.slack.dm_channel(user), lambda m: m.get("text") == text)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


def click(bot: BotUnderTest, user: str, owner: str, message: dict[str, Any], action_id: str) -> str:
    """`user` clicks a button of `message` in `owner`'s DM; the value is the one the button was posted with (so a
    stale client can click a button that was since replaced)."""
    value = next(b["value"] for b in buttons(message) if b["action_id"] == action_id)
    envelope = bot.slack.click_button(user, bot.slack.dm_channel(owner), message["ts"], action_id, value)
    bot.slack.wait_for_ack(envelope)
    return envelope


def ephemeral_after(bot: BotUnderTest, before: int) -> str:
    bot.slack.wait_for(lambda: len(bot.slack.responses) > before, message="an ephemeral answer")
    return bot.slack.responses[before]["body"]["text"]


def incidents(bot: BotUnderTest) -> list[dict[str, Any]]:
    return [i for s in ("triggered", "acknowledged", "resolved") for i in bot.world.pagerduty.incidents_by_status(s)]


def pd_creates(bot: BotUnderTest) -> list[Any]:
    return bot.world.pagerduty.calls("POST", r"^/incidents$")


def low(request_id: str, title: str) -> dict[str, Any]:
    return {"type": "low-priority", "requestId": request_id, "body": {"github": {"title": title, "body": "b"}}}


def issue_step(bot: BotUnderTest, request_id: str) -> Any:
    """The outbox row of an alert's GitHub step, once it has been tried."""
    key = f"dispatch:{alert(bot, request_id)['id']}:dispatch.issue"
    return bot.slack.wait_for(lambda: (effect := bot.runtime.outbox.get(key)) and effect.attempts and effect)


def issue_creates(bot: BotUnderTest, repo: str = REPO) -> list[Any]:
    return bot.world.github.calls("POST", rf"/repos/{repo}/issues$")


# --- self-service --------------------------------------------------------------------------------------------


def test_self_service_yes_closes_the_issue_in_the_alerts_own_repo(make_bot, world):
    world.github.add_repo("sandbox/security")
    bot = dispatch_bot(make_bot)
    rid = submit(bot, self_service("ss-yes", githubRepo="security"))
    prompt = wait_prompt(bot, "U0BOB")
    first = dm_messages(bot, "U0BOB")[0]
    issue = world.github.issues("sandbox/security")[0]
    assert issue["title"] == "Unusual login ss-yes"
    assert issue["body"] == "A login from a new place. \n\n @bob"  # exactly as the original wrote it
    assert [label["name"] for label in issue["labels"]] == ["login"]
    assert first["text"] == "Login alarm ss-yes" and issue["html_url"] in json.dumps(first["blocks"])
    yes, no = buttons(prompt)
    assert (yes["text"]["text"], yes["style"], yes["action_id"]) == ("It was me", "primary", "dispatch_yes")
    assert (no["text"]["text"], no["style"], no["action_id"]) == ("Not me", "danger", "dispatch_no")
    assert yes["value"] == no["value"] == str(alert(bot, rid)["id"])  # only the alert id travels in the button

    click(bot, "U0BOB", "U0BOB", prompt, "dispatch_yes")
    row = wait_state(bot, rid, "closed")
    assert world.github.issue("sandbox/security", issue["number"])["state"] == "closed"
    assert world.github.issues(REPO) == []  # the bug of the original: it closed issues in the env repo
    comment = world.github.comments("sandbox/security", issue["number"])[0]["body"]
    assert comment.startswith('bob answered "It was me" (yes) in Slack at ') and "closing this issue" in comment
    updated = bot.slack.wait_for(
        lambda: next((m for m in dm_messages(bot, "U0BOB") if m["ts"] == prompt["ts"] and m.get("attachments")), None)
    )
    assert buttons(updated) == []
    assert "answered by <@U0BOB>" in json.dumps(updated["blocks"])
    [attachment] = updated["attachments"]
    assert (attachment["color"], attachment["text"], attachment["footer"]) == (
        "#008E00",
        "Closed, thanks.",
        "Dispatch alert acknowledged",
    )
    assert (row["answer"], row["answered_by"]) == ("yes", "U0BOB")
    assert incidents(bot) == []


def test_self_service_no_pages_the_alerts_own_service_once(make_bot, world):
    bot = dispatch_bot(make_bot)
    rid = submit(bot, self_service("ss-no", pagerDutyServiceId=OTHER_SERVICE))
    prompt = wait_prompt(bot, "U0BOB")
    click(bot, "U0BOB", "U0BOB", prompt, "dispatch_no")
    row = wait_state(bot, rid, "escalated")
    [incident] = incidents(bot)
    number = row["issue_number"]
    title = f"dispatch ss-no: user bob responded 'no' for self-service issue {REPO}/{number}"
    assert incident["title"] == title
    assert incident["service"]["id"] == OTHER_SERVICE  # the message's service, not the default (original bug)
    assert incident["incident_key"] == "ss-no"
    assert incident["body"]["details"] == f"{title}\n\n {row['issue_url']}"
    [create] = pd_creates(bot)
    assert create.header("from") == FROM
    assert world.github.issue(REPO, number)["state"] == "open"  # escalated alarms stay open
    comment = world.github.wait_for(lambda: world.github.comments(REPO, number))[0]["body"]
    assert comment.startswith('bob answered "Not me" (no)') and "escalated to PagerDuty:" in comment
    updated = bot.slack.wait_for(
        lambda: next((m for m in dm_messages(bot, "U0BOB") if m["ts"] == prompt["ts"] and m.get("attachments")), None)
    )
    assert (updated["attachments"][0]["color"], updated["attachments"][0]["text"]) == ("#CC0000", "Paged!")
    assert updated["attachments"][0]["footer"] == "Dispatch alert escalated"
    assert row["outcome"] == "escalated"


def test_only_the_addressed_user_or_an_admin_answers_and_a_second_click_changes_nothing(make_bot, world):
    bot = dispatch_bot(make_bot)
    rid = submit(bot, self_service("ss-who"))
    prompt = wait_prompt(bot, "U0BOB")

    before = len(bot.slack.responses)
    click(bot, "U0CAROL", "U0BOB", prompt, "dispatch_no")
    assert ephemeral_after(bot, before) == "Only <@U0BOB> (or a Switchboard admin) can answer this alert."
    assert alert(bot, rid)["answer"] is None

    click(bot, "U0BOB", "U0BOB", prompt, "dispatch_yes")
    wait_state(bot, rid, "closed")
    before = len(bot.slack.responses)
    click(bot, "U0BOB", "U0BOB", prompt, "dispatch_no")
    again = ephemeral_after(bot, before)
    assert again.startswith("This alert was already answered by <@U0BOB> at ") and "(yes)" in again
    bot.runtime.scheduler.run_and_wait(OUTBOX_JOB)
    assert incidents(bot) == [] and len(world.github.calls("PATCH", r"/issues/\d+$")) == 1

    rid2 = submit(bot, self_service("ss-admin", user="U0CAROL"))
    prompt2 = wait_prompt(bot, "U0CAROL")
    click(bot, "U0ALICE", "U0CAROL", prompt2, "dispatch_yes")  # Alice is a Switchboard admin
    assert wait_state(bot, rid2, "closed")["answered_by"] == "U0ALICE"


def test_concurrent_clicks_answer_once(make_bot, world):
    bot = dispatch_bot(make_bot)
    rid = submit(bot, self_service("ss-race"))
    prompt = wait_prompt(bot, "U0BOB")
    before = len(bot.slack.responses)
    threads = [
        threading.Thread(target=click, args=(bot, "U0BOB", "U0BOB", prompt, action))
        for action in ("dispatch_yes", "dispatch_no", "dispatch_yes", "dispatch_no")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    row = wait_state(bot, rid, "closed", "escalated")
    bot.slack.wait_for(lambda: len(bot.slack.responses) >= before + 3, message="three 'already answered'")
    assert all("already answered" in r["body"]["text"] for r in bot.slack.responses[before:])
    bot.runtime.scheduler.run_and_wait(OUTBOX_JOB)
    closes, pages = len(world.github.calls("PATCH", r"/issues/\d+$")), len(pd_creates(bot))
    assert (closes, pages) == ((1, 0) if row["answer"] == "yes" else (0, 1))


def test_duplicate_dedup_key_means_already_escalated(make_bot, world):
    world.pagerduty.trigger_incident(SERVICE, "paged by hand", incident_key="ss-dup")
    bot = dispatch_bot(make_bot)
    rid = submit(bot, self_service("ss-dup"))
    click(bot, "U0BOB", "U0BOB", wait_prompt(bot, "U0BOB"), "dispatch_no")
    row = wait_state(bot, rid, "escalated")
    assert row["outcome"] == "escalated (incident was already open)"
    assert len(incidents(bot)) == 1 and row["incident_id"] == incidents(bot)[0]["id"]
    assert pd_creates(bot)[0].status == 400
    bot.slack.wait_for(lambda: any(m.get("attachments") for m in dm_messages(bot, "U0BOB")))


def test_no_answer_in_time_reminds_once_then_escalates(make_bot, world):
    bot = dispatch_bot(make_bot, DISPATCH_CONFIRM_TIMEOUT_MINUTES="0.03")  # 1.8 s: reminder at 0.9 s
    rid = submit(bot, self_service("ss-late"))
    prompt = wait_prompt(bot, "U0BOB")
    reminder = bot.slack.wait_for_message(bot.slack.dm_channel("U0BOB"), lambda m: "Reminder" in m.get("text", ""))
    assert "Was this you?" in reminder["text"] and "escalated to PagerDuty" in reminder["text"]
    row = wait_state(bot, rid, "escalated")
    assert row["outcome"] == "escalated: no response" and row["answer"] == "no response"
    [incident] = incidents(bot)
    assert incident["incident_key"] == "ss-late" and "did not respond in time" in incident["title"]
    assert sum("Reminder" in m.get("text", "") for m in dm_messages(bot, "U0BOB")) == 1
    before = len(bot.slack.responses)
    click(bot, "U0BOB", "U0BOB", prompt, "dispatch_yes")
    assert "nobody answered in time" in ephemeral_after(bot, before)
    assert alert(bot, rid)["state"] == "escalated"
    history = [h["event"] for h in bot.runtime.services["dispatch"].alerts.history(row["id"])]
    assert "reminder sent" in history and "escalated: no response" in history


def test_a_waiting_alert_still_times_out_after_a_restart(make_bot, world):
    bot = dispatch_bot(make_bot)
    rid = submit(bot, self_service("ss-restart"))
    wait_prompt(bot, "U0BOB")
    bot.stop()
    again = dispatch_bot(make_bot, DISPATCH_CONFIRM_TIMEOUT_MINUTES="0.02")
    again.runtime.store.execute("UPDATE dispatch_alerts SET escalate_at = 0 WHERE request_id = ?", [rid])
    again.runtime.scheduler.run_and_wait("dispatch.timeouts")
    assert wait_state(again, rid, "escalated")["outcome"] == "escalated: no response"
    assert len(incidents(again)) == 1


# --- broadcast, nag, defaults, failures -------------------------------------------------------------------


def test_broadcast_dms_each_user_and_tracks_acknowledgements(make_bot, world):
    bot = dispatch_bot(make_bot)
    users = [{"slack": "carol", "slackId": "U0CAROL"}, {"slackId": "U0DAVE"}, {"slack": "nobody-here"}]
    rid = submit(bot, broadcast("bc-1", users))
    row = wait_state(bot, rid, "notified")
    [issue] = world.github.issues(REPO)
    assert issue["body"] == "Rotate your keys. \n\n ```\ncarol, U0DAVE, nobody-here\n```"
    carol = bot.slack.wait_for_message(bot.slack.dm_channel("U0CAROL"), lambda m: "rotate" in m["text"])
    assert issue["html_url"] not in json.dumps(carol)  # no issue link in broadcast, as the original
    assert [b["action_id"] for b in buttons(carol)] == ["dispatch_ack"]
    ops = bot.slack.wait_for(lambda: len(bot.slack.messages("C0OPS")) >= 2 and bot.slack.messages("C0OPS"))
    assert ops[0]["text"] == "Please rotate your keys (bc-1)" and buttons(ops[0]) == []
    assert ops[1]["text"] == "Slack user ID was missing, fell back to #ops for requestId bc-1"

    click(bot, "U0CAROL", "U0CAROL", carol, "dispatch_ack")
    comment = world.github.wait_for(lambda: world.github.comments(REPO, issue["number"]))[0]["body"]
    assert comment.startswith("Acknowledged in Slack:\n- carol (`U0CAROL`) at ")
    bot.slack.wait_for(
        lambda: not buttons(next(m for m in dm_messages(bot, "U0CAROL") if m["ts"] == carol["ts"])),
        message="the Acknowledge button replaced",
    )
    before = len(bot.slack.responses)
    click(bot, "U0CAROL", "U0CAROL", carol, "dispatch_ack")
    assert ephemeral_after(bot, before).startswith("Already acknowledged by <@U0CAROL> at ")
    status = bot.command_reply("U0ALICE", "C0OPS", "/dispatch", f"status {rid}")
    assert "Acknowledged (1/3): <@U0CAROL> at " in status and "Not yet: <@U0DAVE>" in status
    assert row["state"] == "notified"
    assert len(world.github.comments(REPO, issue["number"])) == 1


def test_a_dm_that_fails_is_reported_in_the_default_channel_and_the_rest_go_on(make_bot, world):
    bot = dispatch_bot(make_bot)
    rid = submit(bot, broadcast("bc-fail", [{"slackId": "U0GHOST"}, {"slackId": "U0BOB"}]))
    row = wait_state(bot, rid, "notified")
    assert row["outcome"] == "1 of 2 delivered"
    assert any("rotate" in m["text"] for m in dm_messages(bot, "U0BOB"))
    report = bot.slack.wait_for_message("C0OPS", lambda m: m["text"].startswith("Error sending"))
    assert report["text"] == "Error sending message to `U0GHOST` for requestId bc-fail"
    assert report["attachments"][0]["title"] == "Slack error message"
    assert "channel_not_found" in report["attachments"][0]["text"]
    status = bot.command_reply("U0ALICE", "C0OPS", "/dispatch", "status bc-fail")
    assert "Could not message: <@U0GHOST> (channel_not_found)" in status


def test_a_user_without_slack_id_gets_the_default_channel_and_no_prompt(make_bot, world):
    bot = dispatch_bot(make_bot)
    message = self_service("ss-nobody")
    message["users"] = [{"github": "octo"}]
    rid = submit(bot, message)
    row = wait_state(bot, rid, "notified")
    assert row["outcome"] == "no prompt: users[0] has no Slack user ID"
    ops = bot.slack.wait_for(lambda: len(bot.slack.messages("C0OPS")) >= 2 and bot.slack.messages("C0OPS"))
    assert [m["text"] for m in ops] == [
        "Login alarm ss-nobody",
        "Slack user ID was missing, fell back to #ops for requestId ss-nobody",
    ]
    assert all(buttons(m) == [] for m in ops)
    assert world.github.issues(REPO)[0]["body"].endswith(" \n\n @octo")


def test_nag_messages_every_time_even_when_the_issue_exists(make_bot, world):
    existing = world.github.add_issue(REPO, "Patch your laptop", "old")
    bot = dispatch_bot(make_bot)
    nag = broadcast("nag-1", [{"slackId": "U0BOB"}], type="nag")
    nag["body"]["github"]["title"] = "Patch your laptop"
    rid = submit(bot, nag)
    wait_state(bot, rid, "notified")
    assert issue_creates(bot) == []
    [dm] = dm_messages(bot, "U0BOB")
    assert existing["html_url"] in json.dumps(dm["blocks"])  # a nag references the existing issue (#127)
    assert alert(bot, rid)["issue_number"] == existing["number"]


@pytest.mark.parametrize(
    ("retrigger", "existing_state", "routed"),
    [(True, "open", False), (True, "closed", True), (False, "closed", False)],
)
def test_github_title_dedupe(make_bot, world, retrigger, existing_state, routed):
    world.github.add_issue(REPO, "Unusual login dd", state=existing_state)
    bot = dispatch_bot(make_bot)
    rid = submit(bot, self_service("dd", retrigger=retrigger))
    row = wait_state(bot, rid, "awaiting_answer" if routed else "skipped")
    if routed:
        assert len(world.github.issues(REPO)) == 2
    else:
        assert row["outcome"] == "issue 1 already exists" and dm_messages(bot, "U0BOB") == []


def test_pull_requests_with_the_same_title_do_not_count(make_bot, world):
    world.github.add_pull_request(REPO, "Unusual login pr")
    bot = dispatch_bot(make_bot)
    rid = submit(bot, self_service("pr"))
    wait_state(bot, rid, "awaiting_answer")
    assert len(issue_creates(bot)) == 1


def test_the_same_request_id_is_routed_once_even_concurrently(make_bot, world):
    bot = dispatch_bot(make_bot)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(submit(bot, self_service("twice")))) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_prompt(bot, "U0BOB")
    submit(bot, self_service("twice"))
    bot.runtime.scheduler.run_and_wait(OUTBOX_JOB)
    assert results == ["twice"] * 5
    assert len(issue_creates(bot)) == 1 and len(dm_messages(bot, "U0BOB")) == 2


# --- high and low priority ------------------------------------------------------------------------------------


def test_high_priority_pages_with_the_title_as_dedup_key(make_bot, world):
    bot = dispatch_bot(make_bot)
    high = {"type": "high", "requestId": "hp-1", "body": {"pagerduty": {"title": "DB down", "body": "db-1 is gone"}}}
    wait_state(bot, submit(bot, high), "escalated")
    [incident] = incidents(bot)
    assert (incident["title"], incident["incident_key"], incident["service"]["id"]) == ("DB down", "DB down", SERVICE)
    assert incident["body"]["details"] == "db-1 is gone"
    own = {"type": "high-priority", "requestId": "hp-2", "pagerDutyServiceId": OTHER_SERVICE}
    own["body"] = {"pagerduty": {"title": "Queue stuck"}}
    wait_state(bot, submit(bot, own), "escalated")
    named = {
        "type": "high-priority",
        "requestId": "hp-3",
        "body": {"pagerduty": {"title": "X", "service": OTHER_SERVICE}},
    }
    wait_state(bot, submit(bot, named), "escalated")
    assert sorted(i["service"]["id"] for i in incidents(bot)) == [SERVICE, OTHER_SERVICE, OTHER_SERVICE]
    assert world.github.calls() == []


def test_an_unknown_type_is_paged_as_high_priority_with_a_warning(make_bot, world):
    bot = dispatch_bot(make_bot)
    rid = submit(bot, {"type": "critical", "requestId": "unk", "body": {"pagerduty": {"title": "Mystery"}}})
    row = wait_state(bot, rid, "escalated")
    assert (row["type"], row["requested_type"]) == ("high-priority", "critical")
    history = [h["event"] for h in bot.runtime.services["dispatch"].alerts.history(row["id"])]
    assert "warning: type 'critical' is not recognized; routed as high-priority to PagerDuty" in history
    assert [i["title"] for i in incidents(bot)] == ["Mystery"]


def test_a_second_high_priority_page_with_the_same_title_is_absorbed(make_bot, world):
    bot = dispatch_bot(make_bot)
    for rid in ("hp-a", "hp-b"):
        submit(bot, {"type": "high", "requestId": rid, "body": {"pagerduty": {"title": "Same title"}}})
    assert wait_state(bot, "hp-b", "escalated")["outcome"] == "paged (incident was already open)"
    assert len(incidents(bot)) == 1


def test_low_priority_files_an_issue_only(make_bot, world):
    bot = dispatch_bot(make_bot)
    low = {
        "type": "low-priority",
        "requestId": "lp-1",
        "users": [{"slackId": "U0BOB", "github": "bob"}, {"slackId": "U0CAROL", "github": "carol"}],
        "body": {"github": {"title": "Disk 80%", "body": "disk filling", "labels": ["disk"], "label": "ops"}},
    }
    wait_state(bot, submit(bot, low), "filed")
    nobody = {"type": "low-priority", "requestId": "lp-2", "body": {"github": {"title": "Cert", "body": "expires"}}}
    wait_state(bot, submit(bot, nobody), "filed")
    first, second = world.github.issues(REPO)
    assert first["body"] == "disk filling \n\n @bob" and [x["name"] for x in first["labels"]] == ["disk", "ops"]
    assert second["body"] == "expires \n\n @sandbox-oncall"  # GITHUB_DEFAULT_USER
    assert dm_messages(bot, "U0BOB") == [] and bot.slack.messages("C0OPS") == [] and incidents(bot) == []


# --- vendors failing --------------------------------------------------------------------------------------------


def test_vendor_failures_mid_route_are_retried_without_duplicates(make_bot, world):
    world.github.inject_fault(r"/issues$", 502, method="POST")
    world.slack.inject_fault(r"/api/chat\.postMessage$", 500, times=2)
    world.pagerduty.inject_fault(r"^/incidents$", 503, method="POST")
    bot = dispatch_bot(make_bot)
    rid = submit(bot, self_service("flaky"))
    prompt = wait_prompt(bot, "U0BOB")
    click(bot, "U0BOB", "U0BOB", prompt, "dispatch_no")
    wait_state(bot, rid, "escalated")
    assert len(world.github.issues(REPO)) == 1 and len(dm_messages(bot, "U0BOB")) == 2
    assert len(incidents(bot)) == 1 and len(pd_creates(bot)) == 2


def test_a_rate_limited_dm_is_retried_without_looking_for_an_earlier_post(make_bot, world):
    # 429 means Slack posted nothing: the retry posts again at once instead of reading DM history (Tier 3) per user.
    world.slack.inject_fault(r"/api/chat\.postMessage$", 429, retry_after=0, times=2)  # past the client's one retry
    bot = dispatch_bot(make_bot)
    rid = submit(bot, broadcast("bc-429", [{"slackId": "U0BOB"}]))
    wait_state(bot, rid, "notified")
    assert [m["text"] for m in dm_messages(bot, "U0BOB")] == ["Please rotate your keys (bc-429)"]
    assert world.slack.calls("POST", r"conversations\.(history|open)$") == []


def test_github_refusing_the_close_is_reported_to_the_user(make_bot, world):
    bot = dispatch_bot(make_bot)
    rid = submit(bot, self_service("close-fails"))
    prompt = wait_prompt(bot, "U0BOB")
    world.github.inject_fault(r"/issues/\d+$", 404, method="PATCH", body={"message": "Not Found"})
    click(bot, "U0BOB", "U0BOB", prompt, "dispatch_yes")
    row = wait_state(bot, rid, "failed")
    error = bot.slack.wait_for_message(bot.slack.dm_channel("U0BOB"), lambda m: m["text"].startswith("Error:"))
    number = row["issue_number"]
    assert error["text"] == (
        f"Error: dispatch close-fails failed to close GitHub issue {REPO}/{number}, GitHub answered 404: Not Found"
    )


def test_pagerduty_refusing_the_incident_is_reported_to_the_user(make_bot, world):
    bot = dispatch_bot(make_bot)
    rid = submit(bot, self_service("page-fails", pagerDutyServiceId="PNOSUCH"))
    click(bot, "U0BOB", "U0BOB", wait_prompt(bot, "U0BOB"), "dispatch_no")
    row = wait_state(bot, rid, "failed")
    assert row["outcome"].startswith("failed to create PagerDuty incident: PagerDuty answered 400")
    error = bot.slack.wait_for_message(bot.slack.dm_channel("U0BOB"), lambda m: m["text"].startswith("Error:"))
    assert error["text"] == "Error: dispatch page-fails failed to create PagerDuty incident"


def test_github_content_creation_is_paced(make_bot, world):
    bot = dispatch_bot(make_bot, DISPATCH_GITHUB_CREATES_PER_MINUTE="2")
    for n in range(3):
        submit(
            bot, {"type": "low-priority", "requestId": f"pace-{n}", "body": {"github": {"title": f"T{n}", "body": "b"}}}
        )
    wait_state(bot, "pace-1", "filed")
    effect = bot.slack.wait_for(
        lambda: (
            (e := bot.runtime.outbox.get(f"dispatch:{alert(bot, 'pace-2')['id']}:dispatch.issue")) and e.attempts and e
        )
    )
    assert "pacing GitHub content creation (2/min)" in effect.last_error
    assert alert(bot, "pace-2")["state"] == "received" and len(issue_creates(bot)) == 2
    assert all(call.status == 201 for call in issue_creates(bot))


def test_githubs_secondary_limit_defers_without_a_duplicate(make_bot, world):
    world.github.create_limit_per_minute = 1
    bot = dispatch_bot(make_bot)
    for n in range(2):
        submit(
            bot, {"type": "low-priority", "requestId": f"sec-{n}", "body": {"github": {"title": f"S{n}", "body": "b"}}}
        )
    wait_state(bot, "sec-0", "filed")
    effect = bot.slack.wait_for(
        lambda: (
            (e := bot.runtime.outbox.get(f"dispatch:{alert(bot, 'sec-1')['id']}:dispatch.issue")) and e.attempts and e
        )
    )
    assert "secondary rate limit" in effect.last_error
    assert len(world.github.issues(REPO)) == 1


def test_home_tab_counts_dispatch_alerts(make_bot, world):
    bot = dispatch_bot(make_bot)
    wait_state(
        bot, submit(bot, {"type": "high", "requestId": "home", "body": {"pagerduty": {"title": "H"}}}), "escalated"
    )
    bot.slack.open_home("U0ALICE")
    bot.slack.wait_for_calls("POST", r"/api/views\.publish$")
    assert "*dispatch*: alerts 1, awaiting answer 0, escalated 1" in str(bot.slack.home_view("U0ALICE"))


def test_github_refusing_the_issue_still_sends_the_alarm_and_says_so(make_bot, world):
    world.github.add_repo("sandbox/noissues", has_issues=False)
    bot = dispatch_bot(make_bot)
    rid = submit(bot, self_service("no-issue", githubRepo="noissues"))
    prompt = wait_prompt(bot, "U0BOB")
    assert dm_messages(bot, "U0BOB")[0]["text"] == "Login alarm no-issue"
    report = bot.slack.wait_for_message("C0OPS", lambda m: m["text"].startswith("Error:"))
    assert report["text"] == (
        "Error: dispatch no-issue failed to create GitHub issue sandbox/noissues, "
        "GitHub answered 410: Issues are disabled for this repo"
    )
    click(bot, "U0BOB", "U0BOB", prompt, "dispatch_yes")
    assert wait_state(bot, rid, "closed")["outcome"] == "closed (there was no GitHub issue to close)"


def test_dispatch_command_says_when_the_capability_is_off(make_bot, world):
    bot = make_bot(GITHUB_TOKEN="")
    assert "dispatch" not in bot.runtime.services
    reply = bot.command_reply("U0BOB", "C0OPS", "/dispatch", "page DB down")
    assert reply == "Alarm dispatch is off in this Switchboard: set GITHUB_TOKEN and restart it."
