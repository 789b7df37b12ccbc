"""Email templates, the package's face to the rest of the service: render, look up, check an event's data.

Inside: `sandbox.py` (the guarded Jinja2 environment and size guards), `filters.py` (formatCurrency,
formatDate, humanize, button), `rendering.py` (compile cache, render, watchdog), `service.py` (the
admin operations), `schemas.py` and `router.py` (the HTTP side), `builtin/` (the shipped templates).
"""

from ticket_comms.email.templates.errors import MissingVariables, TemplateInvalid, TemplateRenderFailed
from ticket_comms.email.templates.rendering import (
    LAYOUT,
    RENDER_TIMEOUT_SECONDS,
    Rendered,
    Template,
    get,
    render,
    render_template,
    validate_context,
)
from ticket_comms.email.templates.sandbox import HTML_ENV, TEXT_ENV
from ticket_comms.email.templates.service import declared

__all__ = [
    "HTML_ENV",
    "LAYOUT",
    "RENDER_TIMEOUT_SECONDS",
    "TEXT_ENV",
    "MissingVariables",
    "Rendered",
    "Template",
    "TemplateInvalid",
    "TemplateRenderFailed",
    "declared",
    "get",
    "render",
    "render_template",
    "validate_context",
]
