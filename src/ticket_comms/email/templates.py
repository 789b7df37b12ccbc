"""Email templates: the sandboxed renderer the sending code calls, and the admin operations on templates.

Rendering API (used by the notification/sending code):
- `await render(ctx, name, context)` -> `Rendered(subject, html, text, template)`: one query (the
  template and the layout), then a render in a worker thread under a time limit. Raises `NotFound`
  (no such template), `MissingVariables` (422, `details.missing`), `TemplateRenderFailed` (422:
  sandbox escapes, runtime errors, output too large, too slow). It renders inactive templates too:
  `Rendered.template.is_active` tells the caller whether the template is switched on.
- `await get(ctx, name)` -> `Template`; `validate_context(template, context)` -> missing variable names,
  for checking an event's data before anything is queued.

The context is the event's data plus `recipient {name, email}`, `links {ticket?, preferences,
unsubscribe}` and `app {name, url}` (`app` defaults to the configured name and public URL).

Why the pieces are the way they are:
- Admins write templates, so they run in Jinja2's `ImmutableSandboxedEnvironment` with autoescape.
  Jinja's sandbox turns an unsafe attribute into an Undefined that prints as an empty string; we raise
  instead, so `{{ ''.__class__ }}` is a 422 rather than a silently blank email.
- The sandbox stops attribute escapes but not resource exhaustion, so string/list growth (`*`, `+`,
  `~`, `%`, `**`, padding filters and methods, `replace`) is checked before it happens, containers
  are measured (with a budget) before anything turns them into text, output is counted as it
  streams, and a watchdog interrupts a render that runs past `RENDER_TIMEOUT_SECONDS` (loops that
  print nothing). What it cannot interrupt is one long C-level operation, such as hashing or
  comparing two huge self-similar structures built on purpose; templates are written by admins only.
- Compiled templates are cached under (id, updated_at): every render reads the row anyway (one
  indexed query for the template and the layout together), so an edit made by any process is used
  on the next render everywhere, and compiling (milliseconds) happens once per version.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from types import BuiltinMethodType, TracebackType
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import css_inline
import html2text
import jinja2
import jinja2.meta
from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from cachetools import LRUCache
from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes, pass_context, pass_eval_context, runtime
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup
from pydantic import Field, field_validator

from ticket_comms.chat.schemas import CamelModel, iso
from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.email import builtin
from ticket_comms.errors import Conflict, NotFound, ValidationFailed

LAYOUT = builtin.LAYOUT
DEFAULT_CURRENCY = "AED"
DEFAULT_LOCALE = "en"

# Limits. Sources: generous for hand-written emails. Values: no single string or list a template
# builds may exceed MAX_VALUE_SIZE. Output: an email body beyond MAX_OUTPUT_CHARS is a bug (Gmail
# clips at about 100 kB).
MAX_SUBJECT_SOURCE = 2_000
MAX_HTML_SOURCE = 200_000
MAX_TEXT_SOURCE = 100_000
MAX_VARIABLES = 100
MAX_VALUE_SIZE = 200_000
MAX_OUTPUT_CHARS = 500_000
MAX_SUBJECT_CHARS = 300
MAX_PAD_WIDTH = 1_000
MAX_RANGE = 10_000
RENDER_TIMEOUT_SECONDS = 2.0
# Compiled templates' frames carry this file name prefix, to find the template line of a runtime error.
FRAME_PREFIX = "<template:"

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$"
VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# printf-style (`%10s`) and str.format (`{:>10}`) widths and precisions.
PRINTF_WIDTH_RE = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
FORMAT_SPEC_WIDTH_RE = re.compile(r"\{[^{}]*:[^{}]*?(\d{4,})[^{}]*\}")


# ---------------------------------------------------------------------------------------------
# Errors


class MissingVariables(ValidationFailed):
    """The context is missing variables the template needs."""

    code = "missing_variables"

    def __init__(self, missing: list[str], template: str | None = None):
        names = ", ".join(missing)
        where = f" for template {template}" if template else ""
        super().__init__(f"Missing variables{where}: {names}.", details={"missing": missing})
        self.missing = missing


class TemplateInvalid(ValidationFailed):
    """The template has a syntax error."""

    code = "template_invalid"


class TemplateRenderFailed(ValidationFailed):
    """The template could not be rendered."""

    code = "template_render_failed"


class _Unsafe(SecurityError):
    """Raised by the sandbox hooks below; reported as a 422 naming what was refused."""


class _RenderTimeout(BaseException):
    """Injected into a render thread by the watchdog (BaseException so template code cannot catch it)."""


# ---------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True, slots=True)
class Template:
    id: UUID
    name: str
    subject: str
    html_content: str
    text_content: str | None
    variables: tuple[str, ...]
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Template:
        return cls(
            row["id"],
            row["name"],
            row["subject"],
            row["html_content"],
            row["text_content"],
            tuple(row["variables"] or ()),
            row["is_active"],
            row["created_at"],
            row["updated_at"],
        )

    @property
    def is_builtin(self) -> bool:
        return self.name in builtin.SPECS

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "subject": self.subject,
            "htmlContent": self.html_content,
            "textContent": self.text_content,
            "variables": list(self.variables),
            "isActive": self.is_active,
            "isBuiltin": self.is_builtin,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
        }


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    html: str
    text: str
    template: Template


def validate_context(template: Template, context: dict[str, Any]) -> list[str]:
    """The template's declared variables that `context` lacks (absent or null), in declaration order."""
    missing = []
    for name in template.variables:
        value: Any = context
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
            if value is None:
                break
        if value is None:
            missing.append(name)
    return missing


