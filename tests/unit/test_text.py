from bot.text import escape


def test_markup_and_broadcasts_from_vendors_are_neutralised():
    text = escape("<!channel> ping @here & <https://evil|click> <@U123>")
    assert "<" not in text and ">" not in text
    assert text.startswith("&lt;!channel&gt; ping @\u2060here &amp; &lt;https://evil|click&gt;")
    assert "@channel" not in escape("hey @channel") and "@Everyone" not in escape("@Everyone")


def test_ordinary_text_is_unchanged():
    assert escape("Disk 90% full on db-1") == "Disk 90% full on db-1"
