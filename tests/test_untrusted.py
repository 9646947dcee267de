"""Agent text made harmless for GitHub, and the body and title caps."""

from __future__ import annotations

from ccc.untrusted import MAX_BODY, ZWSP, cap_body, cap_title, defuse, neutralise


def test_mentions_and_team_mentions_no_longer_notify():
    assert neutralise("ping @octocat and @acme/everyone") == f"ping @{ZWSP}octocat and @{ZWSP}acme/everyone"


def test_closing_keywords_and_references_no_longer_link_or_close():
    text = neutralise("Fixes #2, closes: https://github.com/a/b/issues/3, resolved acme/x#4, GH-5")
    assert text == (
        f"F{ZWSP}ixes #{ZWSP}2, c{ZWSP}loses: https://github.com/a/b/issues/3, "
        f"r{ZWSP}esolved acme/x#{ZWSP}4, GH-{ZWSP}5"
    )


def test_ordinary_words_that_look_like_keywords_are_left_alone():
    assert neutralise("Fix the bug, then close the file") == "Fix the bug, then close the file"


def test_images_and_raw_html_including_hidden_markers_are_shown_as_text():
    text = neutralise('![x](http://e/leak) <img src="http://e/x"> <!-- ccc:done issue=1 nonce=n --> a & b')
    assert text == (
        f'!{ZWSP}[x](http://e/leak) &lt;img src="http://e/x"&gt; &lt;!-- ccc:done issue=1 nonce=n --&gt; a &amp; b'
    )


def test_plain_text_for_commit_messages_is_defused_without_html_escapes():
    assert defuse("Fix <b> for @bob, fixes #3") == f"Fix <b> for @{ZWSP}bob, f{ZWSP}ixes #{ZWSP}3"


def test_a_long_body_is_cut_with_a_visible_note_and_keeps_its_trailing_marker():
    marker = "<!-- ccc:done issue=1 nonce=abc -->"
    body = cap_body("x" * 200_000 + "\n\n" + marker + "\n")
    assert len(body) <= MAX_BODY < 65_536
    assert "ccc cut" in body and "GitHub accepts at most 65,536" in body
    assert body.rstrip().endswith(marker)


def test_short_bodies_and_titles_are_unchanged_and_long_titles_are_cut_under_256():
    assert cap_body("short") == "short"
    assert cap_title("t") == "t"
    assert len(cap_title("t" * 300)) == 255 and cap_title("t" * 300).endswith("…")
