"""What one sandboxed run may use, and what comes back from it."""

from __future__ import annotations

from dataclasses import dataclass, field

MB = 1024 * 1024


@dataclass(frozen=True)
class RunLimits:
    wall_seconds: float = 30.0
    cpu_seconds: int = 30
    memory_bytes: int = 256 * MB  # address space of each process
    processes: int = 32
    open_files: int = 256
    file_bytes: int = 64 * MB  # each file written
    disk_bytes: int = 256 * MB  # the working folder's tmpfs (and the same again for /tmp)
    output_bytes: int = 256 * 1024  # stdout and stderr, each, kept
    max_files_back: int = 200  # files taken back into the workspace
    files_back_bytes: int = 64 * MB  # their total size


@dataclass(frozen=True)
class RunFile:
    path: str  # relative to the working folder, checked by the caller before it is stored
    data: bytes


@dataclass
class RunResult:
    exit_code: int | None  # None: the sandbox itself failed; negative: killed by that signal
    stdout: str
    stderr: str
    seconds: float  # wall time, measured by the host
    cpu_seconds: float
    timed_out: bool = False
    stdout_cut: int = 0  # bytes not kept
    stderr_cut: int = 0
    files: list[RunFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    error: str = ""  # why the sandbox failed (exit_code None)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def limit_notes(self) -> list[str]:
        """What the limits cut, in words for the person."""
        notes = []
        if self.timed_out:
            notes.append("it was stopped at the time limit")
        if self.exit_code is not None and self.exit_code < 0:
            notes.append(_signal_note(-self.exit_code))
        for name, cut in (("output", self.stdout_cut), ("error output", self.stderr_cut)):
            if cut:
                notes.append(f"its {name} was cut: {cut:,} more bytes were not kept")
        for path, why in self.skipped:
            notes.append(f"{path} was not saved ({why})" if path else why)
        return notes


_SIGNALS = {
    9: "it was killed (a limit was reached: time, memory or processes)",
    24: "it was stopped at the CPU time limit",
    25: "it was stopped for writing a file larger than the limit",
    13: "it was stopped for writing after its output reached the limit",
    11: "it crashed (segmentation fault)",
    6: "it aborted",
}


def _signal_note(sig: int) -> str:
    return _SIGNALS.get(sig, f"it was ended by signal {sig}")
