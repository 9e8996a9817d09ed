"""The llmwatch Helm chart's generated copies (see generate.py)."""