# ---------------------------------------------------------------------------------------------
# Filters and globals


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
        raise _Unsafe("formatDate: the format is too long")
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


def _safe_range(*args: Any) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise _Unsafe(f"range() is limited to {MAX_RANGE} items")
    return rng


def _check_size(size: int, what: str) -> None:
    if size > MAX_VALUE_SIZE:
        raise _Unsafe(f"{what} would build a value of {size} items; the limit is {MAX_VALUE_SIZE}")


def _checked_length(text: str) -> str:
    _check_size(len(text), "~")
    return text


def _check_printf(fmt: str) -> None:
    for width, precision in PRINTF_WIDTH_RE.findall(fmt):
        for n in (width, precision):
            if n == "*" or (n and int(n) > MAX_PAD_WIDTH):
                raise _Unsafe("format widths are limited to 1000")


def _sized(value: Any) -> bool:
    return isinstance(value, str | list | tuple | bytes)


def _guard_replace(s: Any, old: Any, new: Any, count: Any = None) -> None:
    s, old, new = str(s), str(old), str(new)
    hits = (len(s) + 1) if old == "" else s.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    _check_size(len(s) + hits * max(0, len(new) - len(old)), "replace")


def _guard_width(width: Any) -> None:
    if isinstance(width, int) and width > MAX_PAD_WIDTH:
        raise _Unsafe("padding widths are limited to 1000")
    if isinstance(width, str) and len(width) > 100:
        raise _Unsafe("indent strings are limited to 100 characters")


CONTAINERS = (list, tuple, dict, set, frozenset)


def _check_footprint(value: Any) -> None:
    """Refuse to turn a container into text when its text would be huge.

    Containers can share members (`{% set ns.x = [ns.x, ns.x] %}` doubles the logical size each time
    with constant memory), so their printed size is counted, with a budget, before `str()` expands it.
    """
    budget = MAX_VALUE_SIZE
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            budget -= len(item) + 1
        elif isinstance(item, dict):
            budget -= 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, CONTAINERS):
            budget -= 1
            stack.extend(item)
        else:
            budget -= 1
        if budget < 0:
            raise _Unsafe(f"a value would print as more than {MAX_VALUE_SIZE} characters")


def _check_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, CONTAINERS):
            _check_footprint(value)


