"""`serve`: the model over HTTP (docs/serving.md), an ASGI application (Starlette) on uvicorn.

It serves what `label` uses, the promoted model (else the trained outputs), through the one
prediction path (`predict.Predictor`), so served scores are evaluate's. The model is loaded in a
worker thread and swapped whole on reload (SIGHUP or POST /v1/reload): a request keeps the model
it started with, and a model that fails to load leaves the old one serving. Every endpoint but
/healthz and /readyz takes `Authorization: Bearer <token>`, the tokens read from the environment.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import anyio
import numpy as np
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .core.config import Config
from .core.errors import PipelineError
from .predict import Model, Predictor, precision_levels, threshold_key, trained

TOKENS, TOKENS_FILE = "SERVE_TOKENS", "SERVE_TOKENS_FILE"  # comma-separated tokens | a file, one a line
MIN_TOKEN_LENGTH = 16
BINARY = "application/octet-stream"  # /v1/embed: little-endian float32, one row per issue


class ServeError(PipelineError):
    """The service cannot start; the message says why."""


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class ReloadFailed(Exception):
    """A model did not load; the one before it keeps serving."""


def read_tokens(environ=os.environ) -> list[str]:
    """The accepted bearer tokens: $SERVE_TOKENS, or the lines of the file $SERVE_TOKENS_FILE names
    (a mounted secret). Several allow a rotation; none: [] (the caller decides)."""
    if environ.get(TOKENS) and environ.get(TOKENS_FILE):
        raise ServeError(f"{TOKENS}, {TOKENS_FILE}: expected one of them set; found both")
    if environ.get(TOKENS_FILE):
        path = Path(environ[TOKENS_FILE])
        if not path.is_file():
            raise ServeError(f"{TOKENS_FILE}: expected a file of tokens, one a line; found no file {path}")
        where, tokens = f"{TOKENS_FILE} ({path})", path.read_text(encoding="utf-8").splitlines()
    else:
        where, tokens = TOKENS, environ.get(TOKENS, "").split(",")
    tokens = [token.strip() for token in tokens if token.strip()]
    short = [token for token in tokens if len(token) < MIN_TOKEN_LENGTH]
    if short:
        raise ServeError(
            f"{where}: expected tokens of at least {MIN_TOKEN_LENGTH} characters (make one with "
            f"`python -c 'import secrets; print(secrets.token_urlsafe(32))'`); found {len(short)} shorter"
        )
    return tokens


def authorised(header: str | None, tokens: list[str]) -> bool:
    """A valid `Bearer <token>`, compared in constant time with every token (no early exit)."""
    scheme, _, given = (header or "").partition(" ")
    given_bytes = given.strip().encode()
    matches = [hmac.compare_digest(given_bytes, token.encode()) for token in tokens]
    return scheme.lower() == "bearer" and any(matches)


@dataclass(frozen=True)
class Loaded:
    """A model ready to serve, and what /v1/model says of it."""

    predictor: Predictor
    info: dict

    @property
    def version(self) -> str:
        return self.info["version"]


def load(config: Config) -> Loaded:
    """The promoted model (what `label` uses), else the trained outputs; warmed up, so that the
    first request does not pay for setting up the encoder's kernels."""
    from .promote import promoted

    model: Model = promoted(config) or trained(config)
    saved = model.deployed()
    predictor = Predictor(model, saved)
    length = 16
    while length < 2 * model.layout.sequence_length:  # each padded length (encoder.bucketed) once
        predictor.scores([{"title": "word " * (length - 8)}])
        length *= 2
    card = model.card or {}
    info = {
        "version": model.version or "trained",  # "trained": the pipeline's outputs, not promoted
        "promoted": model.version is not None,
        "promoted_at": card.get("promoted_at"),
        "commit": card.get("commit"),
        "model": saved["model"],
        "baseline_weight": saved["baseline_weight"],
        "labels": {
            label["name"]: {"slug": slug, "threshold": label["threshold"], "by_precision": label["by_precision"]}
            for slug, label in saved["labels"].items()
        },
        "precision_levels": precision_levels(saved),
        "test_metrics": model.test_metrics(),
        "dimension": int(predictor.embed([""]).shape[1]),
        **model.settings(),
        "loaded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return Loaded(predictor, info)


class Metrics:
    """The service's Prometheus metrics, in a registry of its own."""

    def __init__(self):
        self.registry = CollectorRegistry()
        prefix = __package__
        self.requests = Counter(f"{prefix}_requests", "HTTP requests", ["endpoint", "status"], registry=self.registry)
        self.errors = Counter(
            f"{prefix}_errors", "requests answered 4xx or 5xx", ["endpoint", "status"], registry=self.registry
        )
        self.latency = Histogram(
            f"{prefix}_request_seconds", "time to answer a request", ["endpoint"], registry=self.registry,
            buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10),
        )  # fmt: skip
        self.batch = Histogram(
            f"{prefix}_batch_size", "issues a request carried", ["endpoint"], registry=self.registry,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
        )  # fmt: skip
        self.model = Gauge(f"{prefix}_model_info", "the model served (1)", ["version"], registry=self.registry)
        self.reloads = Counter(f"{prefix}_reloads", "model reloads", ["result"], registry=self.registry)


