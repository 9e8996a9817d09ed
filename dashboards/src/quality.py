"""Quality & safety: what the scorers (issue 5) see in prompts and outputs."""

from __future__ import annotations

from llmwatch import names as n

from .promql import (
    CATEGORY, DETECTOR, DIRECTION, LE, MODEL, MODEL_LABEL, RANGE, REDACTION_KIND, TARGET, VALIDATOR, labels, legend,
    rate,
)
from .spec import DashboardSpec, PanelSpec, Query, Row

TOX = n.TOXICITY_SCORE.prom_name
FLAGS = n.MODERATION_FLAGS.prom_name
INJ = n.INJECTION_DETECTIONS.prom_name
RED = n.REDACTIONS.prom_name
VAL = n.VALIDATION_FAILURES.prom_name
FB = n.FEEDBACK_SCORE.prom_name
OUT = f'{DIRECTION}="output"'
OUT_LE = OUT + f', {LE}="0.8"'

DASHBOARD = DashboardSpec(
    uid="llmwatch-quality-safety",
    title="llmwatch / Quality & safety",
    description="Toxicity, moderation flags, prompt-injection detections, PII redactions, output validation failures and user feedback.",
    tags=("llmwatch", "genai", "safety"),
    variables=("job", "environment", "model"),
    rows=(
        Row("Toxicity and moderation", (
            PanelSpec("Toxicity score distribution (outputs)", "How toxic are the model's answers, across all of them?", "heatmap",
                      (Query(f"sum by ({LE}) ({rate(TOX + '_bucket', MODEL, OUT)})", legend(LE), fmt="heatmap"),)),
            PanelSpec("Share of toxic outputs by model", "Which model produces text scoring above 0.8, and how often?", "timeseries",
                      (Query(f"1 - sum by ({labels(MODEL_LABEL, CATEGORY)}) ({rate(TOX + '_bucket', MODEL, OUT_LE)})"
                             f" / sum by ({labels(MODEL_LABEL, CATEGORY)}) ({rate(TOX + '_count', MODEL, OUT)})",
                             legend(MODEL_LABEL, CATEGORY)),), "percentunit"),
            PanelSpec("Moderation flags by category", "What policy categories are being flagged, in prompts or in answers?", "timeseries",
                      (Query(f"sum by ({labels(CATEGORY, DIRECTION)}) ({rate(FLAGS, MODEL)})",
                             legend(DIRECTION, CATEGORY)),), "short"),
            PanelSpec("Prompt-injection detections", "Is someone trying to override the system prompt, and which detector caught it?",
                      "timeseries",
                      (Query(f"sum by ({labels(MODEL_LABEL, DETECTOR)}) (increase({INJ}{{{MODEL}}}[$__rate_interval]))",
                             legend(MODEL_LABEL, DETECTOR)),), "short"),
        )),
        Row("Data protection and correctness", (
            PanelSpec("Redactions by kind", "What kinds of personal data are being removed before storage?", "timeseries",
                      (Query(f"sum by ({labels(REDACTION_KIND, DIRECTION)}) ({rate(RED, TARGET)})",
                             legend(DIRECTION, REDACTION_KIND)),), "short"),
            PanelSpec("Validation failures by validator", "How often do answers fail their schema or format checks?", "timeseries",
                      (Query(f"sum by ({labels(MODEL_LABEL, VALIDATOR)}) ({rate(VAL, MODEL)})",
                             legend(MODEL_LABEL, VALIDATOR)),), "short"),
        )),
        Row("Feedback", (
            PanelSpec("Average feedback score by model", "Do users like the answers (0 = bad, 1 = good)?", "timeseries",
                      (Query(f"sum by ({MODEL_LABEL}) ({rate(FB + '_sum', MODEL)}) / sum by ({MODEL_LABEL}) ({rate(FB + '_count', MODEL)})",
                             legend(MODEL_LABEL)),), "percentunit"),
            PanelSpec("Feedback received", "How much feedback arrived in the selected range?", "stat",
                      (Query(f"sum(increase({FB}_count{{{MODEL}}}{RANGE}))", instant=True),), "short"),
        )),
    ),
)
