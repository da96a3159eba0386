"""A small scrapyd client (stdlib only): schedule, cancel, list jobs, read a job's log.

Credentials stay on the server: the browser never talks to scrapyd, the dashboard does.
"""

from __future__ import annotations

import base64
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Iterable


class ScrapydError(Exception):
    """scrapyd could not be used; the message is meant for the user."""


class ScrapydUnavailable(ScrapydError):
    """scrapyd did not answer (down, wrong address, timeout)."""


class ScrapydTimeout(ScrapydUnavailable):
    """scrapyd did not answer in time: the request may still have been carried out."""


class ScrapydRefused(ScrapydError):
    """scrapyd answered with an error (bad credentials, unknown project or spider...)."""


@dataclass
class JobStates:
    """What scrapyd knows about jobs right now (listjobs.json)."""

    pending: set[str] = field(default_factory=set)
    running: set[str] = field(default_factory=set)
    finished: set[str] = field(default_factory=set)

    def state(self, job_id: str) -> str | None:
        """pending, running, finished, or None when scrapyd does not know the job (e.g. after a restart)."""
        if job_id in self.running:
            return "running"
        if job_id in self.pending:
            return "pending"
        if job_id in self.finished:
            return "finished"
        return None


class ScrapydClient:
    def __init__(
        self,
        url: str,
        *,
        project: str = "gapspider",
        spider: str = "gap",
        username: str = "",
        password: str = "",
        timeout: float = 15.0,
        job_settings: dict[str, str] | None = None,
    ):
        self.url = url.rstrip("/")
        self.project = project
        self.spider = spider
        self.timeout = timeout
        self.job_settings = dict(job_settings or {})
        self._auth = None
        if username or password:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            self._auth = f"Basic {token}"

    @classmethod
    def from_config(cls, cfg: Any) -> "ScrapydClient":
        return cls(
            cfg["SCRAPYD_URL"],
            project=cfg["SCRAPYD_PROJECT"],
            spider=cfg["SCRAPYD_SPIDER"],
            username=cfg["SCRAPYD_USERNAME"],
            password=cfg["SCRAPYD_PASSWORD"],
            timeout=cfg["SCRAPYD_TIMEOUT"],
            job_settings=cfg.get("SCRAPYD_JOB_SETTINGS") or {},
        )

    # ------------------------------------------------------------ plumbing

    def _request(
        self,
        path: str,
        *,
        data: Iterable[tuple[str, str | bytes]] | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        method: str | None = None,
    ) -> tuple[int, bytes, Any]:
        url = f"{self.url}/{path.lstrip('/')}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        body = urllib.parse.urlencode(list(data)).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, method=method or ("POST" if body is not None else "GET"))
        if self._auth:
            request.add_header("Authorization", self._auth)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                raise ScrapydRefused("scrapyd refused the credentials (HTTP 401): check SCRAPYD_USERNAME/SCRAPYD_PASSWORD") from exc
            return exc.code, exc.read() or b"", exc.headers
        except (TimeoutError, socket.timeout) as exc:
            raise ScrapydTimeout(f"scrapyd at {self.url} did not answer within {timeout or self.timeout:g} s") from exc
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise ScrapydTimeout(f"scrapyd at {self.url} did not answer within {timeout or self.timeout:g} s") from exc
            raise ScrapydUnavailable(f"scrapyd is unreachable at {self.url} ({reason})") from exc
        except (ConnectionError, OSError) as exc:
            raise ScrapydUnavailable(f"scrapyd is unreachable at {self.url} ({exc})") from exc

    def _json(self, path: str, **kwargs: Any) -> dict[str, Any]:
        status, body, _headers = self._request(path, **kwargs)
        try:
            payload = json.loads(body.decode("utf-8", "replace"))
        except ValueError as exc:
            raise ScrapydRefused(f"scrapyd answered HTTP {status} with something that is not JSON") from exc
        if not isinstance(payload, dict):
            raise ScrapydRefused(f"scrapyd answered HTTP {status} with unexpected JSON")
        if payload.get("status") != "ok":
            message = payload.get("message") or f"HTTP {status}"
            raise ScrapydRefused(f"scrapyd refused: {str(message).strip()}")
        return payload

    # ------------------------------------------------------------ API

    def daemon_status(self) -> dict[str, Any]:
        return self._json("daemonstatus.json", timeout=min(self.timeout, 5))

    def schedule(
        self,
        *,
        job_id: str,
        settings: dict[str, str] | None = None,
        **spider_args: Any,
    ) -> str:
        """schedule.json; returns the job id scrapyd accepted."""
        data: list[tuple[str, str]] = [
            ("project", self.project),
            ("spider", self.spider),
            ("jobid", job_id),
        ]
        for key, value in {**self.job_settings, **(settings or {})}.items():
            data.append(("setting", f"{key}={value}"))
        for key, value in spider_args.items():
            data.append((key, str(value)))
        payload = self._json("schedule.json", data=data)
        return str(payload.get("jobid") or job_id)

    def add_version(self, egg: bytes, version: str) -> dict[str, Any]:
        """addversion.json: upload an egg (what `scrapyd-deploy` does) to a scrapyd without the project folder."""
        return self._json(
            "addversion.json", data=[("project", self.project), ("version", version), ("egg", egg)], timeout=120
        )

    def projects(self) -> list[str]:
        return list(self._json("listprojects.json").get("projects", []))

    def cancel(self, job_id: str) -> str | None:
        """cancel.json (SIGINT to a running job, removal of a pending one); returns the previous state."""
        payload = self._json("cancel.json", data=[("project", self.project), ("job", job_id)])
        return payload.get("prevstate")

    def jobs(self) -> JobStates:
        payload = self._json("listjobs.json", query={"project": self.project}, timeout=min(self.timeout, 5))
        return JobStates(
            pending={j["id"] for j in payload.get("pending", [])},
            running={j["id"] for j in payload.get("running", [])},
            finished={j["id"] for j in payload.get("finished", [])},
        )

    def log_tail(self, job_id: str, max_bytes: int = 64 * 1024) -> tuple[str, bool] | None:
        """The end of a job's log (text, truncated?), or None when scrapyd has no log for it."""
        safe_job = urllib.parse.quote(job_id, safe="")
        path = f"logs/{urllib.parse.quote(self.project)}/{urllib.parse.quote(self.spider)}/{safe_job}.log"
        # Twisted answers a suffix range longer than the file with HTTP 500: ask for the size first.
        timeout = min(self.timeout, 10)
        status, _body, headers = self._request(path, method="HEAD", timeout=timeout)
        if status == 404:
            return None
        if status != 200:
            raise ScrapydRefused(f"scrapyd answered HTTP {status} for the log")
        size = int(headers.get("Content-Length") or 0)
        if size == 0:
            return "", False
        start = max(0, size - int(max_bytes))
        extra = {"Range": f"bytes={start}-"} if start else {}
        status, body, _headers = self._request(path, headers=extra, timeout=timeout)
        if status == 404:
            return None
        if status not in (200, 206):
            raise ScrapydRefused(f"scrapyd answered HTTP {status} for the log")
        text = body.decode("utf-8", "replace")
        truncated = status == 206 and start > 0
        if truncated and "\n" in text:
            text = text.split("\n", 1)[1]  # drop the partial first line
        return text, truncated
