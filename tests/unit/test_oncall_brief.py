"""The hand-off brief's wording and wiring, against stand-ins for PagerDuty and the other capabilities."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bot.oncall.brief import HandoffBrief, brief_text, linked_channels
from bot.oncall.links import Link
from bot.oncall.open_incidents import IncidentReader, OpenIncident
from bot.oncall.rules import Handoff, TakenOver

DM = ":pager: You are now on call for Primary."
FIRE = OpenIncident(
    7, "Checkout <down> @here", "triggered", "PSVC1", "Checkout & co", "https://x.pagerduty.com/incidents/P7"
)


class PolicyClient:
    """`iter_all` as the PagerDuty client answers it, from canned pages."""

    def __init__(self, policies: list[dict[str, Any]], incidents: list[dict[str, Any]] | None = None):
        self.policies = policies
        self.incidents = incidents or []
        self.asked: list[tuple[str, dict[str, Any] | None]] = []

    def iter_all(self, path: str, params: dict[str, Any] | None = None) -> Iterable[dict[str, Any]]:
        self.asked.append((path, params))
        return iter(self.policies if path == "/escalation_policies" else self.incidents)


def policy(policy_id: str, levels: list[list[str]], services: list[str]) -> dict[str, Any]:
    rules = [
        {
            "targets": [
                {"id": t, "type": "schedule_reference" if t.startswith("PS") else "user_reference"} for t in level
            ]
        }
        for level in levels
    ]
    return {"id": policy_id, "escalation_rules": rules, "services": [{"id": s} for s in services]}


def test_the_brief_lists_incidents_then_other_work_escaped_and_linked():
    text = brief_text(DM, [FIRE], ["• already a bullet", "<https://z.example|a thread>"])
    assert text.split("\n") == [
        DM,
        "*Still open:*",
        # a title that could pass for an address shows where the link goes (bot.text.link)
        "• :rotating_light: #7 Checkout &lt;down&gt; @\u2060here (<https://x.pagerduty.com/incidents/P7>) "
        "(triggered, Checkout &amp; co)",
        "• already a bullet",
        "• <https://z.example|a thread>",
    ]


def test_an_incident_links_its_number_and_title():
    calm = OpenIncident(8, "Slow checkout", "acknowledged", "PSVC1", "Checkout", "https://x.pagerduty.com/incidents/P8")
    assert brief_text(DM, [calm], []).endswith(
        "• :rotating_light: <https://x.pagerduty.com/incidents/P8|#8 Slow checkout> (acknowledged, Checkout)"
    )


def test_nothing_open_is_said_only_when_pagerduty_was_read():
    assert brief_text(DM, [], []) == f"{DM}\nNothing open."
    assert brief_text(DM, None, []) == f"{DM}\n:warning: The open PagerDuty incidents could not be read."
    unread = brief_text(DM, None, ["a thread"])
    assert unread.endswith("could not be read.\n*Still open:*\n• a thread")


def test_a_storm_of_incidents_is_counted_past_25():
    many = [OpenIncident(n, f"t{n}", "triggered", "PSVC1", "S", f"https://x/{n}") for n in range(30)]
    lines = brief_text(DM, many, []).split("\n")
    assert len(lines) == 2 + 25 + 1 and lines[-1] == "• … and 5 more open incidents"


def test_services_of_schedules_at_any_level_and_of_policy_sources():
    client = PolicyClient(
        [
            policy("PEP1", [["PUSER01"], ["PSCHED1"]], ["PSVC1", "PSVC2"]),
            policy("PEP2", [["PSCHED1", "PSCHED2"]], ["PSVC2", "PSVC3"]),
            policy("PEP3", [["PSCHED2"]], []),
        ]
    )
    found = IncidentReader(client).services_of(["PSCHED1", "PSCHED2", "policy:PEP1", "PSCHED9"])
    assert found == {
        "PSCHED1": ["PSVC1", "PSVC2", "PSVC3"],
        "PSCHED2": ["PSVC2", "PSVC3"],
        "policy:PEP1": ["PSVC1", "PSVC2"],
        "PSCHED9": [],
    }
    assert client.asked == [("/escalation_policies", None)]  # one list for every source


def test_open_incidents_are_read_100_services_a_request():
    client = PolicyClient(
        [],
        [
            {
                "id": "P1",
                "incident_number": 3,
                "title": "t",
                "status": "triggered",
                "service": {"id": "PSVC1", "summary": "S"},
                "html_url": "https://x/P1",
            }
        ],
    )
    services = [f"PSVC{n:03d}" for n in range(150)]
    found = IncidentReader(client).open_incidents(services)
    assert found == [OpenIncident(3, "t", "triggered", "PSVC1", "S", "https://x/P1")]  # the same one seen twice
    assert [len(params["service_ids[]"]) for _, params in client.asked if params] == [100, 50]
    assert all(params["statuses[]"] == ["triggered", "acknowledged"] for _, params in client.asked if params)


def handoff(slack_id: str | None, *schedules: str) -> Handoff:
    shifts = tuple(TakenOver(sid, sid, 0.0) for sid in schedules)
    return Handoff("line", slack_id, DM, f"oncall:handoff:{slack_id}:0:{','.join(schedules)}", shifts=shifts)


def test_each_person_gets_the_work_of_their_own_schedules_channels_and_services():
    client = PolicyClient(
        [policy("PEP1", [["PSCHED1"]], ["PSVC1"]), policy("PEP2", [["PSCHED2"]], ["PSVC2"])],
        [
            {"id": "P1", "incident_number": 1, "title": "one", "status": "triggered", "service": {"id": "PSVC1"}},
            {"id": "P2", "incident_number": 2, "title": "two", "status": "acknowledged", "service": {"id": "PSVC2"}},
        ],
    )
    asked: list[tuple[list[str], list[str]]] = []

    def open_work(channels: Sequence[str], services: Sequence[str]) -> list[str]:
        asked.append((list(channels), list(services)))
        return [f"work in {','.join(channels)}"] if "C2" in channels else []

    links = [Link(("PSCHED1",), channels=("C1",)), Link(("PSCHED2", "PSCHED3"), channels=("C2", "C3"))]
    nobody = handoff(None, "PSCHED1")  # nobody in Slack to DM: left as it is, not even asked about
    first, second, third = HandoffBrief(IncidentReader(client), open_work)(
        [handoff("U1", "PSCHED1"), handoff("U2", "PSCHED2"), nobody], links
    )
    assert first.dm_text == f"{DM}\n*Still open:*\n• :rotating_light: #1 one (triggered, PSVC1)"
    assert second.dm_text.endswith("• :rotating_light: #2 two (acknowledged, PSVC2)\n• work in C2,C3")
    assert third == nobody
    assert asked == [(["C1"], ["PSVC1"]), (["C2", "C3"], ["PSVC2"])]
    assert (first.dm_key, first.slack_id) == ("oncall:handoff:U1:0:PSCHED1", "U1")  # the same outbox effect


def test_pagerduty_trouble_leaves_the_other_work_and_the_dm():
    class Down(PolicyClient):
        def iter_all(self, path: str, params: dict[str, Any] | None = None) -> Iterable[dict[str, Any]]:
            raise ConnectionError("down")

    [briefed] = HandoffBrief(IncidentReader(Down([])), lambda channels, services: ["a thread"])(
        [handoff("U1", "PSCHED1")], [Link(("PSCHED1",), channels=("C1",))]
    )
    assert briefed.dm_text == (
        f"{DM}\n:warning: The open PagerDuty incidents could not be read.\n*Still open:*\n• a thread"
    )


def test_linked_channels_follow_link_order_once():
    links = [Link(("PA", "PB"), channels=("C1", "C2")), Link(("PB",), channels=("C2", "C3")), Link(("PC",))]
    assert linked_channels(links, ["PB"]) == ["C1", "C2", "C3"]
    assert linked_channels(links, ["PZ"]) == []
