import logging

from bot.logs import OneLineFormatter


def test_a_newline_in_outside_text_cannot_forge_a_log_line():
    record = logging.LogRecord("bot.support", logging.INFO, __file__, 1, "message from %s", ("x\nERROR forged",), None)
    line = OneLineFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert line == "INFO bot.support: message from x\\nERROR forged"


def test_a_traceback_still_follows_on_its_own_lines():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("bot", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = OneLineFormatter("%(message)s").format(record)
    assert text.startswith("failed\nTraceback") and "ValueError: boom" in text


def test_log_format_json_writes_one_object_per_line_with_the_bound_fields(capsys):
    import json

    from bot.logs import bind, configure_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("INFO", json_lines=True)
    try:
        with bind(capability="support", job="support.poll"):
            logging.getLogger("bot.support").warning("ticket %s\nforged", 7)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    line = capsys.readouterr().err.strip()
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "ticket 7\nforged" and entry["level"] == "WARNING" and entry["logger"] == "bot.support"
    assert (entry["capability"], entry["job"]) == ("support", "support.poll")
