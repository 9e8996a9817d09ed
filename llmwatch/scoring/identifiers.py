"""The identifiers the redactor validates before it masks them: checksums, numbering plans, dates.

Each ``_kind(text)`` check takes one regex match and returns the spans to mask (``[]``: the match
is not that kind after all, so the redactor offers it to the rules after it). The public
``*_ok`` functions are the checksums themselves (Luhn, IBAN mod 97, My Number's check digit,
CPF's two check digits, the Chinese resident id's ISO 7064 MOD 11-2 character, ...).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

Spans = list[tuple[int, int]]
Check = Callable[[str], Spans]  # the parts of a match to mask ([] = not this kind)

_GROUP = re.compile(r"\d+")


def _digits(text: str) -> str:
    """ASCII digits of ``text`` (``\\d`` also matches other scripts' digits: normalise them)."""
    return "".join(str(int(c)) for c in text if c.isdecimal())


def whole(text: str) -> Spans:
    return [(0, len(text))]


def _after_keyword(text: str, shape: re.Pattern[str]) -> tuple[int, str]:
    """(start, value) of the value at the end of a match that may begin with a context keyword."""
    m = shape.search(text)
    return (m.start(), m.group()) if m else (0, "")


# --- credit_card: Luhn ---------------------------------------------------------------------------
def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _is_card(text: str) -> bool:
    digits = _digits(text)
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def card_spans(run: str) -> Spans:
    """Spans of ``run`` (digits with single separators) that are card numbers: the whole run, or
    else the longest leftmost sequences of whole digit groups that pass the length and Luhn check."""
    if _is_card(run):
        return whole(run)
    groups = [m.span() for m in _GROUP.finditer(run)]
    spans, i = [], 0
    while i < len(groups):
        for j in range(len(groups) - 1, i - 1, -1):  # longest first
            if _is_card(run[groups[i][0]:groups[j][1]]):
                spans.append((groups[i][0], groups[j][1]))
                i = j
                break
        i += 1
    return spans


# --- iban: the country's length (SWIFT IBAN registry) and ISO 13616 mod 97 ---------------------------
IBAN_LENGTHS = dict((c[:2], int(c[2:])) for c in (
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 "
    "DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28 IE22 IL23 "
    "IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 "
    "MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 "
    "SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30").split())


def iban_ok(iban: str) -> bool:
    """``iban`` without spaces: known country, its exact length, and mod 97 == 1."""
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    return int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 == 1


_IBAN_START = re.compile(r"\b[A-Z]{2}\d{2}")


def _iban_at(text: str, start: int) -> int:
    """End of the valid IBAN starting at ``start`` (cut at its country's length), else 0."""
    want, seen = IBAN_LENGTHS.get(text[start:start + 2], 0), 0
    for end in range(start, len(text)):
        seen += text[end] != " "
        if seen == want:
            ok = not text[end + 1:end + 2].isalnum() and iban_ok(text[start:end + 1].replace(" ", ""))
            return end + 1 if ok else 0
    return 0


def iban_spans(text: str) -> Spans:
    # The pattern runs on over following words ("… 0130 00 EUR"), and a run can start with a
    # look-alike ("AA00 DE89…"): every word start in it is tried, each cut at its country's length.
    spans: Spans = []
    for m in _IBAN_START.finditer(text):
        if spans and m.start() < spans[-1][1]:
            continue
        end = _iban_at(text, m.start())
        if end:
            spans.append((m.start(), end))
    return spans


# --- jp_my_number: 個人番号, 11 digits + check digit (総務省令 第5条) ------------------------------------
def my_number_ok(digits: str) -> bool:
    if len(digits) != 12:
        return False
    body = [int(c) for c in reversed(digits[:11])]  # P1 is the digit left of the check digit
    rem = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(body, 1)) % 11
    return int(digits[11]) == (0 if rem <= 1 else 11 - rem)


_MY_NUMBER_SHAPE = re.compile(r"\d{4}[ -]?\d{4}[ -]?\d{4}$")


def my_number_spans(text: str) -> Spans:
    at, value = _after_keyword(text, _MY_NUMBER_SHAPE)
    return [(at, len(text))] if value and my_number_ok(_digits(value)) else []


# --- us_ssn: SSA rules (no area 000, 666, 900-999; no group 00; no serial 0000; not the ad numbers) --
_SSN_SHAPE = re.compile(r"\d{3}([ -]?)\d{2}\1\d{4}$")
_SSN_NEVER = {"078051120", "219099999", "123456789"}


def ssn_ok(digits: str) -> bool:
    area, group, serial = int(digits[:3]), digits[3:5], digits[5:]
    return (len(digits) == 9 and 0 < area < 900 and area != 666 and group != "00" and serial != "0000"
            and digits not in _SSN_NEVER)


