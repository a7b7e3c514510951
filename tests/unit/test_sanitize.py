"""Untrusted text on its way to a terminal (jobconsole.sanitize): colours stay, every
other escape sequence and control character goes, the length is bounded, and text
that merely looks like markup is left alone (it is the console's job to show it as text).
"""
import pytest

from jobconsole.sanitize import MAX_CHARS, sanitize

RED, RESET = "\x1b[31m", "\x1b[0m"


def test_sanitize_keeps_colours_and_text_and_drops_other_escapes():
    assert sanitize("\x1b[31mred\x1b[0m") == "\x1b[31mred\x1b[0m"
    assert sanitize("\x1b[2Jclear") == "clear"
    assert sanitize("\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\") == "link"
    assert sanitize("\x1b]0;window title\x07after") == "after"
    assert sanitize("up\x1b[Aand\x1b[10;10Hmove") == "upandmove"
    assert sanitize("8-bit CSI \x9b2J and bell\x07") == "8-bit CSI 2J and bell"
    assert sanitize("[/] [@click=app.quit]") == "[/] [@click=app.quit]"
    assert sanitize("a\rb\nc\td") == "a b c\td"


def test_sanitize_can_drop_colours_and_bounds_length():
    assert sanitize("\x1b[1;31mred\x1b[0m", keep_colours=False) == "red"
    assert sanitize("x" * 50, limit=10) == "x" * 10 + "… [40 more characters]"
    # a cut through a colour sequence leaves no half of it behind
    assert sanitize("abcd\x1b[31mred", limit=7) == "abcd… [5 more characters]"


@pytest.mark.parametrize("colour", [
    "\x1b[1;4;31m",             # several attributes at once
    "\x1b[38;5;196m",           # 256 colours
    "\x1b[38;2;255;128;0m",     # true colour
    "\x1b[38:5:196m",           # the colon form of the same
    "\x1b[m",                   # a reset without its 0
])
def test_every_form_of_colour_sequence_survives(colour):
    assert sanitize(f"{colour}text{RESET}") == f"{colour}text{RESET}"


@pytest.mark.parametrize("sequence, what", [
    ("\x1b[?25l", "hides the cursor"),
    ("\x1b[1K", "erases the line"),
    ("\x1b[6n", "asks the terminal to type its cursor position"),
    ("\x1b(0", "switches to line-drawing characters"),
    ("\x1b7", "saves the cursor"),
    ("\x1bc", "resets the terminal"),
    ("\x1bP1$tx\x1b\\", "a DCS string"),
    ("\x1b_payload\x1b\\", "an APC string"),
])
def test_escape_sequences_that_are_not_colours_are_removed_whole(sequence, what):
    assert sanitize(f"before{sequence}after") == "beforeafter", what


def test_an_unterminated_osc_string_is_removed_to_the_end():
    # nothing after it can be known not to be its payload
    assert sanitize("text\x1b]0;a title that never ends") == "text"


def test_a_lone_escape_is_removed():
    assert sanitize("a\x1b") == "a"
    assert sanitize("a\x1b[") == "a"


def test_control_characters_vanish_but_tab_stays():
    assert sanitize("nul\x00 bell\x07 bs\x08 del\x7f tab\t") == "nul bell bs del tab\t"


def test_eight_bit_control_characters_vanish():
    # C1 controls: \x9b is an 8-bit CSI, \x9d an 8-bit OSC, \x85 a next-line
    assert sanitize("\x9b2J\x9d0;title\x07\x85x") == "2J0;titlex"


def test_one_line_stays_one_line():
    assert sanitize("one\r\ntwo\nthree\rfour") == "one  two three four"


def test_text_that_looks_like_markup_is_untouched():
    for text in ("[bold red]not markup[/bold red]", "[/]", "[@click=app.quit]",
                 "<b>html</b>", "**md**", "{braces} %s \\n"):
        assert sanitize(text) == text


def test_letters_of_every_script_are_untouched():
    assert sanitize("café 日本語 🎉 \u200b") == "café 日本語 🎉 \u200b"


def test_none_is_empty_and_other_values_are_shown_as_text():
    assert sanitize(None) == ""
    assert sanitize(42) == "42"
    assert sanitize({"a": 1}) == "{'a': 1}"


def test_text_up_to_the_limit_is_whole_and_one_more_is_cut():
    assert sanitize("x" * MAX_CHARS) == "x" * MAX_CHARS
    cut = sanitize("x" * (MAX_CHARS + 1))
    assert cut == "x" * MAX_CHARS + "… [1 more characters]"


def test_the_limit_counts_what_remains_after_escapes_are_removed():
    assert sanitize("\x1b[2J" + "x" * 10, limit=10) == "x" * 10


def test_a_cut_right_after_a_whole_colour_sequence_keeps_it():
    assert sanitize(f"{RED}abcdef", limit=7) == f"{RED}ab… [4 more characters]"


def test_dropping_colours_drops_only_colours():
    assert sanitize(f"{RED}[red]\t\x1b[2Jx{RESET}", keep_colours=False) == "[red]\tx"


@pytest.mark.parametrize("mark", [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))])
def test_bidi_embeddings_overrides_and_isolates_are_removed(mark):
    # a right-to-left override makes 'rm -rf /' + '#' look like another command
    assert sanitize(f"ls{mark} -l") == "ls -l"


def test_a_trojan_source_line_shows_in_its_stored_order():
    line = "access = 'user\u202e \u2066// admin\u2069 \u2066'"
    assert sanitize(line) == "access = 'user // admin '"


def test_the_marks_that_only_hint_a_direction_stay():
    # left-to-right and right-to-left marks reorder nothing after them; Arabic and
    # Hebrew text needs them
    assert sanitize("\u200eabc\u200f") == "\u200eabc\u200f"
