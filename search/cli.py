"""The `depeche` command line: build and maintain the index, search it, evaluate it.

Everything it prints is in French; machine error codes (``bad_date``) stay English identifiers.
"""
from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import click

from . import generations, indexing
from .analysis import SCHEMA_VERSION
from .backend import BACKENDS
from .opensearch.mapping import DEFAULT_STEMMER, STEMMERS
from .documents import Rejection, repair_text
from .model import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_LENGTH, SearchResponse

# The default sources live beside the package in a checkout, never relative to the current directory.
SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
EXIT_FAILURE = 1  # refused or failed
EXIT_USAGE = 2  # bad arguments, or another writer holds the index
NARROW_NBSP = "\u202f"  # French thousands separator

ERRNO_TEXTS = {
    errno.ENOSPC: "plus de place sur le disque",
    errno.EDQUOT: "quota disque dépassé",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.EIO: "erreur d'entrée-sortie",
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EMFILE: "trop de fichiers ouverts",
    errno.ENOTDIR: "n'est pas un dossier",
    errno.EISDIR: "est un dossier",
}

REQUEST_ERRORS = {
    "bad_page": f"--page doit être un nombre entier entre 1 et {MAX_PAGE}",
    "bad_per_page": f"--per-page doit être un nombre entier entre 1 et {MAX_PER_PAGE}",
    "bad_date": "date invalide : --from et --to veulent AAAA, AAAA-MM ou AAAA-MM-JJ, --from au plus tard --to",
    "query_too_long": f"la requête dépasse {MAX_QUERY_LENGTH} caractères",
    "bad_sort": "tri inconnu (relevance, newest ou oldest)",
    "bad_query": "la requête doit être du texte",
}

STAGES = {
    "expansion": "extension de la requête",
    "scoring": "calcul des scores",
    "reranking": "reclassement",
    "facets": "facettes",
    "snippets": "extraits",
    "corrections": "corrections",
}

FACET_NAMES = {"people": "personnes", "places": "lieux", "sources": "sources", "dates": "dates", "urgency": "urgence",
               "genre": "genre", "subjects": "sujets", "language": "langue", "slugline": "slugline"}

STATS_LABELS = {
    "directory": "dossier",
    "generation": "génération",
    "documents": "documents",
    "schema_version": "analyseur",
    "built_at": "construite le",
    "updated_at": "modifiée le",
    "size_bytes": "taille (octets)",
    "segments": "segments",
    "entities": "entités",
}


# ---------------------------------------------------------------- French wording (pure)


def fr_int(n: int) -> str:
    """An integer with French digit grouping (1 234 567)."""
    return f"{n:,}".replace(",", NARROW_NBSP)


def fr_float(x: float, digits: int = 1) -> str:
    """A decimal number the French way (3,4)."""
    return f"{x:,.{digits}f}".replace(",", NARROW_NBSP).replace(".", ",")


def count_of(n: int, singular: str, plural: str) -> str:
    """``n`` and the noun agreed in French (0 and 1 take the singular)."""
    return f"{fr_int(n)} {singular if n <= 1 else plural}"


def os_error_message(e: OSError) -> str:
    """One French line for a system error: the path and what went wrong."""
    what = ERRNO_TEXTS.get(e.errno, e.strerror or e.__class__.__name__)
    code = errno.errorcode.get(e.errno or 0)
    where = f" sur {os.fsdecode(e.filename)}" if e.filename is not None else ""
    return f"erreur système{where} : {what}" + (f" ({code})" if code else "")


def bracketed(segments) -> str:
    """Segments as terminal text, marked words in [brackets]."""
    return "".join(f"[{s.text}]" if s.mark else s.text for s in segments)


