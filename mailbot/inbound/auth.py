"""DESIGN §5: did our own server see this mail pass DKIM, SPF or DMARC for the From domain?"""
from __future__ import annotations

import re

from .model import ParsedMail

_RESULT = re.compile(r"\b(dkim|spf|dmarc)\s*=\s*(\w+)([^;]*)", re.IGNORECASE)
_PROP = re.compile(r"\b(header\.d|header\.i|header\.from|smtp\.mailfrom|smtp\.helo)\s*=\s*([^\s;]+)", re.IGNORECASE)


def _domain(value: str) -> str:
    return value.rsplit("@", 1)[-1].strip().strip(".").lower()


def _aligned(domain: str, from_domain: str) -> bool:
    return bool(domain) and (from_domain == domain or from_domain.endswith("." + domain))


def authenticated(mail: ParsedMail, authserv_id: str) -> tuple[bool, str]:
    """(passed, why). Only the topmost Authentication-Results header counts, and only when our
    server wrote it: anything below it, or any header with another authserv-id, came from elsewhere
    (possibly the sender) and is ignored."""
    headers = mail.header_all("authentication-results")
    if not headers or not authserv_id:
        return False, "tidak ada Authentication-Results dari server kantor"
    top = headers[0]
    server = top.split(";", 1)[0].strip().split()[0].lower() if top.strip() else ""
    if server != authserv_id.lower():
        return False, f"Authentication-Results teratas bukan dari server kantor ({server or 'kosong'})"
    from_domain = _domain(mail.from_addr)
    for method, result, props in _RESULT.findall(top):
        if result.lower() != "pass":
            continue
        values = {k.lower(): _domain(v) for k, v in _PROP.findall(props)}
        if method.lower() == "dkim" and _aligned(values.get("header.d") or values.get("header.i", ""), from_domain):
            return True, "dkim=pass"
        if method.lower() == "spf" and _aligned(values.get("smtp.mailfrom", ""), from_domain):
            return True, "spf=pass"
        if method.lower() == "dmarc" and _aligned(values.get("header.from", ""), from_domain):
            return True, "dmarc=pass"
    return False, "DKIM/SPF tidak lulus untuk domain pengirim"
