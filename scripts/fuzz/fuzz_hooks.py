"""Schemathesis hooks of the fuzz step (loaded through SCHEMATHESIS_HOOKS by schemathesis.ts).

Each hook tells the generator one rule that the OpenAPI document cannot state, so that a request the
document calls valid is one the service can accept. None of them hides an answer: a request they change
or drop would be refused with a documented 4xx and a stable code (README.md beside this file lists each
rule, the answer it would get, and the test that holds the service to that answer).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import schemathesis

# packages/contracts: ORDERED_AT_MAX_PAST_DAYS / ORDERED_AT_MAX_FUTURE_DAYS (estimates.ts), BUSY_MAX_HOURS
# (stores.ts). Kept a margin inside, so the clock moving between generation and parsing cannot matter.
ORDERED_AT_PAST = timedelta(days=30)
ORDERED_AT_FUTURE = timedelta(days=7)
BUSY_MAX = timedelta(hours=12)
MARGIN = timedelta(minutes=10)


def _has_prototype_key(value: Any) -> bool:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "__proto__":
                return True
            if key == "constructor" and isinstance(item, dict) and "prototype" in item:
                return True
            if _has_prototype_key(item):
                return True
    elif isinstance(value, list):
        return any(_has_prototype_key(item) for item in value)
    return False


@schemathesis.hook("filter_case")
def no_prototype_keys(context: Any, case: Any) -> bool:
    """Every JSON body parser of the suite (Fastify's secure-json-parse, the ML proxy's V2 parser) refuses
    a `__proto__` key, or a `constructor` object with a `prototype`, anywhere in the body: 400 with a
    stable code (BAD_REQUEST / MALFORMED_JSON), a guard against prototype pollution. Free-form objects in
    the document (V2 `parameters`, extra keys of an open object) would otherwise be filled with them."""
    return not _has_prototype_key(case.body)


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@schemathesis.hook("map_case").apply_to(path="/v1/estimates/precise", method="POST")
def ordered_at_near_now(context: Any, case: Any) -> Any:
    """`orderedAt` must lie within 30 days before and 7 days after the server's clock (a 1970 epoch or a
    year-9999 "never" is a client bug; 400 VALIDATION_ERROR at body.orderedAt). A date-time outside that
    window is set to now; anything else is left for the server to judge."""
    body = case.body
    if isinstance(body, dict):
        at = _parse(body.get("orderedAt"))
        now = datetime.now(timezone.utc)
        if at is not None and not (now - ORDERED_AT_PAST + MARGIN <= at <= now + ORDERED_AT_FUTURE - MARGIN):
            case.body = {**body, "orderedAt": _iso(now)}
    return case


@schemathesis.hook("map_case").apply_to(path="/v1/stores/{id}/settings", method="PUT")
def settings_rules(context: Any, case: Any) -> Any:
    """Two rules of the settings that JSON Schema cannot state (each a 400 VALIDATION_ERROR): `busy.until`
    in the future and at most 12 hours ahead (one outside is set to an hour from now), and
    `minShownMinutes` <= `maxShownMinutes` when both are set (swapped when they are not)."""
    body = case.body
    if not isinstance(body, dict):
        return case
    body = dict(body)
    busy = body.get("busy")
    if isinstance(busy, dict):
        at = _parse(busy.get("until"))
        now = datetime.now(timezone.utc)
        if at is not None and not (now + MARGIN <= at <= now + BUSY_MAX - MARGIN):
            body["busy"] = {**busy, "until": _iso(now + timedelta(hours=1))}
    low, high = body.get("minShownMinutes"), body.get("maxShownMinutes")
    numbers = (int, float)
    if isinstance(low, numbers) and isinstance(high, numbers) and not isinstance(low, bool) and low > high:
        body["minShownMinutes"], body["maxShownMinutes"] = high, low
    case.body = body
    return case


@schemathesis.hook("filter_case").apply_to(path="/v1/stores/{id}/preview", method="GET")
def both_or_neither(context: Any, case: Any) -> bool:
    """`lat` and `lng` come together or not at all (400 VALIDATION_ERROR, querystring.lat): OpenAPI
    parameters cannot depend on each other, so a query with one of them alone is not generated."""
    query = case.query
    if not isinstance(query, dict):
        return True
    return ("lat" in query) == ("lng" in query)


# What the ML proxy's inference domain answers (400, `code`) for a request that fits the route's schema
# but not the model it names (services/ml-proxy/src/domain/errors.ts; and v2-body.ts for the protocol
# extensions it does not serve): the input tensor's name, datatype, shape and values are the model's
# (GET /v2/models/{name} says them), not the route's, so no OpenAPI document of the route can state them.
MODEL_SIGNATURE_CODES = frozenset(
    {
        "BAD_REQUEST",
        "INPUT_OUT_OF_RANGE",
        "MISSING_VALUE_NOT_ALLOWED",
        "UNKNOWN_CATEGORY",
        "SHARED_MEMORY_UNSUPPORTED",
        "CLASSIFICATION_UNSUPPORTED",
    }
)


@schemathesis.hook("filter_failure").apply_to(
    path_regex=r"^/v2/models/\{name\}(/versions/\{version\})?/infer$", method="POST"
)
def refused_by_the_model(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keeps every failure but "schema-valid request rejected" (ST202) answered 400 with one of the codes
    above: the request was valid for the route and wrong for the model. A schema refusal
    (VALIDATION_ERROR) or a body the parser refused (MALFORMED_JSON, ...) still fails the run."""
    if failure.code != "ST202" or response.status_code != 400:
        return True
    try:
        code = response.json().get("code")
    except Exception:
        return True
    return code not in MODEL_SIGNATURE_CODES
