"""The project around a file: root, tsconfig, eslint, runner, and the tests that cover a module."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from logomesh_tui.verify.project import ProjectError, covering_tests, find_project

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ts-project"


def _project(tmp_path: Path, files: dict[str, str], package: dict | None = None) -> Path:
    root = tmp_path / "app"
    for name, text in {"package.json": json.dumps(package or {"name": "app"}), **files}.items():
        dest = root / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    return root


def test_a_lone_file_has_no_project(tmp_path):
    lone = tmp_path / "Widget.tsx"
    lone.write_text("export const x = 1;\n")
    assert find_project(lone) is None


def test_the_fixture_project_is_read_as_it_is():
    project = find_project(FIXTURE / "src" / "cart" / "total.ts")
    assert project is not None
    assert project.root == FIXTURE
    assert project.tsconfig == FIXTURE / "tsconfig.json"
    assert project.eslint_config is not None and project.eslint_config.name == "eslint.config.js"
    assert project.runner is not None and project.runner.name == "vitest"
    assert project.typescript is not None and project.typescript_version == "5.9.3"
    assert any("vitest" in n for n in project.notes())


def test_tests_that_import_a_module_through_an_alias_and_an_index_cover_it():
    project = find_project(FIXTURE)
    assert project is not None
    covering = covering_tests(project, [FIXTURE / "src" / "cart" / "total.ts"])
    assert [p.relative_to(FIXTURE).as_posix() for p in covering] == [
        "src/cart/__tests__/total.test.ts"]
    money = covering_tests(project, [FIXTURE / "src" / "lib" / "money.ts"])
    assert [p.relative_to(FIXTURE).as_posix() for p in money] == ["src/lib/money.test.ts"]


def test_paths_from_an_extended_tsconfig_with_comments_resolve(tmp_path):
    root = _project(tmp_path, {
        "tsconfig.base.json": '{ // shared\n "compilerOptions": {"baseUrl": "src", '
                              '"paths": {"~ui/*": ["components/*"],}} }',
        "tsconfig.json": '{"extends": "./tsconfig.base.json", /* app */ "include": ["src"]}',
        "src/components/Button.tsx": "export const Button = () => null;\n",
        "src/components/index.ts": "export { Button } from './Button';\n",
        "src/pages/Home.test.tsx": "import { Button } from '~ui/index';\ntest('x', () => {});\n",
        "src/pages/Other.test.tsx": "import { Other } from './Other';\n",
        "src/pages/Other.tsx": "export const Other = 1;\n",
    }, {"name": "app", "devDependencies": {"vitest": "3"}})
    project = find_project(root / "src" / "components" / "Button.tsx")
    assert project is not None
    covering = covering_tests(project, [root / "src" / "components" / "Button.tsx"])
    assert [p.name for p in covering] == ["Home.test.tsx"]


def test_a_project_without_node_modules_names_its_install_command(tmp_path):
    root = _project(tmp_path, {"yarn.lock": "", "src/a.ts": "export const a = 1;\n"},
                    {"name": "app", "devDependencies": {"jest": "29"}})
    project = find_project(root / "src" / "a.ts")
    assert project is not None and not project.installed
    with pytest.raises(ProjectError, match=r"`yarn install`"):
        project.require_installed()
    assert project.runner is None
    assert "jest is named by the project but not installed" in project.runner_problem


def test_an_unsupported_runner_is_named(tmp_path):
    root = _project(tmp_path, {"pnpm-lock.yaml": ""},
                    {"name": "app", "scripts": {"test": "mocha"}})
    project = find_project(root)
    assert project is not None
    assert project.install_command == "pnpm install"
    assert "mocha" in project.runner_problem and "not supported" in project.runner_problem


def test_a_copy_of_the_fixture_without_node_modules_still_finds_its_tests(tmp_path):
    copy = tmp_path / "shop"
    shutil.copytree(FIXTURE, copy, ignore=shutil.ignore_patterns("node_modules"))
    project = find_project(copy / "src" / "cart" / "total.ts")
    assert project is not None and not project.installed
    assert len(covering_tests(project, [copy / "src" / "cart" / "total.ts"])) == 1
