"""Quality & safety: what the scorers (issue 5) see in prompts and outputs."""

from __future__ import annotations

from llmwatch import names as n

from .promql import MODEL, RANGE, TARGET, rate
from .spec import DashboardSpec, PanelSpec, Query, Row

TOX = n.TOXICITY_SCORE.prom_name
FLAGS = n.MODERATION_FLAGS.prom_name
INJ = n.INJECTION_DETECTIONS.prom_name
RED = n.REDACTIONS.prom_name
VAL = n.VALIDATION_FAILURES.prom_name
FB = n.FEEDBACK_SCORE.prom_name
OUT = 'llmwatch_direction="output"'
OUT_LE = OUT + ', le="0.8"'

DASHBOARD = DashboardSpec(
    uid="llmwatch-quality-safety",
    title="llmwatch / Quality & safety",
    description="Toxicity, moderation flags, prompt-injection detections, PII redactions, output validation failures and user feedback.",
    tags=("llmwatch", "genai", "safety"),
    variables=("job", "environment", "model"),
    rows=(
        Row("Toxicity and moderation", (
            PanelSpec("Toxicity score distribution (outputs)", "How toxic are the model's answers, across all of them?", "heatmap",
                      (Query(f"sum by (le) ({rate(TOX + '_bucket', MODEL, OUT)})", "{{le}}", fmt="heatmap"),)),
            PanelSpec("Share of toxic outputs by model", "Which model produces text scoring above 0.8, and how often?", "timeseries",
                      (Query(f"1 - sum by (gen_ai_request_model, llmwatch_category) ({rate(TOX + '_bucket', MODEL, OUT_LE)})"
                             f" / sum by (gen_ai_request_model, llmwatch_category) ({rate(TOX + '_count', MODEL, OUT)})",
                             "{{gen_ai_request_model}} {{llmwatch_category}}"),), "percentunit"),
            PanelSpec("Moderation flags by category", "What policy categories are being flagged, in prompts or in answers?", "timeseries",
                      (Query(f"sum by (llmwatch_category, llmwatch_direction) ({rate(FLAGS, MODEL)})",
                             "{{llmwatch_direction}} {{llmwatch_category}}"),), "short"),
            PanelSpec("Prompt-injection detections", "Is someone trying to override the system prompt, and which detector caught it?",
                      "timeseries",
                      (Query(f"sum by (gen_ai_request_model, llmwatch_detector) (increase({INJ}{{{MODEL}}}[$__rate_interval]))",
                             "{{gen_ai_request_model}} {{llmwatch_detector}}"),), "short"),
        )),
        Row("Data protection and correctness", (
            PanelSpec("Redactions by kind", "What kinds of personal data are being removed before storage?", "timeseries",
                      (Query(f"sum by (llmwatch_redaction_kind, llmwatch_direction) ({rate(RED, TARGET)})",
                             "{{llmwatch_direction}} {{llmwatch_redaction_kind}}"),), "short"),
            PanelSpec("Validation failures by validator", "How often do answers fail their schema or format checks?", "timeseries",
                      (Query(f"sum by (gen_ai_request_model, llmwatch_validator) ({rate(VAL, MODEL)})",
                             "{{gen_ai_request_model}} {{llmwatch_validator}}"),), "short"),
        )),
        Row("Feedback", (
            PanelSpec("Average feedback score by model", "Do users like the answers (0 = bad, 1 = good)?", "timeseries",
                      (Query(f"sum by (gen_ai_request_model) ({rate(FB + '_sum', MODEL)}) / sum by (gen_ai_request_model) ({rate(FB + '_count', MODEL)})",
                             "{{gen_ai_request_model}}"),), "percentunit"),
            PanelSpec("Feedback received", "How much feedback arrived in the selected range?", "stat",
                      (Query(f"sum(increase({FB}_count{{{MODEL}}}{RANGE}))", instant=True),), "short"),
        )),
    ),
)
