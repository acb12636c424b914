"""Reusable click options (sqlite-utils style): the same flag means the same thing everywhere."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import click

from ..layouts import PARTS

F = Callable[..., Any]


def selection_options(func: F) -> F:
    """--layer / --gate / --part filters."""
    func = click.option(
        "--part", "parts", multiple=True, metavar="PART", help=f"Only this part ({', '.join(PARTS)}). Repeatable."
    )(func)
    func = click.option(
        "--gate",
        "gates",
        multiple=True,
        metavar="GATE",
        help="Only this gate (LSTM i f c o, GRU z r h, SimpleRNN h). Repeatable.",
    )(func)
    func = click.option(
        "--layer",
        "layers",
        multiple=True,
        metavar="NAME|GLOB",
        help="Only layers with this name or matching this glob. Repeatable.",
    )(func)
    return func


def expand_globs(paths: tuple[str, ...]) -> list[str]:
    """Expand quoted globs (``'models/*.h5'``) as check does; a pattern matching nothing stays as
    given so it is reported as not found."""
    import glob
    from pathlib import Path

    expanded: list[str] = []
    for raw in paths:
        if not Path(raw).exists() and set(raw) & set("*?["):
            expanded += sorted(glob.glob(raw, recursive=True)) or [raw]
        else:
            expanded.append(raw)
    return expanded


def config_option(func: F) -> F:
    """``--config FILE``: the [tool.kernelsplit] table to use instead of searching for one."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=str),
        metavar="FILE",
        help="Use this pyproject.toml / kernelsplit.toml instead of searching for one.",
    )(func)


def report_file_option(func: F) -> F:
    """``-o/--output FILE``: where a report goes instead of stdout (checked when written: exit 2)."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(path_type=str),
        metavar="FILE",
        help="Write the report to FILE instead of stdout.",
    )(func)


def paths_argument(func: F) -> F:
    return click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))(func)


def format_option(choices: tuple[str, ...], default: str) -> Callable[[F], F]:
    """``--output-format`` (ruff's name; ``--format`` is an alias): a reporter registry's keys."""
    return click.option(
        "--output-format",
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format (--format is an alias).",
    )


def quiet_option(func: F) -> F:
    return click.option(
        "-q",
        "--quiet",
        is_flag=True,
        help="Print the findings only: no summary line, skipped files or hints (the exit code is unchanged).",
    )(func)


def exit_zero_option(func: F) -> F:
    return click.option(
        "--exit-zero",
        is_flag=True,
        help="Exit 0 even when there are findings (unreadable files and usage errors still exit 2).",
    )(func)


def rule_selection_options(func: F) -> F:
    """``--select`` / ``--extend-select`` / ``--ignore`` / ``--set``: the rules and their settings,
    over the configuration file."""
    func = click.option(
        "--set",
        "settings",
        multiple=True,
        metavar="RULE.KEY=VALUE",
        help="Set a threshold (--set KS106.spectral-norm=800, or spectral-norm=800) or a severity "
        "(--set KS105.severity=error). Repeatable; beats the configuration file.",
    )(func)
    func = click.option(
        "--ignore",
        multiple=True,
        metavar="RULES",
        help="Turn these rules off (codes or names, comma-separated, repeatable).",
    )(func)
    func = click.option(
        "--extend-select",
        multiple=True,
        metavar="RULES",
        help="Turn these rules on, on top of the selection.",
    )(func)
    func = click.option(
        "--select",
        multiple=True,
        metavar="RULES",
        help="Run only these rules (codes, names or ALL; replaces the file's select and extend-select).",
    )(func)
    return func


class RegistryChoice(click.Choice):
    """A choice whose values are a registry's keys, looked up only when click needs them.

    The registries of export layouts and file formats import numpy; ``kernelsplit --help`` must not.
    """

    def __init__(self, module: str, attribute: str) -> None:
        super().__init__(())
        self._where = (module, attribute)

    @property
    def choices(self) -> tuple[str, ...]:
        module, attribute = self._where
        return tuple(str(key) for key in getattr(importlib.import_module(module), attribute))

    @choices.setter
    def choices(self, value: object) -> None:
        """click's __init__ assigns the (empty) placeholder; the registry is the truth."""


def figure_options(func: F) -> F:
    """What the distribution figures show (``plot`` and ``report``)."""
    func = click.option(
        "--spectra-max-units",
        type=click.IntRange(min=1),
        default=512,
        show_default=True,
        metavar="N",
        help="Compute spectra only for u×u blocks with u ≤ N (an SVD costs u³; larger blocks say they were skipped).",
    )(func)
    func = click.option(
        "--spectra",
        is_flag=True,
        help="Add a panel with the singular values of each square recurrent gate block U_g.",
    )(func)
    func = click.option("--log-count", is_flag=True, help="Histogram counts on a log scale.")(func)
    return func


class FiniteFloat(click.FloatRange):
    """A float in range and finite: ``nan`` compares false with everything and ``inf`` is no limit,
    so a limit given as either would silently turn the limit off (``--timeout``, ``--max-drift``)."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def isolation_options(func: F) -> F:
    """``--jobs``, ``--timeout``, ``--max-memory``: every file is read in a worker process under limits."""
    from ..batch.limits import DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT, describe_size

    func = click.option(
        "--max-memory",
        "max_memory",
        default=describe_size(DEFAULT_MAX_MEMORY),
        show_default=True,
        metavar="SIZE",
        help="Address space of each worker (4G, 512M; 0: no limit). A file needing more is 'too-large'.",
    )(func)
    func = click.option(
        "--timeout",
        type=FiniteFloat(min=0.0),
        default=DEFAULT_TIMEOUT,
        show_default=True,
        metavar="SECONDS",
        help="Wall time per file (0: none). A file still being read then is a 'timeout' error.",
    )(func)
    func = click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=0),
        default=None,
        metavar="N",
        help="Worker processes [default: the CPUs available]. 0 reads in this process: no time or memory "
        "limit and no crash isolation (debugging only).",
    )(func)
    return func


def make_limits(jobs: int | None, timeout: float, max_memory: str) -> Any:
    """The :class:`~kernelsplit.batch.limits.Limits` of the isolation options."""
    from ..batch.limits import Limits, default_jobs, parse_size

    return Limits(
        jobs=default_jobs() if jobs is None else jobs,
        timeout=timeout or None,
        max_memory=parse_size(max_memory),
    )
