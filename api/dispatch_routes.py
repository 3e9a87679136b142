"""HTTP routes of repair dispatch outside GraphQL: ticket photos and videos, served only to those who may
see the ticket."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from api.auth import TokenClaims, bearer_token
from api.state import AppState
from dispatch.attachments import MediaStore
from dispatch.queries import get_attachment_for
from kernel.errors import NotFound
from register.accounts import load_principal
from schema.ids import database_id

__all__ = ["dispatch_routes"]


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _not_found() -> JSONResponse:
    return _error(404, "NOT_FOUND", "No such attachment.")


def _caller(
    request: Request, state: AppState, media: MediaStore, attachment_id: int
) -> tuple[int, TokenClaims | None] | None | Response:
    """The user asking and their token: from a signed link (`url` of an attachment, no token) or a bearer token."""
    now = state.clock()
    query = request.query_params
    if "signature" in query:
        user_id = database_id(query.get("user", ""))
        try:
            expires = int(query.get("expires", ""))
        except ValueError:
            return _not_found()
        if user_id is None:
            return _not_found()
        if expires < now.timestamp() or not media.verify(attachment_id, user_id, expires, query["signature"]):
            return _error(403, "FORBIDDEN", "The link is invalid or has expired; ask for the ticket again.")
        return user_id, None
    token = bearer_token(request.headers)
    claims = state.tokens.verify(token) if token else None
    if claims is None or claims.expires_at <= now:
        return None
    return claims.user_id, claims


async def attachment_file(request: Request) -> Response:
    """GET /attachments/<id>: the file, to whoever may see its ticket (signed link or bearer token)."""
    state: AppState = request.app.state.courtyard
    media = state.services.media_store
    attachment_id = database_id(str(request.path_params["attachment_id"]))
    if attachment_id is None:
        return _not_found()
    caller = _caller(request, state, media, attachment_id)
    if isinstance(caller, Response):
        return caller
    if caller is None:
        return _error(401, "UNAUTHENTICATED", "Send `Authorization: Bearer <token>` or use the attachment's url.")
    user_id, claims = caller
    async with state.session_factory() as session:
        principal = await load_principal(session, user_id, today=state.clock().date(), token=claims)
    if principal is None:
        if claims is not None:
            return _error(401, "UNAUTHENTICATED", "The token was revoked: log in again.")
        return _not_found()
    try:
        attachment = await get_attachment_for(state.session_factory, principal, attachment_id=attachment_id)
    except NotFound:
        return _not_found()
    try:
        path = media.path_of(attachment.storage_path)
    except ValueError:
        return _not_found()
    if not path.is_file():
        return _not_found()
    return FileResponse(
        path,
        media_type=attachment.mime_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(attachment.file_name)}",
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
        },
    )


def dispatch_routes() -> list[Route]:
    return [Route("/attachments/{attachment_id:int}", attachment_file, methods=["GET"])]
