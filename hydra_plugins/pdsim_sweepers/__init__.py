"""pdsim's Hydra sweepers: ``grid`` (the default; validates every point first, resumes) and ``design``
(Latin hypercube, Morris, Sobol over lever ranges). See docs/SWEEPS.md."""
