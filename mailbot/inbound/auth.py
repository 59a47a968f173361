"""DESIGN §5: what our own server said of this mail's From domain: pass, fail, or nothing.

Deployment assumption (the rules below cannot check it): our MTA adds exactly one
Authentication-Results header with our authserv-id ABOVE everything the mail arrived with, and
removes any header claiming our authserv-id that came from outside (RFC 8601 §5), quoting the
values it copies from the sender. Then the topmost header is ours and a sender-written one
below it is never read. What no rule can tell apart: a server that adds NO header, and a sender
who wrote one with our authserv-id — it is then the topmost one and looks like ours. A server that
adds none must therefore run with `security.authserv_id = ""` (thread tokens only).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import ParsedMail

_METHOD = re.compile(r"\s*([A-Za-z0-9_-]+)\s*=\s*([A-Za-z0-9_-]+)\s*")
# One `name=value` after the result: value is a run of quoted strings and plain characters.
_PROPERTY = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*((?:"(?:[^"\\]|\\.)*"|[^\s"])+)\s*')
_TRUSTED = {"dkim": ("header.d", "header.i"), "spf": ("smtp.mailfrom",), "dmarc": ("header.from",)}


def _domain(value: str) -> str:
    return value.rsplit("@", 1)[-1].strip().strip('"').strip(".").lower()


def _aligned(domain: str, from_domain: str) -> bool:
    return bool(domain) and (from_domain == domain or from_domain.endswith("." + domain))


def _resinfos(header: str) -> list[str] | None:
    """The header split at every ';' outside quoted strings, comments removed; None when malformed.
    (A naive split would let a quoted value such as smtp.mailfrom="x;dkim=pass"@evil.example
    forge a result of its own.)"""
    parts, current, depth, quoted, escaped = [], [], 0, False, False
    for ch in header:
        if escaped:
            escaped = False
            if not depth:
                current.append(ch)
        elif ch == "\\" and (quoted or depth):
            escaped = True
            if not depth:
                current.append(ch)
        elif depth:
            depth += {"(": 1, ")": -1}.get(ch, 0)
        elif quoted:
            current.append(ch)
            quoted = ch != '"'
        elif ch == "(":
            depth = 1
            current.append(" ")
        elif ch == ";":
            parts.append("".join(current))
            current = []
        else:
            quoted = ch == '"'
            current.append(ch)
    if depth or quoted or escaped:
        return None
    parts.append("".join(current))
    return parts


def _result(resinfo: str) -> tuple[str, str, dict[str, str]] | None:
    """(method, result, properties) of one resinfo; None when it does not parse or names a
    property twice (ambiguous: one of the two did not come from our server)."""
    m = _METHOD.match(resinfo)
    if m is None:
        return None
    props: dict[str, str] = {}
    pos = m.end()
    while pos < len(resinfo):
        p = _PROPERTY.match(resinfo, pos)
        if p is None or p.end() == pos:
            return None
        name = p.group(1).lower()
        if name in props:
            return None
        props[name] = p.group(2)
        pos = p.end()
    return m.group(1).lower(), m.group(2).lower(), props


# Results that say the From line is false (DESIGN §5): our server's "fail" for the From domain.
_FAILS = {"dkim": {"fail"}, "spf": {"fail", "softfail"}, "dmarc": {"fail"}}


@dataclass(frozen=True)
class Verdict:
    """Our own server's word on one mail, for its From domain (DESIGN §5):
    "pass" vouches for it; "fail" refuses it whatever token it carries; "none" leaves it to the token."""

    result: str          # pass, fail or none
    why: str             # for the refusal and the audit trail (Indonesian: staff read it)

    @property
    def passed(self) -> bool:
        return self.result == "pass"

    @property
    def failed(self) -> bool:
        return self.result == "fail"


def verdict(mail: ParsedMail, authserv_id: str) -> Verdict:
    """Only the topmost Authentication-Results header counts, and only when our server wrote it:
    anything below it, or any header with another authserv-id, came from elsewhere (possibly the
    sender) and is ignored. A fail aligned with the From domain outweighs a pass beside it: our
    server has just said that some part of this mail's claim to come from there is false."""
    headers = mail.header_all("authentication-results")
    if not headers or not authserv_id:
        return Verdict("none", "tidak ada Authentication-Results dari server kantor")
    parts = _resinfos(headers[0])
    if parts is None:
        return Verdict("none", "Authentication-Results teratas tidak terbaca")
    words = parts[0].split()
    server = words[0].lower() if words else ""
    if server != authserv_id.lower():
        return Verdict("none", f"Authentication-Results teratas bukan dari server kantor ({server or 'kosong'})")
    if mail.from_problem or not mail.from_addr:
        problem = mail.from_problem or "tanpa alamat"
        why = problem if problem.startswith("header From") else f"header From tidak tunggal: {problem}"
        return Verdict("none", why)
    from_domain = _domain(mail.from_addr)
    passed, failed = [], []
    for resinfo in parts[1:]:
        parsed = _result(resinfo)
        if parsed is None or parsed[0] not in _TRUSTED:
            continue
        method, result, props = parsed
        domain = next((_domain(props[k]) for k in _TRUSTED[method] if props.get(k)), "")
        if not _aligned(domain, from_domain):
            continue
        if result == "pass":
            passed.append(f"{method}=pass")
        elif result in _FAILS[method]:
            failed.append(f"{method}={result}")
    if failed:
        return Verdict("fail", f"DKIM/SPF tidak lulus: server kantor menyatakan {', '.join(failed)} untuk domain "
                               f"pengirim {from_domain}, jadi baris From tidak benar; kode utas tidak berlaku")
    if passed:
        return Verdict("pass", passed[0])
    return Verdict("none", "DKIM/SPF tidak lulus untuk domain pengirim")


def authenticated(mail: ParsedMail, authserv_id: str) -> tuple[bool, str]:
    """(passed, why): the verdict as a yes or no, for callers that need no more."""
    v = verdict(mail, authserv_id)
    return v.passed, v.why
