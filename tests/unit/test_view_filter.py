"""The filter typed in a task view (jobconsole.tasks.substring_filter): the text becomes
an ILIKE pattern that matches it as a substring, its wildcards taken literally.

`like` below reads a pattern as PostgreSQL's LIKE does with its default escape
character, the backslash, so that the tests can say what a filter matches.
"""
import re

import pytest

from jobconsole.tasks import substring_filter


def like(pattern, text):
    """PostgreSQL's `text ILIKE pattern`: % any run, _ any one character, \\x a literal x."""
    regex = ""
    chars = iter(pattern)
    for c in chars:
        if c == "\\":
            regex += re.escape(next(chars))
        elif c == "%":
            regex += ".*"
        elif c == "_":
            regex += "."
        else:
            regex += re.escape(c)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL) is not None


def matches(text_filter, row):
    pattern, inverted = substring_filter(text_filter)
    return True if pattern is None else like(pattern, row) != inverted


def test_a_filter_is_a_substring_anywhere_in_the_row():
    assert substring_filter("resize") == ("%resize%", False)
    assert matches("resize", "12 done resize_images default alice")
    assert not matches("resize", "13 done import_invoices default bob")


def test_a_filter_ignores_case():
    assert matches("ALICE", "12 done resize_images default alice")


def test_a_leading_exclamation_mark_inverts_the_filter():
    assert substring_filter("!done") == ("%done%", True)
    assert not matches("!done", "12 done resize_images default alice")
    assert matches("!done", "13 failed import_invoices default bob")


def test_only_a_leading_exclamation_mark_inverts():
    assert substring_filter("done!") == ("%done!%", False)
    # the second one is text to look for
    assert substring_filter("!!") == ("%!%", True)


@pytest.mark.parametrize("empty", ["", None])
def test_an_empty_filter_has_no_pattern_and_shows_every_row(empty):
    assert substring_filter(empty) == (None, False)


def test_a_lone_exclamation_mark_is_an_empty_filter_still_to_be_completed():
    # no pattern: the view shows every row while the user types on
    assert substring_filter("!") == (None, True)
    assert matches("!", "12 done resize_images default alice")


def test_a_percent_sign_matches_only_a_percent_sign():
    assert substring_filter("50%") == ("%50\\%%", False)
    assert matches("50%", "7 done discount 50% off")
    assert not matches("50%", "7 done discount 500 off")


def test_an_underscore_matches_only_an_underscore():
    assert substring_filter("a_b") == ("%a\\_b%", False)
    assert matches("resize_images", "12 done resize_images default")
    assert not matches("resize_images", "12 done resize-images default")


def test_a_backslash_matches_only_a_backslash():
    # doubled first: else it would escape the character after it
    assert substring_filter("C:\\tmp") == ("%C:\\\\tmp%", False)
    assert matches("C:\\tmp", "5 done copy C:\\tmp")
    assert substring_filter("\\%") == ("%\\\\\\%%", False)
    assert matches("\\%", "a \\% b") and not matches("\\%", "a % b")


def test_an_inverted_filter_escapes_its_wildcards_too():
    assert substring_filter("!_%") == ("%\\_\\%%", True)
    assert matches("!_%", "12 done resize_images")
