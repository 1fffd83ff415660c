"""A zygote that runs ``datanexus`` commands as forked processes, so tests can kill them.

Starting Python and importing Data Nexus takes one to three seconds on a loaded machine;
the crash suite needs dozens of processes to SIGKILL. This process imports the CLI once,
then forks one child per command: each child is a real, separate process running the real
entry point (:func:`data_nexus.cli.main`) with its own environment, working directory and
stdout/stderr files, and a SIGKILL ends it as it would end ``datanexus`` started by cron.

Protocol, one JSON object per line on stdin, one answer per line on stdout:

- ``{"op": "run", "argv": [...], "env": {...}, "cwd": DIR, "out": FILE, "err": FILE}``
  → ``{"pid": PID}``;
- ``{"op": "poll", "pid": PID}`` → ``{"code": CODE}`` (``null`` while it runs);
- ``{"op": "wait", "pid": PID}`` → ``{"code": CODE}`` (negative: killed by that signal).

Run it as ``python -m tests.guarantees.forker`` from the repository root.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pkgutil
import sys
import traceback
from typing import Any

import data_nexus
from data_nexus.cli import main as datanexus_main


def _warm() -> None:
    """Import every Data Nexus module (and so pandas, pyarrow, SQLAlchemy's dialects...) once
    here, not in each child: the commands import them lazily, and a child that re-imports
    them pays one to three seconds on a loaded machine. Alembic's env.py runs on import and
    ``__main__`` is the CLI itself; both are left out."""
    for module in pkgutil.walk_packages(data_nexus.__path__, "data_nexus."):
        if ".migrations" in module.name or module.name.endswith("__main__"):
            continue
        with contextlib.suppress(ImportError):  # an optional extra that is not installed
            importlib.import_module(module.name)


def _child(request: dict[str, Any]) -> None:
    code = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for fd, path in ((1, request["out"]), (2, request["err"])):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(target, fd)
            os.close(target)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        sys.argv = ["datanexus", *request["argv"]]
        try:
            datanexus_main()
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # a traceback is what the tests look for
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _code(status: int) -> int:
    return os.waitstatus_to_exitcode(status)


def serve() -> None:
    """Answer requests until stdin closes."""
    _warm()
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        if op == "run":
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                _child(request)
            answer: dict[str, Any] = {"pid": pid}
        elif op == "poll":
            pid, status = os.waitpid(request["pid"], os.WNOHANG)
            answer = {"code": _code(status) if pid else None}
        elif op == "wait":
            _, status = os.waitpid(request["pid"], 0)
            answer = {"code": _code(status)}
        else:
            answer = {"error": f"unknown op {op!r}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