def response_lines(resp: SearchResponse) -> list[str]:
    """The text the CLI prints for a search response (marks shown as [brackets])."""
    lines = []
    if resp.notice:
        lines.append(f"note : {resp.notice}")
    for c in resp.corrections:
        if c.applied:
            lines.append(f"cherché comme « {c.replacement} » ; --exact pour chercher « {c.word} » tel quel")
    if resp.corrected_query:
        lines.append(f"Vouliez-vous dire : {resp.corrected_query} ?")
    if resp.match == "some":
        lines.append("Aucune dépêche ne contient tous les mots : résultats partiels")
    total = count_of(resp.total, "résultat", "résultats")
    if resp.stories and resp.stories < resp.total:
        total += f" en {count_of(resp.stories, 'histoire', 'histoires')}"
        total += " (une ligne par histoire ; --collapse none pour chaque version)" if resp.collapse == "story" else ""
    pages = f", page {resp.page} sur {resp.pages}" if resp.pages > 1 else ""
    lines.append(f"{total}{pages} ({fr_float(resp.took_ms)} ms)")
    if resp.timed_out:
        lines.append("résultats incomplets, temps dépassé pour : " + ", ".join(STAGES.get(s, s) for s in resp.timed_out))
    elif resp.partial:
        lines.append("résultats incomplets : temps de recherche dépassé")
    first = (resp.page - 1) * resp.per_page
    for i, h in enumerate(resp.hits, first + 1):
        agency = [f"urgence {h.urgency}" if h.urgency else "", h.slugline or "",
                  (h.language or "").upper() if h.language and h.language != "fr" else ""]
        meta = " · ".join(x for x in (h.date, h.source, *agency) if x)
        lines.append(f"{i:3d}. {bracketed(h.title_segments)}  [{h.id}]" + (f"  {meta}" if meta else ""))
        if h.snippet_segments:
            lines.append(f"     {bracketed(h.snippet_segments)}")
        if h.missing:
            lines.append(f"     Manque : {', '.join(h.missing)}")
        if h.other_versions:
            lines.append(f"     + {count_of(h.other_versions, 'autre version', 'autres versions')} (histoire {h.story})")
    for name, items in resp.facets.items():
        if items:
            lines.append(f"{FACET_NAMES.get(name, name)} : " + ", ".join(f"{it.value} ({fr_int(it.count)})" for it in items))
    return lines


# ---------------------------------------------------------------- output and failure


def echo(message: str, err: bool = False) -> None:
    """Print a line; lone surrogates (undecodable file names) are shown as U+FFFD instead of crashing."""
    click.echo(repair_text(message), err=err)


def _fail(message: str, code: int = EXIT_FAILURE):
    echo(f"depeche: {message}", err=True)
    sys.exit(code)


def _report_rejection(rej: Rejection) -> None:
    echo(f"rejeté {rej}", err=True)


def _summary(report: indexing.BuildReport, verb: str) -> None:
    replaced = f" (dont {count_of(report.deleted, 'remplacée', 'remplacées')})" if report.deleted else ""
    # Agency items: versions older than one already read or indexed are kept in the version
    # store only, kills and withheld items leave search.
    if report.stale:
        replaced += f", {count_of(report.stale, 'version ancienne gardée', 'versions anciennes gardées')} dans l'historique seulement"
    if report.withdrawn:
        replaced += f", {count_of(report.withdrawn, 'dépêche retirée', 'dépêches retirées')} par l'agence"
    echo(
        f"{verb} : {count_of(report.read, 'dépêche lue', 'dépêches lues')}, "
        f"{count_of(report.indexed, 'indexée', 'indexées')}{replaced}, "
        f"{count_of(len(report.rejected), 'rejetée', 'rejetées')} en {fr_float(report.seconds)} s "
        f"({fr_int(round(report.docs_per_second))} dépêches/s, dont {fr_float(report.story_seconds)} s "
        f"pour regrouper les versions), génération {report.generation}"
    )


