"""``kernelsplit rule [CODE|NAME]``: a check rule's documentation (from kernelsplit/check/rules.toml)."""

from __future__ import annotations

import click

from ...exitcodes import ExitCode
from .. import COMMANDS


@click.command(
    "rule",
    help=COMMANDS["rule"]
    + """

RULE is a code (KS106) or a name (spectral-norm); without it, every rule is listed.""",
)
@click.argument("rule", required=False, metavar="[RULE]")
@click.option("--all", "show_all", is_flag=True, help="Print the documentation of every rule.")
def command(rule: str | None, show_all: bool) -> ExitCode:
    from ...check.rules import RULES, resolve_rule
    from ...errors import UsageError
    from ...render.rule import write_rule, write_rule_list
    from ..output import to_stdout

    if rule is None:
        if show_all:

            def write_all() -> None:
                for each in RULES:
                    write_rule(each)

            to_stdout(write_all)
        else:
            to_stdout(write_rule_list)
        return ExitCode.OK
    found = resolve_rule(rule)
    if found is None:
        import difflib

        names = [r.code for r in RULES] + [r.name for r in RULES]
        close = difflib.get_close_matches(rule, names, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"unknown rule {rule!r} (rules: {RULES[0].code}..{RULES[-1].code}){hint}")
    to_stdout(lambda: write_rule(found))
    return ExitCode.OK
