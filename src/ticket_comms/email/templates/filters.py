"""The filters and globals templates may call: formatCurrency, formatDate, humanize, button.

Each prints something sensible for odd input (an email with an odd amount beats no email) and bounds
what it will work on, since admins write the templates that call them.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from jinja2 import nodes, pass_context, pass_eval_context
from markupsafe import Markup

from ticket_comms.email.templates.errors import Unsafe

DEFAULT_CURRENCY = "AED"
DEFAULT_LOCALE = "en"


@lru_cache(maxsize=256)
def _locale(tag: str) -> Locale:
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


def _context_value(context: jinja2.runtime.Context, *paths: tuple[str, ...]) -> str | None:
    for path in paths:
        value: Any = context.get(path[0])
        for part in path[1:]:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


def _given(value: Any) -> bool:
    return value is not None and not isinstance(value, jinja2.Undefined) and value != ""


@pass_context
def format_currency(
    context: jinja2.runtime.Context, value: Any, currency: Any = None, locale: Any = None
) -> str:
    """`{{ 1250.5|formatCurrency }}` -> `AED 1,250.50`; currency and locale optional.

    Values that are not numbers are printed as they are: an email with an odd amount beats no email.
    """
    if not _given(value) or isinstance(value, bool):
        return ""
    code = str(currency).strip().upper()[:20] if _given(currency) else DEFAULT_CURRENCY
    tag = str(locale) if _given(locale) else _context_value(context, ("locale",), ("recipient", "locale"))
    return _currency_text(str(value).strip()[:100], code, tag or DEFAULT_LOCALE)


# Formatting through Babel costs tens of microseconds; one event's emails (and each email's HTML and
# text parts) format the same values again and again.
@lru_cache(maxsize=4096)
def _currency_text(value: str, code: str, tag: str) -> str:
    try:
        amount = Decimal(value.replace(",", ""))
    except (InvalidOperation, ValueError):
        return value
    if not amount.is_finite():
        return value
    if not re.fullmatch(r"[A-Z]{3}", code):
        return f"{code} {amount}"
    loc = _locale(tag)
    try:
        text = babel_numbers.format_currency(amount, code, locale=loc)
        symbol = babel_numbers.get_currency_symbol(code, locale=loc)
    except (ValueError, babel_numbers.UnknownCurrencyError):
        return f"{code} {amount}"
    # CLDR's currency spacing, which Babel leaves out: a letter symbol never touches the digits.
    if symbol and symbol[-1].isalpha():
        text = re.sub(re.escape(symbol) + r"(?=[\d\-\u2212])", symbol + "\u00a0", text)
    if symbol and symbol[0].isalpha():
        text = re.sub(r"(?<=\d)" + re.escape(symbol), "\u00a0" + symbol, text)
    return text


@pass_context
def format_date(
    context: jinja2.runtime.Context, value: Any, format: str = "medium", locale: Any = None, tz: Any = None
) -> str:
    """`{{ createdAt|formatDate }}` -> `Nov 25, 2026, 1:49 PM`; formats: short, medium, long, full or a
    CLDR pattern (`d MMM yyyy`). Dates without a time print as dates. Timezone: `tz`, the context's
    `timezone` or `recipient.timezone`, else UTC. Unparseable values are printed as they are."""
    if not _given(value):
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float | date):
        value = str(value)
    elif isinstance(value, str):
        value = str(value).strip()[:100]
    fmt = str(format) if _given(format) else "medium"
    if len(fmt) > 100:
        raise Unsafe("formatDate: the format is too long")
    tag = str(locale) if _given(locale) else _context_value(context, ("locale",), ("recipient", "locale"))
    zone = str(tz) if _given(tz) else _context_value(context, ("timezone",), ("recipient", "timezone"))
    return _date_text(value, fmt, tag or DEFAULT_LOCALE, zone or "UTC")


@lru_cache(maxsize=4096)
def _date_text(value: str | float | date, fmt: str, tag: str, zone_name: str) -> str:
    parsed: date | datetime
    if isinstance(value, date):
        parsed = value
    elif isinstance(value, int | float):
        try:
            parsed = datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return str(value)
    else:
        try:
            parsed = datetime.fromisoformat(value) if len(value) > 10 else date.fromisoformat(value)
        except ValueError:
            return value
    loc = _locale(tag)
    try:
        if not isinstance(parsed, datetime):
            return babel_dates.format_date(parsed, fmt, locale=loc)
        try:
            zone: Any = ZoneInfo(zone_name)
        except (KeyError, ValueError, OSError):
            zone = UTC
        moment = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(zone)
        if fmt in ("short", "medium", "long", "full"):
            # The date at the chosen length with a short time reads best in an email ("Nov 25, 2026, 1:49 PM").
            pattern = str(loc.datetime_formats.get(fmt, "{1}, {0}"))
            time_part = babel_dates.format_time(moment, "short", locale=loc)
            date_part = babel_dates.format_date(moment, fmt, locale=loc)
            return pattern.replace("{1}", date_part).replace("{0}", time_part)
        return babel_dates.format_datetime(moment, fmt, locale=loc)
    except (ValueError, KeyError, AttributeError):
        return str(value)


def humanize(value: Any) -> str:
    """`InProgress` -> `In progress`: status names as people write them."""
    if not _given(value):
        return ""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(value)).split()
    return " ".join([words[0], *(w.lower() for w in words[1:])]) if words else ""


SAFE_URL_RE = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)


@pass_eval_context
def button(eval_ctx: nodes.EvalContext, url: Any, label: Any = "Open") -> str:
    """A call-to-action button that survives Outlook (a table cell with a padded link).

    Only http(s) and mailto links become buttons: template data never smuggles `javascript:` in.
    """
    href = str(url) if _given(url) else ""
    if not SAFE_URL_RE.match(href):
        return ""
    text = str(label) if _given(label) else "Open"
    if not eval_ctx.autoescape:
        return f"{text}: {href}"
    return Markup(
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin: 8px 0 0 0;">'
        '<tr><td class="button-cell" align="center" bgcolor="#3b63d6">'
        '<a class="button" href="{href}" target="_blank" rel="noopener">{text}</a>'
        "</td></tr></table>"
        '<p class="fallback">Button not working? Copy this link into your browser:<br>'
        '<a href="{href}" target="_blank" rel="noopener">{href}</a></p>'
    ).format(href=href, text=text)
