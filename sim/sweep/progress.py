"""Sweep progress: points done / total and an estimate of the time left.

Watched from the sweep directory (a point is done when its row file appears), so it works the same
with every launcher whose jobs write to a filesystem the sweeping process can see.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from sim.sweep import ROW_FILE


def duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def status(done: int, total: int, elapsed: float, already: int = 0) -> str:
    """'12/72 points done, 40 s elapsed, about 1 min 10 s left' (the rate is this run's own)."""
    text = f"{done + already}/{total + already} points done"
    if already:
        text += f" ({already} from before)"
    text += f", {duration(elapsed)} elapsed"
    if 0 < done < total:
        text += f", about {duration(elapsed / done * (total - done))} left"
    return text


class SweepProgress:
    """A background thread that counts the new rows in job directories ``first .. first+total-1``."""

    def __init__(self, sweep_dir: Path, first_job: int, total: int, already: int = 0,
                 every: float = 1.0, stream=None):
        self.dirs = [Path(sweep_dir) / str(first_job + i) for i in range(total)]
        self.total, self.already, self.every = total, already, every
        self.stream = stream or sys.stderr
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="pdsim-sweep-progress", daemon=True)
        self.start_time = time.perf_counter()
        self.done = 0

    def count(self) -> int:
        return sum((d / ROW_FILE).exists() for d in self.dirs)

    def _report(self) -> None:
        elapsed = time.perf_counter() - self.start_time
        print(f"[pdsim sweep] {status(self.done, self.total, elapsed, self.already)}",
              file=self.stream, flush=True)

    def _watch(self) -> None:
        last, last_time = -1, 0.0
        while not self._stop.wait(self.every):
            self.done = self.count()
            now = time.perf_counter()
            # A line per second for a short sweep, one per 10 s after the first minute of a long one.
            quiet = 2.0 if now - self.start_time < 60 else 10.0
            if self.done != last and now - last_time >= quiet:
                last, last_time = self.done, now
                self._report()

    def __enter__(self):
        self.start_time = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.done = self.count()
        self._report()
        return False
