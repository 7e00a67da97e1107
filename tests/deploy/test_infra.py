"""The deployment, checked offline: checkov's Bicep framework over infra/ with zero failed checks (each skip
justified where it applies), azure.yaml against azd's own JSON schema (infra/schemas, copied from Azure/azure-dev),
and the role file as an ARM roleDefinition's properties naming only published operations."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

REPO = Path(__file__).resolve().parents[2]
CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
AZD_SCHEMA = REPO / "infra" / "schemas" / "azure.yaml.json"
ROLE_FILES = (REPO / "infra" / "kubelink-role.json", REPO / "infra" / "kubelink-subscription-role.json")
OPERATIONS = REPO / "local" / "sandbox" / "provider_operations.json"

# The properties of Microsoft.Authorization/roleDefinitions (azure-rest-api-specs, authorization,
# RoleDefinitionProperties and Permission) that a role file may carry.
ROLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["roleName", "description", "permissions"],
    "additionalProperties": False,
    "properties": {
        "roleName": {"type": "string", "minLength": 1},
        "description": {"type": "string", "minLength": 1},
        "permissions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["actions", "notActions"],
                "additionalProperties": False,
                "properties": {
                    "actions": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z]+\\.[A-Za-z]+/"}},
                    "notActions": {"type": "array", "items": {"type": "string"}},
                    "dataActions": {"type": "array", "items": {"type": "string"}},
                    "notDataActions": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def _offline(uri: str) -> Resource[Any]:
    raise NoSuchResource(uri)  # nothing is fetched: a schema that needs the network fails the test


def _azd_validator() -> jsonschema.Draft201909Validator:
    schema = json.loads(AZD_SCHEMA.read_text())
    return jsonschema.Draft201909Validator(schema, registry=Registry(retrieve=_offline))  # type: ignore[call-arg]


def _checkov() -> dict[str, Any]:
    if not CHECKOV.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHECKOV} is missing: `make test` installs it")
        pytest.skip(f"{CHECKOV} is missing: `make .venv-checkov/.installed`")
    done = subprocess.run(
        [str(CHECKOV), "-d", "infra", "--framework", "bicep", "--skip-download", "--output", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_checkov_finds_no_failed_check_and_every_skip_is_justified() -> None:
    report = _checkov()
    summary, results = report["summary"], report["results"]
    failed = [(c["check_id"], c["file_path"], c["resource"]) for c in results["failed_checks"]]
    assert failed == [], failed
    assert summary["parsing_errors"] == 0, "checkov could not parse every Bicep file"
    assert summary["passed"] > 20  # it did scan the resources
    unjustified = [
        c["check_id"] for c in results["skipped_checks"] if len(c["check_result"].get("suppress_comment", "")) < 40
    ]
    assert unjustified == []


def test_azure_yaml_is_valid_for_azd() -> None:
    document = yaml.safe_load((REPO / "azure.yaml").read_text())
    _azd_validator().validate(document)
    assert document["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    assert (REPO / "infra" / "main.bicep").exists()


def test_the_azd_schema_does_refuse_a_wrong_azure_yaml() -> None:
    document = yaml.safe_load((REPO / "azure.yaml").read_text())
    del document["name"]  # azd requires it
    document["infra"]["provider"] = 7  # and a string here
    assert len(list(_azd_validator().iter_errors(document))) == 2


@pytest.mark.parametrize("role_file", ROLE_FILES, ids=lambda p: p.name)
def test_the_role_is_a_role_definition_of_published_operations_only(role_file: Path) -> None:
    role = json.loads(role_file.read_text())
    jsonschema.Draft202012Validator(ROLE_SCHEMA).validate(role)
    published = {name.lower() for name in json.loads(OPERATIONS.read_text())["operations"]}
    actions = [a for p in role["permissions"] for a in p["actions"]]
    assert [a for a in actions if a.lower() not in published] == []
    assert [a for a in actions if "*" in a] == []  # least privilege: no wildcard
    assert len({a.lower() for a in actions}) == len(actions)


def test_no_action_is_in_both_roles() -> None:
    """The subscription reader is assigned wherever kubelink works: an action it grants is not the operator's too."""
    operator, reader = (
        {a.lower() for p in json.loads(f.read_text())["permissions"] for a in p["actions"]} for f in ROLE_FILES
    )
    assert operator & reader == set()


def test_main_bicep_reads_the_role_files_it_assigns() -> None:
    main = (REPO / "infra" / "main.bicep").read_text()
    assert "loadJsonContent('kubelink-role.json')" in main
    assert "permissions: role.permissions" in main
    assert "loadJsonContent('kubelink-subscription-role.json')" in main
    assert "permissions: subscriptionRole.permissions" in main
