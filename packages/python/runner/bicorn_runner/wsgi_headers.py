# Checks a WSGI app's status and response headers before they reach the worker: the rules that
# raise in the app (protocol's send/SPEC.md); check_header and LengthCheck serve ASGI too. The
# rules about the wire (hop-by-hop headers among them) are the worker's (runner process).
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from .frames import Headers

# RFC 9112: the reason phrase is tabs, spaces, visible ASCII and obs-text.
_STATUS = re.compile(r"([0-9]{3})(?: [\t\x20-\x7e\x80-\xff]*)?\Z")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# Control characters other than tab (CR, LF and NUL the dangerous ones), as node:http refuses.
_FORBIDDEN_IN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_LENGTH = re.compile(rb"[0-9]{1,15}\Z")
_FORBIDDEN_IN_VALUE_BYTES = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
# Names already found to be plain tokens, lower-cased: an app sends the same few on every
# response, so each is checked once. Bounded, so that varied names cannot grow it for ever.
_PLAIN_NAMES: Dict[bytes, bytes] = {}
_PLAIN_NAMES_MAX = 512
_PLAIN_STR_NAMES: Dict[str, bytes] = {}


# Status lines repeat across responses: each is parsed once, up to a bound.
_STATUS_CODES: Dict[str, int] = {}


def parse_status(status: Any) -> int:
    if type(status) is str:
        code = _STATUS_CODES.get(status)
        if code is not None:
            return code
    code = _parse_status(status)
    if len(_STATUS_CODES) < 256:
        _STATUS_CODES[status] = code
    return code


def _parse_status(status: Any) -> int:
    if not isinstance(status, str):
        raise TypeError(f"WSGI status must be a str like '200 OK', got {type(status).__name__} "
                        f"{status!r}")
    match = _STATUS.match(status)
    if match is None:
        raise ValueError(f"WSGI status must be three digits and a reason, like '200 OK', "
                         f"got {status!r}")
    code = int(match.group(1))
    if not 200 <= code <= 599:
        raise ValueError(f"WSGI status {status!r}: the code must be from 200 to 599 (a final "
                         f"response; informational ones are the server's)")
    return code


def encode_headers(headers: Any) -> Headers:
    """The app's headers as lower-cased latin-1 names and latin-1 values, or an error that
    names the first bad one."""
    if not isinstance(headers, (list, tuple)):
        raise TypeError(f"WSGI response headers must be a list of (name, value) tuples, got "
                        f"{type(headers).__name__}")
    encoded: List[Tuple[bytes, bytes]] = []
    lengths = LengthCheck()
    for item in headers:
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise TypeError(f"a WSGI response header must be a (name, value) tuple, got {item!r}")
        name, value = item
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"response header {name!r}: name and value must be str, got "
                            f"{type(name).__name__} and {type(value).__name__}")
        header = check_header(name, value)
        lengths.check(*header)
        encoded.append(header)
    return encoded


def check_header(name: str, value: str) -> Tuple[bytes, bytes]:
    """One response header as a lower-cased name and a trimmed value, both latin-1 bytes, or an
    error that names it."""
    lower_name = _PLAIN_STR_NAMES.get(name)
    if lower_name is not None and _FORBIDDEN_IN_VALUE.search(value) is None:
        try:
            return lower_name, value.strip(" \t").encode("latin-1")
        except UnicodeEncodeError:
            pass  # the full check below says what is wrong
    header = _check_header(name, value)
    if lower_name is None and len(_PLAIN_STR_NAMES) < _PLAIN_NAMES_MAX:
        _PLAIN_STR_NAMES[name] = header[0]
    return header


def _check_header(name: str, value: str) -> Tuple[bytes, bytes]:
    if _TOKEN.match(name) is None:
        raise ValueError(f"response header {name!r}: the name is not an HTTP token")
    if _FORBIDDEN_IN_VALUE.search(value) is not None:
        raise ValueError(f"response header {name!r}: a control character (CR, LF, NUL or "
                         f"another) in its value {value!r}")
    try:
        # RFC 9110 5.5: a field value has no leading or trailing whitespace on the wire.
        return name.lower().encode("ascii"), value.strip(" \t").encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"response header {name!r}: the value {value!r} is not latin-1; "
                         f"encode it (RFC 8187 or percent-encoding) first") from None


def check_header_bytes(name: bytes, value: bytes) -> Tuple[bytes, bytes]:
    """check_header for an ASGI app's byte strings (latin-1 by definition). A name seen before
    costs a look-up and the value's check; anything else is check_header's to decide."""
    lower = _PLAIN_NAMES.get(name)
    if lower is not None and _FORBIDDEN_IN_VALUE_BYTES.search(value) is None:
        return lower, value.strip(b" \t")
    header = check_header(name.decode("latin-1"), value.decode("latin-1"))
    if lower is None and len(_PLAIN_NAMES) < _PLAIN_NAMES_MAX:
        _PLAIN_NAMES[name] = header[0]
    return header


def seen_plain_headers(headers: Any) -> Optional[Headers]:
    """An ASGI app's headers checked as check_header_bytes and LengthCheck would, in one loop,
    when they are a list or tuple of byte-string pairs with names seen before and clean values:
    what nearly every response sends. None when anything needs the full check, which then says
    what is wrong."""
    if type(headers) is not list and type(headers) is not tuple:
        return None
    encoded: Headers = []
    length_seen = False
    for pair in headers:
        if (type(pair) is not tuple and type(pair) is not list) or len(pair) != 2:
            return None
        name, value = pair
        if type(name) is not bytes or type(value) is not bytes:
            return None
        lower = _PLAIN_NAMES.get(name)
        if lower is None or _FORBIDDEN_IN_VALUE_BYTES.search(value) is not None:
            return None
        value = value.strip(b" \t")
        if lower == b"content-length":
            if length_seen or _LENGTH.match(value) is None:
                return None
            length_seen = True
        encoded.append((lower, value))
    return encoded


def declared_length(headers: Headers) -> int:
    """The Content-Length of headers encode_headers has checked, or -1 without one."""
    for name, value in headers:
        if name == b"content-length":
            return int(value)
    return -1


class LengthCheck:
    """Content-Length frames the body, so it must never disagree with what is sent: one number
    of bytes, once (whether the body keeps to it is the worker's to check as it goes)."""

    def __init__(self) -> None:
        self._seen = False

    def check(self, name: bytes, value: bytes) -> None:
        if name != b"content-length":
            return
        if _LENGTH.match(value) is None:
            raise ValueError(f"response header content-length must be a number of bytes, got "
                             f"{value.decode('latin-1')!r}")
        if self._seen:
            raise ValueError("response header content-length: a second content-length; a "
                             "response has one")
        self._seen = True
