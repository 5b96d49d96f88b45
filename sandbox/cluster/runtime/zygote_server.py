"""The zygote: a warm Python process that forks one child per Python container.

A new interpreter spends tens of milliseconds starting and far more importing
numpy and scikit-learn; a fork of a process that has already done both costs
about a millisecond. :class:`~sandbox.cluster.runtime.zygote.ZygoteRuntime`
starts this module once (``python -c "...; main()" <control-fd> <preload>...``)
and talks to it over a Unix stream socket inherited as ``<control-fd>``.

Protocol: frames of a 4-byte big-endian length and a JSON object.

- zygote → runtime ``{"ready": <zygote pid>}`` once the preload modules are imported;
- runtime → zygote ``{"id", "plan", "env", "cwd"}`` carrying, as SCM_RIGHTS, the write
  ends of the container's stdout and stderr pipes;
- zygote → runtime ``{"id", "pid"}`` right after the fork (or ``{"id", "error"}``);
- zygote → runtime ``{"exited": pid, "status": code}`` when a child ends, ``code``
  as :mod:`subprocess` reports it (negative for a signal).

The zygote is single-threaded (a selector over the socket and a SIGCHLD
wake-up pipe) so that forking is safe, and reaps its children itself.

A child turns into the container's program the way the interpreter would
start it (``-c``, ``-m``, a script path; ``-u -B -E -P``; ``PYTHONPATH``, with
any ``sitecustomize`` it provides, ``PYTHONUNBUFFERED``,
``PYTHONDONTWRITEBYTECODE``, ``PYTHONSAFEPATH``): a new
session, stdio on the pipes, the container's cwd, environment and
``sys.argv``, default signal dispositions, fresh random seeds, a fresh
``__main__``; then the interpreter's exit rules (``SystemExit`` codes, a
traceback and 1 for an uncaught exception, non-daemon threads joined, atexit
handlers run, streams flushed) end in ``os._exit``. What a fork cannot redo
(``-O``, ``-W``, ``-X``, hash seeds, ...) is refused by the runtime, which then
starts a real interpreter instead.

Standard library only, plus :mod:`sandbox.cluster.runtime.reaper` for the
parent-death signal: whatever this module imports, every Python container
inherits.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import gc
import importlib
import importlib.machinery
import importlib.util
import io
import json
import os
import runpy
import selectors
import signal
import socket
import struct
import sys
import threading
import traceback
import types
import zipfile
from typing import Any

from sandbox.cluster.runtime.reaper import die_with_parent

__all__ = ["main", "read_frame", "write_frame"]

_HEADER = struct.Struct(">I")
_MAX_FDS = 2

#: sys.path as the zygote found it, without its own first entry: each child
#: puts its program's entry (script dir, cwd, or nothing) and PYTHONPATH first.
_BASE_PATH: list[str] = []


def write_frame(sock: socket.socket, message: dict[str, Any]) -> None:
    body = json.dumps(message).encode()
    sock.sendall(_HEADER.pack(len(body)) + body)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_frame(sock: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One frame and the file descriptors that came with its header."""
    header, fds, _, _ = socket.recv_fds(sock, _HEADER.size, _MAX_FDS)
    if not header:
        raise EOFError
    header += _recv_exact(sock, _HEADER.size - len(header))
    (size,) = _HEADER.unpack(header)
    return json.loads(_recv_exact(sock, size)), fds


def main() -> None:
    control_fd, *preload = sys.argv[1:]
    # The -c entry ('' = the zygote's cwd) is not the children's business.
    _BASE_PATH[:] = sys.path[1:]
    for name in preload:
        _preload(name)
    # Keep preloaded objects out of the collector's reach: a collection in a
    # child would otherwise touch (and copy) every page they live on.
    gc.freeze()
    sock = socket.socket(fileno=int(control_fd))
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    inherited = [sock.fileno(), wake_read, wake_write, selector.fileno()]
    write_frame(sock, {"ready": os.getpid()})
    while True:
        for key, _ in selector.select():
            if key.fileobj is sock:
                try:
                    request, fds = read_frame(sock)
                except (EOFError, ConnectionError):
                    return  # the runtime is gone; children die with us (PDEATHSIG)
                _spawn(sock, request, fds, inherited)
            else:
                with contextlib.suppress(BlockingIOError):
                    while os.read(wake_read, 4096):
                        pass
                _reap(sock)


def _preload(name: str) -> None:
    """Import ``name`` if it is installed; a missing module (or parent) is skipped silently."""
    try:
        if importlib.util.find_spec(name) is None:
            return
        importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name is not None and (name == err.name or name.startswith(err.name + ".")):
            return
        print(f"zygote: cannot preload {name}: {err}", file=sys.stderr, flush=True)
    except Exception as err:  # a broken optional library must not stop the zygote
        print(f"zygote: cannot preload {name}: {err}", file=sys.stderr, flush=True)


