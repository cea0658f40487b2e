"""What a local sweep's worker processes import, once, in the fork server they are forked from.

With two or more joblib workers the sweeping process starts a fork server (multiprocessing's
``forkserver``) that imports this module while Hydra starts and the sweep is planned; every worker is then a fork
of that server and finds the model, Hydra, pandas and pyarrow already imported (about 2 s of CPU that
each worker spent on its own imports before: three processes on two cores while the sweep was planned).
See sim/sweep/server.py (started as ``pdsim`` starts) and docs/SWEEPS.md.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import warnings

from sim.sweep import WORKER_ENV

# The thread limits joblib gives its workers (OMP_NUM_THREADS, ...) reach a new process's environment only
# with loky's own start method; they must be set before NumPy loads its BLAS, so they are applied here, before
# any import below (the workers forked from this server inherit them).
for _name, _value in json.loads(os.environ.get(WORKER_ENV) or "{}").items():
    os.environ[_name] = str(_value)

# A process forked from this server runs the sweeping process's main module again (multiprocessing's spawn and
# forkserver rule); for ``python -m sim.cli`` runpy then warns that sim.cli, imported here, is already loaded.
# Running it again only defines its functions; the warning would be printed by every worker.
warnings.filterwarnings("ignore", message=r".* found in sys\.modules after import of package 'sim'",
                        category=RuntimeWarning)

import sim.cli  # noqa: E402, F401 -- what every job imports: Hydra, the model, pandas, pyarrow
import sim.model  # noqa: E402, F401
import sim.results  # noqa: E402, F401
import sim.sweep.job  # noqa: E402, F401
import sim.sweep.stack  # noqa: E402, F401
from sim import kernels  # noqa: E402

kernels.start()  # numba started once here: every worker forked from this server finds it started (0.25-0.4 s each)

# The server exits when the sweeping process has (its workers are gone by then). Python's last garbage
# collection over everything imported above took it about 0.5 s, during which it held the sweep's output pipes
# open (a caller reading them to the end waited that long) and a core; the operating system frees it all anyway.
atexit.register(gc.freeze)
