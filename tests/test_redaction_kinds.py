"""Checksummed national and financial identifiers: a valid one never survives redaction, anywhere a
call's content goes; a look-alike that fails its checksum (or date, or numbering plan) is left alone.

Valid values are generated with the same rules the issuers use (check digits computed here, in
the test, independently of the redactor's code paths where the algorithm allows it).
"""

from __future__ import annotations

import datetime
import json
import re

import sqlalchemy as sa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from llmwatch.record import CallRecord
from llmwatch.scoring.identifiers import IBAN_LENGTHS, card_spans
from llmwatch.scoring.pii import Redactor

R = Redactor()
_DIGIT = "0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def digits(n: int, first: str = _DIGIT) -> st.SearchStrategy[str]:
    return st.builds(lambda a, b: a + b, st.sampled_from(first), st.text(_DIGIT, min_size=n - 1, max_size=n - 1))


def dates(lo: int = 1930, hi: int = 2019) -> st.SearchStrategy[datetime.date]:
    return st.dates(datetime.date(lo, 1, 1), datetime.date(hi, 12, 31))


def spaced(value: str, every: int = 4) -> str:
    return " ".join(value[i:i + every] for i in range(0, len(value), every))


# --- generators of valid values ---------------------------------------------------------------------
def iban_spans(country: str, bban: str, sep: bool) -> str:
    rearranged = bban + country + "00"
    check = 98 - int("".join(str(int(c, 36)) for c in rearranged)) % 97
    value = f"{country}{check:02d}{bban}"
    return spaced(value) if sep else value


@st.composite
def ibans(draw, valid: bool = True) -> str:
    country = draw(st.sampled_from(["DE", "GB", "FR", "ES", "NL", "IT", "CH", "NO", "PL", "BE"]))
    n = IBAN_LENGTHS[country] - 4
    alphabet = _DIGIT + (_UPPER if country in ("GB", "NL", "FR", "IT") else "")
    value = iban_spans(country, draw(st.text(alphabet, min_size=n, max_size=n)), draw(st.booleans()))
    if not valid:  # same shape, other check digits: mod 97 fails
        wrong = (int(value[2:4]) + draw(st.integers(1, 96))) % 97
        value = value[:2] + f"{wrong:02d}" + value[4:]
    return value


def my_number_check(body: str) -> int:
    p = [int(c) for c in reversed(body)]
    rem = sum(d * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(p, 1)) % 11
    return 0 if rem <= 1 else 11 - rem


my_numbers = st.builds(lambda b, s: (spaced if s else str)(b + str(my_number_check(b))), digits(11), st.booleans())
my_number_keywords = st.sampled_from(["マイナンバー", "個人番号", "My Number", "mynumber", "マイナンバー（個人番号）"])

jp_phones = st.one_of(
    st.builds(lambda p, a, b: f"0{p}0-{a}-{b}", st.sampled_from("789"), digits(4), digits(4)),
    st.builds(lambda p, a, b: f"+81 {p}0-{a}-{b}", st.sampled_from("789"), digits(4), digits(4)),
    st.builds(lambda p, a, b: f"+81{p}0{a}{b}", st.sampled_from("789"), digits(4), digits(4)),
    st.builds(lambda a, b: f"03-{a}-{b}", digits(4), digits(4)),
    st.builds(lambda a, b: f"+81-3-{a}-{b}", digits(4), digits(4)),
    st.builds(lambda a, b: f"(06) {a}-{b}", digits(4), digits(4)),
    st.builds(lambda a, b, c: f"0{a}-{b}-{c}", digits(2, "123456789").filter(lambda a: a[1] != "0"),
              digits(3), digits(4)),  # 045-123-4567 (0X0 are mobile prefixes, not areas)
    st.builds(lambda a, b: f"0120-{a}-{b}", digits(3), digits(3)),
)

ssns = st.builds(lambda a, g, s: f"{a:03d}-{g:02d}-{s:04d}",
                 st.integers(1, 899).filter(lambda a: a not in (666, 78, 219, 123)), st.integers(1, 99),
                 st.integers(1, 9999))

