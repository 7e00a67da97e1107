"""ARM error responses.

Two body styles exist in the real cloud and clients must cope with both: ARM and most resource providers
answer ``{"error": {"code", "message", "details"}}``; App Service's own validation errors use PascalCase
(``{"Code", "Message", "Details": [..., {"ErrorEntity": ...}]}``), which azure-core cannot parse into
``e.error`` (it stays None), so a client has to fall back to ``e.message``.
"""

from __future__ import annotations

from typing import Any


class ArmError(Exception):
    """An error answer: raised by handlers, rendered by the server."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        app_service: bool = False,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.app_service = app_service

    def body(self) -> dict[str, Any]:
        if self.app_service:
            entity = {"ExtendedCode": "51021", "MessageTemplate": self.message, "Parameters": [], "Code": self.code}
            return {
                "Code": self.code,
                "Message": self.message,
                "Target": None,
                "Details": [
                    {"Message": self.message},
                    {"Code": self.code},
                    {"ErrorEntity": {**entity, "Message": self.message}},
                ],
                "Innererror": None,
            }
        return {"error": {"code": self.code, "message": self.message, "details": []}}


def bad_request(code: str, message: str) -> ArmError:
    return ArmError(400, code, message)


def app_service_bad_request(message: str) -> ArmError:
    """App Service's validation error (PascalCase body, code ``BadRequest``)."""
    return ArmError(400, "BadRequest", message, app_service=True)


def resource_not_found(full_type: str, name: str, resource_group: str) -> ArmError:
    """ARM's own 404 for a top-level resource (the text ARM really sends)."""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{full_type}/{name}' under resource group '{resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def child_not_found(resource_id: str) -> ArmError:
    """Microsoft.Network's 404 for a missing nested resource whose parent exists."""
    return ArmError(404, "NotFound", f"Resource {resource_id} not found.")


def parent_not_found(parent_name: str) -> ArmError:
    return ArmError(
        404,
        "ParentResourceNotFound",
        f"Can not perform requested operation on nested resource. Parent resource '{parent_name}' not found.",
    )


def resource_group_not_found(name: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")


def another_operation_in_progress(resource_id: str, status_url: str) -> ArmError:
    return ArmError(
        409,
        "AnotherOperationInProgress",
        f"Another operation on this or dependent resource is in progress. To retrieve status of the operation "
        f"use uri: {status_url}. Resource: {resource_id}",
    )