class DepecheGroup(click.Group):
    """The root group: checks arguments, and turns index and system errors into one `depeche:` line."""

    def make_context(self, info_name, args, parent=None, **extra):
        for arg in args:
            if any("\ud800" <= c <= "\udfff" for c in arg):
                # Undecodable bytes reach Python as lone surrogates: nothing can be searched,
                # stored or printed with them.
                _fail(f"l'argument {arg!r} n'est pas de l'UTF-8 valide", EXIT_USAGE)
        return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except indexing.IndexLocked as e:
            _fail(str(e), EXIT_USAGE)
        except indexing.IndexError_ as e:
            _fail(str(e))
        except OSError as e:
            _fail(os_error_message(e))


def _version_message() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("depeche")
    except PackageNotFoundError:
        v = "inconnue"
    return f"depeche {v} (analyseur {SCHEMA_VERSION})"


def _print_version(ctx, _param, value):
    if value and not ctx.resilient_parsing:
        echo(_version_message())
        ctx.exit()


@click.group(cls=DepecheGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--index", "index_path", envvar="DEPECHE_INDEX", default="index", show_default=True,
              help="Dossier de l'index (aussi $DEPECHE_INDEX).")
@click.option("--backend", type=click.Choice(BACKENDS), envvar="DEPECHE_BACKEND", default="whoosh", show_default=True,
              help="Moteur : l'index embarqué (whoosh) ou un cluster OpenSearch ($DEPECHE_OPENSEARCH_URL).")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Affiche la version de Dépêche et celle de l'analyseur.")
@click.pass_context
def main(ctx, index_path, backend):
    """Dépêche : recherche plein texte dans les dépêches d'agence en français."""
    ctx.obj = {"index": index_path, "backend": backend}


def _cluster(ctx):
    """The cluster commands when ``--backend opensearch`` (search/opensearch/commands.py), else None."""
    if ctx.obj.get("backend") != "opensearch":
        return None
    from .opensearch import commands

    return commands


@main.group("index")
def index_group():
    """Construire et entretenir l'index."""


def default_sources() -> list[str]:
    """``seeds/`` of the checkout the package comes from; refused when there is none."""
    if not SEEDS_DIR.is_dir():
        _fail(f"aucune source donnée, et pas de dossier {SEEDS_DIR}/ à côté du paquet : "
              "nommez les fichiers ou dossiers à indexer ; l'index en service n'a pas été modifié")
    return [str(SEEDS_DIR)]


@index_group.command("rebuild")
@click.argument("sources", nargs=-1, type=click.Path())
@click.option("--no-entities", is_flag=True, help="Sans extraction des personnes et des lieux (reconstruction rapide).")
@click.option("--strict", is_flag=True, help="Échoue (code 1, index inchangé) si un enregistrement est rejeté.")
@click.option("--force", is_flag=True, help="Met en service même une génération deux fois plus petite que l'actuelle.")
@click.option("--procs", default=2, show_default=True, help="Processus d'indexation.")
@click.pass_context
def rebuild_cmd(ctx, sources, no_entities, strict, force, procs):
    """Construit un nouvel index depuis SOURCES (par défaut seeds/ du dépôt), le vérifie et le met en service d'un coup."""
    if cluster := _cluster(ctx):
        return _summary(cluster.rebuild(list(sources) or default_sources(), ctx.obj["index"], entities=not no_entities,
                                        strict=strict, force=force, on_reject=_report_rejection), "reconstruit")
    try:
        report = indexing.rebuild(
            list(sources) or default_sources(), ctx.obj["index"], entities=not no_entities, strict=strict,
            force=force, procs=procs, on_reject=_report_rejection,
        )
    except OSError as e:
        _fail(os_error_message(e) + " ; l'index en service n'a pas été modifié")
    if report.moved_aside is not None:
        echo(f"depeche: {generations.CURRENT} était un dossier et non un lien : mis de côté sous {report.moved_aside}", err=True)
    _summary(report, "reconstruit")


