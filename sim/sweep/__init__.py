"""The scenario-sweep layer: one Hydra job per parameter point, one tidy table at the end.

Modules, one job each:

- :mod:`sim.sweep.rows`      a point's row (flattened summary + parameters + provenance), its config
                             hash, and the atomic write into the job directory;
- :mod:`sim.sweep.job`       the job's side: skip a point already done, record the point's row;
- :mod:`sim.sweep.stack`     neighbouring points run as one model (stacked on the replicate axis);
- :mod:`sim.sweep.batch`     a stack's jobs run in one launcher task, its later points without Hydra's copies;
- :mod:`sim.sweep.compose`   compose a point's config once per config-group combination (Hydra's result);
- :mod:`sim.sweep.server`    the fork server local workers are forked from, started as ``pdsim`` starts;
- :mod:`sim.sweep.worker_imports` what local workers import once, in that fork server;
- :mod:`sim.sweep.plan`      compose and validate every point before any job starts, and decide
                             which points a resumed sweep still has to simulate;
- :mod:`sim.sweep.table`     merge the rows of a sweep directory into results.parquet / results.csv;
- :mod:`sim.sweep.curves`    outcome curves (escalation probability vs the swept lever, with bands);
- :mod:`sim.sweep.progress`  points done / total and time left, watched from the sweep directory;
- :mod:`sim.sweep.design`    Latin hypercube, Morris and Sobol designs over declared lever ranges;
- :mod:`sim.sweep.threshold` the threshold finder (bisection with common random numbers);
- :mod:`sim.sweep.bench`     the sweep benchmark command.

The Hydra sweepers that use these live in ``hydra_plugins/pdsim_sweepers``. See docs/SWEEPS.md.
"""

import os
import socket

#: File name of a point's row inside its job directory.
ROW_FILE = "row.json"

#: Set by the sweeping process for the fork server of its local workers (sim.sweep.worker_imports): the thread
#: limits joblib gives a worker (OMP_NUM_THREADS, ...), as JSON.
WORKER_ENV = "PDSIM_WORKER_ENV"

#: Set by the sweeping process for the workers it starts, which watch it (sim.sweep.job.watch_parent). Workers
#: forked from the fork server inherit the server's environment, so it is set before the server starts.
SWEEP_PID_ENV = "PDSIM_SWEEP_PID"


def sweep_process_tag() -> str:
    """The value of SWEEP_PID_ENV for this process: 'pid@host' (a pid means nothing on another node)."""
    return f"{os.getpid()}@{socket.gethostname()}"
