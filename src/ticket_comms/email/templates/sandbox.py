"""The guarded Jinja2 environment admin-written templates run in, and its size guards.

- Admins write templates, so they run in Jinja2's `ImmutableSandboxedEnvironment` with autoescape.
  Jinja's sandbox turns an unsafe attribute into an Undefined that prints as an empty string; we raise
  instead, so `{{ ''.__class__ }}` is a 422 rather than a silently blank email.
- The sandbox stops attribute escapes but not resource exhaustion, so string/list growth (`*`, `+`,
  `~`, `%`, `**`, padding filters and methods, `replace`) is checked before it happens, and containers
  are measured (with a budget) before anything turns them into text. Output is counted as it streams
  (rendering.py) and a watchdog there interrupts renders that run too long.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from types import BuiltinMethodType
from typing import Any

import jinja2
from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes, pass_eval_context, runtime
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ticket_comms.email.markdown import markdown_filter
from ticket_comms.email.templates.errors import TemplateInvalid, Unsafe
from ticket_comms.email.templates.filters import button, format_currency, format_date, humanize

# Values: no single string or list a template builds may exceed MAX_VALUE_SIZE. Output: an email body
# beyond MAX_OUTPUT_CHARS is a bug (Gmail clips at about 100 kB).
MAX_VALUE_SIZE = 200_000
MAX_OUTPUT_CHARS = 500_000
MAX_PAD_WIDTH = 1_000
MAX_RANGE = 10_000
# printf-style (`%10s`) and str.format (`{:>10}`) widths and precisions.
PRINTF_WIDTH_RE = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
FORMAT_SPEC_WIDTH_RE = re.compile(r"\{[^{}]*:[^{}]*?(\d{4,})[^{}]*\}")


def _safe_range(*args: Any) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise Unsafe(f"range() is limited to {MAX_RANGE} items")
    return rng


def _check_size(size: int, what: str) -> None:
    if size > MAX_VALUE_SIZE:
        raise Unsafe(f"{what} would build a value of {size} items; the limit is {MAX_VALUE_SIZE}")


def _checked_length(text: str) -> str:
    _check_size(len(text), "~")
    return text


def _check_printf(fmt: str) -> None:
    for width, precision in PRINTF_WIDTH_RE.findall(fmt):
        for n in (width, precision):
            if n == "*" or (n and int(n) > MAX_PAD_WIDTH):
                raise Unsafe("format widths are limited to 1000")


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
        raise Unsafe("padding widths are limited to 1000")
    if isinstance(width, str) and len(width) > 100:
        raise Unsafe("indent strings are limited to 100 characters")


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
            raise Unsafe(f"a value would print as more than {MAX_VALUE_SIZE} characters")


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
    """Routes `~` through the environment, so concatenation is size-checked like `+`; and evaluates
    nothing an admin wrote while compiling.

    Jinja folds constant expressions as it compiles, even with the optimizer off: every `{{ ... }}`
    whose parts are literals, and the value of `{% autoescape ... %}`. Folding calls the filters, in
    the serve process, on the event loop, on save, outside the render workers' limits:
    `{{ [1]|batch(300000000, 'x')|list|length }}` took 16 s and 4.6 GB there. So only literal template
    text is folded, and everything else is evaluated when rendering, in a capped worker.
    """

    def _output_child_to_const(self, node: nodes.Expr, frame: Frame, finalize: Any) -> str:
        if not isinstance(node, nodes.TemplateData):
            raise nodes.Impossible()
        return super()._output_child_to_const(node, frame, finalize)

    def visit_EvalContextModifier(self, node: nodes.EvalContextModifier, frame: Frame) -> None:
        for keyword in node.options:
            self.writeline(f"context.eval_ctx.{keyword.key} = ")
            self.visit(keyword.value, frame)
            if isinstance(keyword.value, nodes.Const):
                setattr(frame.eval_ctx, keyword.key, keyword.value.value)
            else:
                # Decided when rendering (what Jinja does when it cannot fold the value).
                frame.eval_ctx.volatile = True

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
            # No constant folding: Jinja's optimizer runs filters on literals while compiling, in the
            # serve process, on save (`{{ [1]|batch(300000000, 'x')|list }}` built 2 GB there).
            optimized=False,
        )
        self.globals.pop("lipsum", None)
        self.globals.update(range=_safe_range, button=button)
        _wrap_filters(self.filters)
        self.filters.update(formatCurrency=format_currency, formatDate=format_date, humanize=humanize)
        self.filters["markdown"] = markdown_filter  # chat Markdown, sanitized (email/markdown.py)

    def concat_markup(self, parts: tuple[Any, ...]) -> str:
        _check_arguments(parts, {})
        return _checked_length(runtime.markup_join(parts))

    def concat_str(self, parts: tuple[Any, ...]) -> str:
        _check_arguments(parts, {})
        return _checked_length(runtime.str_join(parts))

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        raise Unsafe(f"access to attribute {attribute!r} of a {type(obj).__name__} is not allowed")

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Jinja only checks attributes that exist; refusing every private name makes probing fail loudly.
        if attribute.startswith("_"):
            raise Unsafe(f"access to attribute {attribute!r} is not allowed")
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
                raise Unsafe("exponents are limited to 1000")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() * abs(right) > 100_000:
                raise Unsafe("the result would be too large")
        result = self.binop_table[operator](left, right)
        if isinstance(result, int) and result.bit_length() > 100_000:
            raise Unsafe("the result would be too large")
        return result

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None and FORMAT_SPEC_WIDTH_RE.search(value.__self__):
            raise Unsafe("format widths are limited to 1000")
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


def compile_source(env: EmailSandbox, source: str, filename: str) -> jinja2.Template:
    """Compile `source`; the filename marks its frames so runtime errors can report their line."""
    code = env.compile(source, name=filename, filename=filename)
    return env.template_class.from_code(env, code, env.make_globals(None), None)


def places_variable(env: EmailSandbox, source: str, name: str) -> bool:
    """Whether `source` outputs or reads variable `name` from its context without setting it first.

    A walk of the parsed template, not `jinja2.meta.find_undeclared_variables`, whose code generator
    is Jinja's own and folds constants while it looks (see _GuardedCodeGenerator)."""
    found = env.parse(source).find_all(nodes.Name)
    names = [(n.name, n.ctx) for n in found if n.name == name]
    return (name, "load") in names and (name, "store") not in names


def check_syntax(field: str, source: str) -> None:
    env = HTML_ENV if field == "htmlContent" else TEXT_ENV
    try:
        compile_source(env, source, f"<{field}>")
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(
            f"{field} line {exc.lineno}: {exc.message}",
            details=[{"field": field, "line": exc.lineno, "message": exc.message}],
        ) from None
