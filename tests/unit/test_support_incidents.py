"""The incident-aware support desk's pure parts: the service map setting, which incidents a request is linked to,
which links are resolved, first responses, the digest's median, and what is said in Slack and Zendesk."""

import pytest

from bot.incidents.model import PdIncident
from bot.settings import SettingsError, load_settings
from bot.support import incident_text
from bot.support.config import load
from bot.support.rules import (
    duration_text,
    incidents_on,
    is_first_response_by,
    median,
    resolved,
    watched_services,
)


def incident(number: int, service: str, status: str = "triggered", account: str = "default") -> PdIncident:
    return PdIncident(
        account, f"PINC{number}", number, f"Outage {number}", status, None, service, "API", f"https://pd/{number}"
    )


def test_the_service_map_setting_combines_with_channels_and_needs_pagerduty():
    base = {"SUPPORT_CHANNELS": "C0SUPPORT,C0HELP", "PAGERDUTY_API_TOKEN": "x"}
    env = {**base, "SUPPORT_SERVICE_MAP": "C0SUPPORT=PSVC1, C0SUPPORT=PSVC2,C0HELP=PSVC1,C0SUPPORT=PSVC1"}
    config = load(load_settings(env, dotenv_path=None))
    assert config.service_map == (("C0SUPPORT", "PSVC1"), ("C0SUPPORT", "PSVC2"), ("C0HELP", "PSVC1"))
    assert config.watches_incidents
    assert watched_services(config.service_map, "C0SUPPORT") == {"PSVC1", "PSVC2"}
    assert not load(load_settings({"SUPPORT_CHANNELS": "C0SUPPORT"}, dotenv_path=None)).watches_incidents


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"SUPPORT_SERVICE_MAP": "C0SUPPORT:PSVC1"}, "channel=service pairs"),
        ({"SUPPORT_SERVICE_MAP": "C0SUPPORT=svc"}, "channel=service pairs"),
        ({"SUPPORT_SERVICE_MAP": "C0OTHER=PSVC1"}, "C0OTHER, which is not in SUPPORT_CHANNELS"),
    ],
)
def test_bad_service_maps_are_named(extra, message):
    with pytest.raises(SettingsError, match="SUPPORT_SERVICE_MAP") as error:
        load(load_settings({"SUPPORT_CHANNELS": "C0SUPPORT", "PAGERDUTY_API_TOKEN": "x", **extra}, dotenv_path=None))
    assert message in str(error.value)


def test_the_service_map_needs_a_pagerduty_token():
    with pytest.raises(SettingsError, match="SUPPORT_SERVICE_MAP needs PAGERDUTY_API_TOKEN"):
        load(load_settings({"SUPPORT_CHANNELS": "C0SUPPORT", "SUPPORT_SERVICE_MAP": "C0SUPPORT=PSVC1"}, None))


def test_a_request_is_linked_to_the_open_incidents_of_its_services():
    open_list = [
        incident(7, "PSVC1", "acknowledged"),
        incident(3, "PSVC1"),
        incident(5, "PSVC2"),
        incident(9, "PSVC1", "resolved"),
    ]
    assert [i.number for i in incidents_on(open_list, {"PSVC1"})] == [3, 7]
    assert incidents_on(open_list, set()) == []


def test_linked_incidents_missing_from_the_open_list_are_resolved():
    assert resolved(["PINC1", "PINC2", "PINC2"], {"PINC1"}) == ["PINC2"]
    assert resolved([], {"PINC1"}) == []


def test_what_counts_as_a_first_response():
    assert is_first_response_by("U0CAROL", "U0BOB", None)
    assert is_first_response_by("U0CAROL", "U0BOB", "resolve")
    assert not is_first_response_by("U0BOB", "U0BOB", None)  # the asker adding details
    assert not is_first_response_by("U0CAROL", "U0BOB", "help")  # a question to the bot
    assert is_first_response_by("U0BOB", None, None)  # an emailed ticket's thread: anyone in Slack


def test_median_and_durations():
    assert median([]) is None
    assert median([30.0, 10.0, 20.0]) == 20.0
    assert median([10.0, 20.0, 30.0, 40.0]) == 25.0
    assert [duration_text(s) for s in (12, 600, 3900, 2 * 86400 + 4 * 3600)] == [
        "12 s",
        "10 min",
        "1 h 05 min",
        "2 d 4 h",
    ]


def test_what_the_thread_and_the_ticket_are_told():
    link = {
        "number": 42,
        "title": "API <down> & @channel",
        "html_url": "https://acme.pagerduty.com/incidents/PINC42",
        "service_name": "Public API",
        "service_id": "PSVC1",
    }
    related = ["Status page: <https://stspg.io/abc|Public API incident>"]
    note = incident_text.thread_note(link, related)
    # vendor text is escaped; a label that looks like an address shows the link's real target
    assert "#42 API &lt;down&gt; &amp; @\u2060channel (<https://acme.pagerduty.com/incidents/PINC42>)" in note
    assert "*Public API*" in note and note.endswith("\n• Status page: <https://stspg.io/abc|Public API incident>")
    assert incident_text.tag(link) == "pd-incident-42"
    assert incident_text.ticket_note(link, related) == (
        "This request came in while PagerDuty incident #42 API <down> & @channel was open on Public API: "
        "https://acme.pagerduty.com/incidents/PINC42\nStatus page: Public API incident (https://stspg.io/abc)"
    )
    assert incident_text.thread_resolved({**link, "title": "API down"}) == (
        "✅ The incident <https://acme.pagerduty.com/incidents/PINC42|#42 API down> is resolved."
    )
    assert incident_text.ticket_resolved(link) == (
        "PagerDuty incident #42 API <down> & @channel is resolved: https://acme.pagerduty.com/incidents/PINC42"
    )
