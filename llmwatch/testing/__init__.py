"""Test support that ships with the package: the OpenAI-compatible simulator."""
