"""Mail addresses: the one mailbox a From line names, the address behind a +tag, and what may be mailed."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

# RFC 5322 atext; RFC 6531 adds every non-ASCII character (sent only over SMTPUTF8).
_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ADDRESS_IN_TEXT = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+")
_COMMENT = re.compile(r"\((?:[^()\\]|\\.)*\)")
MAX_FROM = 2048                         # characters of a From line worth reading
MAX_ADDRESS = 254                       # RFC 5321 §4.5.3.1.3 (a path of 256 with its brackets)


@dataclass(frozen=True)
class FromLine:
    """What one From header says: the address in angle brackets (else the bare one), the display
    name, every address the line shows anywhere, and why it is ambiguous ("" when it is not)."""

    address: str
    name: str
    shown: tuple[str, ...]
    problem: str


def read_from(value: str, decode: Callable[[str], str] = lambda s: s) -> FromLine:
    """Read one From header value (unfolded, RFC 2047 words still encoded). `decode` turns encoded
    words into text, so that an address hidden in an encoded display name is seen as well."""
    if len(value) > MAX_FROM:                       # no one's name is this long; decoding it costs
        value, decode, overlong = value[:MAX_FROM], (lambda s: s), True
    else:
        overlong = False
    angles, display, cuts, broken = _scan(value)
    if angles:
        multiple = len(angles) > 1
        address, name, rest = _bare(angles[0]), _name(display), display
    else:                                           # bare addr-spec(s), perhaps with comments
        bounds = [0, *(c + 1 for c in cuts), len(display)]
        pieces = [p for p in (display[a:b] for a, b in zip(bounds, bounds[1:])) if p.strip(" ,;")]
        multiple = len(pieces) > 1
        first = pieces[0] if pieces else ""
        address, name = _bare(_COMMENT.sub(" ", first).strip(" ,;")), ""
        rest = "".join(_COMMENT.findall(first)) + "".join(pieces[1:])
        angles = [address] if address else []
    if broken and not address:                      # e.g. "<budi@example.com" without its ">"
        address = next(iter(_ADDRESS_IN_TEXT.findall(value.replace("<", " "))), "").lower()
    text = decode(rest) if "=?" in rest else rest
    shown = list(dict.fromkeys([*(b for b in (_bare(a) for a in angles) if b),
                                *(a.lower().rstrip(".") for a in _ADDRESS_IN_TEXT.findall(text))]))
    if overlong:
        problem = f"baris From lebih dari {MAX_FROM} karakter"
    elif broken:
        problem = "baris From tidak lengkap (tanda kutip, kurung atau < > tidak ditutup)"
    elif multiple:
        problem = f"baris From memuat lebih dari satu alamat ({', '.join(shown[:5])})"
    elif any(a != address for a in shown):
        problem = f"nama tampilan From memuat alamat lain ({next(a for a in shown if a != address)})"
    else:
        problem = ""
    return FromLine(address, decode(name) if "=?" in name else name, tuple(shown), problem)


def _scan(value: str) -> tuple[list[str], str, list[int], bool]:
    """(contents of every <...> outside quotes and comments, the text outside them, the positions in
    that text of ',' and ';' outside quotes and comments, whether something was left open)."""
    angles: list[str] = []
    out: list[str] = []
    cuts: list[int] = []
    quoted = escaped = False
    depth, inside = 0, None
    for ch in value:
        if inside is not None:
            if ch == ">":
                angles.append("".join(inside))
                inside = None
                out.append(" ")
            else:
                inside.append(ch)
            continue
        if escaped:
            escaped = False
        elif ch == "\\" and (quoted or depth):
            escaped = True
        elif quoted:
            quoted = ch != '"'
        elif depth:
            depth += {"(": 1, ")": -1}.get(ch, 0)
        elif ch == '"':
            quoted = True
        elif ch == "(":
            depth = 1
        elif ch == "<":
            inside = []
            continue
        elif ch in ",;":
            cuts.append(len(out))
        out.append(ch)
    return angles, "".join(out), cuts, bool(inside is not None or quoted or depth or escaped)


def _name(display: str) -> str:
    text = " ".join(_COMMENT.sub(" ", display).split())
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    return text.strip()


def _bare(spec: str) -> str:
    spec = spec.strip()
    if spec.startswith("@") and ":" in spec:       # an obsolete source route: @a,@b:user@host
        spec = spec.split(":", 1)[1]
    spec = spec.strip().lower()
    return spec if "@" in spec else ""


def split(address: str) -> tuple[str, str]:
    local, _, domain = address.rpartition("@")
    return local, domain


def base_address(address: str) -> str:
    """The address without its +tag: robot+1@example.org and robot+2@example.org are one sender."""
    local, domain = split(address.lower())
    return f"{local.split('+', 1)[0] or local}@{domain}" if local else address.lower()


def domain_of(address: str) -> str:
    return split(address.lower())[1]


def valid_address(address: str) -> bool:
    """An address mailbot will put in an envelope: a dot-atom local part (RFC 5322, or UTF-8 per
    RFC 6531) and a host name; never a quoted local part, a domain literal, a space, a comma or a
    bracket. A sender may legally write `"x, victim@evil.example"@example.com`; we do not answer it."""
    if not address or len(address.encode("utf-8")) > MAX_ADDRESS or address.count("@") != 1:
        return False
    local, domain = split(address)
    if not local or len(local.encode("utf-8")) > 64 or local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    if not all(_ATEXT.fullmatch(part) or _utf8_atom(part) for part in local.split(".")):
        return False
    return smtp_domain(domain) is not None


def _utf8_atom(part: str) -> bool:
    return bool(part) and not part.isascii() and all(
        (_ATEXT.fullmatch(ch) if ch.isascii() else ch.isprintable() and not ch.isspace()) for ch in part)


def smtp_domain(domain: str) -> str | None:
    """The domain as ASCII (IDNA A-labels), or None when it is not a host name."""
    domain = domain.lower().rstrip(".")
    if not domain or "." not in domain:
        return None
    try:
        ascii_domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return None
    return ascii_domain


def smtp_address(address: str) -> str:
    """The address as it goes into an envelope: an internationalised domain as A-labels, so that only
    a non-ASCII local part needs SMTPUTF8."""
    local, domain = split(address)
    return f"{local}@{smtp_domain(domain) or domain}"
