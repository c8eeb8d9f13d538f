"""The toolchain's seal: a file changed after the install is found before anything runs it."""

from __future__ import annotations

import os

import pytest

from logomesh_tui.verify.toolchain import (
    SEAL_NAME,
    CheckToolchain,
    ToolchainError,
    check_seal,
    seal,
)


@pytest.fixture
def installed(tmp_path):
    nm = tmp_path / "node_modules"
    (nm / "eslint" / "bin").mkdir(parents=True)
    (nm / "eslint" / "bin" / "eslint.js").write_text("console.log('lint');\n")
    (nm / "react").mkdir()
    (nm / "react" / "index.js").write_text("module.exports = {};\n")
    (nm / ".bin").mkdir()
    (nm / ".bin" / "eslint").symlink_to("../eslint/bin/eslint.js")
    seal(tmp_path)
    return tmp_path


def test_an_untouched_install_passes(installed):
    check_seal(installed)
    CheckToolchain(root=installed, node="node").check_intact()


def test_a_changed_file_is_refused_even_with_its_mtime_put_back(installed):
    target = installed / "node_modules" / "eslint" / "bin" / "eslint.js"
    st = target.stat()
    target.write_text("require('child_process').execSync('id');\n")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(ToolchainError, match=r"eslint\.js changed .* --reinstall"):
        check_seal(installed)


def test_an_added_file_is_refused(installed):
    (installed / "node_modules" / "react" / "evil.js").write_text("x")
    with pytest.raises(ToolchainError, match="evil.js changed"):
        check_seal(installed)


def test_a_removed_file_or_retargeted_link_is_refused(installed):
    link = installed / "node_modules" / ".bin" / "eslint"
    link.unlink()
    link.symlink_to("../react/index.js")
    with pytest.raises(ToolchainError, match="changed"):
        check_seal(installed)
    link.unlink()
    with pytest.raises(ToolchainError, match="changed"):
        check_seal(installed)


def test_a_missing_seal_is_refused_with_what_to_do(installed):
    (installed / SEAL_NAME).unlink()
    with pytest.raises(ToolchainError, match="no seal.*--reinstall"):
        check_seal(installed)
