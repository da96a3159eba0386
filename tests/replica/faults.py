"""Fault injection for the replica: the ways Gap (and Akamai in front of it) fail, per URL pattern.

A fault is matched with re.search against the raw request target (path and query). The first matching fault that
still has uses left applies; `times=k` limits it to the first k matching requests so that retries can succeed.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from dataclasses import dataclass, field
from http import HTTPStatus

FAULT_FIELDS = ("pattern", "status", "body", "content_type", "headers", "delay", "drop", "truncate", "times")


@dataclass
class Fault:
    """One injected failure; `hits` counts the requests it has applied to."""

    pattern: str
    status: int | None = None
    body: str | bytes | None = None
    content_type: str | None = None
    headers: dict | None = None
    delay: float = 0
    drop: bool = False
    truncate: int | None = None
    times: int | None = None
    hits: int = 0
    _regex: re.Pattern = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self._regex = re.compile(self.pattern)
        if self.truncate is not None and self.truncate < 0:
            raise ValueError("truncate must be >= 0")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0")

    @classmethod
    def from_dict(cls, data: dict) -> "Fault":
        unknown = set(data) - set(FAULT_FIELDS)
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        if "pattern" not in data:
            raise ValueError("a fault needs a pattern")
        return cls(**data)

    def to_dict(self) -> dict:
        data = {name: getattr(self, name) for name in FAULT_FIELDS}
        data["hits"] = self.hits
        if isinstance(data["body"], bytes):
            data["body"] = data["body"].decode("utf-8", "replace")
        return data

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, target: str) -> bool:
        return self._regex.search(target) is not None


class FaultSet:
    """The replica's active faults; thread-safe because handler threads consume them concurrently."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self):
        with self._lock:
            self._faults.clear()

    def take(self, target: str) -> Fault | None:
        """The fault to apply to this request (counting the use), or None for a normal answer."""
        with self._lock:
            for fault in self._faults:
                if not fault.exhausted and fault.matches(target):
                    fault.hits += 1
                    return fault
        return None

    def snapshot(self) -> list[dict]:
        with self._lock:
            return [fault.to_dict() for fault in self._faults]


def akamai_access_denied(host: str, target: str) -> str:
    """Akamai's bot-block page: title "Access Denied" and a "Reference #18...." line (deterministic per URL)."""
    url = f"http://{host}{target}"
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
    reference = f"18.{digest[:8]}.{int(digest[8:16], 16) % 10**10:010d}.{digest[16:24]}"
    return (
        "<HTML><HEAD>\n<TITLE>Access Denied</TITLE>\n</HEAD><BODY>\n<H1>Access Denied</H1>\n \n"
        f'You don\'t have permission to access "{html.escape(url)}" on this server.<P>\n'
        f"Reference #{reference}\n"
        f"<P>https://errors.edgesuite.net/{reference}</P>\n"
        "</BODY>\n</HTML>\n"
    )


def error_page(status: int) -> str:
    """A plain HTML error page for statuses injected without a body."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{status} {phrase}</title></head>"
            f"<body><h1>{status} {phrase}</h1></body></html>\n")
