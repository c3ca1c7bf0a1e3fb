"""The Starlette application of ``bposim serve``: one page and a small JSON API.

Endpoints (all JSON, bodies capped; a mistake is a 400 with ``error`` and, for a
scenario, ``problems`` with file, field path and line):

- ``GET /`` the page; ``GET /static/...`` its script and style (package data)
- ``GET /api/scenarios`` scenario files in the served directory and uploads
- ``GET /api/scenario?key=NAME`` the controls a scenario offers, with base values
- ``POST /api/upload`` ``{filename, text}``: validate and keep an uploaded scenario
- ``POST /api/erlang`` ``{scenario, values}``: the Erlang figures of a variant (instant)
- ``POST /api/runs`` ``{scenario, values, label}``: queue a run; ``GET /api/runs``,
  ``GET /api/runs/ID``, ``POST /api/runs/ID/cancel``, ``DELETE /api/runs/ID``
- ``POST /api/runs/ID/save`` ``{name}``: write the variant's scenario and results

Requests must come to a loopback host name (or the one served on) and send JSON
with its content type, so other web sites cannot drive the page.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bposim.errors import BposimError, ScenarioError
from bposim.serve import controls
from bposim.serve.jobs import Jobs
from bposim.serve.library import MAX_UPLOAD_BYTES, Library

STATIC = Path(__file__).parent / "static"
MAX_BODY = MAX_UPLOAD_BYTES + 64 * 1024
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _error(exc: Exception) -> JSONResponse:
    if isinstance(exc, ScenarioError):
        problems = [{"file": p.file, "path": p.path, "line": p.line, "message": p.message}
                    for p in exc.problems]
        return JSONResponse({"error": "the scenario has problems", "problems": problems}, 400)
    return JSONResponse({"error": str(exc)}, getattr(exc, "status", 400))


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


async def _body(request: Request) -> dict:
    """The request's JSON object, refusing other content types and bodies over the cap."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest("send JSON with Content-Type: application/json", 415)
    declared = request.headers.get("content-length")
    if declared and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise BadRequest(f"the request is larger than {MAX_BODY // 1024} KiB", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BadRequest(f"the request is larger than {MAX_BODY // 1024} KiB", 413)
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks) or b"{}", parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    return data


class SecurityHeaders:
    """ASGI middleware: every response forbids outside content and caching."""

    HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store")]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.HEADERS]}
            await send(message)
        await self.app(scope, receive, send_with_headers)


def _job_id(request: Request) -> int:
    text = request.path_params["job"]
    if not text.isdigit() or len(text) > 9:
        raise BadRequest(f"no variant {text!r}", 404)
    return int(text)


def create_app(root: str | Path, *, host: str = "127.0.0.1", workers: int = 1,
               executor: str = "serial", extra_hosts: tuple[str, ...] = ()) -> Starlette:
    """The what-if application serving the scenarios in ``root``."""
    library = Library(root)
    jobs = Jobs(workers=workers, executor=executor)

    def guarded(handler):
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except (BposimError, BadRequest) as exc:
                return _error(exc)
        return endpoint

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    async def scenarios(request: Request) -> Response:
        names = await run_in_threadpool(library.names)
        uploads = [{"key": e.key, "name": e.source} for e in library.uploads()]
        return JSONResponse({"directory": library.root.name, "files": names, "uploads": uploads})

    async def scenario(request: Request) -> Response:
        entry = await run_in_threadpool(library.get, request.query_params.get("key", ""))
        return JSONResponse(controls.describe(entry))

    async def upload(request: Request) -> Response:
        body = await _body(request)
        text = body.get("text")
        if not isinstance(text, str):
            raise BadRequest("upload needs the scenario as text")
        entry = await run_in_threadpool(library.upload, str(body.get("filename") or ""), text)
        return JSONResponse(controls.describe(entry))

    def _variant(body: dict):
        entry = library.get(body.get("scenario", ""))
        values = body.get("values") or {}
        if not isinstance(values, dict):
            raise BadRequest("values must be a JSON object")
        return entry, controls.variant(library, entry, values), values

    async def erlang(request: Request) -> Response:
        body = await _body(request)

        def compute():
            from bposim.serve.views import erlang_figures
            _entry, variant, _values = _variant(body)
            return {"erlang": erlang_figures(variant.scenario), "settings": variant.settings}
        return JSONResponse(await run_in_threadpool(compute))

    async def runs(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse([j.state() for j in jobs.all()])
        body = await _body(request)
        label = body.get("label") or ""
        if not isinstance(label, str) or len(label) > 80:
            raise BadRequest("label must be text of at most 80 characters")
        entry, variant, values = await run_in_threadpool(_variant, body)
        job = jobs.submit(entry, variant, label.strip(), values)
        return JSONResponse(job.state(), 202)

    async def one_run(request: Request) -> Response:
        job_id = _job_id(request)
        if request.method == "DELETE":
            jobs.remove(job_id)
            return Response(status_code=204)
        return JSONResponse(jobs.get(job_id).state())

    async def cancel(request: Request) -> Response:
        await _body(request)
        return JSONResponse(jobs.cancel(_job_id(request)).state())

    async def save(request: Request) -> Response:
        body = await _body(request)
        name = body.get("name") or ""
        if not isinstance(name, str) or len(name) > 80:
            raise BadRequest("name must be text of at most 80 characters")
        saved = await run_in_threadpool(jobs.save, _job_id(request), library, name)
        return JSONResponse(saved, 201)

    @asynccontextmanager
    async def lifespan(app):
        yield
        await run_in_threadpool(jobs.close)

    routes = [
        Route("/", page),
        Route("/api/scenarios", guarded(scenarios)),
        Route("/api/scenario", guarded(scenario)),
        Route("/api/upload", guarded(upload), methods=["POST"]),
        Route("/api/erlang", guarded(erlang), methods=["POST"]),
        Route("/api/runs", guarded(runs), methods=["GET", "POST"]),
        Route("/api/runs/{job}", guarded(one_run), methods=["GET", "DELETE"]),
        Route("/api/runs/{job}/cancel", guarded(cancel), methods=["POST"]),
        Route("/api/runs/{job}/save", guarded(save), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    # a wildcard address is reached by any of the machine's names: accept them all
    hosts = ["*"] if host in ("0.0.0.0", "::") else sorted({*LOOPBACK, host.strip("[]"), *extra_hosts})
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
                                Middleware(SecurityHeaders)])
    app.state.library, app.state.jobs = library, jobs
    return app
