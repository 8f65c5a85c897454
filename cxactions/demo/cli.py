"""``cxactions demo``: the starter library plus a living demo organisation, in one command."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from cxactions.auth.services import UserError
from cxactions.config import PROJECT_ROOT
from cxactions.demo.progress import Progress
from cxactions.demo.services import (
    DemoOptions,
    database_unit_count,
    generate_demo,
    wipe_all,
)
from cxactions.foundations.extensions import db
from cxactions.impact.services import ImpactSettings, refresh_impact
from cxactions.library.seed_files import SeedError
from cxactions.search.service import rebuild_index
from cxactions.web.instance import initialise_instance

DEFAULT_PASSWORD = "demo-password"


class StderrProgress(Progress):
    """Step lines with the elapsed time, and a progress bar for the long writes, on stderr."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    def step(self, message: str) -> None:
        click.echo(f"[{time.perf_counter() - self.started:6.1f}s] {message}", err=True)

    @contextlib.contextmanager
    def bar(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        label = f"[{time.perf_counter() - self.started:6.1f}s] {label}"
        with click.progressbar(length=total, label=label, file=sys.stderr) as progress:
            yield progress.update


@click.command("demo")
@click.option(
    "--stores",
    type=click.IntRange(1, 20_000),
    default=120,
    show_default=True,
    help="Stores in the demo organisation.",
)
@click.option(
    "--weeks",
    type=click.IntRange(8, 520),
    default=104,
    show_default=True,
    help="Weeks of survey history, ending with last week.",
)
@click.option(
    "--seed",
    type=int,
    default=2024,
    show_default=True,
    help="Random seed: the same seed gives the same organisation.",
)
@click.option(
    "--seed-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The starter library folder [default: seed/ in the checkout].",
)
@click.option(
    "--reset",
    is_flag=True,
    help="Wipe every data table first (users included) instead of refusing.",
)
@click.option(
    "--if-empty",
    is_flag=True,
    help="Do nothing (and succeed) when the database already holds an organisation.",
)
@with_appcontext
def demo_command(
    stores: int, weeks: int, seed: int, seed_dir: Path | None, reset: bool, if_empty: bool
) -> None:
    """Load the starter library and generate a demo organisation with two years of history."""

    progress = StderrProgress()
    password = os.environ.get("CXACTIONS_PASSWORD") or DEFAULT_PASSWORD
    progress.step("Preparing the database schema and the search index")
    initialise_instance(db.session)
    session = db.session
    existing = database_unit_count(session)
    if existing and if_empty and not reset:
        click.echo(
            f"The database already holds {existing} units: keeping it "
            "(`cxactions demo --reset` generates the demo again)."
        )
        return
    if existing and not reset:
        raise click.ClickException(
            f"the database already holds {existing} units; run `cxactions demo --reset` to "
            "wipe every table and generate the demo again"
        )
    options = DemoOptions(
        seed_dir=seed_dir or PROJECT_ROOT / "seed",
        stores=stores,
        weeks=weeks,
        seed=seed,
        password=password,
    )
    try:
        if reset:
            progress.step("Wiping every data table (--reset)")
            wipe_all(session)
        result = generate_demo(session, options, progress)
        progress.step("Committing")
        session.commit()
    except (SeedError, UserError) as error:
        session.rollback()
        raise click.ClickException(str(error).replace("\n", " ")) from error
    except BaseException:
        session.rollback()
        raise
    progress.step("Rebuilding the search index")
    indexed = rebuild_index()
    progress.step("Estimating the impact of every adopted solution")
    run = refresh_impact(session, ImpactSettings.from_config(current_app.config), trigger="demo")
    progress.step("Done")

    click.echo(
        f"Demo organisation ready: {result.stores} stores in {result.districts} districts and "
        f"{result.regions} regions; {result.responses:,} survey responses from "
        f"{result.first_week:%Y-%m-%d} to the week of {result.last_week:%Y-%m-%d}; "
        f"{result.adoptions} plan items using {result.solutions_adopted} library solutions; "
        f"{indexed} documents in the search index."
    )
    if run is not None:
        ranked = sum(1 for estimate in run.estimates if estimate.rank is not None)
        click.echo(
            f"Impact: {len(run.estimates)} solutions estimated, {ranked} ranked on evidence."
        )
    click.echo(f"Library: {result.seed.describe()}.")
    shown = "from CXACTIONS_PASSWORD" if password != DEFAULT_PASSWORD else f"'{password}'"
    click.echo(f"Sign in with these accounts (password {shown}):")
    for role, email, scope in result.accounts:
        click.echo(f"  {role:<8} {email:<26} {scope}".rstrip())