_NINO_FIRST, _NINO_SECOND = "ABCEGHJKLMNOPRSTWXYZ", "ABCEGHJKLMNPRSTWXYZ"
ninos = st.builds(lambda a, b, d, s, sep: sep.join([a + b, d[:2], d[2:4], d[4:], s]) if sep else a + b + d + s,
                  st.sampled_from(_NINO_FIRST), st.sampled_from(_NINO_SECOND), digits(6), st.sampled_from("ABCD"),
                  st.sampled_from(["", " "])).filter(lambda v: v[:2] not in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"))

_DNI = "TRWAGMYFPDXBNJZSQVHLCKE"
dnis = st.one_of(
    st.builds(lambda d: d + _DNI[int(d) % 23], digits(8)),
    st.builds(lambda x, d: x + d + _DNI[int(str("XYZ".index(x)) + d) % 23], st.sampled_from("XYZ"), digits(7)),
)


def cpf(body: str) -> str:
    nums = [int(c) for c in body]
    for n in (9, 10):
        nums.append(sum(d * w for d, w in zip(nums, range(n + 1, 1, -1))) * 10 % 11 % 10)
    d = "".join(map(str, nums))
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


cpfs = st.builds(cpf, digits(9)).filter(lambda v: len(set(v.replace(".", "").replace("-", ""))) > 1)


def cn_id(region: str, born: datetime.date, seq: str) -> str:
    body = f"{region}{born:%Y%m%d}{seq}"
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(body))
    return body + "10X98765432"[total % 11]


cn_ids = st.builds(cn_id, st.sampled_from(["110105", "310104", "440305", "510107"]), dates(), digits(3))

kr_rrns = st.builds(lambda born, g, rest: f"{born:%y%m%d}-{g}{rest}", dates(1930, 1999), st.sampled_from("1256"),
                    digits(6))

VALID = {
    "iban": ibans(),
    "jp_phone": jp_phones,
    "jp_my_number": st.builds(lambda k, s, v: (k + s + v, v), my_number_keywords, st.sampled_from([" ", ": ", "："]),
                              my_numbers),
    "us_ssn": ssns,
    "uk_nino": ninos,
    "es_dni": dnis,
    "br_cpf": cpfs,
    "cn_resident_id": cn_ids,
    "kr_rrn": kr_rrns,
}


def planted(kind: str) -> st.SearchStrategy[tuple[str, str]]:
    """(text to plant, the secret value inside it)."""
    s = VALID[kind]
    return s if kind == "jp_my_number" else s.map(lambda v: (v, v))


any_planted = st.sampled_from(sorted(VALID)).flatmap(lambda k: planted(k).map(lambda p: (k, *p)))
filler = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
separators = st.sampled_from([" ", "\n", ", ", " (", ") ", ": ", "\t", " \"", "\" ", "。", "、"])


# --- a valid value never survives ---------------------------------------------------------------------
@settings(max_examples=600, deadline=None)
@given(filler, separators, any_planted, separators, filler)
@example("", " ", ("iban", "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"), " ", "EUR")
@example("", " ", ("jp_my_number", "マイナンバー 123456789018", "123456789018"), "", "")
def test_a_planted_identifier_never_survives_text_redaction(before, sep1, planted_value, sep2, after):
    _, text, secret = planted_value
    out, counts = R.text(before + sep1 + text + sep2 + after)
    assert secret not in out and sum(counts.values()) >= 1


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(VALID)).flatmap(lambda k: planted(k).map(lambda p: (k, *p))), separators)
def test_each_identifier_is_counted_under_its_own_kind(planted_value, sep):
    kind, text, secret = planted_value
    out, counts = R.text(f"please note{sep}{text}{sep}thanks")
    assert secret not in out and counts == {kind: 1}, (out, counts)


@settings(max_examples=150, deadline=None)
@given(any_planted, separators)
def test_a_planted_identifier_never_survives_in_messages(planted_value, sep):
    _, text, secret = planted_value
    messages = [{"role": "user", "parts": [{"type": "text", "content": f"mine{sep}{text}"}]},
                {"role": "assistant", "parts": [{"type": "tool_call", "name": "lookup",
                                                 "arguments": {"id": text, "nested": [f"x{sep}{text}"]}}]}]
    out = R.messages(messages)
    assert secret not in json.dumps(out, ensure_ascii=False)
    assert secret in json.dumps(messages, ensure_ascii=False)  # a copy: the caller's list is untouched