def _guarded(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that checks its container arguments first (keeps Jinja's pass_context markers)."""

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_arguments(args, kwargs)
        return function(*args, **kwargs)

    return guarded


def _finalize(value: Any) -> Any:
    if isinstance(value, CONTAINERS):
        _check_footprint(value)
    return value


def _wrap_filters(filters: dict[str, Callable[..., Any]]) -> None:
    base_replace = filters["replace"]
    base_center = filters["center"]
    base_indent = filters["indent"]
    base_format = filters["format"]

    @pass_eval_context
    def replace(eval_ctx: nodes.EvalContext, s: Any, old: Any, new: Any, count: Any = None) -> Any:
        _guard_replace(s, old, new, count)
        return base_replace(eval_ctx, s, old, new, count)

    def center(value: Any, width: int = 80) -> str:
        _guard_width(width)
        return base_center(value, width)

    def indent(s: Any, width: Any = 4, first: bool = False, blank: bool = False) -> str:
        _guard_width(width)
        return base_indent(s, width, first, blank)

    def format_(value: Any, *args: Any, **kwargs: Any) -> str:
        _check_printf(str(value))
        return base_format(value, *args, **kwargs)

    filters.update(replace=replace, center=center, indent=indent, format=format_)
    for name, function in list(filters.items()):
        filters[name] = _guarded(function)


class _GuardedCodeGenerator(CodeGenerator):
    """Routes `~` through the environment, so concatenation is size-checked like `+`."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            func_name = "(environment.concat_markup if context.eval_ctx.volatile else environment.concat_str)"
        elif frame.eval_ctx.autoescape:
            func_name = "environment.concat_markup"
        else:
            func_name = "environment.concat_str"
        self.write(f"{func_name}((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class EmailSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, plus: unsafe attributes raise, and values cannot grow without bound."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _GuardedCodeGenerator

    def __init__(self, *, autoescape: bool):
        super().__init__(
            autoescape=autoescape,
            undefined=ChainableUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            cache_size=0,
            finalize=_finalize,
        )
        self.globals.pop("lipsum", None)
        self.globals.update(range=_safe_range, button=button)
        _wrap_filters(self.filters)
        self.filters.update(formatCurrency=format_currency, formatDate=format_date, humanize=humanize)

    def concat_markup(self, parts: tuple[Any, ...]) -> str:
        _check_arguments(parts, {})
        return _checked_length(runtime.markup_join(parts))

    def concat_str(self, parts: tuple[Any, ...]) -> str:
        _check_arguments(parts, {})
        return _checked_length(runtime.str_join(parts))

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        raise _Unsafe(f"access to attribute {attribute!r} of a {type(obj).__name__} is not allowed")

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Jinja only checks attributes that exist; refusing every private name makes probing fail loudly.
        if attribute.startswith("_"):
            raise _Unsafe(f"access to attribute {attribute!r} is not allowed")
        return super().getattr(obj, attribute)

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if _sized(seq) and isinstance(n, int):
                    _check_size(len(seq) * n, "*")
        elif operator == "+":
            if _sized(left) and _sized(right):
                _check_size(len(left) + len(right), "+")
        elif operator == "%":
            if isinstance(left, str):
                _check_printf(left)
                _check_arguments((right,), {})
        elif operator == "**":
            if isinstance(right, int | float) and abs(right) > 1_000:
                raise _Unsafe("exponents are limited to 1000")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() * abs(right) > 100_000:
                raise _Unsafe("the result would be too large")
        result = self.binop_table[operator](left, right)
        if isinstance(result, int) and result.bit_length() > 100_000:
            raise _Unsafe("the result would be too large")
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None and FORMAT_SPEC_WIDTH_RE.search(value.__self__):
            raise _Unsafe("format widths are limited to 1000")
        return wrapped

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(__obj, BuiltinMethodType) and isinstance(owner, str):
            name = __obj.__name__
            if name == "replace" and len(args) >= 2:
                _guard_replace(owner, args[0], args[1], args[2] if len(args) > 2 else None)
            elif name in ("center", "ljust", "rjust", "zfill") and args:
                _guard_width(args[0])
            elif name == "expandtabs":
                size = args[0] if args else kwargs.get("tabsize", 8)
                if isinstance(size, int):
                    _check_size(len(owner) * max(1, size), "expandtabs")
        _check_arguments(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)


HTML_ENV = EmailSandbox(autoescape=True)
TEXT_ENV = EmailSandbox(autoescape=False)

INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False, keep_link_tags=False)


def _compile(env: EmailSandbox, source: str, filename: str) -> jinja2.Template:
    """Compile `source`; the filename marks its frames so runtime errors can report their line."""
    code = env.compile(source, name=filename, filename=filename)
    return env.template_class.from_code(env, code, env.make_globals(None), None)


def _check_syntax(field: str, source: str) -> None:
    env = HTML_ENV if field == "htmlContent" else TEXT_ENV
    try:
        _compile(env, source, f"<{field}>")
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(
            f"{field} line {exc.lineno}: {exc.message}",
            details=[{"field": field, "line": exc.lineno, "message": exc.message}],
        ) from None


def _text_from_html(fragment: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_tables = True
    converter.inline_links = False
    converter.links_each_paragraph = True
    converter.protect_links = True
    return re.sub(r"\n{3,}", "\n\n", converter.handle(fragment)).strip()


# ---------------------------------------------------------------------------------------------
# Rendering


@dataclass(frozen=True, slots=True)
class _Compiled:
    subject: jinja2.Template
    html: jinja2.Template
    text: jinja2.Template | None


class _Watchdog:
    """Interrupts renders that run past their deadline by raising `_RenderTimeout` in their thread.

    One daemon thread for the whole process, waking every 50 ms only while renders are running,
    instead of a timer per render.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._deadlines: dict[int, float] = {}
        self._interrupted: set[int] = set()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(self, seconds: float) -> Iterator[None]:
        ident = threading.get_ident()
        with self._lock:
            self._deadlines[ident] = time.monotonic() + seconds
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="template-watchdog", daemon=True)
                self._thread.start()
        self._wake.set()
        try:
            yield
        finally:
            with self._lock:
                self._deadlines.pop(ident, None)
                if ident in self._interrupted:
                    # Interrupted just as the render finished: drop the pending exception so it cannot
                    # surface later in the pool's own code (it is raised here, inside the caller's try,
                    # or not at all).
                    self._interrupted.discard(ident)
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), None)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(0.05)
            now = time.monotonic()
            with self._lock:
                for ident, deadline in list(self._deadlines.items()):
                    if deadline <= now:
                        # Under the lock, so the thread is still inside `watch` and catches it there.
                        del self._deadlines[ident]
                        self._interrupted.add(ident)
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(
                            ctypes.c_ulong(ident), ctypes.py_object(_RenderTimeout)
                        )
                if not self._deadlines:
                    self._wake.clear()