@index_group.command("add")
@click.argument("sources", nargs=-1, type=click.Path(), required=True)
@click.option("--no-entities", is_flag=True, help="Sans extraction des personnes et des lieux.")
@click.option("--strict", is_flag=True, help="Échoue (code 1, index inchangé) si un enregistrement est rejeté.")
@click.pass_context
def add_cmd(ctx, sources, no_entities, strict):
    """Ajoute des dépêches, ou remplace celles dont l'id est déjà indexé."""
    if cluster := _cluster(ctx):
        report = cluster.add(list(sources), ctx.obj["index"], entities=not no_entities, strict=strict, on_reject=_report_rejection)
        _summary(report, "ajout")
        return _run_alerts(ctx.obj["index"], report.ids, engine=cluster.engine(ctx.obj["index"]))
    report = indexing.add(list(sources), ctx.obj["index"], entities=not no_entities, strict=strict,
                          on_reject=_report_rejection)
    _summary(report, "ajout")
    _run_alerts(ctx.obj["index"], report.ids)


def _run_alerts(index, ids, engine=None) -> None:
    """The saved searches over the dispatches just added; a failure there leaves the add done (exit 0)."""
    from . import alerts

    try:
        for line in alerts.describe(alerts.run(index, ids, engine=engine)):
            echo(line)
    except Exception as e:  # noqa: BLE001 - the dispatches are indexed whatever the alerts do
        echo(f"depeche: alertes non évaluées ({e.__class__.__name__} : {e}) ; les dépêches sont bien indexées", err=True)


@index_group.command("delete")
@click.argument("ids", nargs=-1, required=True)
@click.pass_context
def delete_cmd(ctx, ids):
    """Supprime des dépêches par id (code 1 si un id est introuvable)."""
    deleted, missing = (cluster.delete if (cluster := _cluster(ctx)) else indexing.delete)(list(ids), ctx.obj["index"])
    echo(count_of(len(deleted), "dépêche supprimée", "dépêches supprimées"))
    for ident in missing:
        echo(f"introuvable : {ident}", err=True)
    if missing:
        sys.exit(EXIT_FAILURE)


@index_group.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
@click.pass_context
def stats_cmd(ctx, as_json):
    """Génération, taille et nombre de documents de l'index en service."""
    st = indexing.stats(ctx.obj["index"])
    if as_json:
        echo(json.dumps(st, ensure_ascii=False, indent=2))
        return
    for k, v in st.items():
        echo(f"{STATS_LABELS.get(k, k):16s} {v}")


@index_group.command("generations")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
@click.pass_context
def generations_cmd(ctx, as_json):
    """Les générations gardées : numéro, date de construction, documents, analyseur, celle en service."""
    infos = generations.list_generations(generations.index_dir(ctx.obj["index"]))
    if as_json:
        echo(json.dumps([g.to_dict() for g in infos], ensure_ascii=False, indent=2))
        return
    if not infos:
        _fail(f"aucune génération dans {ctx.obj['index']}/ : lancez `depeche index rebuild`")
    echo(f"{'génération':>10}  {'construite le':24}  {'documents':>9}  {'analyseur':9}  état")
    for g in infos:
        state = "en service" if g.live else ("inachevée" if not g.finished else "")
        docs = fr_int(g.documents) if g.documents is not None else "?"
        echo(f"{g.generation:>10}  {g.built_at or '?':24}  {docs:>9}  {g.schema_version or '?':9}  {state}".rstrip())


@index_group.command("rollback")
@click.argument("generation", type=int, required=False)
@click.pass_context
def rollback_cmd(ctx, generation):
    """Remet en service une génération gardée (par défaut celle d'avant), d'un coup."""
    before, after = generations.rollback(generations.index_dir(ctx.obj["index"]), generation)
    was = f" (au lieu de la génération {before})" if before is not None else ""
    echo(f"génération {after} en service{was}")


@index_group.command("watch")
@click.argument("folder", type=click.Path())
@click.option("--no-entities", is_flag=True, help="Sans extraction des personnes et des lieux.")
@click.option("--batch-seconds", default=1.0, show_default=True, type=click.FloatRange(0),
              help="Un lot part au plus tard ce délai après son premier fichier prêt.")
