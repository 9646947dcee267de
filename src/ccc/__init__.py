"""ccc: a manager and coding-agent workers that cooperate through GitHub alone."""

__version__ = "0.1.0"
