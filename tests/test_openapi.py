"""The OpenAPI description: complete, valid 3.1, and true of the running app (schemathesis)."""
from __future__ import annotations

import datetime
import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance


from web.openapi import spec

# Loaded from the same dict /api/openapi.json serves (test_openapi_document checks that), and
# sent to the fixture app through WSGI. (schemathesis.pytest.from_fixture would be the natural
# choice but fails with pytest 9: it reads the removed Function._nodeid.)
schema = schemathesis.openapi.from_dict(spec())


def test_openapi_document(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    served = r.json
    assert served["openapi"].startswith("3.1")
    assert served["components"]["schemas"]["Error"]["required"] == ["error"]
    assert served == spec()


def test_every_route_is_documented(web_app, client):
    documented = set(client.get("/api/openapi.json").json["paths"])
    for rule in web_app.url_map.iter_rules():
        if rule.endpoint in ("static", "pages.favicon"):  # files, not operations
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule).replace("{doc_id}", "{id}")
        assert path in documented, f"{rule.rule} is not in the OpenAPI document"


def test_every_json_operation_documents_its_errors(client):
    spec = client.get("/api/openapi.json").json
    for path, item in spec["paths"].items():
        if path == "/api/openapi.json":
            continue
        responses = item["get"]["responses"]
        assert "400" in responses and "503" in responses, path
        if "{id}" in path:
            assert "404" in responses and "410" in responses, path


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_app_conforms_to_its_openapi_document(case, web_app):
    """Generated requests (valid and not) never get a 500 and responses match the schemas.

    A schema cannot say that 30 February does not exist or that ``from`` must not be after
    ``to``: a schema-valid request may get a 400 for exactly those reasons, checked here by
    independent means, and for no other.
    """
    response = case.call(app=web_app)
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
    if response.status_code == 400 and case.meta and not case.meta.generation.mode.is_negative:
        assert error_code(response) == "bad_date", response.text
        query = case.query or {}
        if isinstance(case.body, dict):  # POST /api/alerts: the dates are in the JSON body
            query = {**query, **{k: case.body.get(k) for k in ("from", "to")}}
        assert not dates_possible(query.get("from"), query.get("to")), (query, response.text)


def error_code(response) -> str | None:
    """The error code of a JSON error, or of an HTML error page (its data-error-code)."""
    if response.text.lstrip().startswith("{"):
        return response.json()["error"]["code"]
    m = re.search(r'data-error-code="([^"]*)"', response.text)
    return m.group(1) if m else None


def _bounds(value: str | None, end: bool) -> datetime.date | None:
    """The first (or last) day a YYYY[-MM[-DD]] value covers; ValueError if it does not exist."""
    if not value:
        return None
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        return datetime.date(*parts)
    if len(parts) == 2:
        first = datetime.date(parts[0], parts[1], 1)
        return (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1) if end else first
    return datetime.date(parts[0], 12, 31) if end else datetime.date(parts[0], 1, 1)


def dates_possible(date_from: str | None, date_to: str | None) -> bool:
    """Whether both bounds exist and from does not come after to."""
    try:
        start, stop = _bounds(date_from, False), _bounds(date_to, True)
    except ValueError:
        return False
    return not (start and stop and start > stop)


# ---------------------------------------------------------------- real responses against the spec


def _validator(schema: dict):
    """A JSON Schema validator for one schema of the spec, its $refs resolved in the spec."""
    import jsonschema_rs

    return jsonschema_rs.validator_for({**schema, "components": spec()["components"]})


def assert_documented(path: str, method: str, status: int, body: bytes, mimetype: str) -> None:
    """The status is documented for the operation and the body matches the schema given for it."""
    responses = spec()["paths"][path][method]["responses"]
    assert str(status) in responses, (path, method, status)
    content = responses[str(status)].get("content")
    if content is None:
        assert body == b"", (path, status)
        return
    assert mimetype in content, (path, status, mimetype)
    if mimetype == "application/json":
        errors = [e.message for e in _validator(content[mimetype]["schema"]).iter_errors(json.loads(body))]
        assert not errors, (path, status, errors[:3])