@click.option("--max-batch", default=200, show_default=True, type=click.IntRange(1), help="Fichiers par lot, au plus.")
@click.option("--once", is_flag=True, help="Indexe ce qui est là, puis s'arrête (pour cron).")
@click.pass_context
def watch_cmd(ctx, folder, no_entities, batch_seconds, max_batch, once):
    """Indexe les fichiers déposés dans FOLDER, par petits lots, puis les range dans FOLDER/.lu/.

    Les producteurs écrivent « nom.tmp » (ou .part) puis le renomment : les fichiers cachés, .tmp
    et .part ne sont jamais lus. Un fichier dont aucun enregistrement n'est valide va dans
    FOLDER/.rejete/. Un journal (watch.sqlite dans l'index) garantit qu'après un arrêt, même
    brutal, aucun fichier n'est indexé deux fois ni oublié. Avec --backend opensearch, les lots
    vont dans l'alias du cluster (le journal reste dans le dossier --index).
    """
    from . import alerts, watch

    writer, engine = None, None
    if cluster := _cluster(ctx):
        from .opensearch.watch_writer import ClusterWriter

        writer, engine = ClusterWriter(ctx.obj["index"]), cluster.engine(ctx.obj["index"])
    watcher = watch.Watcher(folder, ctx.obj["index"], entities=not no_entities, batch_seconds=batch_seconds,
                            max_batch=max_batch, on_reject=_report_rejection, say=echo, writer=writer,
                            on_batch=alerts.on_batch(ctx.obj["index"], say=echo, engine=engine))
    with watch.stop_on_signals(watcher, say=lambda m: echo(m, err=True)):
        watcher.run(once=once)
    if watcher.stop_event.is_set() and not once:
        echo("arrêté")


# ---------------------------------------------------------------- saved searches (alerts)


@main.group("alerte")
def alert_group():
    """Recherches enregistrées : après chaque ajout, leurs nouvelles dépêches (flux Atom, webhook)."""


def _alert_call(fn, *args):
    from . import alerts

    try:
        return fn(*args)
    except alerts.AlertError as e:
        _fail(e.message)


@alert_group.command("creer")
@click.argument("name", metavar="NOM")
@click.argument("query", metavar="REQUÊTE", required=False, default="")
@click.option("--personne", "people", multiple=True, help="Filtre sur une personne (répétable).")
@click.option("--lieu", "places", multiple=True, help="Filtre sur un lieu (répétable).")
@click.option("--source", "sources", multiple=True, help="Filtre sur une source (répétable).")
@click.option("--sauf-personne", "not_people", multiple=True, help="Sauf les dépêches nommant cette personne (répétable).")
@click.option("--sauf-lieu", "not_places", multiple=True, help="Sauf les dépêches nommant ce lieu (répétable).")
@click.option("--sauf-source", "not_sources", multiple=True, help="Sauf les dépêches de cette source (répétable).")
@click.option("--from", "date_from", help="AAAA, AAAA-MM ou AAAA-MM-JJ (inclus).")
@click.option("--to", "date_to", help="AAAA, AAAA-MM ou AAAA-MM-JJ (inclus).")
@click.option("--webhook", help="Adresse http(s) qui reçoit les nouvelles dépêches en JSON (POST).")
@click.pass_context
def alert_create_cmd(ctx, name, query, people, places, sources, not_people, not_places, not_sources, date_from, date_to, webhook):
    """Enregistre une recherche NOM : chaque ajout à l'index y cherche ses nouvelles dépêches."""
    from . import alerts

    request = {"q": query, "person": list(people), "place": list(places), "source": list(sources),
               "not_person": list(not_people), "not_place": list(not_places), "not_source": list(not_sources),
               "from": date_from, "to": date_to}
    with alerts.AlertStore(ctx.obj["index"]) as store:
        alert = _alert_call(store.create, name, request, webhook)
    echo(f"alerte « {alert.name} » créée : {_alert_summary(alert)}")


