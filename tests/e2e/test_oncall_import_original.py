"""Importing pd-oncall-chat-topic's configuration table (`aws dynamodb scan` output) as on-call links, against the
PagerDuty emulator and the running bot: a bad row imports nothing and is named; a good table shows its diff,
`--dry-run` applies nothing, and the import is what the bot then follows."""

from __future__ import annotations

import io
import json

from bot.oncall.cli import run_import_original
from bot.oncall.links import load_links
from bot.wiring import open_store
from tests.e2e.test_oncall import ALICE, BOB, links, on_call_now, oncall

TOPIC_ROW = {"schedule": {"S": "PTSTPRI"}, "slack": {"S": "C0OPS"}, "sched_name": {"S": "Front"}}
GROUP_ROW = {"schedule": {"S": "Secondary"}, "slack": {"S": "C0GENERAL"}, "slack_groups": {"S": "S0TSTOPS"}}


def scan_file(tmp_path, *items: dict) -> str:
    path = tmp_path / "scan.json"
    path.write_text(json.dumps({"Items": list(items), "Count": len(items), "ScannedCount": len(items)}))
    return str(path)


def run(world, file: str, *, dry_run: bool = False) -> tuple[int, str]:
    settings = world.settings(SWITCHBOARD_RETRY_PROFILE="test")
    out = io.StringIO()
    status = run_import_original(settings, lambda: open_store(settings), file, dry_run, out)
    return status, out.getvalue()


def test_a_table_with_a_bad_row_imports_nothing_and_names_the_row(world, bot, tmp_path, capsys):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    file = scan_file(tmp_path, TOPIC_ROW, {"slack": {"S": "C0GENERAL"}, "sched_name": {"S": "Lost"}})
    status, out = run(world, file)
    assert (status, out) == (2, "")
    assert capsys.readouterr().err.splitlines() == [
        f"switchboard import pd-oncall-chat-topic: {file}: row 2: schedule is missing",
        "switchboard import pd-oncall-chat-topic: nothing was imported",
    ]
    assert links(bot) == 0
    unknown = scan_file(tmp_path, TOPIC_ROW, {"schedule": {"S": "PNOSUCH1"}, "slack": {"S": "C0GENERAL"}})
    assert run(world, unknown)[0] == 2
    assert capsys.readouterr().err == (
        "switchboard import pd-oncall-chat-topic: row 2: schedule PNOSUCH1 not found in PagerDuty; "
        "nothing was imported\n"
    )
    assert links(bot) == 0


def test_a_good_table_shows_its_diff_dry_runs_then_applies_and_the_bot_follows_it(world, bot, tmp_path):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    on_call_now(world, "PTSTSEC", "Secondary", BOB)
    world.slack.add_usergroup("S0TSTOPS", "ops-oncall", users=["U0ALICE"])
    oncall(bot, "link PTSTPRI C0SUPPORT")  # made in Switchboard already: the table does not have it
    file = scan_file(tmp_path, TOPIC_ROW, GROUP_ROW)  # the second row names its schedule: looked up in PagerDuty
    diff = [
        "~ link PTSTPRI: + channel C0OPS, - channel C0SUPPORT, names {} → {'PTSTPRI': 'Front'}",
        "+ link PTSTSEC → channels C0GENERAL; usergroups S0TSTOPS",
    ]
    assert run(world, file, dry_run=True) == (0, "\n".join([*diff, "dry run: 2 change(s) not applied"]) + "\n")
    assert [link.channels for link in load_links(bot.runtime.store)] == [("C0SUPPORT",)]
    status, out = run(world, file)
    assert status == 0 and out.splitlines()[:-1] == diff
    assert out.splitlines()[-1].startswith("applied 2 change(s)")
    assert run(world, file) == (0, "no changes\n")
    oncall(bot, "sync")
    assert world.slack.topic("C0OPS") == "<@U0ALICE> is on-call for Front"
    assert world.slack.topic("C0GENERAL") == "<@U0BOB> is on-call for Secondary"
    assert world.slack.topic("C0SUPPORT") == ""
    assert world.slack.usergroup_members("S0TSTOPS") == ["U0BOB"]
