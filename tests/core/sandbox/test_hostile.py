"""Hostile scripts on the real sandbox: each must be contained, and the host must not notice."""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest

import vopix
from vopix.core import sandbox
from vopix.core.sandbox import RunFile, RunLimits
from vopix.settings import get_settings

PROBE = r"""
import json, os, sys
out = {}
for path in json.loads(sys.stdin.read()):
    try:
        with open(path, "rb") as f:
            out[path] = "READ:" + f.read(200).decode("latin-1")
    except OSError as exc:
        out[path] = "refused:" + exc.__class__.__name__
try:
    out["listing"] = sorted(os.listdir("/"))
except OSError as exc:
    out["listing"] = str(exc)
out["env"] = dict(os.environ)
print(json.dumps(out))
"""


@pytest.mark.promise("P19")
def test_a_script_reads_nothing_of_the_host(sandboxed) -> None:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secret_file = settings.data_dir / "secret-marker.txt"
    secret_file.write_text("host-secret-value")
    app_code = Path(vopix.__file__).resolve()
    targets = [
        "/etc/shadow", "/etc/passwd", "/proc/1/environ", str(secret_file),
        str(settings.data_dir / "vopix.db"), str(app_code), "/root/.bash_history",
        f"/proc/{os.getpid()}/environ",
    ]  # fmt: skip
    res = sandboxed(PROBE, stdin=json.dumps(targets).encode())
    assert res.exit_code == 0, res.stderr
    seen = json.loads(res.stdout)
    for path in targets:
        if path.startswith("/proc/"):  # the sandbox's own pid 1 (bubblewrap) has an empty environment
            assert seen[path] in ("READ:", "refused:FileNotFoundError", "refused:PermissionError"), path
        else:
            assert seen[path].startswith("refused:"), (path, seen[path])
    # Only the sandbox's own skeleton is there: no /etc, /home, /root, /work, /srv of the host.
    assert seen["listing"] == sorted(["bin", "dev", "lib", "proc", "sbin", "tmp", "usr", "workspace", *_libdirs()])
    env = seen["env"]
    assert not [k for k in env if k.startswith("VOPIX_")]
    assert settings.vault_key not in json.dumps(env)
    assert set(env) <= {"PATH", "HOME", "LANG", "TMPDIR", "USER", "PWD", "LC_CTYPE"}


def _libdirs() -> list[str]:
    return [d for d in ("lib64", "lib32", "libx32") if os.path.isdir(f"/usr/{d}")]


def test_the_script_runs_unprivileged_with_no_new_privileges_and_seccomp(sandboxed) -> None:
    res = sandboxed(
        "import os\nst = open('/proc/self/status').read()\n"
        "print(os.getuid(), os.geteuid(), [l.split()[1] for l in st.splitlines() "
        "if l.startswith(('NoNewPrivs', 'Seccomp:', 'CapEff'))])\n"
        "import ctypes; libc = ctypes.CDLL(None, use_errno=True)\n"
        "print('mount', libc.mount(b'none', b'/tmp', b'tmpfs', 0, None), ctypes.get_errno())\n"
        "print('unshare', libc.unshare(0x10000000), ctypes.get_errno())\n"
    )
    lines = res.stdout.splitlines()
    assert lines[0] == "1000 1000 ['0000000000000000', '1', '2']", res.stdout
    assert lines[1].startswith("mount -1") and lines[2].startswith("unshare -1")


def _listener() -> tuple[socket.socket, list[bool]]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    hits: list[bool] = []

    def accept() -> None:
        try:
            conn, _ = srv.accept()
            hits.append(True)
            conn.close()
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    return srv, hits


def test_no_network_at_all(sandboxed) -> None:
    app, hits = _listener()  # stands for the app's port on the host
    port = app.getsockname()[1]
    code = f"""
import socket
for host, port in [("127.0.0.1", {port}), ("127.0.0.1", 5432), ("127.0.0.1", 6379), ("203.0.113.7", 443)]:
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host, port))
        print(host, port, "CONNECTED")
    except OSError as exc:
        print(host, port, "refused", exc.errno)
print(open("/proc/net/dev").read())
"""
    res = sandboxed(code)
    app.close()
    assert "CONNECTED" not in res.stdout
    assert res.stdout.count("refused") == 4
    devices = [line.split(":")[0].strip() for line in res.stdout.splitlines() if ":" in line and "|" not in line]
    assert devices == ["lo"]  # no device leads anywhere
    assert hits == []