# (request path, spec path, status): every endpoint, every status the app itself can give.
REAL_RESPONSES = [
    ("/api/search?q=munitions", "/api/search", 200),
    ("/api/search?q=munitions&place=Ukraine&correct=0&sort=newest", "/api/search", 200),
    ("/api/search?q=munitoins", "/api/search", 200),
    ("/api/search?q=munitions+zzzqqxyzzy", "/api/search", 200),
    ("/api/search?page=0", "/api/search", 400),
    ("/api/search?correct=oui", "/api/search", 400),
    ("/api/search?q=%FF", "/api/search", 400),
    ("/api/search?from=2324-02-31", "/api/search", 400),
    ("/api/documents/afp-001?q=munitions", "/api/documents/{id}", 200),
    ("/api/documents/undated-011", "/api/documents/{id}", 200),
    ("/api/documents/nope", "/api/documents/{id}", 404),
    ("/api/suggest?q=mun", "/api/suggest", 200),
    ("/api/suggest?limit=0", "/api/suggest", 400),
    ("/healthz", "/healthz", 200),
    ("/api/openapi.json", "/api/openapi.json", 200),
    ("/api/personne/Jens%20Stoltenberg", "/api/personne/{name}", 200),
    ("/api/lieu/ukraine?size=1&latest=2", "/api/lieu/{name}", 200),
    ("/api/lieu/Atlantide", "/api/lieu/{name}", 404),
    ("/api/personne/alain%20berset", "/api/personne/{name}", 200),
    ("/api/personne/Alain%20Berset?size=0", "/api/personne/{name}", 400),
]


@pytest.mark.parametrize("url, path, status", REAL_RESPONSES)
def test_real_responses_match_the_spec(client, url, path, status):
    r = client.get(url)
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    assert_documented(path, "get", status, r.data, r.mimetype)


def test_every_method_and_error_status_matches_the_spec(web_index, tmp_path):
    from web_helpers import make_app

    for path in ("/api/search", "/api/suggest?q=mun", "/healthz", "/api/documents/afp-001"):
        spec_path = path.replace("afp-001", "{id}").split("?")[0]
        r = make_app(web_index).test_client().post(path)
        assert_documented(spec_path, "get", r.status_code, r.data, r.mimetype)  # 405
        r = make_app(web_index).test_client().options(path)
        assert_documented(spec_path, "options", r.status_code, r.data, r.mimetype)  # 204
        r = make_app(tmp_path / "no-index").test_client().get(path)
        assert r.status_code == 503
        assert_documented(spec_path, "get", 503, r.data, r.mimetype)
    app = make_app(web_index)
    app.add_url_rule("/api/boom", "boom", lambda: 1 / 0)
    r = app.test_client().get("/api/boom")
    assert_documented("/api/search", "get", 500, r.data, r.mimetype)  # the same Error for every 500


@pytest.mark.parametrize("status", [400, 408, 414, 431, 503])
def test_errors_the_server_answers_match_the_spec(status):
    from web.serve import error_body

    content_type, body = error_body(status, api=True)
    assert_documented("/api/search", "get", status, body, content_type.decode().split(";")[0])


def test_new_response_fields_are_described(web_index, monkeypatch):
    """A partial match with corrections and stages cut short: everything the model can carry."""
    from search.model import Correction, FacetItem, Hit, SearchResponse, Segment
    from web import ENGINE_KEY
    from web_helpers import make_app

    hit = Hit(id="a", title="Ours", title_segments=[Segment("Ours", True)], date=None, source="AFP", url=None,
              snippet_segments=[], score=1.5, people=[], places=[], missing=["pangolin"])
    canned = SearchResponse(
        query="ours pangolin", total=1, page=1, per_page=10, took_ms=3.0, hits=[hit],
        facets={"people": [], "places": [FacetItem("Ukraine", 1)], "sources": [], "dates": [FacetItem("2023-06", 1)]},
        corrected_query="ours pangolins", partial=True, match="some",
        corrections=[Correction("pangolni", "pangolin", True)], timed_out=["reranking", "snippets"],
    )
    app = make_app(web_index)
    monkeypatch.setattr(app.extensions[ENGINE_KEY], "search", lambda req: canned)
    r = app.test_client().get("/api/search?q=ours+pangolni")
    assert_documented("/api/search", "get", 200, r.data, r.mimetype)


def test_text_as_data_is_described(client):
    """Segments and body blocks: a real document validates; a wrong shape does not."""
    body = client.get("/api/documents/afp-001?q=munitions").json
    schema = {"$ref": "#/components/schemas/Document"}
    assert not list(_validator(schema).iter_errors(body))
    assert any(s["mark"] for s in body["title_segments"] + body["lead_segments"])
    wrong = [
        {**body, "body_blocks": [{"kind": "heading", "segments": []}]},
        {**body, "title_segments": [{"text": "Munitions"}]},
        {**body, "lead_segments": [{"text": "x", "mark": "oui"}]},
        {**body, "lead_segments": "<mark>x</mark>"},
    ]
    for doc in wrong:
        assert list(_validator(schema).iter_errors(doc)), doc


