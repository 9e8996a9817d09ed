"""Just enough PromQL reading to list the metric names an expression selects.

Used by the tests that hold every rule and every dashboard panel to the names module.
"""

from __future__ import annotations

import re

_KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan", "atan2",
}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACES = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENT = re.compile(r"(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")
_GRAFANA_VAR = re.compile(r"\$\{?\w+(?::\w+)?\}?")


def metric_names(expr: str) -> set[str]:
    """Metric (or recording-rule) names selected by ``expr``.

    >>> sorted(metric_names('sum by (job) (rate(a_total{x="1"}[5m])) / on() b:rule offset 5m'))
    ['a_total', 'b:rule']
    """
    text = _STRING.sub('""', expr)
    text = _BRACES.sub("", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub("", text)
    text = _GRAFANA_VAR.sub("1", text)
    text = re.sub(r"\b\d+(\.\d+)?(e[+-]?\d+)?[smhdwy]*\b", "", text)
    return {m for m in _IDENT.findall(text) if m.lower() not in _KEYWORDS}
