"""CLI sub-commands: every module here that defines ``app = typer.Typer(name=...)`` is registered."""
