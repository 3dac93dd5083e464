"""The OpenAPI description: complete, valid 3.1, and true of the running app (schemathesis)."""
from __future__ import annotations

import datetime
import re

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
        if rule.endpoint == "static":
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
            assert "404" in responses, path


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
