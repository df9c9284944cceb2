"""The ``smart-teller`` console script: one entry point for technicians and developers.

Sub-commands live in ``ui/commands/<name>.py`` (each defines ``app``) and are found at start, so each
capability brings its own command. Bad settings or an unreachable database give one line on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import typer

# Errors an operator can fix (bad settings, unreachable database, damaged keys): one line, exit 2. Named,
# not imported, so that `smart-teller run` does not load the database stack before the first paint.
OPERATOR_ERRORS = (
    ("kiosk.settings", "SettingsError"),
    ("bank.db.engine", "DatabaseUnavailable"),
    ("bank.security.vault", "VaultError"),
)


def is_operator_error(exc: BaseException) -> bool:
    for module_name, class_name in OPERATOR_ERRORS:
        module = sys.modules.get(module_name)  # not loaded: exc cannot be one of its classes
        if module is not None and isinstance(exc, getattr(module, class_name)):
            return True
    return False


app = typer.Typer(
    name="smart-teller",
    help="Smart Teller: self-service banking kiosk. Run the kiosk, its simulators, and the technician tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version() -> str:
    try:
        return version("smart-teller")
    except PackageNotFoundError:
        return "0+unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"smart-teller {_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Smart Teller command line."""


def _register_commands() -> None:
    import ui.commands as package

    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"ui.commands.{module_info.name}")
        sub = getattr(module, "app", None)
        if isinstance(sub, typer.Typer):
            name = sub.info.name or module_info.name.replace("_", "-")
            if getattr(module, "SINGLE_COMMAND", False):
                app.registered_commands.extend(sub.registered_commands)
            else:
                app.add_typer(sub, name=name)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line on stderr; the caller raises the returned Exit."""
    typer.echo(f"smart-teller: {message}", err=True)
    return typer.Exit(code)


def _click_exceptions() -> tuple[type[Any], ...]:
    """Click's exception class, and typer's own copy of it (typer 0.2x ships click inside itself and raises
    usage errors such as an unknown option from there, which ``click.ClickException`` does not catch)."""
    import click

    classes: list[type[Any]] = [click.ClickException]
    try:
        from typer._click.exceptions import ClickException as TyperClickException  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # a typer that uses click itself
        pass
    else:
        classes.append(TyperClickException)
    return tuple(classes)


def main(argv: list[str] | None = None) -> int:
    _register_commands()
    try:
        # standalone_mode=False hands typer.Exit codes back as the return value instead of exiting.
        rc = app(args=argv, prog_name="smart-teller", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        typer.echo("smart-teller: aborted", err=True)
        return 130
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    except Exception as exc:  # operator errors, click usage errors and the like
        if is_operator_error(exc):
            typer.echo(f"smart-teller: {exc}", err=True)
            return 2
        if isinstance(exc, _click_exceptions()):
            exc.show()  # click's usage line and a one-line error on stderr
            return int(exc.exit_code)
        raise
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
