"""A fact-check bot about the reported Chinese "overseas police service stations".

The core (``facts``, ``text``, ``matching``, ``render``) is plain synchronous Python with no Telegram import, shared by
the command line, the tests, the benchmark and the Telegram adapter.
"""

__version__ = "0.1.0"
