import re

from bot import blocks


def section_texts(messages: list[dict]) -> list[str]:
    return [b["text"]["text"] for m in messages for b in m["blocks"] if b["type"] == "section"]


def test_a_thousand_lines_become_complete_messages_within_every_limit():
    lines = [f"• <#C{n:08d}> ← *Schedule {n}* &amp; friends — <@U{n:08d}> on call" for n in range(1000)]
    text = "\n".join(lines)
    messages = blocks.answer_messages(text)
    assert len(messages) >= 1
    for message in messages:
        assert blocks.violations(message) == []
    assert "\n".join(section_texts(messages)).split("\n") == lines  # nothing lost, nothing repeated, in order


def test_one_huge_line_is_cut_at_spaces_and_never_inside_an_entity_or_link():
    words = " ".join(f"word{n} &amp; <https://x.example/{n}|link {n}>" for n in range(3000))
    pieces = blocks.chunks(words)
    assert all(len(piece) <= blocks.MAX_SECTION_TEXT for piece in pieces)
    for piece in pieces:
        assert not re.search(r"&[a-z]*$", piece) and piece.count("<") == piece.count(">")
    assert " ".join(pieces).replace("  ", " ") == words


def test_a_45000_character_comment_without_spaces_is_kept_whole():
    comment = "x" * 45000
    messages = blocks.answer_messages(comment)
    assert "".join(section_texts(messages)) == comment
    assert all(blocks.violations(m) == [] for m in messages)


def test_more_blocks_than_a_message_holds_continue_in_the_next():
    many = [blocks.section(f"line {n}") for n in range(120)]
    messages = blocks.messages(many)
    assert [len(m["blocks"]) for m in messages] == [50, 50, 22]  # 50 + 49 + 21 sections, two continuation lines
    assert messages[1]["blocks"][0]["elements"][0]["text"] == "_(continued, part 2)_"
    assert [b["text"]["text"] for m in messages for b in m["blocks"] if b["type"] == "section"] == [
        f"line {n}" for n in range(120)
    ]


def test_a_view_past_100_blocks_says_what_was_left_out():
    view = blocks.view_blocks([blocks.section(str(n)) for n in range(150)], more="`/switchboard status` lists all")
    assert len(view) == 100 and view[-1]["elements"][0]["text"] == "…and 51 more: `/switchboard status` lists all"


def test_labels_are_clipped_and_oversized_values_refused():
    assert len(blocks.header("h" * 500)["text"]["text"]) == blocks.MAX_HEADER_TEXT
    assert len(blocks.button("b" * 100, "a", "v")["text"]["text"]) == blocks.MAX_BUTTON_TEXT
    try:
        blocks.button("ok", "a", "v" * 2001)
    except ValueError as error:
        assert "at most 2000" in str(error)
    else:
        raise AssertionError("a 2,001-character button value was accepted")
    too_big = {"blocks": [blocks.section("x")] * 51, "text": "x" * 40001}
    assert blocks.violations(too_big) == ["51 blocks (at most 50)", "text of 40001 characters (at most 40000)"]
