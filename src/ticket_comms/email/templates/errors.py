"""The errors of email templates: what a render or a save reports (422s that say what and where)."""

from __future__ import annotations

from jinja2.exceptions import SecurityError

from ticket_comms.errors import ValidationFailed


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


class Unsafe(SecurityError):
    """Raised by the sandbox hooks and filters; reported as a 422 naming what was refused."""


class RenderTimeout(BaseException):
    """Injected into a render thread by the watchdog (BaseException so template code cannot catch it)."""