@alert_group.command("liste")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON.")
@click.pass_context
def alert_list_cmd(ctx, as_json):
    """Les recherches enregistrées, leurs dépêches trouvées et leurs envois."""
    from . import alerts

    with alerts.AlertStore(ctx.obj["index"]) as store:
        items, sent = store.list(), store.delivery_counts()
    if as_json:
        echo(json.dumps([a.to_dict() for a in items], ensure_ascii=False, indent=2))
        return
    if not items:
        echo("aucune alerte")
        return
    for a in items:
        echo(f"{a.name} : {_alert_summary(a)} ; {count_of(a.matches, 'dépêche trouvée', 'dépêches trouvées')} ; "
             f"créée le {a.created_at}")
        if a.webhook:
            states = sent.get(a.name, {})
            echo(f"     webhook {a.webhook} : {count_of(states.get('delivered', 0), 'envoi réussi', 'envois réussis')}, "
                 f"{fr_int(states.get('pending', 0))} en attente, {count_of(states.get('failed', 0), 'abandonné', 'abandonnés')}")


@alert_group.command("supprimer")
@click.argument("name", metavar="NOM")
@click.pass_context
def alert_delete_cmd(ctx, name):
    """Supprime la recherche enregistrée NOM et ce qu'elle a trouvé."""
    from . import alerts

    with alerts.AlertStore(ctx.obj["index"]) as store:
        _alert_call(store.delete, name)
    echo(f"alerte « {name} » supprimée")


@alert_group.command("envoyer")
@click.pass_context
def alert_deliver_cmd(ctx):
    """Envoie maintenant les webhooks en attente (avec les nouvelles tentatives), puis rend la main."""
    from . import alerts

    r = alerts.deliver(ctx.obj["index"])
    if r.busy:
        echo("un autre processus envoie déjà les webhooks de cet index")
        return
    echo(f"{count_of(r.delivered, 'envoi réussi', 'envois réussis')}, "
         f"{count_of(r.retried, 'nouvelle tentative', 'nouvelles tentatives')}, "
         f"{count_of(r.failed, 'envoi abandonné', 'envois abandonnés')}")


def _alert_summary(alert) -> str:
    r = alert.request
    parts = [f"« {r['q']} »"] if r.get("q") else []
    labels = {"person": "personne", "place": "lieu", "source": "source", "urgency": "urgence", "genre": "genre",
              "subject": "sujet", "language": "langue", "slugline": "slugline",
              "not_person": "personne : sauf", "not_place": "lieu : sauf", "not_source": "source : sauf"}
    for key, label in labels.items():
        parts.extend(f"{label} {v}" if label.endswith("sauf") else f"{label} : {v}" for v in r.get(key) or [])
    if r.get("from"):
        parts.append(f"depuis {r['from']}")
    if r.get("to"):
        parts.append(f"jusqu'à {r['to']}")
    return ", ".join(parts)


# ---------------------------------------------------------------- search and eval


@main.command("search")
@click.argument("words", nargs=-1)
@click.option("--person", "people", multiple=True, help="Filtre sur une personne (répétable).")
@click.option("--place", "places", multiple=True, help="Filtre sur un lieu (répétable).")
@click.option("--source", "sources", multiple=True, help="Filtre sur une source (répétable).")
@click.option("--not-person", "not_people", multiple=True, help="Sauf les dépêches nommant cette personne (répétable).")
@click.option("--not-place", "not_places", multiple=True, help="Sauf les dépêches nommant ce lieu (répétable).")
@click.option("--not-source", "not_sources", multiple=True, help="Sauf les dépêches de cette source (répétable).")
@click.option("--from", "date_from", help="AAAA, AAAA-MM ou AAAA-MM-JJ (inclus).")
@click.option("--to", "date_to", help="AAAA, AAAA-MM ou AAAA-MM-JJ (inclus).")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True)
@click.option("--page", default=1, show_default=True)
@click.option("--per-page", default=10, show_default=True)
@click.option("--exact", is_flag=True, help="Cherche les mots tels quels, sans correction orthographique automatique.")
@click.option("--collapse", type=click.Choice(["story", "none"]), default="story", show_default=True,
              help="story : une ligne par histoire (sa meilleure version) ; none : chaque dépêche.")
