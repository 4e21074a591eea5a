"""`twin serve`, `twin token` and `twin audit`: the twin as an authenticated HTTP service."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from twin.commands.common import fail, read_scenario

__all__ = ["audit_app", "serve", "token_app"]

DataDir = Annotated[Path, typer.Option("--data", help="The service's folder: tokens, audit log, models, runs.")]
DEFAULT_DATA = Path("twin-service")

token_app = typer.Typer(help="Create and revoke the service's bearer tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="Check the service's audit log.", no_args_is_help=True)


def _folder_problems(option: str, path: Path | None) -> list[str]:
    if path is not None and path.exists() and not path.is_dir():
        return [f"{option}: not a folder (got {path})"]
    return []


def serve(
    host: Annotated[str, typer.Option(help="Address to bind; loopback unless told otherwise.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    data: DataDir = DEFAULT_DATA,
    runs: Annotated[Path | None, typer.Option(help="Run store of HTTP runs (default: DATA/runs).")] = None,
    models: Annotated[Path | None, typer.Option(help="Model registry (default: DATA/models).")] = None,
    max_body: Annotated[int, typer.Option(min=1, help="Largest request body in bytes (413 beyond).")] = 1_000_000,
    budget: Annotated[
        float, typer.Option(min=1, help="Largest replications x horizon x stations per request (422 beyond).")
    ] = 1e9,
    rate: Annotated[float, typer.Option(min=0.001, help="Requests per second per token (429 beyond).")] = 20.0,
    burst: Annotated[int, typer.Option(min=1, help="Requests a token may make at once.")] = 40,
    job_timeout: Annotated[float, typer.Option(min=0.1, help="Seconds a run or sweep job may take.")] = 600.0,
    queue_limit: Annotated[int, typer.Option(min=1, help="Jobs waiting or running at once (429 beyond).")] = 16,
    workers: Annotated[int, typer.Option(min=1, help="Jobs running at once, each in its own process.")] = 1,
    scenario: Annotated[
        Path | None, typer.Option(help="The plant the service follows: decisions and forecasts default to it.")
    ] = None,
    mirror_state: Annotated[
        Path | None,
        typer.Option(help="Plant-state file a live mirror keeps current (twin mirror --state-out); needs --scenario."),
    ] = None,
) -> None:
    """Serve the twin over HTTP: runs, sweeps, decisions and models behind bearer tokens (OpenAPI at /docs)."""
    problems = [
        *_folder_problems("--data", data),
        *_folder_problems("--runs", runs),
        *_folder_problems("--models", models),
    ]
    if mirror_state is not None and scenario is None:
        problems.append("--mirror-state: needs --scenario (the plant the mirror follows)")
    if problems:
        fail(problems)
    if scenario is not None:
        read_scenario(scenario, None)
    import uvicorn

    from twin.service.app import create_app
    from twin.service.config import ServiceConfig

    config = ServiceConfig(
        data=data,
        runs=runs,
        models=models,
        max_body=max_body,
        budget=budget,
        rate=rate,
        burst=burst,
        job_timeout=job_timeout,
        queue_limit=queue_limit,
        workers=workers,
        scenario=scenario,
        mirror_state=mirror_state,
    )
    uvicorn.run(create_app(config), host=host, port=port, log_level="info")


@token_app.command("create")
def create_token(
    role: Annotated[str, typer.Option(help="viewer, planner, operator or admin.", show_default=False)],
    name: Annotated[str | None, typer.Option(help="A name for the token (default: token-<id>).")] = None,
    data: DataDir = DEFAULT_DATA,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"token", "name", "role"}.')] = False,
) -> None:
    """Create a token and print it once; only its argon2 hash is stored."""
    from twin.service.roles import Role
    from twin.service.tokens import TokenError, TokenStore

    try:
        parsed = Role.parse(role)
    except ValueError as error:
        fail([f"--role: {error}"])
    problems = _folder_problems("--data", data)
    if problems:
        fail(problems)
    try:
        text, owner = TokenStore(data).create(parsed, name)
    except TokenError as error:
        fail([str(error)])
    if as_json:
        sys.stdout.write(json.dumps({"token": text, "name": owner.name, "role": owner.role.label}) + "\n")
    else:
        typer.echo(text)
        typer.echo(f"token {owner.name} ({owner.role.label}): shown once, keep it safe", err=True)


@token_app.command("revoke")
def revoke_token(
    token: Annotated[str, typer.Argument(help="Name or id of the token.", show_default=False)],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Revoke a token (every live one of a name): a running service refuses it from its next request."""
    from twin.service.tokens import TokenError, TokenStore

    try:
        owners = TokenStore(data).revoke(token)
    except TokenError as error:
        fail([str(error)])
    for owner in owners:
        typer.echo(f"token {owner.name} ({owner.role.label}, id {owner.id}) revoked")


@audit_app.command("verify")
def verify_audit(data: DataDir = DEFAULT_DATA) -> None:
    """Check the audit log's hash chain: exit 0 when intact, 1 when a line was changed or deleted."""
    from twin.service.audit import verify_audit as check

    problems = _folder_problems("--data", data)
    if problems:
        fail(problems)
    found = check(data)
    for line in found.problems:
        typer.echo(line, err=True)
    if not found.intact:
        typer.echo(f"audit log: NOT intact ({len(found.problems)} problems in {found.lines} lines)")
        raise typer.Exit(1)
    typer.echo(f"audit log: intact ({found.lines} lines)")
