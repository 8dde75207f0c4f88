"""`tint` commands that run and look after the system: workers, the API, tokens, the database, retries.

They are registered on the main `tint` app by `studio.cli`; each is a few lines calling workers/ or db/.
"""

from __future__ import annotations

from typing import Annotated

import typer

from studio.runner import console, context, err_console, friendly

__all__ = ["ops_app", "db_app", "token_app"]

ops_app = typer.Typer()
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for `tint serve` (stored hashed; shown once).", no_args_is_help=True)


@ops_app.command()
def worker(
    queues: Annotated[str, typer.Option(help="Comma-separated queues to consume.")] = "gpu,cpu",
    concurrency: Annotated[int, typer.Option(help="Worker processes (1 per GPU).")] = 1,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, solo or threads.")] = "prefork",
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "INFO",
    hostname: Annotated[
        str, typer.Option(help="Worker node name; unique per worker process on a host.")
    ] = "",
    metrics_port: Annotated[int, typer.Option(help="Serve Prometheus metrics on this port (0: off).")] = 0,
) -> None:
    """Run a Celery worker for Tint's jobs (it also beats and reconciles stranded jobs)."""
    import os
    import tempfile

    from workers.settings import get_settings

    settings = get_settings()  # the one Settings the worker's context and models read

    if metrics_port and pool == "prefork" and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Set before prometheus_client is imported: pool processes write samples the main process serves.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tint-metrics-")
    import workers.embedded  # noqa: F401  (registers the heartbeat signals)
    from workers import metrics
    from workers.celery_app import app as celery_app
    from workers.logs import configure_logging

    configure_logging(fmt=settings.log_format, level=loglevel)
    from workers.context import get_context

    get_context().storage  # noqa: B018 - open the asset store now: a misconfigured one fails the start
    if metrics_port:
        metrics.serve_metrics(metrics_port)
    extra = ["--hostname", hostname] if hostname else []
    celery_app.worker_main(
        [
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "--pool",
            pool,
            "-l",
            loglevel,
            "--without-gossip",
            "--without-mingle",
            *extra,
        ]
    )


@ops_app.command()
@friendly
def reconcile() -> None:
    """Re-enqueue jobs left queued or running past their deadline."""
    from workers.submit import reconcile as reconcile_jobs

    console.print(f"re-enqueued {reconcile_jobs(context())} jobs")


@ops_app.command()
@friendly
def retry(job_id: Annotated[int, typer.Argument(help="A failed or cancelled job to run again.")]) -> None:
    """Queue a failed job again."""
    from workers.submit import retry_job

    retry_job(context(), job_id)
    console.print(f"job {job_id} queued again")


@ops_app.command()
@friendly
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the HTTP API and the review page (/review); on the embedded default its worker runs in-process."""
    from studio.api.tokens import serve as serve_api

    console.print(f"Tint API and review page on http://{host}:{port}/review (Ctrl+C stops)")
    serve_api(context(), host=host, port=port)


@token_app.command("create")
@friendly
def token_create(
    name: Annotated[str, typer.Argument(help="Who or what uses the token (a person, a pipeline).")],
    role: Annotated[str, typer.Option(help="submitter, lead or admin.")] = "submitter",
) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    from studio.api.tokens import issue_token

    token_id, secret = issue_token(context(), name=name, role=role)
    err_console.print(f"token {token_id} ({role}) for {name!r}; it is shown only now:")
    print(secret)


@db_app.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Bring the database schema to the latest migration."""
    from db.session import upgrade
    from workers.settings import get_settings

    url = get_settings().database_url
    upgrade(url)
    console.print(f"database at {url.split('@')[-1]} is up to date")