@pytest.mark.parametrize("url, path, status", [
    ("/api/search?q=kiev&urgency=1&language=en&subject=conflit&genre=Actualit%C3%A9&slugline=X", "/api/search", 200),
    ("/api/search?urgency=0", "/api/search", 400),
    ("/api/documents/flash-1", "/api/documents/{id}", 200),
    ("/api/documents/en-4?q=nato", "/api/documents/{id}", 200),
    ("/api/documents/killed-9", "/api/documents/{id}", 410),
    ("/doc/killed-9", "/doc/{id}", 410),
    ("/doc/flash-1", "/doc/{id}", 200),
    ("/api/documents/flash-1?version=1", "/api/documents/{id}", 200),
    ("/api/documents/flash-1?version=0", "/api/documents/{id}", 400),
    ("/api/documents/flash-1?version=7", "/api/documents/{id}", 404),
    ("/api/documents/killed-9?version=1", "/api/documents/{id}", 410),
    ("/doc/flash-1?version=1", "/doc/{id}", 200),
    ("/doc/flash-1?version=x", "/doc/{id}", 400),
    ("/doc/flash-1?version=7", "/doc/{id}", 404),
    ("/doc/killed-9?version=1", "/doc/{id}", 410),
])
def test_agency_responses_match_the_spec(web_index, url, path, status):
    """Agency hits, facets, documents with versions and a withdrawn item (a stub engine, by the engine's contract)."""
    from web_helpers import agency_response, agency_stub, make_app

    app = make_app(web_index)
    agency_stub(app, [agency_response()])
    r = app.test_client().get(url)
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    assert_documented(path, "get", status, r.data, r.mimetype)


@pytest.mark.parametrize("url, path, status", [
    ("/api/search?q=kiev", "/api/search", 200),
    ("/api/search?urgency=1&urgency=4&language=en&subject=politique", "/api/search", 200),
    ("/api/search?q=langue:en+OR+urgence:1", "/api/search", 200),
    ("/api/documents/urn:newsml:afp:kiev?q=explosion", "/api/documents/{id}", 200),
    ("/api/documents/urn:newsml:reu:nato", "/api/documents/{id}", 200),
    ("/api/documents/urn:newsml:afp:rumeur", "/api/documents/{id}", 410),
    ("/api/documents/urn:newsml:afp:embargo", "/api/documents/{id}", 404),
    ("/doc/urn:newsml:afp:rumeur", "/doc/{id}", 410),
    ("/api/documents/urn:newsml:afp:kiev?version=1&q=explosion", "/api/documents/{id}", 200),
    ("/api/documents/urn:newsml:afp:kiev?version=-2", "/api/documents/{id}", 400),
    ("/api/documents/urn:newsml:afp:kiev?version=4", "/api/documents/{id}", 404),
    ("/api/documents/urn:newsml:afp:rumeur?version=1", "/api/documents/{id}", 410),
    ("/api/documents/afp-001?version=1", "/api/documents/{id}", 404),
    ("/doc/urn:newsml:afp:kiev?version=2", "/doc/{id}", 200),
])
def test_real_agency_responses_match_the_spec(agency_client, url, path, status):
    r = agency_client.get(url)
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    assert_documented(path, "get", status, r.data, r.mimetype)


def test_facets_schema_names_every_facet():
    from search.model import AGENCY_FACETS, FACETS

    facets = spec()["components"]["schemas"]["SearchResponse"]["properties"]["facets"]["properties"]
    assert tuple(facets) == FACETS + AGENCY_FACETS


def test_response_schemas_name_every_model_field():
    from dataclasses import fields

    from search.model import Block, Correction, Hit, SearchResponse, Segment

    schemas = spec()["components"]["schemas"]
    # The web layer adds pages, and each hit's title and snippet rendered as HTML.
    for model, extra in ((SearchResponse, {"pages"}), (Hit, {"title_html", "snippet_html"}), (Correction, set()),
                         (Segment, set()), (Block, set())):
        assert set(schemas[model.__name__]["properties"]) == {f.name for f in fields(model)} | extra, model.__name__


def test_date_pattern_is_exactly_the_real_dates():
    from web.params import DATE_PATTERN

    pattern = re.compile(DATE_PATTERN)
    for year in (1000, 1900, 2000, 2023, 2024, 2100, 2324, 2400, 2999):
        for month in range(1, 13):
            for day in range(1, 32):
                try:
                    datetime.date(year, month, day)
                    real = True
                except ValueError:
                    real = False
                assert bool(pattern.fullmatch(f"{year}-{month:02d}-{day:02d}")) == real, (year, month, day)
    assert not pattern.fullmatch("2324-02-31") and pattern.fullmatch("2324-02-29") and not pattern.fullmatch("2323-02-29")
