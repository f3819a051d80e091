"""The API documentation pages: the merged OpenAPI document, Swagger UI and ReDoc (all public;
their scripts and styles come from the gateway itself, see ``doorstep_shared.http.docs_pages``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from doorstep_shared.auth.security import public
from doorstep_shared.http.docs_pages import oauth2_redirect_page, redoc_page, swagger_page

from ..state import state_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(public)])


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    state = state_of(request)
    return JSONResponse(await state.openapi_docs.document(request.app.openapi(), state.upstreams.clients))


@router.get("/docs")
async def swagger() -> HTMLResponse:
    return swagger_page("/openapi.json", "Doorstep — API")


@router.get("/docs/oauth2-redirect")
async def swagger_redirect() -> HTMLResponse:
    return oauth2_redirect_page()


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return redoc_page("/openapi.json", "Doorstep — API reference")
