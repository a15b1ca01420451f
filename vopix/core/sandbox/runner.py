"""Run a command over a copy of some files inside bubblewrap, and nothing ever outside it.

The sandbox: new user, PID, IPC, UTS, mount, network and cgroup namespaces (no network device
but loopback, which holds nothing); a read-only view of /usr (the system's interpreter and
libraries; /usr/local hidden) and nothing else of the host; the files as a private, size-capped
tmpfs at /workspace, with /tmp another and a small /dev/shm, everything else read-only; an
empty environment; no new privileges and no
capabilities; a seccomp filter (seccomp.py); nested user namespaces disabled; run as an
unprivileged id. When the app runs as root it starts bubblewrap as SANDBOX_UID first, so that
the process limit binds (the kernel never applies it to root's processes).

Limits: the wall time (enforced here, whatever happens inside), CPU seconds, address space,
processes, open files and the size of each file (rlimits set on the script), the tmpfs sizes,
and stdout/stderr capped as they are read (past the cap the pipe is closed: the script's next
write fails). Files come back as framed name-and-bytes records on a pipe (no way to express a
link) and are read as hostile input: each name checked, sizes and count capped.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vopix.core import metrics
from vopix.core.sandbox import seccomp
from vopix.core.sandbox.limits import RunFile, RunLimits, RunResult
from vopix.settings import get_settings

SANDBOX_UID = 64_055  # an id no account on the host should have
WORKDIR = "/workspace"
ENV = {"PATH": "/usr/bin:/bin", "HOME": WORKDIR, "LANG": "C.UTF-8", "TMPDIR": "/tmp", "USER": "sandbox"}
STDIN_MAX = 1024 * 1024
SHM_BYTES = 16 * 1024 * 1024  # /dev/shm (POSIX shared memory, semaphores)
GRACE_SECONDS = 5.0  # after the wall time, for the files to be packed and read
_INSIDE = (Path(__file__).with_name("inside.py")).read_text()


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot start here; the message says why, for the person and the operator."""