def test_a_fork_bomb_is_capped_and_other_runs_go_on(sandboxed) -> None:
    bomb = "import os, time\nn = 0\nwhile True:\n    try:\n        os.fork(); n += 1\n    except OSError:\n        time.sleep(0.01)\n"
    results: dict[str, object] = {}

    def run_bomb() -> None:
        results["bomb"] = sandboxed(bomb, wall_seconds=3, processes=16)

    t = threading.Thread(target=run_bomb)
    t.start()
    neighbour = sandboxed("import os\nprint(os.getpid(), 'fine')", wall_seconds=10)
    t.join()
    bomb_res = results["bomb"]
    assert bomb_res.timed_out  # it never got past its process limit, and was ended on time
    assert neighbour.exit_code == 0 and neighbour.stdout.split()[1] == "fine"
    assert sandboxed("print('after')").stdout == "after\n"


def test_a_memory_bomb_fails_at_its_limit(sandboxed) -> None:
    res = sandboxed("x = bytearray(2 * 1024 ** 3)\nprint('allocated')", memory_bytes=128 * 1024 * 1024)
    assert res.exit_code != 0
    assert "allocated" not in res.stdout
    assert "MemoryError" in res.stderr


def test_an_infinite_loop_is_stopped_at_the_wall_time(sandboxed) -> None:
    res = sandboxed("while True:\n    pass", wall_seconds=1.5)
    assert res.timed_out and not res.ok
    assert "stopped at the time limit" in " ".join(res.limit_notes())
    assert res.seconds < 1.5 + sandbox.runner.GRACE_SECONDS


def test_a_huge_file_stops_at_the_file_size_limit(sandboxed) -> None:
    code = "f = open('big.bin', 'wb')\nblock = b'0' * (1 << 20)\nfor _ in range(10 * 1024):\n    f.write(block)\n"
    res = sandboxed(code, file_bytes=8 * 1024 * 1024, wall_seconds=20)
    # The kernel refuses to grow the file past the limit: SIGXFSZ, which Python turns into EFBIG.
    assert res.exit_code != 0 and "File too large" in res.stderr
    assert all(len(f.data) <= 8 * 1024 * 1024 for f in res.files)


def test_the_working_folder_is_capped_in_total(sandboxed) -> None:
    code = (
        "import os\nblock = b'1' * (1 << 20)\ntry:\n    for i in range(100):\n"
        "        open(f'part{i}', 'wb').write(block * 4)\nexcept OSError as exc:\n    print('full', exc.errno)\n"
    )
    res = sandboxed(code, disk_bytes=16 * 1024 * 1024, wall_seconds=20)
    assert res.stdout.startswith("full 28")  # ENOSPC
    assert sum(len(f.data) for f in res.files) <= 16 * 1024 * 1024


def test_nothing_outside_the_capped_folders_can_be_written(sandboxed) -> None:
    """The root, /dev and /usr/local are tmpfs mounts with no size of their own (half the
    host's memory): read-only. /dev/shm is writable but small."""
    code = (
        "import errno\nfor p in ('/x', '/dev/x', '/usr/local/x', '/usr/x', '/proc/x'):\n"
        "    try:\n        open(p, 'w').write('x')\n        print(p, 'WROTE')\n"
        "    except OSError as exc:\n        print(p, errno.errorcode[exc.errno])\n"
        "import multiprocessing\nmultiprocessing.Lock()\nprint('semaphores work')\n"
        "try:\n    open('/dev/shm/big', 'wb').write(b'0' * (64 << 20))\nexcept OSError as exc:\n"
        "    print('shm', errno.errorcode[exc.errno])\n"
    )
    res = sandboxed(code, memory_bytes=512 * 1024 * 1024)
    assert "WROTE" not in res.stdout, res.stdout
    assert res.stdout.count("EROFS") + res.stdout.count("EACCES") + res.stdout.count("ENOENT") == 5, res.stdout
    assert "shm ENOSPC" in res.stdout and "semaphores work" in res.stdout, res.stdout + res.stderr


