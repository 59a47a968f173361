"""Write the keyword tables of README.md from the keyword registry (the one source); --check compares."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))           # this checkout's mailbot, not an installed one

from mailbot.app.bootstrap import keyword_registry  # noqa: E402

README = ROOT / "README.md"
BEGIN, END = "<!-- keywords:begin -->", "<!-- keywords:end -->"


def tables() -> str:
    out = []
    for role, title in (("petugas", "Petugas"), ("bendahara", "Bendahara (replying to the digest)")):
        out += [f"**{title}**", "", "| keyword | English | what it does |", "|---|---|---|"]
        out += [f"| `{kw.syntax}` | `{kw.alias}` | {kw.help} |" for kw in keyword_registry().for_role(role)]
        out.append("")
    return "\n".join(out)


def render(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{tables()}{END}{tail}"


if __name__ == "__main__":
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in sys.argv:
        sys.exit(0 if current == wanted else "README.md keyword tables are stale: run python tools/readme_keywords.py")
    README.write_text(wanted, encoding="utf-8")