def _spawn(
    sock: socket.socket, request: dict[str, Any], fds: list[int], inherited: list[int]
) -> None:
    if len(fds) != _MAX_FDS:
        for fd in fds:
            os.close(fd)
        write_frame(sock, {"id": request["id"], "error": "expected stdout and stderr descriptors"})
        return
    sys.stdout.flush()
    sys.stderr.flush()
    _find_sitecustomize(_pythonpath_entries(request["plan"], request["env"]))
    parent = os.getpid()
    # The answer waits until the child leads its own session: the runtime may
    # signal its group (pgid = pid) as soon as it knows the pid.
    settled_read, settled_write = os.pipe()
    try:
        pid = os.fork()
    except OSError as err:
        write_frame(sock, {"id": request["id"], "error": f"fork: {err.strerror}"})
        pid = -1
    if pid == 0:
        code = 1
        try:
            _become_child(parent, fds, [*inherited, settled_read], settled_write)
            code = _run(request)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(settled_write)
    if pid > 0:
        os.read(settled_read, 1)
    os.close(settled_read)
    for fd in fds:
        os.close(fd)
    if pid > 0:
        write_frame(sock, {"id": request["id"], "pid": pid})


def _reap(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        write_frame(sock, {"exited": pid, "status": os.waitstatus_to_exitcode(status)})


def _become_child(parent: int, fds: list[int], inherited: list[int], settled: int) -> None:
    """Detach from the zygote: own session, own stdio, default signals."""
    os.setsid()
    die_with_parent(parent)
    os.close(settled)  # the zygote may now answer with our pid
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)
    # What the interpreter installs at startup.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(fds[0], 1)
    os.dup2(fds[1], 2)
    for fd in {null, *fds, *inherited} - {0, 1, 2}:
        with contextlib.suppress(OSError):
            os.close(fd)


def _run(request: dict[str, Any]) -> int:
    """Run the program as the interpreter would; the process's exit code."""
    plan = request["plan"]
    unbuffered = plan["unbuffered"]
    env: dict[str, str] = request["env"]
    if not plan["ignore_env"]:
        unbuffered = unbuffered or bool(env.get("PYTHONUNBUFFERED"))
    _set_stdio(unbuffered=unbuffered)
    interrupted = False
    try:
        _prepare(request)
        _execute(plan)
    except SystemExit as exc:
        code = _exit_status(exc)
    except BaseException as exc:
        _print_exception(exc)
        interrupted = isinstance(exc, KeyboardInterrupt)
        code = 1
    else:
        code = 0
    code = _shutdown(code)
    if interrupted:
        # The interpreter exits "by" SIGINT so that its parent sees the signal.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return code


def _set_stdio(*, unbuffered: bool) -> None:
    def writer(fd: int, errors: str, *, line_buffering: bool) -> io.TextIOWrapper:
        raw = io.FileIO(fd, "w", closefd=False)
        stream = raw if unbuffered else io.BufferedWriter(raw)
        return io.TextIOWrapper(
            stream,  # type: ignore[arg-type]
            encoding="utf-8",
            errors=errors,
            line_buffering=line_buffering and not unbuffered,
            write_through=unbuffered,
        )

    sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stdout = sys.__stdout__ = writer(1, "strict", line_buffering=False)
    # Since Python 3.9 stderr is line buffered even when it is not a terminal.
    sys.stderr = sys.__stderr__ = writer(2, "backslashreplace", line_buffering=True)


def _prepare(request: dict[str, Any]) -> None:
    plan = request["plan"]
    env: dict[str, str] = request["env"]
    if request["cwd"]:
        os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(env)
    use_env = not plan["ignore_env"]
    if use_env and env.get("PYTHONDONTWRITEBYTECODE"):
        sys.dont_write_bytecode = True
    if plan["no_bytecode"]:
        sys.dont_write_bytecode = True
    entries = _pythonpath_entries(plan, env)
    safe_path = plan["safe_path"] or (use_env and bool(env.get("PYTHONSAFEPATH")))
    first: list[str] = []
    if not safe_path:
        if plan["mode"] == "c":
            first = [""]
        elif plan["mode"] == "m":
            first = [os.getcwd()]
        else:
            first = [os.path.dirname(os.path.realpath(plan["target"]))]
    sys.path[:] = first + entries + _BASE_PATH
    sys.orig_argv = list(plan["orig_argv"])
    _customize_site(entries)
    _reseed()


def _pythonpath_entries(plan: dict[str, Any], env: dict[str, str]) -> list[str]:
    """The container's ``PYTHONPATH`` entries (none under ``-E``)."""
    if plan["ignore_env"]:
        return []
    return [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]