_watchdog = _Watchdog()
# Renders run off the event loop so a slow template cannot stall it; two threads match the cores.
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="template-render")
_cache_lock = threading.Lock()
_compiled_cache: LRUCache[tuple[UUID, datetime], _Compiled] = LRUCache(maxsize=512)


def _compiled(template: Template) -> _Compiled:
    key = (template.id, template.updated_at)
    with _cache_lock:
        hit = _compiled_cache.get(key)
    if hit is not None:
        return hit
    name = template.name
    compiled = _Compiled(
        subject=_compile(TEXT_ENV, template.subject, f"{FRAME_PREFIX}{name}:subject>"),
        html=_compile(HTML_ENV, template.html_content, f"{FRAME_PREFIX}{name}:htmlContent>"),
        text=_compile(TEXT_ENV, template.text_content, f"{FRAME_PREFIX}{name}:textContent>")
        if template.text_content
        else None,
    )
    with _cache_lock:
        _compiled_cache[key] = compiled
    return compiled


def _forget(template_id: UUID) -> None:
    with _cache_lock:
        for key in [k for k in _compiled_cache if k[0] == template_id]:
            _compiled_cache.pop(key, None)


def _stream(template: jinja2.Template, variables: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Render, counting output as it is produced; also return the template's top-level `{% set %}`s."""
    context = template.new_context(variables)
    parts: list[str] = []
    size = 0
    try:
        for chunk in template.root_render_func(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise _Unsafe(f"the output is larger than {MAX_OUTPUT_CHARS} characters")
            parts.append(chunk)
    except Exception:
        template.environment.handle_exception()
    return "".join(parts), context.get_exported()


def _error_line(tb: TracebackType | None, prefix: str) -> tuple[str | None, int | None]:
    """The template part and line of the innermost template frame in `tb`."""
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(prefix):
            found = (filename[len(prefix) :].rstrip(">"), tb.tb_lineno)
        tb = tb.tb_next
    return found


def _render_sync(template: Template, layout: Template | None, variables: dict[str, Any]) -> Rendered:
    own = _compiled(template)
    wrap = _compiled(layout) if layout is not None else None
    subject = " ".join(own.subject.render(variables).split())[:MAX_SUBJECT_CHARS]
    body_html, exported = _stream(own.html, variables)
    if own.text is not None:
        body_text, _ = _stream(own.text, variables)
    else:
        body_text = _text_from_html(body_html)
    if wrap is None:
        full_html = body_html
        text = body_text
    else:
        # The body is the sandbox's own autoescaped output, so the layout may place it as HTML.
        body = Markup(body_html)  # noqa: S704
        outer = {**variables, "subject": subject, "preheader": exported.get("preheader", ""), "content": body}
        full_html, _ = _stream(wrap.html, outer)
        if wrap.text is not None:
            text, _ = _stream(wrap.text, {**outer, "content": body_text})
        else:
            text = _text_from_html(full_html)
    return Rendered(
        subject=subject, html=INLINER.inline(full_html), text=text.strip() + "\n", template=template
    )


def _render_guarded(template: Template, layout: Template | None, variables: dict[str, Any]) -> Rendered:
    try:
        with _watchdog.watch(RENDER_TIMEOUT_SECONDS):
            return _render_sync(template, layout, variables)
    except _RenderTimeout:
        raise TemplateRenderFailed(
            f"Rendering {template.name} took longer than {RENDER_TIMEOUT_SECONDS:g} s.",
            details={"template": template.name, "reason": "timeout"},
        ) from None
    except TemplateSyntaxError as exc:
        # A stored template is checked on save; this only happens for rows written around the API.
        raise TemplateInvalid(
            f"{template.name} line {exc.lineno}: {exc.message}",
            details={"template": template.name, "line": exc.lineno},
        ) from None
    except RecursionError:
        raise TemplateRenderFailed(
            f"{template.name} recursed too deeply.",
            details={"template": template.name, "reason": "recursion"},
        ) from None
    except Exception as exc:
        part, line = _error_line(sys.exc_info()[2], FRAME_PREFIX)
        reason = "unsafe" if isinstance(exc, SecurityError) else "error"
        if isinstance(exc, SecurityError):
            message = f"{template.name} tried something templates may not do: {exc}"
        else:
            message = f"{template.name} failed to render: {exc.__class__.__name__}: {exc}"
        details: dict[str, Any] = {"template": template.name, "reason": reason}
        if line is not None:
            details.update(part=part, line=line)
        raise TemplateRenderFailed(message[:500], details=details) from None


def _variables(ctx: AppContext, context: dict[str, Any]) -> dict[str, Any]:
    variables = dict(context)
    if not isinstance(variables.get("app"), dict):
        variables["app"] = {"name": ctx.settings.app_name, "url": ctx.settings.base_url}
    return variables


async def render_template(
    ctx: AppContext, template: Template, layout: Template | None, context: dict[str, Any]
) -> Rendered:
    """Render an already loaded template (and layout) with `context`; see the module docstring."""
    missing = validate_context(template, context)
    if missing:
        raise MissingVariables(missing, template.name)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor, _render_guarded, template, layout, _variables(ctx, context))


SELECT_WITH_LAYOUT = "SELECT * FROM email_templates WHERE name = ANY(%(names)s)"


async def render(
    ctx: AppContext, name: str, context: dict[str, Any], *, conn: Connection | None = None
) -> Rendered:
    """Render template `name` inside the shared layout. `conn`: reuse the caller's connection."""
    params = {"names": [name, LAYOUT]}
    if conn is None:
        rows = await ctx.db.fetch_all(SELECT_WITH_LAYOUT, params)
    else:
        rows = await (await conn.execute(SELECT_WITH_LAYOUT, params)).fetchall()
    by_name = {row["name"]: Template.from_row(row) for row in rows}
    template = by_name.get(name)
    if template is None:
        raise NotFound(f"There is no email template named {name!r}.")
    layout = None if name == LAYOUT else by_name.get(LAYOUT)
    if name == LAYOUT:
        # Previewing the layout itself: `content` is plain text from the caller, escaped like any value.
        context = {**context, "content": context.get("content") or "The body of each email goes here."}
    return await render_template(ctx, template, layout, context)


async def get(ctx: AppContext, name: str, *, conn: Connection | None = None) -> Template:
    sql = "SELECT * FROM email_templates WHERE name = %(name)s"
    if conn is None:
        row = await ctx.db.fetch_one(sql, {"name": name})
    else:
        row = await (await conn.execute(sql, {"name": name})).fetchone()
    if row is None:
        raise NotFound(f"There is no email template named {name!r}.")
    return Template.from_row(row)


# ---------------------------------------------------------------------------------------------
# Admin operations


def _check_variables(names: list[str]) -> list[str]:
    bad = [n for n in names if not VARIABLE_RE.match(n)]
    if bad:
        raise ValueError(f"variables must be dotted names like ticket.title: {', '.join(bad[:5])}")
    return list(dict.fromkeys(names))


class CreateTemplate(CamelModel):
    name: str = Field(pattern=NAME_PATTERN)
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT_SOURCE)
    html_content: str = Field(alias="htmlContent", min_length=1, max_length=MAX_HTML_SOURCE)
    text_content: str | None = Field(default=None, alias="textContent", max_length=MAX_TEXT_SOURCE)
    variables: list[str] = Field(default_factory=list, max_length=MAX_VARIABLES)
    is_active: bool = Field(default=True, alias="isActive", strict=True)

    @field_validator("variables")
    @classmethod
    def _variables(cls, v: list[str]) -> list[str]:
        return _check_variables(v)