class Service:
    """The model being served, swapped whole by `reload` (one at a time)."""

    def __init__(self, loader: Callable[[], Loaded]):
        self.loader, self.current = loader, None
        self.metrics = Metrics()
        self._reloading = threading.Lock()

    def reload(self) -> str:
        """Load the model again (a newly promoted one); on failure the current one keeps serving.
        Either way the server's log says so, whoever asked (start-up, SIGHUP, /v1/reload)."""
        if not self._reloading.acquire(blocking=False):
            raise BadRequest(409, "reload: another reload is in progress; try again when it ends")
        previous = self.current
        try:
            new = self.loader()
        except Exception as error:  # any failure to load: the old model is still good
            self.metrics.reloads.labels("failed").inc()
            kept = f"; still serving version {previous.version}" if previous else ""
            failed = ReloadFailed(f"reload: the model did not load: {error}{kept}")
            print(f"error: {failed}", file=sys.stderr, flush=True)
            raise failed from error
        finally:
            self._reloading.release()
        self.current = new
        if previous:
            self.metrics.model.remove(previous.version)
        self.metrics.model.labels(new.version).set(1)
        self.metrics.reloads.labels("loaded").inc()
        message = f"serving version {new.version}" + (f" (was {previous.version})" if previous else "")
        print(f"serve: {message}", file=sys.stderr, flush=True)
        return message


def _found(value) -> str:
    """A JSON value, as an error message names what it found."""
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    kind = kinds.get(type(value), "a number")
    shown = json.dumps(value, ensure_ascii=False)
    return kind if value is None or isinstance(value, dict | list) or len(shown) > 40 else f"{kind} ({shown})"


def _issue(value, where: str) -> dict:
    field = f"{where}." if where else ""
    if not isinstance(value, dict):
        raise BadRequest(
            422, f"{where or 'request body'}: expected an object with title and body; found {_found(value)}"
        )
    if "title" not in value:
        raise BadRequest(422, f"{field}title: expected a string; found no title")
    for key, required in (("title", True), ("body", False)):
        if key in value and not isinstance(value[key], str) and (required or value[key] is not None):
            raise BadRequest(422, f"{field}{key}: expected a string; found {_found(value[key])}")
    number = value.get("number")
    if number is not None and (not isinstance(number, int) or isinstance(number, bool)):
        raise BadRequest(
            422, f"{field}number: expected an integer (the issue's number) or nothing; found {_found(number)}"
        )
    return {"number": number, "title": value["title"], "body": value.get("body") or ""}


