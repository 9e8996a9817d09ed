"""Output validation: validators run on each completion off the caller's thread; each result is
a ``pass``/``fail`` evaluation with a reason (span-linked event, metric, stored score).

Built in: ``json_schema`` — when the request asked for ``response_format={"type": "json_schema", ...}``
the completion is checked against that schema (``jsonschema`` package), and ``json_object`` checks
it parses. Register your own (a Guardrails guard, a regex, a length cap) with :func:`register`:

    from llmwatch.scoring import validation

    def no_urls(item):                       # item.completion, item.prompt, item.model ...
        return ("http" not in item.completion, "contains a URL")

    validation.register("no_urls", no_urls)

A validator returns ``(passed, reason)``, or ``None`` when it does not apply to this call.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence

from llmwatch.scoring.base import OUTPUT, PASS, Evaluation, Item

FAIL = "fail"
Validator = Callable[[Item], "tuple[bool, str] | None"]
_validators: dict[str, Validator] = {}
_lock = threading.Lock()


def register(name: str, fn: Validator) -> Validator:
    """Add (or replace) validator ``name``; returns ``fn`` so it can decorate."""
    with _lock:
        _validators[name] = fn
    return fn


def unregister(name: str) -> None:
    with _lock:
        _validators.pop(name, None)


def json_schema(item: Item) -> tuple[bool, str] | None:
    fmt = item.response_format
    if not isinstance(fmt, dict) or fmt.get("type") not in ("json_schema", "json_object"):
        return None
    try:
        doc = json.loads(item.completion)
    except ValueError as exc:
        return False, f"not JSON: {exc}"
    if fmt["type"] == "json_object":
        return True, ""
    schema = (fmt.get("json_schema") or {}).get("schema")
    if not isinstance(schema, dict):
        return True, ""
    import jsonschema

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(doc))
    if error is None:
        return True, ""
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return False, f"{where}: {error.message}"[:500]


register("json_schema", json_schema)


class ValidationScorer:
    name = "validation"

    def __init__(self, validators: dict[str, Validator] | None = None) -> None:
        self._own = validators

    def score(self, items: Sequence[Item]) -> list[list[Evaluation]]:
        with _lock:
            validators = dict(self._own if self._own is not None else _validators)
        out = []
        for item in items:
            evals = []
            for name, fn in validators.items():
                try:
                    result = fn(item)
                except Exception as exc:  # noqa: BLE001 - a broken validator is a failed validation, not a crash
                    result = (False, f"validator raised {type(exc).__name__}: {exc}")
                if result is None:
                    continue
                passed, reason = result
                evals.append(Evaluation("validation", 1.0 if passed else 0.0, PASS if passed else FAIL,
                                        f"{name}: {reason}" if reason else name, OUTPUT, validator=name))
            if not evals:
                evals.append(Evaluation("validation", 1.0, "n/a", "no validator applies", OUTPUT))
            out.append(evals)
        return out
