"""The emulated workspace: every vendor fake on 127.0.0.1, seeded with a small company, plus the settings
that point the real bot at them. The sandbox and the end-to-end tests both start from here."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.settings import Settings, load_settings
from sandbox.fakes.github import GitHubFake
from sandbox.fakes.jira import JiraFake
from sandbox.fakes.pagerduty import PagerDutyFake
from sandbox.fakes.slack import SlackFake
from sandbox.fakes.statuspage import StatuspageFake
from sandbox.fakes.tls import LoopbackCA
from sandbox.fakes.zendesk import ZendeskFake
from sandbox.scenes import SCENES

BOT_TOKEN = "xoxb-sandbox"
APP_TOKEN = "xapp-sandbox"
PD_TOKEN = "pd-sandbox"
ZENDESK_EMAIL = "bot@sandbox.example"
ZENDESK_TOKEN = "zd-sandbox"
GITHUB_TOKEN = "ghp_sandbox"
JIRA_EMAIL = "bot@sandbox.example"
JIRA_TOKEN = "jira-sandbox"
STATUSPAGE_KEY = "sp-sandbox"
STATUSPAGE_PAGE = "sandboxpage"

# (Slack id, handle, real name, email, workspace admin)
PEOPLE = (
    ("U0ALICE", "alice", "Alice Archer", "alice@sandbox.example", True),
    ("U0BOB", "bob", "Bob Baker", "bob@sandbox.example", False),
    ("U0CAROL", "carol", "Carol Chen", "carol@sandbox.example", False),
    ("U0DAVE", "dave", "Dave Diaz", "dave@sandbox.example", False),
)
CHANNELS = (
    ("C0GENERAL", "general"),
    ("C0OPS", "ops"),
    ("C0SUPPORT", "support"),
)


class World:
    def __init__(self, data_dir: Path | None = None, *, vendor_limits: bool = False):
        """`vendor_limits` makes Slack, Zendesk and Statuspage answer like the vendors past their rate limits
        (Slack's per-method tiers, Zendesk's export window and 10 exports a minute, Statuspage's one request a
        second); off, only Block Kit's limits apply, so tests stay fast."""
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="switchboard-sandbox-"))
        self.ca = LoopbackCA()
        self.slack = SlackFake(bot_token=BOT_TOKEN, app_token=APP_TOKEN, vendor_limits=vendor_limits)
        self.pagerduty = PagerDutyFake(self.ca, tokens=(PD_TOKEN,))
        self.zendesk = ZendeskFake(email=ZENDESK_EMAIL, token=ZENDESK_TOKEN, vendor_limits=vendor_limits)
        self.github = GitHubFake(token=GITHUB_TOKEN)
        self.jira = JiraFake(email=JIRA_EMAIL, token=JIRA_TOKEN)
        self.statuspage = StatuspageFake(api_key=STATUSPAGE_KEY, page_id=STATUSPAGE_PAGE, vendor_limits=vendor_limits)
        self.fakes = (self.slack, self.pagerduty, self.zendesk, self.github, self.jira, self.statuspage)
        self.ca_file = self.data_dir / "sandbox-ca.pem"

    def start(self) -> World:
        for fake in self.fakes:
            fake.start()
        self.ca.write_pem(self.ca_file)
        self.seed()
        return self

    def stop(self) -> None:
        for fake in self.fakes:
            fake.stop()

    def __enter__(self) -> World:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def seed(self) -> None:
        for user_id, handle, real_name, email, admin in PEOPLE:
            self.slack.add_user(user_id, handle, real_name, email, is_admin=admin)
            self.pagerduty.add_user("P" + user_id[2:].ljust(6, "X")[:6], real_name, email)
        members = ["UBOT"] + [p[0] for p in PEOPLE]
        for channel_id, name in CHANNELS:
            self.slack.add_channel(channel_id, name, members=members)
        self.github.add_repo("sandbox/alerts")
        self.jira.add_project("OPS", "Operations")
        for scene in SCENES:
            scene.seed(self)

    def env(self, **overrides: str) -> dict[str, str]:
        """Environment variables that point a real Switchboard at this world."""
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": self.slack.base_url,
            "PAGERDUTY_API_TOKEN": PD_TOKEN,
            "PAGERDUTY_FROM_EMAIL": "alice@sandbox.example",
            "PAGERDUTY_API_URL": self.pagerduty.base_url,
            "ZENDESK_SUBDOMAIN": "sandbox",
            "ZENDESK_EMAIL": ZENDESK_EMAIL,
            "ZENDESK_API_TOKEN": ZENDESK_TOKEN,
            "ZENDESK_URL": self.zendesk.base_url,
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITHUB_REPO": "sandbox/alerts",
            "GITHUB_API_URL": self.github.base_url,
            "JIRA_URL": self.jira.base_url,
            "JIRA_EMAIL": JIRA_EMAIL,
            "JIRA_API_TOKEN": JIRA_TOKEN,
            "JIRA_PROJECT": "OPS",
            "STATUSPAGE_API_KEY": STATUSPAGE_KEY,
            "STATUSPAGE_PAGE_ID": STATUSPAGE_PAGE,
            "STATUSPAGE_API_URL": self.statuspage.base_url,
            "SSL_CERT_FILE": str(self.ca_file),
            "DATABASE_PATH": str(self.data_dir / "switchboard.db"),
            "SWITCHBOARD_ADMINS": "U0ALICE",
            "SUPPORT_CHANNELS": "C0SUPPORT",
            "SUPPORT_ESCALATION_POLICY": "PSUPEP1",  # seeded by sandbox/scenes/support.py
            "ZENDESK_GROUP_ID": "360100",
            "PAGERDUTY_SERVICE_ID": "PDSPALRM",  # seeded by sandbox/scenes/dispatch.py
            "SLACK_DEFAULT_CHANNEL": "#ops",
        }
        env.update(overrides)
        return env

    def settings(self, **overrides: str) -> Settings:
        return load_settings(self.env(**overrides), dotenv_path=None)