@click.option("--json", "as_json", is_flag=True, help="Toute la réponse en JSON.")
@click.pass_context
def search_cmd(ctx, words, people, places, sources, not_people, not_places, not_sources, date_from, date_to, sort,
               page, per_page, exact, collapse, as_json):
    """Cherche : mots, "expressions", -exclusions, OR/OU, ET, munit*, personne:, lieu:, source:, date:."""
    from .engine import Engine
    from .model import InvalidRequest, SearchRequest

    root = generations.index_dir(ctx.obj["index"])
    if not (cluster := _cluster(ctx)):
        # The library's own checks, for French messages that say what is wrong with the directory.
        generations.check_version(generations.read_meta(generations.current_generation(root)), root)
    req = SearchRequest(q=" ".join(words), people=tuple(people), places=tuple(places), sources=tuple(sources),
                        exclude_people=tuple(not_people), exclude_places=tuple(not_places),
                        exclude_sources=tuple(not_sources),
                        date_from=date_from, date_to=date_to, sort=sort, page=page, per_page=per_page,
                        correct=not exact, collapse=collapse)
    try:
        resp = (cluster.engine(root) if cluster else Engine(root)).search(req)
    except InvalidRequest as e:
        _fail(f"{REQUEST_ERRORS.get(e.code, 'paramètre invalide')} ({e.code})", EXIT_USAGE)
    if as_json:
        echo(json.dumps(resp.to_dict(), ensure_ascii=False, indent=2))
        return
    for line in response_lines(resp):
        echo(line)


def _entity_cmd(ctx, kind: str, name: str, size: int, latest: int, as_json: bool) -> None:
    """A person's or place's page on the terminal (Engine.entity_page)."""
    from dataclasses import asdict

    from .engine import Engine

    root = generations.index_dir(ctx.obj["index"])
    generations.check_version(generations.read_meta(generations.current_generation(root)), root)
    page = Engine(root).entity_page(kind, name, size=size, latest=latest)
    if page is None:
        _fail(f"aucune dépêche ne cite « {name} »")
    if as_json:
        echo(json.dumps(asdict(page), ensure_ascii=False, indent=2))
        return
    also = f" (aussi « {' », « '.join(page.also_named)} »)" if page.also_named else ""
    echo(f"{page.name} : {count_of(page.total, 'dépêche', 'dépêches')}{also}")
    top = max((d.count for d in page.dates), default=1)
    if page.dates:
        echo({"year": "Mentions par année :", "month": "Mentions par mois :", "day": "Mentions par jour :"}[page.date_grain])
        for d in page.dates:
            echo(f"  {d.value:<10} {'█' * max(1, round(20 * d.count / top))} {fr_int(d.count)}")
    for label, items in (("Personnes citées avec", page.people), ("Lieux cités avec", page.places)):
        if items:
            echo(f"{label} : " + ", ".join(f"{it.value} ({fr_int(it.count)})" for it in items))
    if page.latest:
        echo("Dernières dépêches :")
        for h in page.latest:
            echo(f"  {h.date or 'sans date':<10}  {h.title}  [{h.id}]")
    if page.partial:
        echo("(temps dépassé : page incomplète)")


def _entity_options(command):
    """The argument and options the person and place commands share."""
    for option in reversed([
        click.argument("name"),
        click.option("--size", default=10, show_default=True, type=click.IntRange(1, 50), help="Personnes et lieux cités avec."),
        click.option("--latest", default=10, show_default=True, type=click.IntRange(1, 50), help="Dernières dépêches."),
        click.option("--json", "as_json", is_flag=True, help="Sortie JSON."),
        click.pass_context,
    ]):
        command = option(command)
    return command


@main.command("personne")
@_entity_options
def person_cmd(ctx, name, size, latest, as_json):
    """Une personne : ses mentions dans le temps, qui et quoi est cité avec elle, ses dernières dépêches."""
    _entity_cmd(ctx, "people", name, size, latest, as_json)


