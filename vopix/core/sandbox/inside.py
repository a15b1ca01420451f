"""The first program inside the sandbox, run by the system's python3 as `-I -S -c <this file>`
with `CFG = {...}` (a literal) put before it by the host; never imported by the app. It
unpacks the person's files into the private tmpfs, runs their command with the run's limits,
ends every process left behind, and sends back the files the run made or changed.

Nothing here is trusted by the host: the script runs as the same unprivileged id and could
replace any of this. The host reads the result as hostile input (names checked, sizes and
counts capped) and enforces the wall time itself. This program only makes the honest case
work: limits on the script, a status, and a clean file list.

It imports only modules built into the interpreter or tiny (no json, tarfile or hashlib):
start-up time is the sandbox's overhead on every run.

Frames on both pipes: b"F" + u32 name length + name + u64 size + data (a file), b"S" + u32
length + status lines (the result only), b"E" (the end). Status lines: `exit <n>`,
`timed_out <0|1>`, `cpu <seconds>`, `skip <path>\t<why>`.
"""

import os
import resource
import signal
import stat
import struct
import sys

if "CFG" not in globals():
    raise ImportError("vopix/core/sandbox/inside.py runs inside the sandbox; it is not a module")
CFG = globals()["CFG"]
IN_FD, OUT_FD = CFG["in_fd"], CFG["out_fd"]
WORK = CFG["workdir"]


def read_exact(fd, n):
    parts, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def unpack():
    before = {}
    while True:
        kind = read_exact(IN_FD, 1)
        if kind != b"F":
            break
        (n,) = struct.unpack("<I", read_exact(IN_FD, 4))
        name = read_exact(IN_FD, n).decode("utf-8")
        (size,) = struct.unpack("<Q", read_exact(IN_FD, 8))
        target = os.path.join(WORK, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        mode = 0o700 if name.startswith("scripts/") else 0o600
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        left = size
        while left:
            chunk = read_exact(IN_FD, min(left, 1 << 20))
            os.write(fd, chunk)
            left -= len(chunk)
        os.close(fd)
        st = os.lstat(target)
        before[name] = (st.st_ino, st.st_size, st.st_mtime_ns)
    os.close(IN_FD)
    return before


def limit_child():
    os.setsid()
    lim = CFG["limits"]
    for name, value in (
        ("RLIMIT_CPU", lim["cpu_seconds"]),
        ("RLIMIT_AS", lim["memory_bytes"]),
        ("RLIMIT_NPROC", lim["processes"]),
        ("RLIMIT_NOFILE", lim["open_files"]),
        ("RLIMIT_FSIZE", lim["file_bytes"]),
        ("RLIMIT_CORE", 0),
    ):
        resource.setrlimit(getattr(resource, name), (value, value))


def run():
    pid = os.fork()
    if pid == 0:
        try:
            os.closerange(3, 1 << 16)
            limit_child()
            os.chdir(WORK)
            os.execve(CFG["argv"][0], CFG["argv"], CFG["env"])
        except BaseException as exc:
            os.write(2, f"could not start: {exc}\n".encode())
        os._exit(127)
    timed_out = []

    def on_alarm(signum, frame):
        timed_out.append(True)
        for target in (-pid, pid):
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, CFG["limits"]["wall_seconds"])
    status = os.waitpid(pid, 0)[1]
    signal.setitimer(signal.ITIMER_REAL, 0)
    # Whatever the script left running (background children, a fork bomb) ends here: every
    # process this id can signal in the sandbox's PID namespace, except pid 1 and this one.
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return os.waitstatus_to_exitcode(status), bool(timed_out), usage.ru_utime + usage.ru_stime


def clean(text):
    return text.replace("\n", " ").replace("\t", " ")[:300]


def pack(before, exit_code, timed_out, cpu):
    collect = CFG["collect"]
    skipped, found = [], []
    for root, dirs, files in os.walk(WORK):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            rel = os.path.relpath(full, WORK)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                skipped.append((rel, "link"))
            elif not stat.S_ISREG(st.st_mode):
                continue
            elif st.st_nlink != 1:
                skipped.append((rel, "hard link"))
            elif before.get(rel) != (st.st_ino, st.st_size, st.st_mtime_ns):
                found.append((rel, full, st.st_size))
    total, frames = 0, []
    for rel, full, size in found:
        if len(frames) >= collect["max_files"]:
            skipped.append((rel, "too many files"))
            continue
        if size > collect["max_file_bytes"] or total + size > collect["max_bytes"]:
            skipped.append((rel, "too large"))
            continue
        try:
            fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        data = read_exact(fd, size) if size else b""
        os.close(fd)
        frames.append((rel, data))
        total += size
    if len(skipped) > 50:
        rest = len(skipped) - 49
        skipped = [*skipped[:49], ("", f"{rest} more files were not saved (too many files)")]
    lines = [f"exit {exit_code}", f"timed_out {int(timed_out)}", f"cpu {cpu:.3f}"]
    lines += [f"skip {clean(p)}\t{clean(why)}" for p, why in skipped]
    head = "\n".join(lines).encode("utf-8", "replace")
    out = [b"S", struct.pack("<I", len(head)), head]
    for rel, data in frames:
        name = rel.encode("utf-8", "surrogateescape")
        out += [b"F", struct.pack("<I", len(name)), name, struct.pack("<Q", len(data)), data]
    out.append(b"E")
    blob = b"".join(out)
    view = memoryview(blob)
    while view:
        view = view[os.write(OUT_FD, view) :]
    os.close(OUT_FD)


def main():
    before = unpack()
    pack(before, *run())


try:
    main()
except BrokenPipeError:
    sys.exit(1)