def ssn_spans(text: str) -> Spans:
    at, value = _after_keyword(text, _SSN_SHAPE)
    if not value or not ssn_ok(_digits(value)):
        return []
    # A bare "123456789" or "123 45 6789" is any number: only with "SSN" / "social security" before it.
    return [(at, len(text))] if ("-" in value or at > 0) else []


# --- uk_nino: HMRC prefix rules (no D F I Q U V; second letter not O; not BG GB KN NK NT TN ZZ) ------
_NINO_BAD_PREFIX = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def nino_spans(text: str) -> Spans:
    return [] if text[:2] in _NINO_BAD_PREFIX else whole(text)


# --- es_dni: DNI (8 digits) / NIE (X, Y, Z + 7 digits) and the mod-23 control letter -----------------
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni_ok(value: str) -> bool:
    value = value.replace(".", "").replace("-", "").replace(" ", "")
    body, letter = value[:-1], value[-1]
    body = str("XYZ".index(body[0])) + body[1:] if body[0] in "XYZ" else body
    return len(body) == 8 and _DNI_LETTERS[int(_digits(body)) % 23] == letter


def dni_spans(text: str) -> Spans:
    return whole(text) if dni_ok(text) else []


# --- br_cpf: two mod-11 check digits ---------------------------------------------------------------
_CPF_SHAPE = re.compile(r"(?:\d{3}\.\d{3}\.\d{3}-\d{2}|\d{11})$")


def cpf_ok(digits: str) -> bool:
    if len(digits) != 11 or len(set(digits)) == 1:  # 000.000.000-00 … pass the sums, are not issued
        return False
    nums = [int(c) for c in digits]
    for n in (9, 10):
        check = sum(d * w for d, w in zip(nums[:n], range(n + 1, 1, -1))) * 10 % 11 % 10
        if check != nums[n]:
            return False
    return True


def cpf_spans(text: str) -> Spans:
    at, value = _after_keyword(text, _CPF_SHAPE)
    if not value or not cpf_ok(_digits(value)):
        return []
    return [(at, len(text))] if ("." in value or at > 0) else []  # bare 11 digits: only after "CPF"


# --- cn_resident_id: GB 11643 (region, birth date, sequence, ISO 7064 MOD 11-2 check character) ----
def _date_ok(year: int, month: int, day: int) -> bool:
    try:
        return datetime.date(year, month, day) <= datetime.date.today()
    except ValueError:
        return False


def cn_id_ok(value: str) -> bool:
    value = value.upper()
    if len(value) != 18 or not _date_ok(int(value[6:10]), int(value[10:12]), int(value[12:14])):
        return False
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(value[:17]))
    return "10X98765432"[total % 11] == value[17]


def cn_id_spans(text: str) -> Spans:
    return whole(text) if cn_id_ok(_digits(text[:17]) + text[17:]) else []


# --- kr_rrn: YYMMDD-G…… with a real birth date; the check digit is not used: numbers issued since
# October 2020 no longer carry one, so requiring it would miss them ------------------------------
def rrn_spans(text: str) -> Spans:
    d = _digits(text)
    century = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000}[d[6]]
    return whole(text) if _date_ok(century + int(d[:2]), int(d[2:4]), int(d[4:6])) else []


# --- jp_phone: the Japanese numbering plan (0A0 mobile/IP 11 digits, 0120 / 0800 free dial, landlines
# 10 digits with their separators; +81 drops the trunk 0) -----------------------------------------
_JP_MOBILE = ("020", "050", "060", "070", "080", "090")
_JP_TRUNK = re.compile(r"\+81[ -]?(?:\(0\)[ -]?)?|\(?0")


def jp_phone_spans(text: str) -> Spans:
    national = "0" + _digits(text[_JP_TRUNK.match(text).end():])  # type: ignore[union-attr]
    area = "0" + re.match(r"\d*", text[_JP_TRUNK.match(text).end():]).group()  # type: ignore[union-attr]
    if len(national) == 11:  # mobile / IP phone / M2M, or 0800 free dial
        ok = national[:3] in _JP_MOBILE or national.startswith("0800")
    else:  # landline or 0120: 10 digits, and not written as a short mobile ("090-123-4567")
        ok = len(national) == 10 and area not in _JP_MOBILE
    return whole(text) if ok else []


def phone_spans(text: str) -> Spans:
    return whole(text) if 9 <= sum(c.isdigit() for c in text) <= 15 else []


def ip_spans(text: str) -> Spans:
    return whole(text) if ":" in text or all(int(o) <= 255 for o in text.split(".")) else []
