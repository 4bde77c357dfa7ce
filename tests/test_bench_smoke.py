"""The load benchmark runs: bench/run.py --smoke on tiny data, on the suite's database kind (CI runs this)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["bare Flask", "/account", "bed board /board/1", "free bed's panel (htmx)", "resident page",
         "residents list", "residents search", "availability API (Bearer)", "case manager's /availability"]


@pytest.fixture
def bench_database():
    """DATABASE_URL of a scratch PostgreSQL database for the benchmark (dropped after), or None for SQLite."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        yield None
        return
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{url.database}_bench{os.getpid()}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    yield url.set(database=name).render_as_string(hide_password=False).replace("+psycopg", "")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_benchmark_runs_on_tiny_data(bench_database, tmp_path):
    if shutil.which("wrk") is None:
        if os.environ.get("CI"):
            pytest.fail("wrk is missing in CI: .ci/run installs Debian's wrk package")
        pytest.skip("Debian's wrk is not installed (apt-get install -y wrk)")
    env = {**os.environ, "SHELTER_INSTANCE_PATH": str(tmp_path / "instance")}
    args = [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--max-seconds", "240"]
    if bench_database:
        env["DATABASE_URL"] = bench_database
    else:
        env.pop("DATABASE_URL", None)
        args += ["--sqlite", str(tmp_path / "smoke.db")]
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = result.stdout
    for page in PAGES:
        for connections in (1, 8):
            row = re.search(rf"^\| {re.escape(page)} \| {connections} \| (\d+) \|", table, re.M)
            assert row and int(row.group(1)) > 0, f"{page} at {connections} connection(s) measured nothing:\n{table}"
    # SQL statements were counted for each page of the app, and sign-in took one redirect.
    assert re.search(r"^\| bed board /board/1 \| 1 \|.*\| \d+ \|$", table, re.M), table
    assert "bench-night 1 redirect(s)" in table