def _record(text: str) -> CallRecord:
    return CallRecord(
        operation="chat", provider="openai", request_model="gpt-4o-mini", start_time=1.0,
        system_instructions=[{"type": "text", "content": f"the customer is {text}"}],
        input_messages=[{"role": "user", "parts": [{"type": "text", "content": f"here: {text}"}]},
                        {"role": "tool", "parts": [{"type": "tool_call_response", "response": text}]}],
        output_messages=[{"role": "assistant", "parts": [{"type": "text", "content": f"you said {text}"}],
                          "finish_reason": "stop"}],
        stream_text=f"you said {text}",
        error_message=f"400 invalid account {text}",
        request_params={"user": text},
        metadata={"note": f"from {text}", "nested": {"list": [text]}},
    )


@settings(max_examples=150, deadline=None)
@given(any_planted)
def test_a_planted_identifier_never_survives_in_any_content_field_of_a_record(planted_value):
    kind, text, secret = planted_value
    record = _record(text)
    counted: list[tuple[str, str, int]] = []
    R.record(record, lambda k, d, n: counted.append((k, d, n)))
    assert secret not in json.dumps(record.to_dict(), ensure_ascii=False, default=str)
    assert record.metadata["redacted"] is True
    assert {k for k, _, _ in counted} == {kind} and {d for _, d, _ in counted} == {"input", "output"}


# --- look-alikes are left alone -----------------------------------------------------------------------
def _no_card(value: str) -> bool:
    """Drop look-alikes whose digits happen to form a Luhn-valid card number (masked, rightly, as one)."""
    return not any(card_spans(m.group()) for m in re.finditer(r"\d(?:[ -]?\d){12,}", value))


def _cn_bad_check(value: str) -> str:
    return value[:17] + next(c for c in "0123456789X" if c != value[17])


LOOK_ALIKES = {
    "iban": ibans(valid=False).filter(_no_card),
    "jp_phone": st.one_of(
        st.builds(lambda a, b: f"03-{a}-{b}", digits(3), digits(3)),  # an 8-digit landline
        st.builds(lambda a, b: f"0{a}-{b}", digits(3, "123456789"), digits(4)),  # 0466-1234: 8 digits
        st.builds(lambda d: f"{d:%m-%d-%Y}", dates()),  # 01-02-2024 starts with a 0 too
        st.builds(lambda d: f"{d:%d-%m-%Y}", dates())),
    "jp_my_number": st.builds(lambda k, b: k + " " + b + str((my_number_check(b) + 1) % 10), my_number_keywords,
                              digits(11)).filter(lambda v: not R.text(v)[1]
                                                 or my_number_check(v[-12:-1]) == int(v[-1])),
    "us_ssn": st.one_of(
        st.builds(lambda a, g, s: f"{a}-{g:02d}-{s:04d}", st.sampled_from(["000", "666", "900", "987", "999"]),
                  st.integers(1, 99), st.integers(1, 9999)),
        st.builds(lambda a, s: f"{a:03d}-00-{s:04d}", st.integers(1, 899), st.integers(1, 9999)),
        st.builds(lambda a, g: f"{a:03d}-{g:02d}-0000", st.integers(1, 899), st.integers(1, 99)),
        st.just("078-05-1120")),
    "uk_nino": st.one_of(
        st.builds(lambda a, d: f"{a}A{d}C", st.sampled_from("DFIQUV"), digits(6)),
        st.builds(lambda p, d: f"{p}{d}A", st.sampled_from(["BG", "GB", "NK", "TN", "ZZ", "AO"]), digits(6)),
        st.builds(lambda d, s: f"AB{d}{s}", digits(6), st.sampled_from("EFXZ"))),
    "es_dni": st.builds(lambda d, k: d + _DNI[(int(d) + k) % 23], digits(8), st.integers(1, 22)),
    "br_cpf": st.builds(lambda v, k: v[:-1] + str((int(v[-1]) + k) % 10), cpfs, st.integers(1, 9)),
    "cn_resident_id": st.one_of(
        st.builds(_cn_bad_check, cn_ids),
        st.builds(lambda d: cn_id("110105", datetime.date(2000, 1, 1), d)[:10] + "0230" + d + "1", digits(3)),
    ).filter(_no_card),
    "kr_rrn": st.builds(lambda y, g, r: f"{y:02d}0230-{g}{r}", st.integers(0, 99), st.sampled_from("1234"),
                        digits(6)).filter(_no_card),
}
plain = st.text("abcdefghijklmnopqrstuvwxyz ,.!?", max_size=30)


@settings(max_examples=400, deadline=None)
@given(plain, st.sampled_from(sorted(LOOK_ALIKES)).flatmap(lambda k: LOOK_ALIKES[k].map(lambda v: (k, v))), plain)
def test_a_look_alike_that_fails_its_check_is_not_mangled(before, look_alike, after):
    _, value = look_alike
    text = f"{before} {value} {after}"
    assert R.text(text) == (text, {})


