"""Rendering a stored template: the compile cache, the render (off the event loop), and its watchdog.

- `await render(ctx, name, context)` -> `Rendered(subject, html, text, template)`: one query (the
  template and the layout), then a render in a worker thread under a time limit. Raises `NotFound`
  (no such template), `MissingVariables` (422, `details.missing`), `TemplateRenderFailed` (422:
  sandbox escapes, runtime errors, output too large, too slow). It renders inactive templates too:
  `Rendered.template.is_active` tells the caller whether the template is switched on.
- `await get(ctx, name)` -> `Template`; `validate_context(template, context)` -> missing variable names,
  for checking an event's data before anything is queued.

The context is the event's data plus `recipient {name, email}`, `links {ticket?, preferences,
unsubscribe}` and `app {name, url}` (`app` defaults to the configured name and public URL).

- Where: a template exactly as shipped (and its layout) renders in a thread of this process; anything
  an admin wrote or edited renders in a worker process whose memory and CPU time the operating system
  caps (render_pool.py), so no trick the sandbox misses can grow or stall the service.
- A watchdog interrupts a render that runs past `RENDER_TIMEOUT_SECONDS` (loops that print nothing).
  What it cannot interrupt (one long C-level operation, such as comparing two huge self-similar
  structures) the worker's CPU limit ends. Subject and body are capped as they stream.
- Compiled templates are cached under (id, updated_at): every render reads the row anyway (one
  indexed query for the template and the layout together), so an edit made by any process is used
  on the next render everywhere, and compiling (milliseconds) happens once per version.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from types import TracebackType
from typing import Any
from uuid import UUID

import css_inline
import html2text
import jinja2
from cachetools import LRUCache
from jinja2 import TemplateSyntaxError
from jinja2.exceptions import SecurityError
from markupsafe import Markup

from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.email.templates import builtin, render_pool
from ticket_comms.email.templates.errors import (
    MissingVariables,
    RenderTimeout,
    TemplateInvalid,
    TemplateRenderFailed,
    Unsafe,
)
from ticket_comms.email.templates.sandbox import HTML_ENV, MAX_OUTPUT_CHARS, TEXT_ENV, compile_source
from ticket_comms.email.templates.watchdog import Watchdog
from ticket_comms.errors import NotFound

LAYOUT = builtin.LAYOUT
MAX_SUBJECT_CHARS = 300
# What a subject may render to before its whitespace is collapsed and it is cut to MAX_SUBJECT_CHARS.
MAX_SUBJECT_SOURCE_CHARS = 10_000
RENDER_TIMEOUT_SECONDS = 2.0
# Compiled templates' frames carry this file name prefix, to find the template line of a runtime error.
FRAME_PREFIX = "<template:"

INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False, keep_link_tags=False)


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


# One per process by nature: it interrupts threads of this process.
_watchdog = Watchdog()
# Per process, not per app: compiled templates are keyed by (id, updated_at), never change once
# compiled, and are what a render worker process keeps too; two apps in one process may share them.
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
        subject=compile_source(TEXT_ENV, template.subject, f"{FRAME_PREFIX}{name}:subject>"),
        html=compile_source(HTML_ENV, template.html_content, f"{FRAME_PREFIX}{name}:htmlContent>"),
        text=compile_source(TEXT_ENV, template.text_content, f"{FRAME_PREFIX}{name}:textContent>")
        if template.text_content
        else None,
    )
    with _cache_lock:
        _compiled_cache[key] = compiled
    return compiled


def forget(template_id: UUID) -> None:
    with _cache_lock:
        for key in [k for k in _compiled_cache if k[0] == template_id]:
            _compiled_cache.pop(key, None)


def renderer_of(ctx: AppContext) -> render_pool.TemplateRenderer:
    if ctx.renderer is None:  # a context not built by the app factory (scripts, the email worker)
        ctx.renderer = render_pool.TemplateRenderer()
    return ctx.renderer


def _stream(
    template: jinja2.Template,
    variables: dict[str, Any],
    limit: int = MAX_OUTPUT_CHARS,
    what: str = "the output",
) -> tuple[str, dict[str, Any]]:
    """Render, counting output as it is produced; also return the template's top-level `{% set %}`s."""
    context = template.new_context(variables)
    parts: list[str] = []
    size = 0
    try:
        for chunk in template.root_render_func(context):
            size += len(chunk)
            if size > limit:
                raise Unsafe(f"{what} is larger than {limit} characters")
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
    # Streamed and capped like the body: a subject once reached 1.2 GB before it was cut to size.
    raw_subject, _ = _stream(own.subject, variables, MAX_SUBJECT_SOURCE_CHARS, "the subject")
    subject = " ".join(raw_subject.split())[:MAX_SUBJECT_CHARS]
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
    except RenderTimeout:
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
    except MemoryError:
        # Only in a render worker, whose address space is capped (render_pool.py).
        raise TemplateRenderFailed(
            f"{template.name} needed more memory than templates may use.",
            details={"template": template.name, "reason": "memory"},
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
    variables = _variables(ctx, context)
    renderer = renderer_of(ctx)
    if is_shipped(template) and (layout is None or is_shipped(layout)):
        return await loop.run_in_executor(renderer.threads, _render_guarded, template, layout, variables)
    subject, html, text = await loop.run_in_executor(
        renderer.pool_threads, renderer.pool.render, template, layout, variables
    )
    return Rendered(subject=subject, html=html, text=text, template=template)


# ---------------------------------------------------------------------------------------------
# Which templates render where


@lru_cache(maxsize=64)
def _shipped_sources(name: str) -> tuple[str, str, str | None]:
    shipped = builtin.load(name)
    return shipped.subject, shipped.html_content, shipped.text_content or None


_shipped_cache: LRUCache[tuple[UUID, datetime], bool] = LRUCache(maxsize=512)


def is_shipped(template: Template) -> bool:
    """Whether `template` is exactly as the service ships it (then it renders in-process, unpooled).

    Anything an admin wrote or changed renders in a capped worker process (render_pool.py).
    """
    key = (template.id, template.updated_at)
    hit = _shipped_cache.get(key)
    if hit is None:
        hit = template.name in builtin.SPECS and _shipped_sources(template.name) == (
            template.subject,
            template.html_content,
            template.text_content or None,
        )
        _shipped_cache[key] = hit
    return hit


def render_in_worker(template: Template, layout: Template | None, variables: dict[str, Any]) -> Rendered:
    """The render a pool worker runs (the same guarded render, inside the worker's limits)."""
    return _render_guarded(template, layout, variables)


def warm_up() -> None:
    """Run one small render so a new worker has loaded and started what every render needs."""
    now = datetime.now().astimezone()
    sample = Template(UUID(int=0), "warm-up", "{{ a }}", "<p>{{ a }}</p>", None, (), True, now, now)
    _render_guarded(sample, None, {"a": "x"})
    with _cache_lock:
        _compiled_cache.pop((sample.id, sample.updated_at), None)


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
