"""A process that has the students' heavy imports loaded and forks a ready kernel per request.

Run by :mod:`cvbook.grading` (``python path/to/_kernel_zygote.py SOCKET MODULES``), once per
grading run, when kernels may be forked (``CVBOOK_GRADING_FORKSERVER`` is not ``0``). It is a
plain script: it never imports :mod:`cvbook` (whose ``measured`` module installs the test-time
jitter as it is imported, which each student's kernel must do for itself).

Why: every student's kernel used to start from scratch and import ipykernel, NumPy, torch and
torchvision before its first cell, 4-8 s of CPU per student that are the same every time. Here
they are imported once; each kernel is a ``fork`` of this process, which costs milliseconds.

The protocol, over a Unix socket. The kernel launcher of the grading kernelspec (a small proxy
that jupyter_client starts as "the kernel") connects and sends one request: 8 bytes of length,
then JSON (working directory, environment, ipykernel's arguments, memory and CPU limits, the
pid file), with its stdin, stdout and stderr attached (``SCM_RIGHTS``). This process forks; the
child becomes that kernel (own session, the proxy's files, folder, environment and limits,
NumPy's global generator reseeded, then ``ipykernel``'s ``launch_new_instance``), and the proxy
gets ``pid N``. When the kernel ends, the proxy gets ``exit CODE CPU_SECONDS`` (from ``wait4``)
and exits with that code, so that jupyter_client sees what it would have seen. The proxy passes
on the signals it gets (SIGINT interrupts a cell); if the proxy dies (SIGKILL), its connection
closes and this process kills the kernel. When the grading run closes this process's stdin, it
kills what is left and exits.

Safety of ``fork``: this process stays single-threaded (checked after the imports; if a module
started a thread, it says so and exits, and the launcher falls back to a fresh kernel).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import resource
import select
import signal
import socket
import sys
import traceback

#: Signals the child gets back with their default meaning (this process ignores or handles them).
_RESET = ("SIGINT", "SIGTERM", "SIGHUP", "SIGCHLD", "SIGPIPE", "SIGQUIT")


def _threads() -> int:
    try:
        return len(os.listdir(f"/proc/{os.getpid()}/task"))
    except OSError:
        import threading

        return threading.active_count()


def _read_request(conn: socket.socket) -> tuple[dict, list[int]]:
    conn.settimeout(10)
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    while len(data) < 8 or len(data) < 8 + int.from_bytes(data[:8], "big"):
        more = conn.recv(1 << 20)
        if not more:
            for fd in fds:
                os.close(fd)
            raise OSError("the request was cut short")
        data += more
    if len(fds) != 3:
        for fd in fds:
            os.close(fd)
        raise OSError(f"expected 3 file descriptors, got {len(fds)}")
    return json.loads(data[8 : 8 + int.from_bytes(data[:8], "big")]), fds


def _become_kernel(request: dict, fds: list[int]) -> None:
    """In the forked child: set up as the launcher would have, then run ipykernel. Never returns."""
    code = 1
    try:
        os.setsid()
        for name in _RESET:
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for name, value, slack in (("RLIMIT_DATA", request["memory"], 0), ("RLIMIT_CPU", request["cpu"], 5)):
            if value > 0 and hasattr(resource, name):
                with contextlib.suppress(ValueError, OSError):
                    resource.setrlimit(getattr(resource, name), (value, value + slack))
        with open(request["pidfile"], "a") as f:
            f.write(f"{os.getpid()}\n")
        if "numpy" in sys.modules:  # a fresh process draws its own seed; a fork would share ours
            sys.modules["numpy"].random.seed()
        importlib.invalidate_caches()
        import ipykernel_launcher  # noqa: F401 - only to name it in argv, as `python -m` does

        sys.argv = [ipykernel_launcher.__file__, *request["argv"]]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported on the kernel's stderr (the grading log)
        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def main(argv: list[str]) -> int:
    address, modules = argv[1], [m for m in argv[2].split(",") if m]
    # run as a script, sys.path[0] is this file's folder (cvbook/): never let a kernel import
    # cvbook's modules as top-level ones (`import data`); '' is the working directory, as with -m
    sys.path[0] = ""
    for name in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    if _threads() > 1:
        print(f"not ready: {_threads()} threads after importing {modules}; kernels start fresh", flush=True)
        return 3
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grading run's to handle
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(address)
    server.listen(128)
    print("ready", flush=True)

    kernels: dict[int, socket.socket] = {}  # pid -> the connection of its launcher
    watched: dict[socket.socket, int] = {}  # connections still open -> the kernel's pid
    pidfiles: dict[int, str] = {}  # pid -> its student's pid file (PIDFILE.cpu gets its CPU time)

    def reaped(pid: int, status: int, usage) -> None:
        conn = kernels.pop(pid, None)
        if conn is None:
            return
        watched.pop(conn, None)
        cpu = usage.ru_utime + usage.ru_stime
        with contextlib.suppress(OSError), open(pidfiles.pop(pid) + ".cpu", "a") as f:
            f.write(f"{cpu:.3f}\n")
        code = os.waitstatus_to_exitcode(status)
        code = 128 - code if code < 0 else code
        with contextlib.suppress(OSError):
            conn.sendall(f"exit {code} {cpu:.3f}\n".encode())
        conn.close()

    def kill_all() -> None:
        for pid in kernels:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    while True:
        try:
            ready, _, _ = select.select([server, sys.stdin, *watched], [], [], 0.25)
        except InterruptedError:
            ready = []
        for item in ready:
            if item is sys.stdin:
                if not os.read(sys.stdin.fileno(), 4096):  # the grading run is over (or died)
                    kill_all()
                    server.close()
                    return 0
            elif item is server:
                conn, _ = server.accept()
                try:
                    request, fds = _read_request(conn)
                except (OSError, ValueError, KeyError):
                    conn.close()
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    server.close()
                    for other in [conn, *watched]:
                        other.close()
                    _become_kernel(request, fds)
                for fd in fds:
                    os.close(fd)
                try:
                    conn.settimeout(10)
                    conn.sendall(f"pid {pid}\n".encode())
                except OSError:
                    pass
                kernels[pid] = conn
                watched[conn] = pid
                pidfiles[pid] = request["pidfile"]
            else:  # a launcher's connection: EOF means the launcher is gone, so is its kernel
                try:
                    gone = not item.recv(4096)
                except OSError:
                    gone = True
                if gone:  # (jupyter_client's "immediate" shutdown kills the launcher's group)
                    pid = watched.pop(item)
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                        reaped(pid, *os.wait4(pid, 0)[1:])  # at once, so that its CPU time is noted now
        while kernels:  # reap the kernels that ended; tell their launchers how and at what CPU cost
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if not pid:
                break
            reaped(pid, status, usage)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
