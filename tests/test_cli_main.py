"""Tests for the cqgis command group: version, help and the error contract."""

import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from cqgis import __version__
from cqgis.cli import main
from cqgis.errors import CqgisError


def test_version():
    result = CliRunner().invoke(main.cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"cqgis, version {__version__}"


def test_help_lists_every_registered_command():
    result = CliRunner().invoke(main.cli, ["--help"])
    assert result.exit_code == 0
    # The command names are the first word of each line of the "Commands:" section;
    # a bare substring test would pass on "maps" in some other line's help.
    section = result.output.split("Commands:", 1)[1].splitlines()
    listed = [line.split()[0] for line in section if line.startswith("  ") and line.split()]
    assert sorted(listed) == sorted(main.COMMANDS)
    for line in section:
        if line.strip():
            assert line.split()[1:], f"command without help text: {line!r}"


def test_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(main.cli, ["frobnicate"])
    assert result.exit_code == 2


def test_user_errors_become_one_line_and_exit_code(monkeypatch):
    @click.command()
    def boom():
        msg = "row 3, column 经度: expected a number, got 'abc'"
        raise CqgisError(msg)

    monkeypatch.setitem(main.COMMANDS, "boom", "cqgis.cli.main:_test_boom")
    monkeypatch.setattr(main, "_test_boom", boom, raising=False)
    result = CliRunner().invoke(main.cli, ["boom"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: row 3, column 经度: expected a number, got 'abc'"
    assert "Traceback" not in result.output


def test_installed_entry_point_runs():
    exe = Path(sys.executable).with_name("cqgis")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert __version__ in out.stdout
