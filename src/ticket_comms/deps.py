"""FastAPI dependencies and answers shared by every router: the app context, and JSON answers.

Who is asking (User, Admin, AdminOrService) is auth/deps.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel

from ticket_comms.context import AppContext
from ticket_comms.responses import JSONResponse


async def get_ctx(request: Request) -> AppContext:
    # async, though it awaits nothing: FastAPI runs a plain `def` dependency in its thread pool, a
    # thread hop on every request, and a burst after a pause grew the pool to 40 threads.
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


def json(data: Any, status: int = 200) -> JSONResponse:
    """The answer as JSON; a wire model (the route's `response_model`) is dumped as it is declared."""
    if isinstance(data, BaseModel):
        data = data.model_dump()
    return JSONResponse(data, status_code=status)