BENIGN = [
    "order 123456789012 shipped",  # 12 digits: My Number's length, no keyword
    "order no. 20241201-0042, invoice INV-2024-000123",
    "released 2024-01-15T10:30:00Z as v1.2.3 (build 10.0.19045.3803)",
    "price $1,299.00, ¥12,800, €49.99 or 1.299,00 EUR",
    "tracking 1Z999AA10123456784",
    "see RFC 9110 §15.5, ISBN 978-3-16-148410-0",
    "meeting 12:30-13:45, room 0301, floor 03",
    "CPF bare digits without the word: 11144477735",
]


def test_dates_order_numbers_versions_and_prices_are_not_redacted():
    for text in BENIGN:
        assert R.text(text) == (text, {}), text


def test_a_valid_my_number_without_a_keyword_is_left_alone_by_design():
    # One check digit: 1 in 10 random 12-digit numbers pass, so a bare number is not enough.
    assert R.text("ref 123456789018")[0] == "ref 123456789018"
    assert R.text("マイナンバー：123456789018")[0] == "マイナンバー：[REDACTED:jp_my_number]"


def test_known_published_examples_are_redacted_as_their_kind():
    cases = {
        "GB82 WEST 1234 5698 7654 32": "iban", "DE89370400440532013000": "iban",
        "090-1234-5678": "jp_phone", "+81 3-1234-5678": "jp_phone", "0120-123-456": "jp_phone",
        "536-90-4399": "us_ssn", "AB 12 34 56 C": "uk_nino", "12345678Z": "es_dni", "X1234567L": "es_dni",
        "111.444.777-35": "br_cpf", "11010519491231002X": "cn_resident_id", "900101-1234567": "kr_rrn",
    }
    for value, kind in cases.items():
        assert R.text(f"value {value} end") == (f"value [REDACTED:{kind}] end", {kind: 1}), value


def test_a_rejected_look_alike_still_goes_through_the_other_rules():
    # An IBAN-shaped run that fails mod 97 holds an AWS key: the key is still masked.
    out, counts = R.text("GB12 AKIAABCDEFGHIJKLMNOP")
    assert out == "GB12 [REDACTED:aws_access_key]" and counts == {"aws_access_key": 1}


# --- end to end: the real openai client against the simulator, with redact=True --------------------
E2E = {
    "iban": "DE89 3704 0044 0532 0130 00", "jp_phone": "090-1234-5678", "jp_my_number": "123456789018",
    "us_ssn": "536-90-4399", "uk_nino": "AB123456C", "es_dni": "12345678Z", "br_cpf": "111.444.777-35",
    "cn_resident_id": "11010519491231002X", "kr_rrn": "900101-1234567",
}


def test_every_new_kind_is_gone_from_spans_and_the_stored_row(observe, client, tmp_path):
    import llmwatch
    from llmwatch import logs

    url = f"sqlite:///{tmp_path / 'kinds.db'}"
    obs = observe(store=True, store_url=url, capture_content=True, redact=True)
    prompt = "my details: " + "; ".join(
        f"{kind} マイナンバー {v}" if kind == "jp_my_number" else f"{kind} {v}" for kind, v in E2E.items())
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "system", "content": prompt},
                                                                  {"role": "user", "content": prompt}])
    assert llmwatch.flush(10.0)
    exported = json.dumps([{"attrs": dict(s.attributes), "events": [dict(e.attributes) for e in s.events]}
                           for s in obs.spans()], ensure_ascii=False, default=str)
    assert "[REDACTED:iban]" in exported
    calls = logs.query(url=url)
    assert len(calls) == 1
    detail = logs.get(calls[0].record_id, url=url)
    llmwatch.shutdown()
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = json.dumps([list(map(str, row)) for row in conn.exec_driver_sql("SELECT * FROM llmwatch_calls")],
                          ensure_ascii=False)
    engine.dispose()
    stored = json.dumps(detail, ensure_ascii=False, default=lambda o: getattr(o, "__dict__", str(o)))
    for kind, value in E2E.items():
        assert value not in exported, kind
        assert value not in rows and value not in stored, kind
        assert f"[REDACTED:{kind}]" in rows, kind
    assert obs.value("llmwatch_redactions_total", llmwatch_redaction_kind="kr_rrn", llmwatch_direction="input") >= 1
