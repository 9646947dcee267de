"""Escaping untrusted text for table cells and mermaid labels."""

from __future__ import annotations

from ccc.manager.markdown import cell, mermaid_label


def test_cell_is_one_line_with_pipes_escaped():
    assert cell("a | b\nc\t d") == "a \\| b c d"


def test_mermaid_label_drops_everything_that_could_end_or_mark_up_a_label():
    label = mermaid_label('x "y" [z] {w} <b> `c` | #35; \\ end')

    assert label == "x y z w b c 35 end"


def test_mermaid_label_is_cut_to_a_readable_length():
    assert mermaid_label("word " * 40, limit=20) == "word word word word…"
