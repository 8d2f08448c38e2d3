"""The README is part of the contract: every command, option and answer field is documented there."""

from __future__ import annotations

import click
import pytest

from kb import Hit
from policykb.cli import cli
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "policykb") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix} {name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix} {name}")
    return found


@pytest.mark.parametrize("name,command", _commands(cli), ids=lambda value: value if isinstance(value, str) else "")
def test_every_command_and_option_is_in_the_readme(name: str, command: click.Command) -> None:
    assert f"`{name}" in README, f"{name} is not documented in README.md"
    for parameter in command.params:
        if isinstance(parameter, click.Option) and parameter.name not in ("help", "kb_dir", "as_json"):
            flag = max(parameter.opts, key=len)
            assert flag in README, f"{name} {flag} is not documented in README.md"


def test_every_hit_field_is_in_the_answer_contract() -> None:
    for field in Hit.__dataclass_fields__:
        assert f"| `{field}`" in README or f"`{field}`" in README, f"hit field {field} is not documented"


def test_the_readme_shows_the_two_setup_commands_and_ci_runs_the_test_one() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_command = next(line for line in README.splitlines() if line.endswith("python -m pytest -q"))
    assert test_command in ci
    assert any("policykb ingest corpus" in line and "policykb serve" in line for line in README.splitlines())
