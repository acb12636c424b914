"""``kernelsplit check``: the rules (rules.py), severities (levels.py), and the run (engine.py).

Import from the submodules; this package imports nothing itself, so ``levels`` stays cheap for
the command line's choices.
"""