#: ``sitecustomize`` found on a ``PYTHONPATH`` → (its spec, its code, the file's mtime), found by
#: the zygote before forking so that every child of the same ``PYTHONPATH`` inherits the answer
#: instead of searching the path and reading the file again (the kubelet gives every Python
#: container the same bootstrap directory).
_SITECUSTOMIZE: dict[tuple[str, ...], tuple[Any, Any, float | None]] = {}


def _mtime(path: str | None) -> float | None:
    try:
        return os.stat(path).st_mtime if path else None
    except OSError:
        return None


def _find_sitecustomize(entries: list[str]) -> None:
    """Fill :data:`_SITECUSTOMIZE` for ``entries`` (again when the file changed)."""
    key = tuple(entries)
    found = _SITECUSTOMIZE.get(key)
    if found is not None and (found[0] is None or _mtime(found[0].origin) == found[2]):
        return
    _SITECUSTOMIZE.pop(key, None)
    try:
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", entries)
        code = None
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "get_code"):
            code = spec.loader.get_code("sitecustomize")
    except Exception:  # the child finds it again and reports the error as the interpreter would
        return
    _SITECUSTOMIZE[key] = (spec, code, _mtime(spec.origin) if spec is not None else None)


def _customize_site(entries: list[str]) -> None:
    """What ``site`` does at interpreter startup: import ``sitecustomize``.

    The zygote already ran any on its own path; one that the child's
    ``PYTHONPATH`` provides (the kubelet's in-cluster bootstrap,
    :mod:`sandbox.podboot`) is the child's to run, as a fresh interpreter would
    (found and compiled by the zygote before the fork, see :data:`_SITECUSTOMIZE`).
    """
    found = _SITECUSTOMIZE.get(tuple(entries))
    if found is not None:
        spec, code = found[0], found[1]
    else:
        spec, code = importlib.machinery.PathFinder.find_spec("sitecustomize", entries), None
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    try:
        if code is not None:
            exec(code, module.__dict__)
        else:
            spec.loader.exec_module(module)
    except Exception as err:
        # site.py's own words: the program still runs.
        print(
            f"Error in sitecustomize; set PYTHONVERBOSE for traceback:\n{type(err).__name__}: {err}",
            file=sys.stderr,
        )


def _reseed() -> None:
    """Forked children share the zygote's random state; real processes do not.

    :mod:`random` reseeds itself after a fork; numpy's global generator does not.
    """
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed()


def _fresh_main(**attributes: Any) -> types.ModuleType:
    module = types.ModuleType("__main__")
    module.__dict__.update(__builtins__=builtins, __spec__=None, **attributes)
    sys.modules["__main__"] = module
    return module


def _execute(plan: dict[str, Any]) -> None:
    mode, target, args = plan["mode"], plan["target"], plan["args"]
    if mode == "c":
        sys.argv = ["-c", *args]
        module = _fresh_main(__loader__=importlib.machinery.BuiltinImporter)
        exec(compile(target, "<string>", "exec"), module.__dict__)
    elif mode == "m":
        sys.argv = ["-m", *args]
        _fresh_main()
        # What `python -m` itself calls: it reports "No module named ..." the
        # interpreter's way and sets sys.argv[0] to the module's file.
        runpy._run_module_as_main(target, alter_argv=True)  # type: ignore[attr-defined]
    else:
        sys.argv = [target, *args]
        if os.path.isdir(target) or zipfile.is_zipfile(target):
            runpy.run_path(target, run_name="__main__")
            return
        try:
            with io.open_code(target) as handle:
                source = handle.read()
        except OSError as err:
            print(
                f"{plan['program']}: can't open file {os.path.abspath(target)!r}: "
                f"[Errno {err.errno}] {err.strerror}",
                file=sys.stderr,
            )
            raise SystemExit(2) from None
        loader = importlib.machinery.SourceFileLoader("__main__", target)
        module = _fresh_main(__file__=target, __cached__=None, __loader__=loader)
        exec(compile(source, target, "exec"), module.__dict__)


def _exit_status(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _print_exception(exc: BaseException) -> None:
    """The traceback the interpreter would print, without the zygote's frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    # The interpreter's hook prints the exception's own traceback, not its argument.
    exc.__traceback__ = tb
    try:
        sys.excepthook(type(exc), exc, tb)
    except Exception:
        traceback.print_exception(type(exc), exc, tb)


def _shutdown(code: int) -> int:
    """The interpreter's exit: join non-daemon threads, run atexit, flush."""
    main_thread = threading.main_thread()
    for thread in threading.enumerate():
        if thread is not main_thread and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # type: ignore[attr-defined]
    if not _flush() and code == 0:
        code = 120  # the interpreter's code for a failed flush at exit
    return code


def _flush() -> bool:
    ok = True
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            ok = False
    return ok
