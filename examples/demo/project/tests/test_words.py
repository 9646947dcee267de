import unittest

from textkit import words


class WordsTest(unittest.TestCase):
    def test_splits_on_spaces_and_punctuation(self):
        self.assertEqual(words("Hello, world! How are you?"), ["Hello", "world", "How", "are", "you"])

    def test_keeps_apostrophes_inside_words(self):
        self.assertEqual(words("Don't panic"), ["Don't", "panic"])

    def test_empty_text_has_no_words(self):
        self.assertEqual(words("  ...  "), [])


if __name__ == "__main__":
    unittest.main()
