"""Mutation check of the transition table: does every (command, state) cell have a test that pins it?

For each of the len(commands) x len(states) cells of ``mailbot.domain.transitions.TRANSITIONS``, one
at a time, a fresh Python process flips that one cell in memory before pytest imports anything:

- an allowed cell is removed (the command becomes illegal in that state);
- a forbidden cell is added, leading to a plausible state: the target the command most often leads
  to elsewhere in its row (``Close`` -> ``closed``, ``IssueInvoice`` -> ``invoiced`` ...), or the
  state itself for commands that never move a case (``Agree``, ``AddItem`` ...).

Then it runs the domain test files against the mutated table. A mutant whose tests still pass
*survives*: that cell is not pinned by any test. The exit status is 0 only when none survives.

``--retarget`` adds, for every allowed cell, one mutant per other state as its target (slower: it
checks that the tests pin *where* each legal command leads, not only whether it is legal).

Run from anywhere (the worktree's own ``mailbot`` package is used, never an installed copy):

    python3 tools/mutate_transitions.py            # 162 flips, one process at a time
    python3 tools/mutate_transitions.py --jobs 2 --retarget -v
    python3 tools/mutate_transitions.py -k test_every_state_and_command   # the matrix test alone
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_FILES = ("tests/test_domain_transitions.py", "tests/test_domain_clock.py")
NONE = "-"   # "no target": the cell is removed


def _import_domain():
    """The worktree's domain package, whatever is installed in site-packages."""
    if str(ROOT) not in sys.path[:1]:
        sys.path.insert(0, str(ROOT))
    import mailbot
    from mailbot.domain import commands, transitions
    from mailbot.domain.states import State
    here = Path(mailbot.__file__).resolve()
    if ROOT not in here.parents:
        raise SystemExit(f"imported {here}, not the package of {ROOT}")
    return commands, transitions, State


def run_one(command: str, state: str, to: str, pytest_args: list[str]) -> int:
    """In this process: flip one cell of TRANSITIONS in place, then run pytest on the test files."""
    commands, transitions, State = _import_domain()
    row = transitions.TRANSITIONS[getattr(commands, command)]
    if to == NONE:
        del row[State(state)]
    else:
        row[State(state)] = State(to)
    import pytest
    return pytest.main([*pytest_args, *TEST_FILES])


def plausible_target(row: dict, state):
    """Where a command would plausibly lead from a state it is not legal in."""
    moves = Counter(to for frm, to in row.items() if to != frm)
    return moves.most_common(1)[0][0] if moves else state


def mutants(retarget: bool) -> list[tuple[str, str, str]]:
    """(command class name, from-state, new target or NONE) for every cell, in table order."""
    commands, transitions, State = _import_domain()
    out = []
    for cmd, row in transitions.TRANSITIONS.items():
        for state in State:
            if state in row:
                out.append((cmd.__name__, state.value, NONE))
                if retarget:
                    out += [(cmd.__name__, state.value, other.value) for other in State if other != row[state]]
            else:
                out.append((cmd.__name__, state.value, plausible_target(row, state).value))
    return out


def _spawn(mutant: tuple[str, str, str], extra: list[str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", *mutant, "--", *extra]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)


def describe(mutant: tuple[str, str, str]) -> str:
    command, state, to = mutant
    return f"{command} in {state}: " + ("removed" if to == NONE else f"-> {to}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--one"]:
        command, state, to = argv[1:4]
        rest = argv[4:]
        return run_one(command, state, to, rest[1:] if rest[:1] == ["--"] else rest)

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1: the machine is shared)")
    p.add_argument("--retarget", action="store_true", help="also move every allowed cell to each other state")
    p.add_argument("-k", dest="select", metavar="EXPR",
                   help="only the tests pytest -k EXPR selects (e.g. to see what the matrix alone pins)")
    p.add_argument("-v", "--verbose", action="store_true", help="print every mutant's outcome")
    args = p.parse_args(argv)

    # The unmutated tests must pass, or every mutant would be "killed" for nothing.
    base = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TEST_FILES],
                          cwd=ROOT, capture_output=True, text=True)
    if base.returncode != 0:
        print(base.stdout[-3000:], base.stderr[-3000:], sep="\n")
        print("the unmutated tests fail: fix them first", file=sys.stderr)
        return 2

    todo = mutants(args.retarget)
    quiet = ["-q", "-x", "-p", "no:cacheprovider", "--no-header", "-o", "addopts="]
    if args.select:
        quiet += ["-k", args.select]
    survivors, errors = [], []
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for mutant, res in zip(todo, pool.map(lambda m: _spawn(m, quiet), todo)):
            if res.returncode == 0:
                survivors.append(mutant)
                outcome = "SURVIVED"
            elif res.returncode == 1:      # pytest: tests ran and some failed -> killed
                outcome = "killed"
            else:                          # interrupted, internal or usage error: not a kill
                errors.append(mutant)
                outcome = f"ERROR rc={res.returncode}"
                if args.verbose:
                    print(res.stdout[-2000:], res.stderr[-2000:], sep="\n")
            if args.verbose or outcome != "killed":
                print(f"{outcome:9} {describe(mutant)}", flush=True)

    flips = [m for m in todo if m[2] == NONE or not _is_retarget(m)]
    print(f"\n{len(todo)} mutants ({len(flips)} cell flips"
          + (f", {len(todo) - len(flips)} retargets" if args.retarget else "") + f"): "
          f"{len(survivors)} survived, {len(errors)} errors, "
          f"{len(todo) - len(survivors) - len(errors)} killed")
    return 0 if not survivors and not errors else 1


def _is_retarget(mutant: tuple[str, str, str]) -> bool:
    """True for a mutant that changes the target of an allowed cell (not a flip)."""
    commands, transitions, State = _import_domain()
    command, state, _ = mutant
    return State(state) in transitions.TRANSITIONS[getattr(commands, command)]


if __name__ == "__main__":
    sys.exit(main())
