"""PromQL held to the names module: the label names the generators write, and the readers the
tests use to check every rule and every dashboard panel against ``llmwatch.names``.

The dashboards and the alert rules write label names only through the constants below, each
derived from an attribute key in ``llmwatch.names`` (``label_name``), so renaming an attribute
there renames it in every query. :func:`label_problems` then checks each expression: a label in a
matcher must be one of that metric's labels (``MetricSpec.labels``, plus the scrape target's
labels and ``le`` on ``_bucket`` series), and a label in a ``by (...)`` clause, a legend or an
alert annotation must be carried by a metric the expression reads. A panel cannot go silently
empty on a label the metric does not have.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from llmwatch import names as n

# --- label names -------------------------------------------------------------------------------
# Labels Prometheus adds to every scraped series (job, instance) and the target label the scrape
# config adds (environment; see exporters/prometheus/prometheus.yml). No MetricSpec declares them.
JOB = "job"
INSTANCE = "instance"
ENVIRONMENT = "environment"
TARGET_LABELS = frozenset({JOB, INSTANCE, ENVIRONMENT})
LE = "le"  # histogram bucket boundary, on ``_bucket`` series only

OPERATION = n.label_name(n.GEN_AI_OPERATION_NAME)
PROVIDER = n.label_name(n.GEN_AI_PROVIDER_NAME)
MODEL = n.label_name(n.GEN_AI_REQUEST_MODEL)
TOKEN_TYPE = n.label_name(n.GEN_AI_TOKEN_TYPE)
ERROR_TYPE = n.label_name(n.ERROR_TYPE)
ESTIMATED = n.label_name(n.LLMWATCH_ESTIMATED)
REASON = n.label_name(n.LLMWATCH_DROP_REASON)
COMPONENT = n.label_name(n.LLMWATCH_COMPONENT)
DIRECTION = n.label_name(n.LLMWATCH_DIRECTION)
CATEGORY = n.label_name(n.LLMWATCH_CATEGORY)
DETECTOR = n.label_name(n.LLMWATCH_DETECTOR)
REDACTION_KIND = n.label_name(n.LLMWATCH_REDACTION_KIND)
VALIDATOR = n.label_name(n.LLMWATCH_VALIDATOR)
HW_ID = n.label_name(n.HW_ID)
HW_NAME = n.label_name(n.HW_NAME)
HW_TYPE = n.label_name(n.HW_TYPE)
THROTTLE_REASON = n.label_name(n.LLMWATCH_THROTTLE_REASON)
PROCESS_PID = n.label_name(n.PROCESS_PID)
PROCESS_EXECUTABLE_NAME = n.label_name(n.PROCESS_EXECUTABLE_NAME)


def labels(*names: str) -> str:
    """A comma-separated label list for ``by (...)``/``on (...)``: ``labels(JOB, MODEL)``."""
    return ", ".join(names)


def legend(*names: str) -> str:
    """A Grafana legend showing these labels: ``legend(PROVIDER, MODEL)`` -> ``{{a}} {{b}}``."""
    return " ".join("{{" + name + "}}" for name in names)


# --- reading expressions -------------------------------------------------------------------------
_KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan", "atan2",
}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACES = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")
_IDENT = re.compile(r"(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")
_GRAFANA_VAR = re.compile(r"\$\{?\w+(?::\w+)?\}?")
_SELECTOR = re.compile(r"(?<![\w:])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^{}]*)\}")
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"')
_LEGEND = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
_TEMPLATE_LABEL = re.compile(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)")

LabelsOf = Callable[[str], "frozenset[str] | None"]


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


def spec_labels(series: str) -> frozenset[str] | None:
    """The labels a series llmwatch emits can carry, or None when ``llmwatch.names`` lacks it."""
    if series == "up":
        return TARGET_LABELS
    spec = n.by_prom_name().get(series)
    if spec is None:
        return None
    return TARGET_LABELS | set(spec.labels) | ({LE} if series.endswith("_bucket") else set())


def _body_after(text: str, pos: int) -> str:
    """The balanced ``( ... )`` starting at the first ``(`` at or after ``pos`` ('' if none)."""
    start = text.find("(", pos)
    if start < 0:
        return ""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1:i]
    return text[start + 1:]


def _split(names: str) -> list[str]:
    return [x.strip() for x in names.split(",") if x.strip()]


def _union(metrics: Iterable[str], labels_of: LabelsOf) -> set[str]:
    out: set[str] = set()
    for m in metrics:
        out |= labels_of(m) or set()
    return out


def label_problems(expr: str, labels_of: LabelsOf = spec_labels, shown: Iterable[str] = ()) -> list[str]:
    """What in ``expr`` names a label its metrics do not carry (empty: nothing).

    ``shown`` are labels displayed from the result (legend ``{{x}}``, alert ``$labels.x``): each
    must be carried by a metric the expression reads.

    >>> label_problems('sum by (gen_ai_token_type) (rate(gen_ai_client_operation_duration_seconds_count[5m]))')
    ["by (gen_ai_token_type): no metric in 'rate(gen_ai_client_operation_duration_seconds_count[5m])' carries it"]
    """
    text = _STRING.sub('""', expr)
    problems: list[str] = []
    for m in _SELECTOR.finditer(text):
        metric, matchers = m.group(1), m.group(2)
        allowed = labels_of(metric)
        if allowed is None:
            continue  # an unknown metric: the metric-name tests report it
        for label in _MATCHER.findall(matchers):
            if label not in allowed:
                problems.append(f"{metric}{{{label}=...}}: {metric} has no label {label} "
                                f"(it has {sorted(allowed)})")
    for m in _GROUPING.finditer(text):
        keyword, clause = m.group(1), _split(m.group(2))
        if keyword in ("by", "without"):
            body = _body_after(text, m.end())
            carried = _union(metric_names(body), labels_of)
            where = f"no metric in {body.strip()!r} carries it"
        else:
            carried = _union(metric_names(text), labels_of)
            where = "no metric in the expression carries it"
        problems += [f"{keyword} ({label}): {where}" for label in clause if label not in carried]
    carried = _union(metric_names(text), labels_of)
    problems += [f"shows {label}, which no metric in the expression carries" for label in shown
                 if label not in carried]
    return problems


def legend_labels(legend_format: str) -> list[str]:
    """The labels a Grafana legend (``{{a}} {{b}}``) displays."""
    return _LEGEND.findall(legend_format)


def template_labels(template: str) -> list[str]:
    """The labels an alert annotation (``{{ $labels.a }}``) displays."""
    return _TEMPLATE_LABEL.findall(template)


def recorded_labels(rules: list[dict], labels_of: LabelsOf = spec_labels) -> LabelsOf:
    """``labels_of`` extended with the recording rules in ``rules``: a rule's series carries the
    labels of its ``by (...)`` clauses (bar ``le``), or, with none, those of what it reads."""
    known: dict[str, frozenset[str]] = {}

    def lookup(name: str) -> frozenset[str] | None:
        return known[name] if name in known else labels_of(name)

    for rule in rules:
        if "record" not in rule:
            continue
        expr = _STRING.sub('""', rule["expr"])
        grouped = {x for m in _GROUPING.finditer(expr) if m.group(1) == "by" for x in _split(m.group(2))}
        if rule["record"].startswith("llmwatch:threshold:"):
            known[rule["record"]] = frozenset()
        elif grouped:
            known[rule["record"]] = frozenset(grouped - {LE})
        else:
            known[rule["record"]] = frozenset(_union(metric_names(expr), lookup))
    return lookup
