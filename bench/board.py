"""Benchmark: render the bed board of a 30-bed shelter, against a baseline page in the same process.

    .venv/bin/python bench/board.py [--runs 300]        (DATABASE_URL for PostgreSQL)

Prints the median and 90th percentile of each page and their ratio to the baseline, the account
page (same layout, session check and middleware, no board queries). The machine is shared and
noisy, so the ratio is the figure to compare between runs, not the milliseconds.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="shelter-bench-")
    os.environ["SHELTER_INSTANCE_PATH"] = tmp
    from flask_migrate import upgrade

    from shelter_app import create_app, timeutil
    from shelter_app.extensions import db
    from shelter_app.beds import services as occupancy
    from shelter_app.residents import services as residents
    from shelter_app.shelters import services as shelters

    url = os.environ.get("DATABASE_URL")
    config = {"SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
              "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}}
    if not url:
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp}/bench.db"
    app = create_app(config)
    with app.app_context():
        if url:
            from sqlalchemy import text

            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        now = timeutil.utcnow()
        from shelter_app.auth.services import create_user

        create_user("benchnight", "bench password", "night", at=now)
        shelter = shelters.create_shelter("Bench", "Bench House", "", actor=None, at=now)
        beds = []
        for r in range(8):
            room = shelters.create_room(shelter, f"{r + 1}", "regular", None, actor=None, at=now)
            for b in range(4 if r < 7 else 2):
                beds.append(shelters.create_bed(room, "ABCD"[b], "woman" if r < 5 else "man", actor=None, at=now))
        iso = shelters.create_room(shelter, "Iso", "isolation", None, actor=None, at=now)
        for i, bed in enumerate(beds[:22]):
            person = residents.create_resident(residents.ResidentInput(alias=f"Resident {i}", sex="female",
                                               languages="Ukrainian", allergies="nuts" if i % 3 else ""),
                                               actor=None, at=now)
            occupancy.check_in(bed.id, occupancy.CheckIn(resident_id=person.id, at=now - timedelta(days=i + 1),
                                                         confirm_backdate=True), actor=None, now=now)
            if i == 0:
                occupancy.isolate(bed.id, str(iso.id), "health", "", now + timedelta(days=1), actor=None, now=now)
        occupancy.place_hold(beds[23].id, now + timedelta(hours=3), "", actor=None, at=now)
        db.session.commit()
        shelter_id = shelter.id

    client = app.test_client()
    response = client.post("/login", data={"username": "benchnight", "password": "bench password"})
    assert response.status_code == 303, response.status_code
    pages = {
        "baseline /account": ("/account", {}),
        "board, full page": (f"/board/{shelter_id}", {}),
        "board, htmx fragment": (f"/board/{shelter_id}", {"HX-Request": "true"}),
    }
    for path, headers in pages.values():  # warm caches, templates, connections
        for _ in range(20):
            assert client.get(path, headers=headers).status_code == 200

    timings: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(args.runs):
        for name, (path, headers) in pages.items():  # interleaved, so noise hits all alike
            start = time.perf_counter()
            client.get(path, headers=headers)
            timings[name].append((time.perf_counter() - start) * 1000)

    base = statistics.median(timings["baseline /account"])
    print(f"database: {'PostgreSQL' if url else 'SQLite'}; 30 beds, 22 occupied; {args.runs} runs each")
    for name, values in timings.items():
        values.sort()
        median, p90 = statistics.median(values), values[int(len(values) * 0.9)]
        print(f"{name:<24} median {median:6.2f} ms   p90 {p90:6.2f} ms   x{median / base:4.2f} of baseline")


if __name__ == "__main__":
    main()
