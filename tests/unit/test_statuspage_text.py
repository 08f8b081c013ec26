"""PagerDuty incidents in the status page's Slack notices: the link built by the bot, the title inert."""

import json
import re

from bot.statuspage import rules


def slack_link_targets(text: str) -> list[str]:
    return [token.split("|", 1)[0] for token in re.findall(r"<([^<>]*)>", text)]


def test_an_incident_is_linked_by_its_number_and_its_title_is_text():
    text = rules.pagerduty_incident("https://acme.pagerduty.com/incidents/P1", 7, "<!here> <https://evil.example|a>")
    assert text == "<https://acme.pagerduty.com/incidents/P1|#7> &lt;!here&gt; &lt;https://evil.example|a&gt;"
    assert "@\u2060channel" in rules.pagerduty_incident("https://acme.pagerduty.com/incidents/P1", 7, "@channel")


def test_a_misleading_or_missing_incident_link_is_not_linked():
    spoof = rules.pagerduty_incident("https://evil.example|https://sso.acme.com", 7, "down")
    assert slack_link_targets(spoof) == []
    assert spoof == "#7 (https://evil.example|https://sso.acme.com) down"
    assert rules.pagerduty_incident("javascript:alert(1)", 7, "down") == "#7 (javascript:alert(1)) down"
    assert rules.pagerduty_incident("", 7, "down") == "#7 down"


def test_statuspage_templates_carry_only_the_component():
    body = rules.incident_body(rules.DEFAULT_BODY, "⛈", "api01", "Public API")
    assert body.startswith("Automated monitoring has determined that Public API is experiencing errors")
    assert rules.render("{{title}} {{ component_id }}", "api01", "API") == "{{title}} api01"


def test_a_long_announcement_is_queued_whole_in_ordered_parts(tmp_path):
    from bot.incidents.notify import SLACK_POST, announce
    from bot.outbox import Outbox
    from bot.store import Store
    from bot.wiring import MIGRATIONS

    store = Store(tmp_path / "a.db", MIGRATIONS)
    outbox = Outbox(store)
    text = "\n".join(f"• PagerDuty #{n} <https://pd.example/{n}|#{n}> disk full on host-{n}" for n in range(400))
    with store.write() as db:
        announce(outbox, db, "statuspage:opened:1", "C0OPS", text)
        announce(outbox, db, "statuspage:opened:1", "C0OPS", text)  # a replay queues nothing more
    rows = store.query("SELECT key, kind, payload FROM outbox ORDER BY id")
    store.close()
    parts = [json.loads(r["payload"])["text"] for r in rows]
    assert rows[0]["key"] == "slack:statuspage:opened:1" and all(r["kind"] == SLACK_POST for r in rows)
    assert len(rows) > 1 and all(len(p) <= 3000 for p in parts)
    assert "\n".join(parts) == text
