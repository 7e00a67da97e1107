"""A link spec request body judged once at the HTTP edge: decoded here, validated by the model in
``kubelink.spec``, every bad field reported at once by its JSON path (``kubernetes.ports[1].port``), so a user
fixes a body in one round trip.

Decoding refuses what ``json`` would let through silently: bodies over 64 KiB, keys given twice (``json`` keeps
the last), ``NaN``/``Infinity``, integers too long to convert. This module loads pydantic only when a body is
parsed, so importing it costs a cold start nothing.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from kubelink.errors import FieldError, InvalidLinkSpec
from kubelink.names import is_link_name

if TYPE_CHECKING:
    from pydantic import ValidationError

    from kubelink.spec import LinkSpec

__all__ = ["MAX_BODY_BYTES", "is_link_name", "parse_link_spec"]

MAX_BODY_BYTES = 64 * 1024
_MAX_INT_DIGITS = 40  # longer JSON integers are reported as out of range, never converted


def parse_link_spec(body: bytes | str | object) -> LinkSpec:
    """Validate a link spec body (raw JSON bytes/text, or an already-parsed object) into a ``LinkSpec``.

    Raises ``InvalidLinkSpec`` naming every bad field by its JSON path.
    """
    from pydantic import ValidationError

    from kubelink.spec import LinkSpec

    data = _decode(body)
    try:
        return LinkSpec.model_validate(data)
    except ValidationError as invalid:
        raise InvalidLinkSpec(details=field_errors(invalid)) from None


def field_errors(invalid: ValidationError) -> list[FieldError]:
    """pydantic's errors as kubelink's: named by JSON path, in kubelink's words."""
    return [
        FieldError(json_path(error["loc"]), _message(error["type"], error["msg"], error["input"]))
        for error in invalid.errors()
    ]


def json_path(loc: tuple[str | int, ...]) -> str:
    """``("kubernetes", "ports", 1, "port")`` → ``kubernetes.ports[1].port``; odd keys (dots, slashes, unicode)
    are quoted in brackets; the whole body is ``body``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            path += f".{part}" if path else part
        else:
            path += f"[{json.dumps(part, ensure_ascii=False)}]"
    return path or "body"


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: pydantic's error types that kubelink's rules leave to pydantic, in kubelink's words ({got}: the JSON type given)
_MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string, got {got}",
    "int_type": "must be an integer, got {got}",
    "bool_type": "must be true or false, got {got}",
    "model_type": "must be an object, got {got}",
    "model_attributes_type": "must be an object, got {got}",
    "dict_type": "must be an object, got {got}",
    "tuple_type": "must be an array, got {got}",
    "list_type": "must be an array, got {got}",
}


def _message(kind: str, pydantic_message: str, given: Any) -> str:
    from kubelink.spec import SPEC_ERROR, json_type

    if kind == SPEC_ERROR:
        return pydantic_message
    template = _MESSAGES.get(kind)
    return template.format(got=json_type(given)) if template else pydantic_message


# --- body decoding -----------------------------------------------------------------------------


class _Object(dict[str, Any]):
    """A JSON object that remembers keys given more than once; the model reports them."""

    duplicates: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        obj.duplicates = tuple(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
    return obj


def _parse_int(text: str) -> object:
    from kubelink.spec import OutOfRange

    return int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else OutOfRange()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decode(body: bytes | str | object) -> object:
    """Parse the raw body; any failure is one detail on the field ``body``."""
    if isinstance(body, bytearray | memoryview):
        body = bytes(body)
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    if not isinstance(body, bytes):
        return body
    if len(body) > MAX_BODY_BYTES:
        raise _body_error(f"is {len(body)} bytes; at most {MAX_BODY_BYTES} bytes are accepted")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _body_error("must be UTF-8 encoded JSON") from None
    if not text.strip():
        raise _body_error("is empty; send a link spec as a JSON object")
    try:
        return json.loads(text, object_pairs_hook=_object_pairs, parse_int=_parse_int, parse_constant=_reject_constant)
    except RecursionError:
        raise _body_error("is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise _body_error(f"is not valid JSON: {exc}") from None


def _body_error(message: str) -> InvalidLinkSpec:
    return InvalidLinkSpec(details=[FieldError("body", message)])