def test_a_hundred_thousand_small_files_come_back_capped(sandboxed) -> None:
    code = "import os\nos.mkdir('many')\nfor i in range(100_000):\n    open(f'many/{i}', 'w').close()\nprint('made')"
    res = sandboxed(code, wall_seconds=25, max_files_back=50)
    assert res.exit_code == 0 and res.stdout == "made\n"
    assert len(res.files) == 50
    assert any("too many files" in why for _, why in res.skipped)


def test_an_output_flood_is_cut_and_said(sandboxed) -> None:
    res = sandboxed("while True:\n    print('x' * 1000)", output_bytes=10_000, wall_seconds=10)
    assert len(res.stdout.encode()) == 10_000
    assert res.stdout_cut > 0
    assert not res.timed_out  # the closed pipe ended it, long before the wall time
    assert any("output was cut" in n for n in res.limit_notes())


def test_links_pointing_out_are_not_followed_on_the_way_back(sandboxed) -> None:
    code = (
        "import os\nos.symlink('/etc/passwd', 'passwd-link')\nos.symlink('../../../etc', 'up')\n"
        "os.link('data.txt', 'hard-copy')\nopen('real.txt', 'w').write('mine')\n"
    )
    res = sandboxed(code, files={"data.txt": b"input"})
    assert res.exit_code == 0, res.stderr
    assert [f.path for f in res.files] == ["real.txt"]
    reasons = dict(res.skipped)
    assert reasons["passwd-link"] == "link" and reasons["hard-copy"] == "hard link"


def test_a_forged_result_brings_back_only_files_inside_the_folder() -> None:
    """Even if a script took over what is sent back, a path out of the folder is never turned
    into a file (the format has no links at all), and an oversized claim ends the reading."""
    import struct

    from vopix.core.sandbox.runner import _Result

    def frame(name: str, data: bytes) -> bytes:
        raw = name.encode()
        return b"F" + struct.pack("<I", len(raw)) + raw + struct.pack("<Q", len(data)) + data

    forged = b"".join(frame(n, b"hi") for n in ("../../escape.txt", "/etc/cron.d/x", "a//b", "ok.txt"))
    forged += b"F" + struct.pack("<I", 3) + b"big" + struct.pack("<Q", 10**12)  # claims a terabyte
    r, w = os.pipe()
    os.write(w, forged)
    os.close(w)
    result = _Result(r, RunLimits())
    result.thread.join(5)
    assert [f.path for f in result.files] == ["ok.txt"]
    assert {p for p, _ in result.skipped} == {"../../escape.txt", "/etc/cron.d/x", "a//b"}
    assert "could not be read" in result.error


def test_two_people_at_once_see_neither_files_nor_processes(sandboxed) -> None:
    code = (
        "import os, sys, time, json\nme = open('who.txt').read()\ntime.sleep(1.0)\n"
        "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "cmds = [open(f'/proc/{p}/cmdline', 'rb').read().decode('latin-1') for p in pids]\n"
        "print(json.dumps({'me': me, 'files': sorted(os.listdir('.')), 'tmp': os.listdir('/tmp'), 'cmds': cmds}))\n"
        "open('/tmp/' + me, 'w').write(me)\n"
    )
    out: dict[str, dict] = {}

    def person(name: str) -> None:
        res = sandbox.run(
            ["/usr/bin/python3", "main.py"],
            [RunFile("main.py", code.encode()), RunFile("who.txt", name.encode()), RunFile(f"{name}-private.txt", b"x")],
        )
        out[name] = json.loads(res.stdout)

    threads = [threading.Thread(target=person, args=(n,)) for n in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for me, other in (("alice", "bob"), ("bob", "alice")):
        seen = out[me]
        assert seen["files"] == sorted(["main.py", f"{me}-private.txt", "who.txt"])
        assert seen["tmp"] == []
        assert not any(other in c for c in seen["cmds"])
        assert len(seen["cmds"]) <= 3  # the sandbox's init, its runner, the script


def test_without_bubblewrap_nothing_runs(settings_env) -> None:
    settings_env(VOPIX_SANDBOX_BWRAP="/nonexistent/bwrap")
    state = sandbox.status(refresh=True)
    assert not state.available and "bubblewrap" in state.reason
    with pytest.raises(sandbox.SandboxUnavailable):
        sandbox.run(["/usr/bin/true"])
    settings_env(VOPIX_SANDBOX_BWRAP="/usr/bin/bwrap")
    sandbox.status(refresh=True)
