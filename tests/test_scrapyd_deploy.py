"""`scrapyd-deploy` (egg) also works: a scrapyd started outside the project folder, the project uploaded as an egg,
then Fetch Data from the dashboard runs the crawl from it.

The test venv has the project installed in editable mode, which would hide the egg; scrapyd's `runner` here is a
two-line module that drops the project folder from sys.path first, as on a host that only has the egg.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gapspider.config import PROJECT_ROOT
from gapspider.models import SUCCEEDED

from dashboard import create_app
from dashboard.scrapyd_server import ScrapydServer
from dashboard.testing import load_fetch, post_form, wait_fetch_in_dashboard, wait_scrapyd_idle
from tests.crawl import JEANS_URL, crawl_env, make_group


def test_fetch_data_through_a_deployed_egg(pg_url, replica_session, tmp_path):
    egg = tmp_path / "gapspider.egg"
    build = subprocess.run(
        [str(Path(sys.executable).with_name("scrapyd-deploy")), "--build-egg", str(egg)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert build.returncode == 0, build.stderr
    elsewhere = tmp_path / "scrapyd-home"
    elsewhere.mkdir()
    runner_dir = tmp_path / "runner"
    runner_dir.mkdir()
    (runner_dir / "egg_only_runner.py").write_text(
        "import sys\n"
        f"sys.path[:] = [p for p in sys.path if p.rstrip('/') != {str(PROJECT_ROOT)!r}]\n"
        "from scrapyd.runner import main\n"
        "if __name__ == '__main__':\n"
        "    main()\n"
    )
    env = crawl_env(pg_url, tmp_path / "out", replica_session, GAP_MAX_IMAGES_PER_PRODUCT="1")
    env["PYTHONPATH"] = str(runner_dir)
    server = ScrapydServer(env=env, state_dir=tmp_path / "state", project_dir=elsewhere, runner="egg_only_runner").start()
    try:
        client = server.client()
        assert "gapspider" not in client.projects()  # no scrapy.cfg here: nothing registered
        assert client.add_version(egg.read_bytes(), "r1")["spiders"] == 1
        assert "gapspider" in client.projects()

        app = create_app({
            "TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": pg_url, "OUTPUT_ROOT": str(tmp_path / "out"),
            "SCRAPYD_URL": server.url, "DASHBOARD_CHECK_INTERVAL": 0, "DASHBOARD_PASSWORD": "", "DASHBOARD_API_TOKEN": "",
        })
        web = app.test_client()
        group_id = make_group(pg_url, "Deployed", [("Women / Jeans", JEANS_URL)])
        response = post_form(web, f"/groups/{group_id}/fetch")
        fetch_id = int(response.headers["Location"].rsplit("/", 1)[1])
        state = wait_fetch_in_dashboard(web, fetch_id, timeout=240)
        assert state["status"] == SUCCEEDED, (state["error_message"], web.get(f"/fetches/{fetch_id}/log").get_data(as_text=True)[-2000:])
        assert load_fetch(pg_url, fetch_id).total_products == 53
        wait_scrapyd_idle(client)
    finally:
        server.stop()


def test_the_egg_built_as_documented_is_ignored_by_git():
    """`scrapyd-deploy --build-egg gapspider.egg` in the project folder (dashboard/README.md) leaves the egg there:
    `git add -A` must not pick it up, nor what the build leaves behind."""
    if not (PROJECT_ROOT / ".git").exists():
        import pytest

        pytest.skip("not a git checkout")
    for name in ("gapspider.egg", "build/lib/gapspider/db.py", "gapspider.egg-info/PKG-INFO"):
        ignored = subprocess.run(["git", "check-ignore", "-q", "--no-index", name], cwd=PROJECT_ROOT)
        assert ignored.returncode == 0, f"{name} is not ignored"
