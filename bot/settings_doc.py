"""`docs/settings.md`, generated from the declarations: `python -m bot.settings_doc > docs/settings.md`.

A test keeps the file and the declarations in step, so the page can never list a setting the code does not read,
or miss one it does.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.settings import Setting
from bot.wiring import SPECS, all_settings

HEADER = """# Settings

Every setting Switchboard reads, from the environment or a `.env` file in the checkout (the environment wins).
Secrets are only ever read from there: they are never logged, shown or stored in SQLite. A malformed value stops
startup with one line naming the setting. This page is generated from the declarations in the code
(`python -m bot.settings_doc > docs/settings.md`); a test fails when the two differ.

A name ending in `_<NAME>` is a family: `PAGERDUTY_ACCOUNT_EU=…` declares the member `EU`.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(settings: Iterable[Setting]) -> list[str]:
    lines = ["| Setting | Default | Secret | What it is for |", "| --- | --- | --- | --- |"]
    for setting in settings:
        default = f"`{setting.default}`" if setting.default not in (None, "") else ""
        secret = "yes" if setting.secret else ""
        lines.append(f"| `{setting.name}` | {_cell(default)} | {secret} | {_cell(setting.help)} |")
    return lines


def markdown() -> str:
    settings = all_settings()
    groups: dict[str, list[Setting]] = {}
    for setting in settings:
        group = groups.setdefault(setting.capability, [])
        if setting not in group:  # a setting shared by two capabilities (the incident poller's) is listed once
            group.append(setting)
    titles = {"core": "Foundation (Slack, vendor credentials, storage)"}
    titles.update({spec.name: spec.title for spec in SPECS})
    titles.setdefault("incidents", "PagerDuty incident poller (status page and Jira sync)")
    out = [HEADER]
    out += ["## Which settings turn each capability on", ""]
    out += [f"- **{spec.title}** (`{spec.name}`): {', '.join(f'`{n}`' for n in spec.needs)}" for spec in SPECS]
    out.append("")
    for group, members in groups.items():
        out += [f"## {titles.get(group, group)}", "", *_table(members), ""]
    return "\n".join(out).rstrip("\n") + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
