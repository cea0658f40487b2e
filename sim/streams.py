"""Common random numbers: one independent stream per process, drawn in fixed shapes every day.

A policy and its counterfactual twin must see the same random numbers (§59-60 evaluation):
a trigger that hits site A on day 40 hits it in both runs, whatever the policy did before.
So no draw may depend on a branch the policy takes. Every process owns a stream spawned from
the run's seed and draws the same *shape* every day, used or not; per-mediator streams are
spawned by roster position, so a bigger roster adds envoys without shifting anyone else's draws.
"""

from __future__ import annotations

import numpy as np

#: The named streams, in spawn order. Appending a name keeps earlier streams unchanged.
STREAMS = ("triggers", "parties", "tension", "observation")

#: Purposes of keyed (counter-based) draws, see RandomStreams.keyed_uniform.
COUNCIL, HANDOVER, FUNDING = 1, 2, 3


class RandomStreams:
    """Named, independent ``numpy.random.Generator`` objects spawned from one seed."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        root = np.random.SeedSequence(self.seed)
        children = root.spawn(len(STREAMS) + 1)
        for name, child in zip(STREAMS, children, strict=False):
            setattr(self, name, np.random.Generator(np.random.PCG64(child)))
        self._mediator_root = children[-1]
        self._key = int(root.generate_state(1, np.uint64)[0])

    def uniform(self, name: str, shape: tuple[int, ...], bits: int = 16) -> np.ndarray:
        """Float32 uniforms on the open interval (0, 1) from stream ``name``, each from ``bits`` (16 or
        32) random bits: (k + 1/2) / 2^bits. Splitting each 64-bit output of the generator into four
        16-bit draws costs a third of numpy's float32 ``random`` — the noise terms need no more
        resolution than 1/65,536; rare-event rates use 32 bits."""
        n = int(np.prod(shape))
        per = 64 // bits
        raw = getattr(self, name).bit_generator.random_raw(-(-n // per))
        k = raw.view(np.uint16 if bits == 16 else np.uint32)[:n]
        u = k.astype(np.float32) if bits == 16 else k.astype(np.float64)
        u += 0.5
        u *= 1.0 / 2.0**bits
        return u.astype(np.float32, copy=False).reshape(shape)

    def keyed_uniform(self, purpose: int, day: int, index: np.ndarray) -> np.ndarray:
        """Uniforms on (0, 1) addressed by (purpose, day, flat site-world index), drawn only where needed.

        For rare decisions (a Council's delay when a warning comes, a funding delay when an envoy is
        requested) a daily draw for every site and world would be wasted work. A counter-based draw —
        the splitmix64 finaliser of a key — gives the same number for the same address in any run,
        whichever branches led there, so these draws are common random numbers too."""
        key = np.uint64(self._key) ^ np.uint64((purpose << 56) ^ (day << 32))
        z = np.asarray(index, dtype=np.uint64) ^ key
        with np.errstate(over="ignore"):
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
        return ((z >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53

    def mediator(self, affiliation: int, index: int) -> np.random.Generator:
        """The stream of envoy ``index`` of one affiliation; independent of roster size."""
        seq = np.random.SeedSequence(
            self._mediator_root.entropy, spawn_key=(*self._mediator_root.spawn_key, affiliation, index)
        )
        return np.random.Generator(np.random.PCG64(seq))

    def states(self) -> dict[str, dict]:
        """Bit-generator states of every stream (for tests of common random numbers)."""
        return {name: getattr(self, name).bit_generator.state for name in STREAMS}
