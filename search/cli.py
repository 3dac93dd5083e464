"""The `depeche` command line: build and maintain the index, search it, evaluate it."""
from __future__ import annotations

import json
import sys

import click

from . import indexing
from .documents import Rejection


def _fail(message: str, code: int = 1):
    click.echo(f"depeche: {message}", err=True)
    sys.exit(code)


def _report_rejection(rej: Rejection) -> None:
    click.echo(f"rejected {rej}", err=True)


def _summary(report: indexing.BuildReport, verb: str) -> None:
    click.echo(
        f"{verb}: read {report.read}, indexed {report.indexed}, rejected {len(report.rejected)}"
        f" in {report.seconds:.1f}s ({report.docs_per_second:.0f} docs/s), generation {report.generation}"
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--index", "index_path", envvar="DEPECHE_INDEX", default="index", show_default=True,
              help="Index directory (also $DEPECHE_INDEX).")
@click.pass_context
def main(ctx, index_path):
    """Dépêche: full-text search for French news dispatches."""
    ctx.obj = {"index": index_path}


@main.group("index")
def index_group():
    """Build and maintain the index."""


def _run_writer(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except indexing.IndexLocked as e:
        _fail(str(e), 2)
    except indexing.IndexError_ as e:
        _fail(str(e))


@index_group.command("rebuild")
@click.argument("sources", nargs=-1, type=click.Path())
@click.option("--no-entities", is_flag=True, help="Skip people/places extraction (fast rebuild).")
@click.option("--strict", is_flag=True, help="Fail (exit 1, index unchanged) if any record is rejected.")
@click.option("--procs", default=2, show_default=True, help="Indexing processes.")
@click.pass_context
def rebuild_cmd(ctx, sources, no_entities, strict, procs):
    """Build a new index from SOURCES (default seeds/) and swap it in atomically."""
    report = _run_writer(
        indexing.rebuild, list(sources) or ["seeds/"], ctx.obj["index"],
        entities=not no_entities, strict=strict, procs=procs, on_reject=_report_rejection,
    )
    _summary(report, "rebuilt")
    if report.indexed == 0:
        _fail("no document could be indexed")


@index_group.command("add")
@click.argument("sources", nargs=-1, type=click.Path(), required=True)
@click.option("--no-entities", is_flag=True, help="Skip people/places extraction.")
@click.option("--strict", is_flag=True, help="Fail (exit 1, index unchanged) if any record is rejected.")
@click.pass_context
def add_cmd(ctx, sources, no_entities, strict):
    """Add documents, or update those whose id is already indexed."""
    report = _run_writer(indexing.add, list(sources), ctx.obj["index"], entities=not no_entities,
                         strict=strict, on_reject=_report_rejection)
    _summary(report, "added")


@index_group.command("delete")
@click.argument("ids", nargs=-1, required=True)
@click.pass_context
def delete_cmd(ctx, ids):
    """Delete documents by id."""
    deleted, missing = _run_writer(indexing.delete, list(ids), ctx.obj["index"])
    click.echo(f"deleted {len(deleted)}")
    for ident in missing:
        click.echo(f"not found: {ident}", err=True)
    if missing:
        sys.exit(1)


@index_group.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def stats_cmd(ctx, as_json):
    """Show the live index's generation, size and document count."""
    try:
        st = indexing.stats(ctx.obj["index"])
    except indexing.IndexError_ as e:
        _fail(str(e))
    if as_json:
        click.echo(json.dumps(st, ensure_ascii=False, indent=2))
    else:
        for k, v in st.items():
            click.echo(f"{k:15s} {v}")


if __name__ == "__main__":  # pragma: no cover
    main()
