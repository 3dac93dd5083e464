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


# ---------------------------------------------------------------- search and eval


def _print_response(resp, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(resp.to_dict(), ensure_ascii=False, indent=2))
        return
    import html as _html
    import re as _re

    def plain(s: str) -> str:
        return _html.unescape(_re.sub(r"</?mark>", lambda m: "[" if m.group() == "<mark>" else "]", s or ""))

    if resp.notice:
        click.echo(f"note: {resp.notice}")
    if resp.corrected_query:
        click.echo(f"did you mean: {resp.corrected_query}")
    first = (resp.page - 1) * resp.per_page
    click.echo(f"{resp.total} result(s), {resp.took_ms:.1f} ms" + (" (partial)" if resp.partial else ""))
    for i, h in enumerate(resp.hits, first + 1):
        meta = " · ".join(x for x in (h.date, h.source) if x)
        click.echo(f"{i:3d}. {plain(h.title_html)}  [{h.id}]" + (f"  {meta}" if meta else ""))
        if h.snippet_html:
            click.echo(f"     {plain(h.snippet_html)}")
    for name, items in resp.facets.items():
        if items:
            click.echo(f"{name}: " + ", ".join(f"{it.value} ({it.count})" for it in items))


@main.command("search")
@click.argument("words", nargs=-1)
@click.option("--person", "people", multiple=True, help="Facet selection (repeatable).")
@click.option("--place", "places", multiple=True, help="Facet selection (repeatable).")
@click.option("--source", "sources", multiple=True, help="Facet selection (repeatable).")
@click.option("--from", "date_from", help="YYYY, YYYY-MM or YYYY-MM-DD (inclusive).")
@click.option("--to", "date_to", help="YYYY, YYYY-MM or YYYY-MM-DD (inclusive).")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True)
@click.option("--page", default=1, show_default=True)
@click.option("--per-page", default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the whole response as JSON.")
@click.pass_context
def search_cmd(ctx, words, people, places, sources, date_from, date_to, sort, page, per_page, as_json):
    """Search the index: plain words, "phrases", -exclusions, OR/OU, ET, munit*, personne:, lieu:, source:, date:."""
    from .engine import Engine
    from .model import InvalidRequest, SearchRequest

    req = SearchRequest(q=" ".join(words), people=tuple(people), places=tuple(places), sources=tuple(sources),
                        date_from=date_from, date_to=date_to, sort=sort, page=page, per_page=per_page)
    try:
        resp = Engine(ctx.obj["index"]).search(req)
    except InvalidRequest as e:
        _fail(f"{e.code}: {e.message}", 2)
    except indexing.IndexError_ as e:
        _fail(str(e))
    _print_response(resp, as_json)


@main.command("eval")
@click.option("--corpus", type=click.Choice(["orangesum", "piaf"]), default="orangesum", show_default=True)
@click.option("--shared", "shared_path", type=click.Path(), help="Shared material (default ../shared, or $DEPECHE_SHARED).")
@click.option("--workdir", type=click.Path(), help="Where the evaluation index is cached (default ~/.cache/depeche/eval).")
@click.option("--run", "run_file", type=click.Path(), help="Also write the TREC run to this file.")
def eval_cmd(corpus, shared_path, workdir, run_file):
    """Known-item evaluation of the default search on a shared dev set (MRR@10, S@1, S@10 per kind)."""
    import statistics
    from pathlib import Path

    from . import evaluation

    shared = evaluation.shared_dir(shared_path)
    try:
        scores, times, run = evaluation.evaluate(corpus, shared, evaluation.work_dir(workdir))
    except FileNotFoundError as e:
        _fail(str(e))
    for line in evaluation.report(corpus, scores):
        click.echo(line)
    times.sort()
    click.echo(f"{len(times)} queries, search p50 {statistics.median(times):.1f} ms, "
               f"p95 {times[int(0.95 * (len(times) - 1))]:.1f} ms (no snippets; first queries load postings)")
    if run_file:
        evaluation.write_trec(run, Path(run_file))


BENCHMARKS = {
    "index": "index_speed.py",
    "search": "search_speed.py",
    "load": "load.py",
    "entities-quality": "entities_quality.py",
    "entities-speed": "entities_speed.py",
}


@main.command("bench", context_settings={"ignore_unknown_options": True})
@click.argument("name", type=click.Choice(sorted(BENCHMARKS)))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench_cmd(name, args):
    """Run a benchmark from the repository's bench/ folder (extra ARGS are passed on)."""
    import subprocess
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "bench" / BENCHMARKS[name]
    if not script.exists():
        _fail(f"{script} not found: benchmarks run from a checkout of the repository")
    sys.exit(subprocess.call([sys.executable, str(script), *args], cwd=script.parent.parent))


if __name__ == "__main__":  # pragma: no cover
    main()
