"""The API documentation pages: the merged OpenAPI document, Swagger UI and ReDoc (all public)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, JSONResponse

from doorstep_shared.auth.security import public

from ..state import state_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(public)])


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    state = state_of(request)
    return JSONResponse(await state.openapi_docs.document(request.app.openapi(), state.upstreams.clients))


@router.get("/docs")
async def swagger() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Doorstep — API",
        oauth2_redirect_url="/docs/oauth2-redirect",
        swagger_ui_parameters={"persistAuthorization": True},
    )


@router.get("/docs/oauth2-redirect")
async def swagger_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title="Doorstep — API reference")
