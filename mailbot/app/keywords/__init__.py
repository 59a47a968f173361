"""Staff commands by mail: the keyword base class, the registry, the run over a mail, the transcript."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar, Iterable

from ...adapters import db
from ...domain import commands as c
from ...domain.case import Refused
from ...domain.states import State
from ...domain.transitions import legal_commands
from ...inbound import keywords as kw
from ...inbound.model import ParsedMail
from ..mailer import REFUSAL_NOTICE
from ..unit import Unit

NO_CASE = "kasus tidak ditemukan: balas email notifikasi kasus atau cantumkan [PUB-YYYY-NNNN] di subjek"
_TOKEN = re.compile(r"\(kode ([0-9A-F]{10})\)")


@dataclass
class Transcript:
    """Mailman/debbugs style: results, not understood, ignored."""

    results: list[tuple[str, bool, str]] = field(default_factory=list)   # (line, ok, message)
    not_understood: list[tuple[str, str | None]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return any(ok for _, ok, _ in self.results)

    def add(self, line: str, ok: bool, message: str) -> None:
        self.results.append((line, ok, message))


@dataclass
class StaffMail:
    """One staff mail being acted on: the unit, the mail, its case and its stored attachments."""

    unit: Unit
    mail: ParsedMail
    row: db.CaseRow | None
    file_ids: tuple[str, ...]              # stored allowed attachments of this mail
    digest_id: str | None = None           # the digest a bendahara reply answers
    transcript: Transcript = field(default_factory=Transcript)

    @property
    def actor(self) -> str:
        return self.mail.from_addr


class Keyword:
    """One staff command (Mailman's email commands): its spellings, syntax and help, and what it does.

    `command` is the domain command it issues; the transition table then says in which states it
    applies. A keyword with `always` set applies in every state (it changes no state)."""

    name: ClassVar[str]
    alias: ClassVar[str]
    syntax: ClassVar[str]
    help: ClassVar[str]
    role: ClassVar[str] = "petugas"
    takes_rest: ClassVar[bool] = False      # the rest of the mail is its text (BALAS, CATATAN)
    needs_case: ClassVar[bool] = True
    command: ClassVar[type[c.Command] | None] = None
    always: ClassVar[bool] = False
    # Where it falls in the process (identity, items, clear, ready, zero tariff, invoice, …): the
    # keywords of one mail run in this order, whatever order they were written in.
    stage: ClassVar[int] = 50

    def run(self, sm: StaffMail, line: kw.Line) -> tuple[bool, str]:
        if self.needs_case and sm.row is None:
            return False, NO_CASE
        return self.process(sm, line)

    def process(self, sm: StaffMail, line: kw.Line) -> tuple[bool, str]:
        raise NotImplementedError


def apply(sm: StaffMail, cmd: c.Command, done: str) -> tuple[bool, str]:
    """Decide `cmd` on the mail's case: (True, done) when accepted, else (False, the domain's reason)."""
    decision = sm.unit.apply(sm.row, cmd)
    if isinstance(decision, Refused):
        return False, decision.reason
    return True, done


class KeywordRegistry:
    """Every keyword, once: the reader's vocabulary, BANTUAN, the README table and the notices' lists."""

    def __init__(self, keywords: Iterable[Keyword] = ()):
        self._keywords: list[Keyword] = []
        self._vocabularies: dict[str, kw.Vocabulary] = {}
        for keyword in keywords:
            self.add(keyword)

    def add(self, keyword: Keyword) -> None:
        taken = {s for k in self._keywords if k.role == keyword.role for s in (k.name, k.alias)}
        clash = taken & {keyword.name, keyword.alias}
        if clash:
            raise ValueError(f"keyword spelling {sorted(clash)[0]!r} is registered twice for {keyword.role}")
        self._keywords.append(keyword)
        self._vocabularies.pop(keyword.role, None)

    def for_role(self, role: str) -> tuple[Keyword, ...]:
        return tuple(k for k in self._keywords if k.role == role)

    def vocabulary(self, role: str) -> kw.Vocabulary:
        if role not in self._vocabularies:
            self._vocabularies[role] = kw.Vocabulary(self.for_role(role))
        return self._vocabularies[role]

    def applicable(self, state: State) -> list[Keyword]:
        """The petugas keywords that can act in `state`: the notices list exactly these."""
        legal = set(legal_commands(state))
        return [k for k in self.for_role("petugas") if k.always or k.command in legal]

    def help_table(self, role: str) -> str:
        """The BANTUAN/HELP reply."""
        return "\n".join(f"  {k.syntax:<44} {k.alias:<12} {k.help}" for k in self.for_role(role))


def thread_token(mail: ParsedMail) -> str | None:
    """The per-case token mailbot put in the subject of the notification being answered."""
    m = _TOKEN.search(mail.subject)
    return m.group(1) if m else None


def run_keywords(sm: StaffMail, role: str) -> Transcript:
    """Act on every keyword line, in the order the process needs (a petugas writes them in the order
    they come to mind); the transcript lists them as written. One failing line does not stop the others."""
    reading = kw.read_keywords(sm.mail.top_text, sm.unit.app.keywords.vocabulary(role))
    t = sm.transcript
    results: dict[int, tuple[bool, str]] = {}
    for n, line in sorted(enumerate(reading.lines), key=lambda pair: pair[1].keyword.stage):
        try:
            ok, message = line.keyword.run(sm, line)
        except kw.ArgumentError as exc:
            ok, message = False, str(exc)
        notes, sm.unit.notes[:] = list(sm.unit.notes), []       # what the line's work wants its sender to know
        results[n] = (ok, "; ".join([message, *notes]))
    for n, line in enumerate(reading.lines):
        t.add(line.raw, *results[n])
    t.not_understood.extend(reading.not_understood)
    t.ignored.extend(reading.ignored)
    if not reading.lines and not reading.not_understood:
        t.not_understood.append(("(tidak ada kata kunci di baris teratas)", None))
    return t


def send_transcript(sm: StaffMail, role: str) -> None:
    """The sender always gets the transcript; accepted petugas commands go to every petugas."""
    t = sm.transcript
    everyone = list(getattr(sm.unit.cfg.roles, role))
    to = everyone if t.accepted else [sm.actor]
    if sm.actor not in to:
        to.append(sm.actor)
    sm.unit.notify(sm.row, role, "transcript", to=to, transcript=t, sender=sm.actor, role=role)


def refuse(unit: Unit, mail: ParsedMail, row: db.CaseRow | None, role: str, why: str) -> None:
    """An unauthorised command: nothing is done; the role's list (never the claimed sender) is told."""
    unit.event(row, "refused_sender", mail.from_addr, f"{role}: {why}; subject={mail.subject[:200]!r}")
    unit.notify(row, role, REFUSAL_NOTICE, to=list(getattr(unit.cfg.roles, role)), why=why, sender=mail.from_addr,
                subject=mail.subject, top_text=mail.top_text[:2000])
