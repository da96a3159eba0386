"""Starting a real scrapyd for the dashboard (`make dashboard`) and for tests.

scrapyd 1.6 has no config-file flag: it reads ./scrapyd.conf and ~/.scrapyd.conf (later wins) and the nearest
scrapy.cfg, whose [settings] section registers the project without an egg. So scrapyd always runs from the project
folder; the port, address and credentials come from SCRAPYD_HTTP_PORT, SCRAPYD_BIND_ADDRESS, SCRAPYD_USERNAME and
SCRAPYD_PASSWORD, and a separate instance (tests) gets its own directories through a private HOME holding a
`.scrapyd.conf`. `--pidfile=` keeps twistd from writing twistd.pid, so several instances can share the folder.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Mapping

from gapspider.config import PROJECT_ROOT

from dashboard.scrapyd import ScrapydClient, ScrapydError


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # like servers do: TIME_WAIT is free
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class ScrapydServer:
    """A scrapyd subprocess started from the project folder; `url`, `client()`, `stop()`, `restart()`."""

    def __init__(
        self,
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        username: str = "",
        password: str = "",
        state_dir: str | Path | None = None,
        log_path: str | Path | None = None,
        project_dir: str | Path = PROJECT_ROOT,
        runner: str | None = None,
    ):
        self.port = port or free_port()
        self.username = username
        self.password = password
        self.project_dir = Path(project_dir)
        self.state_dir = Path(state_dir) if state_dir else None
        self.log_path = Path(log_path) if log_path else None
        self.base_env = dict(env if env is not None else os.environ)
        self.runner = runner
        self.process: subprocess.Popen | None = None
        self._home: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def logs_dir(self) -> Path:
        return (self.state_dir / "logs") if self.state_dir else self.project_dir / "tmp" / "scrapyd" / "logs"

    def client(self, **kwargs) -> ScrapydClient:
        kwargs.setdefault("username", self.username)
        kwargs.setdefault("password", self.password)
        return ScrapydClient(self.url, **kwargs)

    def _environment(self) -> dict[str, str]:
        env = dict(self.base_env)
        env["SCRAPYD_HTTP_PORT"] = str(self.port)
        env["SCRAPYD_BIND_ADDRESS"] = "127.0.0.1"
        env.pop("SCRAPYD_USERNAME", None)
        env.pop("SCRAPYD_PASSWORD", None)
        if self.username and self.password:
            env["SCRAPYD_USERNAME"] = self.username
            env["SCRAPYD_PASSWORD"] = self.password
        env.setdefault("PYTHONUNBUFFERED", "1")
        if self.state_dir is not None:
            # A private HOME whose ~/.scrapyd.conf (read after ./scrapyd.conf) moves every directory.
            self.state_dir.mkdir(parents=True, exist_ok=True)
            home = self.state_dir / "home"
            home.mkdir(exist_ok=True)
            (home / ".scrapyd.conf").write_text(
                "[scrapyd]\n"
                f"logs_dir = {self.state_dir / 'logs'}\n"
                f"eggs_dir = {self.state_dir / 'eggs'}\n"
                f"dbs_dir = {self.state_dir / 'dbs'}\n"
                "poll_interval = 1\n"
                + (f"runner = {self.runner}\n" if self.runner else "")
            )
            env["HOME"] = str(home)
            self._home = home
        return env

    def start(self, timeout: float = 30.0) -> "ScrapydServer":
        log_path = self.log_path or (
            (self.state_dir / "scrapyd.log") if self.state_dir else self.project_dir / "tmp" / "scrapyd" / "scrapyd.log"
        )
        log_path.parent.mkdir(parents=True, exist_ok=True)
        (self.project_dir / "tmp" / "scrapyd").mkdir(parents=True, exist_ok=True)
        self._log_file = open(log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scrapyd", "--pidfile=", "--logfile=-"],
            cwd=self.project_dir,
            env=self._environment(),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # A parent started in the background ignores SIGINT; scrapyd and its crawls must not (cancel.json).
            preexec_fn=_default_sigint,
        )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        client = self.client(timeout=2)
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"scrapyd exited with code {self.process.returncode}; see its log")
            try:
                client.daemon_status()
                return
            except ScrapydError as exc:
                last_error = exc
                time.sleep(0.2)
        raise RuntimeError(f"scrapyd did not start on {self.url}: {last_error}")

    def _group_alive(self, pgid: int) -> bool:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def _signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)  # scrapyd leads its own session: this reaches its crawls too
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 20.0) -> None:
        """SIGINT to scrapyd and its running crawls (each fails its fetch with the reason), SIGKILL what is left."""
        if self.process is None:
            return
        pgid = self.process.pid
        self._signal_group(signal.SIGINT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.process.poll()
            if not self._group_alive(pgid):
                break
            time.sleep(0.1)
        else:
            self._signal_group(signal.SIGKILL)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None
        if getattr(self, "_log_file", None):
            self._log_file.close()
            self._log_file = None

    def kill(self) -> None:
        """Kill scrapyd and its crawls at once (SIGKILL), as a crash would: their fetches stay active in the database."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(5)
        self.process = None
        if getattr(self, "_log_file", None):
            self._log_file.close()
            self._log_file = None

    def revive_if_dead(self, timeout: float = 30.0) -> int | None:
        """If scrapyd has exited (killed, crashed), stop what is left of its crawls and start it again, same port.

        Its orphaned crawls get SIGINT, so each ends its fetch as failed ("shutdown") instead of crawling on unseen.
        Returns scrapyd's exit code when it was revived, None when it was running.
        """
        if self.process is None or self.process.poll() is None:
            return None
        code = self.process.returncode
        self.stop()
        self.start(timeout)
        return code

    def restart(self, timeout: float = 30.0) -> "ScrapydServer":
        self.stop()
        return self.start(timeout)

    def __enter__(self) -> "ScrapydServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")