@main.command("lieu")
@_entity_options
def place_cmd(ctx, name, size, latest, as_json):
    """Un lieu : ses mentions dans le temps, qui et quoi est cité avec lui, ses dernières dépêches."""
    _entity_cmd(ctx, "places", name, size, latest, as_json)


@main.command("eval")
@click.option("--corpus", type=click.Choice(["orangesum", "piaf"]), default="orangesum", show_default=True)
@click.option("--shared", "shared_path", type=click.Path(), help="Matériel partagé (par défaut ../shared, ou $DEPECHE_SHARED).")
@click.option("--workdir", type=click.Path(), help="Où l'index d'évaluation est gardé (par défaut ~/.cache/depeche/eval).")
@click.option("--run", "run_file", type=click.Path(), help="Écrit aussi le run TREC dans ce fichier.")
@click.option("--backend", type=click.Choice(BACKENDS), default=None, help="Moteur évalué (par défaut celui de depeche --backend).")
@click.option("--stemmer", type=click.Choice(sorted(STEMMERS)), default=DEFAULT_STEMMER, show_default=True,
              help="Racinisation du français sur la grappe OpenSearch (le moteur Whoosh n'a que snowball).")
@click.pass_context
def eval_cmd(ctx, corpus, shared_path, workdir, run_file, backend, stemmer):
    """Évaluation « known-item » de la recherche sur un jeu de développement (MRR@10, S@1, S@10 par type)."""
    import statistics

    from . import evaluation

    shared = evaluation.shared_dir(shared_path)
    on_cluster = (backend or ctx.obj.get("backend")) == "opensearch"
    if stemmer != DEFAULT_STEMMER and not on_cluster:
        _fail(f"--stemmer {stemmer} ne s'applique qu'au moteur opensearch (--backend opensearch)")
    try:
        if on_cluster:
            from .opensearch import commands

            scores, times, run = commands.evaluate(corpus, shared, stemmer)
        else:
            scores, times, run = evaluation.evaluate(corpus, shared, evaluation.work_dir(workdir))
    except FileNotFoundError as e:
        _fail(f"matériel d'évaluation introuvable ({e})")
    _, qfile, rfile = evaluation.CORPORA[corpus]
    halves = evaluation.by_half(run, evaluation.load_qrels(shared / rfile), evaluation.load_queries(shared / qfile))
    for line in evaluation.report(corpus, scores, halves):
        echo(line)
    times.sort()
    echo(f"{fr_int(len(times))} requêtes, recherche p50 {fr_float(statistics.median(times))} ms, "
         f"p95 {fr_float(times[int(0.95 * (len(times) - 1))])} ms (sans extraits ; les premières requêtes chargent les listes)")
    if run_file:
        evaluation.write_trec(run, Path(run_file))


BENCHMARKS = {
    "index": "index_speed.py",
    "search": "search_speed.py",
    "load": "load.py",
    "entities-quality": "entities_quality.py",
    "entities-speed": "entities_speed.py",
    "worst-case": "worst_case.py",
    "spelling": "spelling_accuracy.py",
    "scale": "scale.py",
    "stories": "stories.py",
    "cluster-fault": "cluster_fault.py",
}


@main.command("bench", context_settings={"ignore_unknown_options": True})
@click.argument("name", type=click.Choice(sorted(BENCHMARKS)))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench_cmd(name, args):
    """Lance un banc d'essai du dossier bench/ du dépôt (les ARGS en plus lui sont passés)."""
    import subprocess

    script = Path(__file__).resolve().parent.parent / "bench" / BENCHMARKS[name]
    if not script.exists():
        _fail(f"{script} introuvable : les bancs d'essai se lancent depuis une copie du dépôt")
    sys.exit(subprocess.call([sys.executable, str(script), *args], cwd=script.parent.parent))


if __name__ == "__main__":  # pragma: no cover
    main()
