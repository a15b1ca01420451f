"""A seccomp filter for sandboxed runs: a classic BPF program, built here (no libseccomp), that
bubblewrap loads with `--seccomp FD`. It refuses (EPERM) the system calls a script has no use
for and that widen the kernel's attack surface: other namespaces and mounts, tracing other
processes, kernel modules and keys, BPF and perf, io_uring, clock and reboot controls. A call
from another architecture's table (x32 on x86-64, or any ABI the filter was not built for)
kills the process.

Machines of another architecture get no filter from here; bubblewrap's own protections (no new
privileges, no capabilities, a new session against TIOCSTI) still apply, and `filter_for`
says so by returning None.
"""

from __future__ import annotations

import errno
import platform
import struct

# Names of the refused calls and their numbers per architecture (from the kernel's tables:
# arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h).
_X86_64 = {
    "ptrace": 101, "syslog": 103, "personality": 135, "uselib": 134, "vhangup": 153,
    "pivot_root": 155, "adjtimex": 159, "acct": 163, "settimeofday": 164, "mount": 165,
    "umount2": 166, "swapon": 167, "swapoff": 168, "reboot": 169, "sethostname": 170,
    "setdomainname": 171, "iopl": 172, "ioperm": 173, "init_module": 175, "delete_module": 176,
    "quotactl": 179, "lookup_dcookie": 212, "clock_settime": 227, "kexec_load": 246,
    "add_key": 248, "request_key": 249, "keyctl": 250, "unshare": 272, "perf_event_open": 298,
    "name_to_handle_at": 303, "open_by_handle_at": 304, "clock_adjtime": 305, "setns": 308,
    "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "finit_module": 313,
    "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428, "move_mount": 429,
    "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
}  # fmt: skip
_GENERIC = {  # aarch64 and other asm-generic architectures
    "lookup_dcookie": 18, "umount2": 39, "mount": 40, "pivot_root": 41, "quotactl": 60,
    "acct": 89, "personality": 92, "unshare": 97, "kexec_load": 104, "init_module": 105,
    "delete_module": 106, "clock_settime": 112, "syslog": 116, "ptrace": 117, "reboot": 142,
    "sethostname": 161, "setdomainname": 162, "settimeofday": 170, "adjtimex": 171,
    "add_key": 217, "request_key": 218, "keyctl": 219, "swapon": 224, "swapoff": 225,
    "perf_event_open": 241, "name_to_handle_at": 264, "open_by_handle_at": 265,
    "clock_adjtime": 266, "setns": 268, "process_vm_readv": 270, "process_vm_writev": 271,
    "kcmp": 272, "finit_module": 273, "bpf": 280, "userfaultfd": 282, "kexec_file_load": 294,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428,
    "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442,
}  # fmt: skip
_ARCHES = {
    "x86_64": (0xC000003E, _X86_64, 0x40000000),  # audit arch, table, x32 bit
    "aarch64": (0xC00000B7, _GENERIC, None),
}

_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_ALLOW, _KILL_PROCESS = 0x7FFF0000, 0x80000000
_DENY = 0x00050000 | errno.EPERM  # SECCOMP_RET_ERRNO
_NR, _ARCH = 0, 4  # offsets in struct seccomp_data


def refused_calls() -> list[str]:
    arch = _ARCHES.get(platform.machine())
    return sorted(arch[1]) if arch else []


def filter_for(machine: str | None = None) -> bytes | None:
    """The BPF program as bytes (struct sock_filter[]), or None on an unknown architecture."""
    arch = _ARCHES.get(machine or platform.machine())
    if arch is None:
        return None
    audit_arch, table, x32_bit = arch
    numbers = sorted(set(table.values()))
    prog: list[tuple[int, int, int, int]] = [
        (_LD_W_ABS, 0, 0, _ARCH),
        (_JEQ_K, 1, 0, audit_arch),
        (_RET_K, 0, 0, _KILL_PROCESS),
        (_LD_W_ABS, 0, 0, _NR),
    ]
    if x32_bit is not None:
        prog += [(_JGE_K, 0, 1, x32_bit), (_RET_K, 0, 0, _KILL_PROCESS)]
    # Each check jumps to the final DENY when equal: from check i (of n) that is n - i
    # instructions ahead (the remaining checks, then ALLOW).
    for i, nr in enumerate(numbers):
        prog.append((_JEQ_K, len(numbers) - i, 0, nr))
    prog += [(_RET_K, 0, 0, _ALLOW), (_RET_K, 0, 0, _DENY)]
    return b"".join(struct.pack("=HBBI", *ins) for ins in prog)