def bwrap_path() -> str | None:
    """The bwrap binary (VOPIX_SANDBOX_BWRAP), if it is there."""
    path = get_settings().sandbox_bwrap
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def _safe_name(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def _argv(bwrap: str, limits: RunLimits, seccomp_fd: int | None, config: dict[str, Any]) -> list[str]:
    size = str(limits.disk_bytes)
    args = [
        bwrap,
        "--unshare-all", "--unshare-user", "--disable-userns",
        "--die-with-parent", "--new-session",
        "--uid", "1000", "--gid", "1000", "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr", "--tmpfs", "/usr/local",
        "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
        "--symlink", "usr/lib", "/lib",
    ]  # fmt: skip
    for extra in ("lib64", "lib32", "libx32"):
        if os.path.isdir(f"/usr/{extra}"):
            args += ["--symlink", f"usr/{extra}", f"/{extra}"]
    args += [
        "--proc", "/proc", "--dev", "/dev",
        "--perms", "0700", "--size", size, "--tmpfs", WORKDIR,
        "--perms", "1777", "--size", size, "--tmpfs", "/tmp",
        "--perms", "1777", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm",
        # Every other tmpfs bubblewrap makes (the root, /dev, /usr/local) has no size limit of
        # its own (half the host's memory): read-only, so nothing can be written there.
        "--remount-ro", "/usr/local", "--remount-ro", "/dev", "--remount-ro", "/",
        "--chdir", WORKDIR, "--clearenv",
    ]  # fmt: skip
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    # The config travels as a Python literal before the program: nothing to import to read it.
    program = f"CFG = {config!r}\n{_INSIDE}"
    return [*args, "--", get_settings().sandbox_python, "-I", "-S", "-c", program]


def _as_sandbox_uid() -> dict:
    """Popen's arguments that start bwrap as SANDBOX_UID when the app runs as root (done in
    the child by the C code: no Python runs between fork and exec)."""
    if os.getuid() != 0:
        return {}
    return {"user": SANDBOX_UID, "group": SANDBOX_UID, "extra_groups": []}


def _write_files(fd: int, files: Iterable[RunFile]) -> None:
    """The person's files into the sandbox, framed as inside.py reads them."""
    try:
        with os.fdopen(fd, "wb") as sink:
            for f in files:
                name = f.path.encode("utf-8")
                sink.write(b"F" + struct.pack("<I", len(name)) + name + struct.pack("<Q", len(f.data)))
                sink.write(f.data)
            sink.write(b"E")
    except (BrokenPipeError, OSError):
        pass  # the sandbox ended early; its result says why


class _Capped:
    """Reads a pipe into at most `cap` bytes, then closes it: a flood ends in EPIPE inside."""

    def __init__(self, stream: io.BufferedReader, cap: int) -> None:
        self.stream, self.cap = stream, cap
        self.data = bytearray()
        self.cut = 0
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while True:
                chunk = self.stream.read1(65536)
                if not chunk:
                    break
                room = self.cap - len(self.data)
                self.data += chunk[: max(room, 0)]
                if len(chunk) > room:
                    self.cut += len(chunk) - max(room, 0)
                    break
        except (OSError, ValueError):
            pass
        finally:
            self.stream.close()

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


class _Result:
    """Reads the result frames (hostile input) into bounded memory."""

    def __init__(self, fd: int, limits: RunLimits) -> None:
        self.fd, self.limits = fd, limits
        self.status: dict[str, Any] = {}
        self.files: list[RunFile] = []
        self.skipped: list[tuple[str, str]] = []
        self.error = ""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        budget = self.limits.files_back_bytes + 1024 * 1024
        try:
            with os.fdopen(self.fd, "rb") as src:
                while (kind := src.read(1)) in (b"S", b"F"):
                    (n,) = struct.unpack("<I", _exact(src, 4))
                    if n > 1 << 20:
                        raise ValueError("a name or status too long")
                    head = _exact(src, n)
                    if kind == b"S":
                        self.status = _parse_status(head.decode("utf-8", "replace"))
                        continue
                    name = head.decode("utf-8", "replace")
                    (size,) = struct.unpack("<Q", _exact(src, 8))
                    if size > budget:
                        raise ValueError("more than the files taken back may hold")
                    data = _exact(src, size)
                    budget -= size
                    if not _safe_name(name):
                        self.skipped.append((name[:300], "not a file inside the folder"))
                    elif len(self.files) >= self.limits.max_files_back:
                        self.skipped.append((name, "too many files"))
                    else:
                        self.files.append(RunFile(name, data))
        except (OSError, ValueError, EOFError, struct.error) as exc:
            self.error = f"the sandbox's result could not be read ({exc.__class__.__name__})"


def _exact(src: io.BufferedReader, n: int) -> bytes:
    data = src.read(n)
    if len(data) != n:
        raise EOFError
    return data


def _parse_status(text: str) -> dict[str, Any]:
    status: dict[str, Any] = {"skipped": []}
    for line in text.splitlines()[:200]:
        key, _, value = line.partition(" ")
        try:
            if key == "exit":
                status["exit_code"] = int(value)
            elif key == "timed_out":
                status["timed_out"] = value == "1"
            elif key == "cpu":
                status["cpu_seconds"] = float(value)
            elif key == "skip":
                path, _, why = value.partition("\t")
                status["skipped"].append([path[:300], why[:120]])
        except ValueError:
            continue
    return status


def run(
    argv: list[str],
    files: Iterable[RunFile] = (),
    *,
    stdin: bytes = b"",
    limits: RunLimits | None = None,
) -> RunResult:
    """Run `argv` (paths as seen inside) in a fresh sandbox over a copy of `files`."""
    limits = limits or RunLimits()
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed on the server")
    if len(stdin) > STDIN_MAX:
        raise ValueError(f"standard input is limited to {STDIN_MAX // 1024} KB")
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    filt = seccomp.filter_for()
    sc_r = sc_w = None
    if filt is not None:
        sc_r, sc_w = os.pipe()
        os.write(sc_w, filt)  # a few hundred bytes: fits the pipe's buffer
        os.close(sc_w)
    keep = (in_r, out_w) + ((sc_r,) if sc_r is not None else ())
    config = {
        "workdir": WORKDIR, "argv": argv, "env": ENV, "in_fd": in_r, "out_fd": out_w,
        "limits": {
            "wall_seconds": limits.wall_seconds, "cpu_seconds": limits.cpu_seconds,
            "memory_bytes": limits.memory_bytes, "processes": limits.processes,
            "open_files": limits.open_files, "file_bytes": limits.file_bytes,
        },
        "collect": {
            "max_files": limits.max_files_back, "max_bytes": limits.files_back_bytes,
            "max_file_bytes": limits.file_bytes,
        },
    }  # fmt: skip
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            _argv(bwrap, limits, sc_r, config),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=keep, env={}, cwd="/", start_new_session=True, **_as_sandbox_uid(),
        )  # fmt: skip
    except OSError as exc:
        for fd in (in_r, in_w, out_r, out_w):
            os.close(fd)
        raise SandboxUnavailable(f"bubblewrap could not be started ({exc.strerror})") from exc
    finally:
        if sc_r is not None:
            os.close(sc_r)
    os.close(in_r)
    os.close(out_w)
    feeder = threading.Thread(target=_write_files, args=(in_w, list(files)), daemon=True)
    feeder.start()
    assert proc.stdin and proc.stdout and proc.stderr
    threading.Thread(target=_feed_stdin, args=(proc.stdin, stdin), daemon=True).start()
    out = _Capped(proc.stdout, limits.output_bytes)  # type: ignore[arg-type]
    err = _Capped(proc.stderr, limits.output_bytes)  # type: ignore[arg-type]
    result = _Result(out_r, limits)
    killed: list[bool] = []

    def kill() -> None:
        killed.append(True)
        proc.kill()  # --die-with-parent and the PID namespace take everything inside with it

    # A blocking wait and a timer, not Popen.wait(timeout), which polls with sleeps of up to
    # 50 ms: that alone would be most of an empty run's overhead.
    timer = threading.Timer(limits.wall_seconds + GRACE_SECONDS, kill)
    timer.daemon = True
    timer.start()
    proc.wait()
    timer.cancel()
    host_timeout = bool(killed)
    seconds = time.monotonic() - start
    for reader in (out.thread, err.thread, result.thread):
        reader.join(timeout=2)
    st = result.status
    bwrap_failed = not st and not host_timeout
    exit_code = st.get("exit_code") if isinstance(st.get("exit_code"), int) else None
    cpu = st.get("cpu_seconds")
    res = RunResult(
        exit_code=exit_code,
        stdout=out.text(),
        stderr="" if bwrap_failed else err.text(),
        seconds=seconds,
        cpu_seconds=float(cpu) if isinstance(cpu, int | float) else 0.0,
        timed_out=host_timeout or bool(st.get("timed_out")),
        stdout_cut=out.cut,
        stderr_cut=err.cut,
        files=result.files,
        skipped=result.skipped + _skipped(st.get("skipped")),
    )
    if bwrap_failed:
        res.error = _first_line(err.text()) or result.error or "the sandbox ended without a result"
    metrics.sandbox_result(bwrap_failed, res.timed_out, exit_code)
    return res


def _feed_stdin(pipe: io.BufferedWriter, data: bytes) -> None:
    try:
        if data:
            pipe.write(data)
    except (BrokenPipeError, OSError):
        pass
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def _skipped(value: object) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        return []
    return [(str(v[0])[:300], str(v[1])[:60]) for v in value[:50] if isinstance(v, list) and len(v) == 2]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""
