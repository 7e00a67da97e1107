"""JSON responses of the HTTP API, errors in the README's shape ("HTTP API"):
``{"error": {"code", "message", "details": [{"field", "message"}]}}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import azure.functions as func

from kubelink.errors import FieldError, InvalidLinkSpec, KubelinkError

JSON = "application/json"


def json_response(body: Any, status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body, ensure_ascii=False), status_code=status, mimetype=JSON, charset="utf-8")


def error_response(
    status: int, code: str, message: str, details: Iterable[FieldError] = (), **extra: Any
) -> func.HttpResponse:
    """An error answer; ``extra`` adds fields next to code and message (e.g. ``statusQueryGetUri``)."""
    error = {"code": code, "message": message, "details": [d.to_json() for d in details], **extra}
    return json_response({"error": error}, status)


def invalid_spec_response(invalid: InvalidLinkSpec) -> func.HttpResponse:
    count = len(invalid.details)
    return error_response(
        400,
        "InvalidLinkSpec",
        f"The link spec has {count} invalid field{'s' if count != 1 else ''}: see details",
        invalid.details,
    )


def kubelink_error_response(error: KubelinkError) -> func.HttpResponse:
    """A kubelink error as 503 when retrying later can help, else 500, with its own code and message."""
    return error_response(503 if error.transient else 500, error.code, error.message, error.details)
