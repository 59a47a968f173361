"""Jinja2 templates: the office's override directory first, then the ones shipped with mailbot."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import jinja2

from .formatting import format_rupiah, tanggal


def shipped_templates_dir() -> Path:
    """The templates shipped with the package (`templates/` at the top of the source tree)."""
    try:
        path = Path(str(resources.files("mailbot.templates")))
        if path.is_dir():
            return path
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "templates"


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")      # not strftime's %B: that follows the server's locale


class TemplateError(ValueError):
    """A mail template that does not compile: names the file and the line."""


class Templates:
    """Renders mail templates `mail/<name>.<lang>.txt`; the first line is `Subject: …`."""

    def __init__(self, override_dir: Path | None = None):
        self.override_dir = override_dir
        self.reload()

    def reload(self) -> None:
        """Compile every mail template afresh (start, SIGHUP). A template that does not compile raises
        TemplateError and the templates in use stay as they were: one typo never stops the mail."""
        dirs = [str(d) for d in (self.override_dir, shipped_templates_dir()) if d]
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(dirs), undefined=jinja2.StrictUndefined,
                                 keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)
        env.filters["rupiah"] = format_rupiah
        env.filters["tanggal"] = lambda d: tanggal(d) if d else "-"
        env.filters["date_en"] = lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}" if d else "-"   # English mails
        for name in env.list_templates(filter_func=lambda n: n.startswith("mail/") and n.endswith(".txt")):
            try:
                env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(f"template {exc.filename or name}, line {exc.lineno}: {exc.message}") from None
        self.env = env

    def exists(self, name: str) -> bool:
        try:
            self.env.get_template(name)
            return True
        except jinja2.TemplateNotFound:
            return False

    def render_mail(self, name: str, lang: str, **context) -> tuple[str, str]:
        """(subject, body) of mail template `name`, in `lang` when it exists, else Indonesian."""
        path = f"mail/{name}.{lang}.txt"
        if lang != "id" and not self.exists(path):
            path = f"mail/{name}.id.txt"
        text = self.env.get_template(path).render(**context)
        first, _, body = text.partition("\n")
        if not first.lower().startswith("subject:"):
            raise ValueError(f"template {path} must start with a 'Subject:' line")
        return " ".join(first[len("subject:"):].split()), body.lstrip("\n")
