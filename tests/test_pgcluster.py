"""Throwaway PostgreSQL clusters: a run killed from outside leaves one; the next sweeps it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REQUIRE_POSTGRES
from tests.pgcluster import find_bindir, sweep_orphans

_CHILD = """
import time
from tests.pgcluster import ThrowawayCluster
cluster = ThrowawayCluster().start()
print(cluster.root, cluster.port, flush=True)
time.sleep(600)
"""


def _accepts(port: int) -> bool:
    try:
        psycopg.connect(
            f"host=127.0.0.1 port={port} user=postgres dbname=postgres", connect_timeout=3
        ).close()
    except psycopg.OperationalError:
        return False
    return True


def test_a_killed_owners_cluster_is_stopped_and_removed_by_the_next_sweep() -> None:
    bindir = find_bindir()
    if bindir is None:
        if REQUIRE_POSTGRES:
            pytest.fail(
                "PostgreSQL server binaries are required (DATANEXUS_TEST_REQUIRE_POSTGRES=1)"
            )
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl)")
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    root_text, port_text = child.stdout.readline().split()
    root, port = Path(root_text), int(port_text)
    try:
        assert _accepts(port)
        child.send_signal(signal.SIGKILL)  # as a CI timeout would: no chance to clean up
        child.wait(timeout=30)
        child.stdout.close()
        assert root.exists() and _accepts(port)  # the orphan

        # Another xdist worker starting its own cluster sweeps too and may remove this
        # orphan first; either way, after this sweep it must be stopped and gone.
        sweep_orphans(bindir)
        assert not root.exists()
        assert not _accepts(port)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
