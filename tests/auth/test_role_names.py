"""Role names live in one place (auth/vocab.py); code asks for permissions, not roles."""
from __future__ import annotations

import ast
from pathlib import Path

from shelter_app.auth import permissions
from shelter_app.auth.vocab import Locale, Role

PACKAGE = Path(__file__).resolve().parents[2] / "shelter_app"
# auth/vocab.py defines the roles; the demo's accounts are named after their roles (a documented contract).
ROLE_NAMES_ALLOWED_IN = {"auth/vocab.py", "demo.py"}


def _role_names_used_as_roles(tree) -> list[tuple[int, str]]:
    """Role names compared with something, or listed together (a choice, a set of roles)."""
    roles = set(Role.values())

    def names(node):
        items = node.elts if isinstance(node, (ast.List, ast.Tuple, ast.Set)) else [node]
        return [(n.lineno, n.value) for n in items if isinstance(n, ast.Constant) and n.value in roles]

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                found += names(side)
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)) and len(names(node)) >= 2:
            found += names(node)
        elif isinstance(node, ast.keyword) and node.arg == "role":
            found += names(node.value)
    return found


def test_no_module_writes_a_role_name_as_a_string():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        if where in ROLE_NAMES_ALLOWED_IN:
            continue
        found += [f"{where}:{line}: {name!r}"
                  for line, name in _role_names_used_as_roles(ast.parse(path.read_text(), filename=str(path)))]
    assert found == [], "use Role or a permission instead of a role's name:\n" + "\n".join(found)


def test_users_create_offers_every_role_and_language_of_the_vocabulary(app):
    from shelter_app.cli import create_user_command

    options = {p.name: p for p in create_user_command.params}
    assert list(options["role"].type.choices) == list(Role.values())
    assert list(options["locale"].type.choices) == list(Locale.values())
    for role in Role.values():
        result = app.test_cli_runner().invoke(args=["users", "create", f"cli-{role}", "--role", role],
                                              input="long enough password\n")
        assert result.exit_code == 0, result.output


def test_token_suggestions_are_the_organisations_of_accounts_that_read_the_api(make_user, monkeypatch):
    from shelter_app.api.services import organisations

    make_user("casemanager", organisation="Partner One")
    make_user("trainer", organisation="Trainers Guild")
    assert organisations() == ["Partner One"]
    # Who reads the API is the permission's to say, not a role written into the query.
    monkeypatch.setitem(permissions.PERMISSIONS, "api.read", frozenset({Role.TRAINER}))
    assert organisations() == ["Trainers Guild"]
