from bot.text import escape


def test_markup_and_broadcasts_from_vendors_are_neutralised():
    text = escape("<!channel> ping @here & <https://evil|click> <@U123>")
    assert "<" not in text and ">" not in text
    assert text.startswith("&lt;!channel&gt; ping @\u2060here &amp; &lt;https://evil|click&gt;")
    assert "@channel" not in escape("hey @channel") and "@Everyone" not in escape("@Everyone")


def test_ordinary_text_is_unchanged():
    assert escape("Disk 90% full on db-1") == "Disk 90% full on db-1"


def test_a_label_showing_another_url_is_followed_by_the_real_target():
    from bot.text import link

    spoof = link("https://evil.example/login", "https://sso.acme.com/login")
    assert spoof == "https://sso.acme.com/login (<https://evil.example/login>)"
    assert link("https://evil.example/login", "sso.acme.com") == "sso.acme.com (<https://evil.example/login>)"
    assert link("https://status.acme.com/x", "Status") == "<https://status.acme.com/x|Status>"
    assert link("https://a.example/x", "https://a.example/x/") == "<https://a.example/x>"
    assert link("https://evil.example/", "Reset password", strict=True) == "Reset password (<https://evil.example/>)"


def test_a_link_to_anything_but_http_or_mail_is_plain_text():
    from bot.text import link

    assert link("javascript:alert(1)", "docs") == "docs (javascript:alert(1))"
    assert link("https://x.example/a|<!channel>", "x") == "x (https://x.example/a|&lt;!channel&gt;)"


def test_producer_text_keeps_channels_and_links_but_mentions_only_when_allowed():
    from bot.text import producer_text

    text = "<!channel> <!here|here> <!everyone> <@U0ALICE> <!subteam^S0OPS|@ops> <#C0OPS|ops> @here"
    safe = producer_text(text)
    assert "<!" not in safe and "<@" not in safe
    assert "<#C0OPS|ops>" in safe and "@\u2060here" in safe
    allowed = producer_text(text, allow_mentions=True)
    assert "<@U0ALICE>" in allowed and "<!subteam^S0OPS|@ops>" in allowed
    assert "<!channel>" not in allowed and "<!here" not in allowed and "<!everyone>" not in allowed
    spoof = producer_text("<https://evil.example/login|https://sso.acme.com/login>")
    assert spoof == "https://sso.acme.com/login (<https://evil.example/login>)"
    assert producer_text("a < b & c > d") == "a &lt; b & c &gt; d"


def test_text_leaving_slack_cannot_notify_or_format():
    from bot.text import for_github, for_jira, quoted

    neutral = for_github("cc @alice @acme/oncall, mail me@acme.com")
    assert neutral == "cc @\u200balice @\u200bacme/oncall, mail me@acme.com"
    assert for_jira("[~admin] {code} [x|https://e]") == "\\[\\~admin\\] \\{code\\} \\[x\\|https://e\\]"
    assert "\n" not in quoted("bad\nINFO forged line")


def test_a_job_error_carrying_vendor_text_is_shown_as_text():
    from bot.home import job_line
    from bot.scheduler import JobStatus

    job = JobStatus(
        name="incidents.poll",
        interval=60.0,
        running=False,
        last_started_at=1000.0,
        last_success_at=None,
        last_error="HTTP 500: <!channel> <https://evil.example|https://sso.acme.com>",
        last_error_at=1000.0,
        next_run_at=None,
        runs=1,
        failures=1,
    )
    line = job_line(job, now=1010.0)
    assert "<!channel>" not in line and "<https://evil.example" not in line