class UpdateTemplate(CamelModel):
    """Every field optional: only what is sent changes. `textContent: null` goes back to generated text."""

    subject: str | None = Field(default=None, min_length=1, max_length=MAX_SUBJECT_SOURCE)
    html_content: str | None = Field(
        default=None, alias="htmlContent", min_length=1, max_length=MAX_HTML_SOURCE
    )
    text_content: str | None = Field(default=None, alias="textContent", max_length=MAX_TEXT_SOURCE)
    variables: list[str] | None = Field(default=None, max_length=MAX_VARIABLES)
    is_active: bool | None = Field(default=None, alias="isActive", strict=True)

    @field_validator("variables")
    @classmethod
    def _variables(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _check_variables(v)


class PreviewTemplate(CamelModel):
    context: dict[str, Any] = Field(default_factory=dict)


def _validate_sources(name: str, subject: str | None, html: str | None, text: str | None) -> None:
    if subject is not None:
        _check_syntax("subject", subject)
    if html is not None:
        _check_syntax("htmlContent", html)
        if name == LAYOUT and "content" not in jinja2.meta.find_undeclared_variables(HTML_ENV.parse(html)):
            raise TemplateInvalid(
                "The layout must place the email's body with {{ content }}.",
                details=[{"field": "htmlContent", "line": None, "message": "{{ content }} is missing"}],
            )
    if text:
        _check_syntax("textContent", text)


async def list_templates(ctx: AppContext) -> dict[str, Any]:
    rows = await ctx.db.fetch_all("SELECT * FROM email_templates ORDER BY name")
    return {"items": [Template.from_row(r).to_json() for r in rows], "nextCursor": None}


async def get_template(ctx: AppContext, name: str) -> dict[str, Any]:
    return (await get(ctx, name)).to_json()


async def create_template(ctx: AppContext, body: CreateTemplate) -> dict[str, Any]:
    _validate_sources(body.name, body.subject, body.html_content, body.text_content)
    row = await ctx.db.fetch_one(
        """
        INSERT INTO email_templates (name, subject, html_content, text_content, variables, is_active)
        VALUES (%(name)s, %(subject)s, %(html)s, %(text)s, %(variables)s, %(active)s)
        ON CONFLICT (name) DO NOTHING
        RETURNING *
        """,
        {
            "name": body.name,
            "subject": body.subject,
            "html": body.html_content,
            "text": body.text_content or None,
            "variables": body.variables,
            "active": body.is_active,
        },
    )
    if row is None:
        raise Conflict(f"A template named {body.name!r} already exists.", code="template_exists")
    return Template.from_row(row).to_json()


# `updated_at` must move forward on every edit even within one clock tick: it is the cache key.
TOUCH = "updated_at = greatest(clock_timestamp(), updated_at + interval '1 microsecond')"


async def update_template(ctx: AppContext, name: str, body: UpdateTemplate) -> dict[str, Any]:
    sent = body.model_fields_set
    if name == LAYOUT and body.is_active is False:
        raise ValidationFailed(
            "The layout cannot be switched off.",
            details=[{"field": "isActive", "message": "the layout is always active"}],
        )
    _validate_sources(name, body.subject, body.html_content, body.text_content)
    columns = {
        "subject": "subject",
        "html_content": "html_content",
        "text_content": "text_content",
        "variables": "variables",
        "is_active": "is_active",
    }
    values: dict[str, Any] = {}
    for field, column in columns.items():
        if field not in sent:
            continue
        value = getattr(body, field)
        if value is None and field != "text_content":
            continue  # null for a required column means "leave as is"
        values[column] = (value or None) if field == "text_content" else value
    assignments = ", ".join([f"{column} = %({column})s" for column in values] + [TOUCH])
    row = await ctx.db.fetch_one(
        f"UPDATE email_templates SET {assignments} WHERE name = %(name)s RETURNING *",
        {**values, "name": name},
    )
    if row is None:
        raise NotFound(f"There is no email template named {name!r}.")
    template = Template.from_row(row)
    _forget(template.id)
    return template.to_json()


async def delete_template(ctx: AppContext, name: str) -> None:
    """Custom templates are deleted. Built-in ones are what events send, so they are never deleted:
    409 `builtin_template`; switch one off with `isActive: false` or restore it with `.../reset`."""
    if name in builtin.SPECS:
        raise Conflict(
            f"{name} is a built-in template and cannot be deleted. Set isActive to false to stop it, "
            f"or POST /api/v1/email/templates/{name}/reset to restore the shipped version.",
            code="builtin_template",
        )
    row = await ctx.db.fetch_one(
        "DELETE FROM email_templates WHERE name = %(name)s RETURNING id", {"name": name}
    )
    if row is None:
        raise NotFound(f"There is no email template named {name!r}.")
    _forget(row["id"])


async def reset_template(ctx: AppContext, name: str) -> dict[str, Any]:
    """Put a built-in template back to the version shipped with the service (active again)."""
    if name not in builtin.SPECS:
        raise NotFound(f"There is no built-in email template named {name!r}.")
    shipped = builtin.load(name)
    row = await ctx.db.fetch_one(
        """
        INSERT INTO email_templates (name, subject, html_content, text_content, variables, is_active)
        VALUES (%(name)s, %(subject)s, %(html)s, %(text)s, %(variables)s, true)
        ON CONFLICT (name) DO UPDATE SET subject = EXCLUDED.subject, html_content = EXCLUDED.html_content,
            text_content = EXCLUDED.text_content, variables = EXCLUDED.variables, is_active = true,
            updated_at = greatest(clock_timestamp(), email_templates.updated_at + interval '1 microsecond')
        RETURNING *
        """,
        {
            "name": name,
            "subject": shipped.subject,
            "html": shipped.html_content,
            "text": shipped.text_content,
            "variables": shipped.variables,
        },
    )
    if row is None:  # the upsert always returns its row
        raise NotFound(f"There is no built-in email template named {name!r}.")
    template = Template.from_row(row)
    _forget(template.id)
    return template.to_json()


async def preview(ctx: AppContext, name: str, body: PreviewTemplate) -> dict[str, Any]:
    rendered = await render(ctx, name, body.context)
    return {"subject": rendered.subject, "html": rendered.html, "text": rendered.text}


# Exported for the notification code's error messages and docs.
__all__ = [
    "LAYOUT",
    "MissingVariables",
    "Rendered",
    "Template",
    "TemplateInvalid",
    "TemplateRenderFailed",
    "get",
    "render",
    "render_template",
    "validate_context",
]
