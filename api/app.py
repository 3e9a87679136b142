"""The Starlette application factory."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from announcements.live import CountersFeed
from api.access_log import redact_access_log
from api.auth import TokenCodec
from api.billing_routes import billing_routes
from api.body_limit import BodySizeLimit
from api.dispatch_routes import dispatch_routes
from api.invoicing_routes import invoicing_routes
from api.eventbus import EventBus
from api.live import LiveGraphQL, live_routes
from api.pages import GRAPHIQL_HTML, STATIC_DIR
from api.request_errors import RETRY_AFTER_SECONDS, graphql_error_response
from api.security_headers import SecurityHeaders
from api.settings import Settings
from api.state import AppState, build_services, utc_now
from api.notification_channels import build_channels, sms_gateways
from api.notification_routes import notification_routes
from api.workers import SEND_CHECKS, AnnouncementReminders, DispatchWorker, DunningWorker, InProcessWorker, OutboxRelay
from db.migrate import refresh_planner_statistics, upgrade_to_head
from db.personal_data import PersonalDataCipher
from db.pool import FairAsyncPool
from db.session import create_engine, create_session_factory, is_sqlite
from dispatch.live import LiveFeed
from notifications.live import InboxFeed
from schema.faults import SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE, database_unavailable

__all__ = ["create_app"]

log = logging.getLogger("courtyard")


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    state: AppState = request.app.state.courtyard
    try:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database means "not ready"
        log.warning("readiness check failed: %s", error.__class__.__name__)
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return JSONResponse({"status": "ok", "database": "ok"})


async def service_unavailable(connection: HTTPConnection, error: Exception) -> Response:
    """The routes outside GraphQL (receipts, attachments, payment notifications) answer an unreachable
    database as GraphQL does: 503 and when to retry. Any other error stays a bug."""
    if not isinstance(connection, Request) or not database_unavailable(error):
        raise error
    log.warning("database unavailable: %s: %s", error.__class__.__name__, error)
    return graphql_error_response(
        connection.headers,
        503,
        SERVICE_UNAVAILABLE,
        UNAVAILABLE_MESSAGE,
        extra_headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


_BACKGROUND_JOBS_IN_PROCESS = (
    "background jobs (SLA timers, escalation, queue re-planning, maintenance, dunning, the notification outbox) run in"
    " this process"
)
_BACKGROUND_JOBS_ELSEWHERE = (
    "no background jobs run in this process: SLA timers, escalation, queue re-planning, dunning and the"
    " notification outbox need `courtyard worker` processes"
)


# A SQLite connection is a thread of aiosqlite's, and the threads contend for the interpreter with the
# event loop: under 32 concurrent requests a page cost 1.5 to 2 times the CPU of the same page served one
# at a time with SQLAlchemy's 5 (+ 10) connections, and 1.2 times with two (the writer, one at a time
# under `db.unit_of_work`, and a reader, or two readers: WAL lets them all run at once). No request path
# holds one connection while it waits for another, so a request beyond them waits its turn.
SQLITE_CONNECTIONS = 2


def _engine_options(settings: Settings) -> dict[str, object]:
    # Both databases keep a fixed set of connections, handed out first come, first served.
    fixed_pool: dict[str, object] = {"poolclass": FairAsyncPool, "max_overflow": 0}
    # asyncpg waits 60 s for a server that accepts the connection but never answers; SQLite's `timeout` is
    # its lock wait instead, and opening a file fails at once anyway.
    if is_sqlite(settings.database_url):
        return {**fixed_pool, "pool_size": SQLITE_CONNECTIONS}
    # On PostgreSQL, fixed: SQLAlchemy's overflow connections are closed as they come back whenever the pool is
    # full, so a load that hovers around the pool's size (32 requests at once against 20 kept) opened a
    # connection, a PostgreSQL backend, for ~20 requests a second, and the bills page served a third fewer
    # requests. A request that finds every connection in use waits for the next one to come back; one
    # that waits longer than it would for a new connection answers SERVICE_UNAVAILABLE (`schema.faults`):
    # while PostgreSQL stalls, the pool's connections are all stuck connecting, and the requests queued
    # behind them are told as soon as the first ones are, not after SQLAlchemy's 30 s.
    connect_timeout = settings.database_connect_timeout.total_seconds()
    return {
        **fixed_pool,
        "connect_args": {"timeout": connect_timeout},
        "pool_size": settings.database_pool_size,
        "pool_timeout": connect_timeout,
    }


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], dt.datetime] = utc_now,
    migrate: bool | None = None,
    background_jobs: bool | None = None,
) -> Starlette:
    """Build the service. `migrate` defaults to True on the embedded SQLite database only; production
    PostgreSQL deployments run `courtyard migrate` as a separate step. `background_jobs` (SLA checks,
    preventive maintenance, queue re-planning, the notification outbox's relay) follows `migrate`: the
    embedded default runs them in-process, production runs `courtyard worker`."""
    settings = settings or Settings.from_env()
    should_migrate = is_sqlite(settings.database_url) if migrate is None else migrate
    run_jobs = should_migrate if background_jobs is None else background_jobs

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, **_engine_options(settings))
        if should_migrate:
            await upgrade_to_head(engine)
            await refresh_planner_statistics(engine)
        event_bus = EventBus(settings.broadcast_url)
        await event_bus.start()
        session_factory = create_session_factory(engine)
        live_feed = LiveFeed(event_bus, session_factory)
        channels = build_channels(settings)
        cipher = PersonalDataCipher(settings.secret_key)
        app.state.courtyard = AppState(
            settings=settings,
            engine=engine,
            session_factory=session_factory,
            cipher=cipher,
            tokens=TokenCodec(settings.secret_key, settings.token_ttl),
            clock=clock,
            services=build_services(
                settings,
                publisher=event_bus,
                live_feed=live_feed,
                inbox_feed=InboxFeed(event_bus, session_factory),
                announcement_feed=CountersFeed(event_bus, session_factory),
            ),
            notification_channels=channels,
            sms_gateways=sms_gateways(channels),
        )
        workers = (
            [
                InProcessWorker(DispatchWorker(session_factory, clock=clock, publisher=event_bus)),
                InProcessWorker(DunningWorker(session_factory, clock=clock), name="courtyard-dunning"),
                InProcessWorker(
                    OutboxRelay(
                        session_factory,
                        channels,
                        clock=clock,
                        cipher=cipher,
                        publisher=event_bus,
                        interval=settings.outbox_interval,
                        still_wanted=SEND_CHECKS,
                    ),
                    name="courtyard-outbox-relay",
                ),
                InProcessWorker(
                    AnnouncementReminders(session_factory, clock=clock), name="courtyard-announcement-reminders"
                ),
            ]
            if run_jobs
            else []
        )
        log.info(_BACKGROUND_JOBS_IN_PROCESS if run_jobs else _BACKGROUND_JOBS_ELSEWHERE)
        try:
            yield
        finally:
            for worker in workers:
                await worker.stop()
            for channel in channels.values():
                await channel.aclose()
            await live_feed.aclose()
            await event_bus.stop()
            await engine.dispose()

    graphql = LiveGraphQL(
        production=settings.is_production,
        allowed_origins=settings.allowed_origins,
        graphiql_html=None if settings.is_production else GRAPHIQL_HTML,
    )
    redact_access_log()
    routes = [
        # Every method reaches the endpoint, which answers those it does not serve in GraphQL's shape.
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        *billing_routes(),
        *dispatch_routes(),
        *notification_routes(),
        *invoicing_routes(),
        *live_routes(),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        # Before the size cap, so that a browser on an allowed origin can read a 413 too.
        Middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After"],
            # Bearer tokens travel in a header; no cookie ever authenticates a request.
            allow_credentials=False,
            max_age=600,
        ),
        Middleware(
            BodySizeLimit, max_body_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes
        ),
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={OSError: service_unavailable, SQLAlchemyError: service_unavailable},
        lifespan=lifespan,
    )
