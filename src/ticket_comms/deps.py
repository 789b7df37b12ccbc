"""FastAPI dependencies and answers shared by every router: the app context, and JSON answers.

Who is asking (User, Admin, AdminOrService) is auth/deps.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel

from ticket_comms.context import AppContext
from ticket_comms.responses import JSONResponse


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


def json(data: Any, status: int = 200) -> JSONResponse:
    """The answer as JSON; a wire model (the route's `response_model`) is dumped as it is declared."""
    if isinstance(data, BaseModel):
        data = data.model_dump()
    return JSONResponse(data, status_code=status)