def parse_issues(data, max_batch: int) -> list[dict]:
    """One issue ({title, body}) or a batch ({issues: [...]}), checked field by field."""
    if isinstance(data, dict) and "issues" in data:
        if "title" in data or "body" in data:
            raise BadRequest(422, "request body: expected one issue (title, body) or a batch (issues); found both")
        batch = data["issues"]
        if not isinstance(batch, list):
            raise BadRequest(422, f"issues: expected a list of issues; found {_found(batch)}")
        if not 1 <= len(batch) <= max_batch:
            raise BadRequest(422, f"issues: expected 1 to {max_batch} issues; found {len(batch)}")
        return [_issue(issue, f"issues[{i}]") for i, issue in enumerate(batch)]
    return [_issue(data, "")]


async def read_json(request: Request, limit: int):
    """The request's JSON body, at most `limit` bytes, strictly UTF-8 (whatever Content-Type says:
    `curl -d` sends JSON as a form)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BadRequest(413, f"request body: expected at most {limit} bytes; found {declared}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BadRequest(413, f"request body: expected at most {limit} bytes; found more")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(
            400, f"request body: expected UTF-8; found an invalid byte at position {error.start}"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        found = "nothing" if not text.strip() else f"{error.msg} at line {error.lineno} column {error.colno}"
        raise BadRequest(400, f"request body: expected JSON; found {found}") from None
    except RecursionError:
        raise BadRequest(
            400, "request body: expected an issue or a batch of issues; found JSON nested too deeply"
        ) from None


def create_app(config: Config, tokens: list[str] | None, service: Service | None = None) -> Starlette:
    """The application; `tokens` None: no auth (--insecure-no-auth)."""
    service = service or Service(lambda: load(config))
    metrics, options = service.metrics, config.serve

    def endpoint(name: str, handler: Callable[[Request], Awaitable[Response]], auth: bool = True):
        async def handle(request: Request) -> Response:
            start = time.perf_counter()
            try:
                if auth and tokens is not None and not authorised(request.headers.get("authorization"), tokens):
                    raise BadRequest(401, "unauthorized: expected the header Authorization: Bearer <token>")
                response = await handler(request)
            except BadRequest as error:
                response = _error(error.status, str(error))
            except ReloadFailed as error:  # logged by Service.reload
                response = _error(500, str(error))
            except Exception as error:  # a bug: this request fails, the server keeps serving
                print(f"error: {name}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
                response = _error(500, f"{name}: internal error; the server's log has the details")
            if response.status_code == 401:
                response.headers["WWW-Authenticate"] = "Bearer"
            metrics.requests.labels(name, str(response.status_code)).inc()
            if response.status_code >= 400:
                metrics.errors.labels(name, str(response.status_code)).inc()
            metrics.latency.labels(name).observe(time.perf_counter() - start)
            return response

        return handle

    def ready() -> Loaded:
        if service.current is None:
            raise BadRequest(503, "the model is loading; retry when /readyz answers 200")
        return service.current

    async def issues_of(request: Request, name: str) -> tuple[Loaded, dict, list[dict]]:
        loaded = ready()  # the model this request uses to the end, whatever a reload does meanwhile
        data = await read_json(request, options.max_request_bytes)
        issues = parse_issues(data, options.max_batch)
        metrics.batch.labels(name).observe(len(issues))
        return loaded, data, issues

    async def predict(request: Request) -> Response:
        loaded, data, issues = await issues_of(request, "predict")
        precision = data.get("precision")
        if precision is not None and (not isinstance(precision, int | float) or isinstance(precision, bool)):
            raise BadRequest(422, f"precision: expected a number, one of the stored levels; found {_found(precision)}")
        try:
            key = threshold_key({"labels": loaded.predictor.thresholds}, precision, "precision")
        except PipelineError as error:
            raise BadRequest(422, str(error)) from None
        results = await anyio.to_thread.run_sync(loaded.predictor.predict, issues, key)
        return JSONResponse({"model": loaded.version, "precision": key and float(key), "issues": results})

    async def embed(request: Request) -> Response:
        loaded, _, issues = await issues_of(request, "embed")
        texts = loaded.predictor.normalise(issues)
        vectors = await anyio.to_thread.run_sync(loaded.predictor.embed, texts)
        if BINARY in request.headers.get("accept", ""):
            headers = {"X-Model-Version": loaded.version, "X-Embedding-Dimension": str(vectors.shape[1]),
                       "X-Embedding-Count": str(len(vectors))}  # fmt: skip
            return Response(np.asarray(vectors, "<f4").tobytes(), media_type=BINARY, headers=headers)
        return JSONResponse({"model": loaded.version, "dimension": int(vectors.shape[1]),
                             "embeddings": np.asarray(vectors, "float32").tolist()})  # fmt: skip

    async def model(request: Request) -> Response:
        return JSONResponse(ready().info)

    async def reload(request: Request) -> Response:
        message = await anyio.to_thread.run_sync(service.reload)
        return JSONResponse({"status": message, "version": service.current.version})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> Response:
        loaded = ready()
        return JSONResponse({"status": "ready", "version": loaded.version})

    async def prometheus(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(app):
        loop = asyncio.get_running_loop()

        async def first_load():
            try:
                await anyio.to_thread.run_sync(service.reload)
            except ReloadFailed:  # nothing to serve: stop the server, exit non-zero
                app.state.failed = True
                os.kill(os.getpid(), signal.SIGTERM)

        def on_sighup():
            async def again():
                try:
                    await anyio.to_thread.run_sync(service.reload)
                except BadRequest as error:  # another reload runs
                    print(f"error: {error}", file=sys.stderr, flush=True)
                except ReloadFailed:  # logged; the old model serves on
                    pass

            loop.create_task(again())

        task = loop.create_task(first_load())
        loop.add_signal_handler(signal.SIGHUP, on_sighup)
        try:
            yield
        finally:
            loop.remove_signal_handler(signal.SIGHUP)
            task.cancel()

    routes = [
        Route("/v1/predict", endpoint("predict", predict), methods=["POST"]),
        Route("/v1/embed", endpoint("embed", embed), methods=["POST"]),
        Route("/v1/model", endpoint("model", model), methods=["GET"]),
        Route("/v1/reload", endpoint("reload", reload), methods=["POST"]),
        Route("/healthz", endpoint("healthz", healthz, auth=False), methods=["GET"]),
        Route("/readyz", endpoint("readyz", readyz, auth=False), methods=["GET"]),
        Route("/metrics", endpoint("metrics", prometheus), methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: _not_found, 405: _not_allowed})
    app.state.service, app.state.failed = service, False
    return app


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _not_found(request: Request, exc) -> Response:
    return _error(404, f"{request.url.path}: no such endpoint; expected /v1/predict, /v1/embed, /v1/model, "
                       "/v1/reload, /healthz, /readyz or /metrics")  # fmt: skip


async def _not_allowed(request: Request, exc) -> Response:
    return _error(405, f"{request.url.path}: {request.method} not allowed")


def serve(config: Config, host: str | None, port: int | None, insecure: bool) -> str:
    """Run the service until SIGTERM or CTRL-C."""
    import uvicorn

    tokens = read_tokens()
    if not tokens and not insecure:
        raise ServeError(
            f"{TOKENS}: expected the bearer tokens clients send (or {TOKENS_FILE}: a file of them); found "
            "neither; for local use only, `serve --insecure-no-auth` serves without auth"
        )
    from .promote import promoted

    (promoted(config) or trained(config)).deployed()  # no model at all: say so before the server starts
    host, port = host or config.serve.host, port or config.serve.port
    if insecure:
        print(f"warning: serving without auth on {host}:{port} (--insecure-no-auth)", file=sys.stderr)
    app = create_app(config, None if insecure else tokens)
    print(f"serve: http://{host}:{port} (/readyz answers 200 once the model is loaded)", file=sys.stderr, flush=True)
    # uvicorn stops gracefully on SIGTERM, then raises it again for the handler it found: a stop, not an error
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    if app.state.failed:
        raise ServeError("serve: stopped: the model did not load (the error above says why)")
    return "serve: stopped"
