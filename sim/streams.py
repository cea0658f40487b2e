"""Common random numbers, addressed by what each draw belongs to.

A policy and its counterfactual twin must see the same random numbers (§59-60 evaluation), and a
policy that acts later must meet the same luck later. So no draw comes from a shared sequential
stream whose position depends on what happened before. Every random number is a *counter-based*
draw: the splitmix64 finaliser of an address made of the run's seed, the draw's purpose and the
entity it belongs to —

- daily noise (triggers, the parties' moves, tension noise, observation noise): (world, site, day);
- rare decisions (the Council's delay, a funding delay, a hand-over, a settlement): (world, site,
  actor, engagement or episode ordinal, and the day *within* that engagement or episode), never the
  calendar day, so that shifting a lag by a day shifts the realised delays by exactly that day;
- per-envoy traits (skill): (world, actor, envoy number).

World *i* is therefore the same world whatever the number of replicates R (nested replicates): the
first 1,000 worlds of an R = 2,000 run are an R = 1,000 run.
"""

from __future__ import annotations

import numpy as np

from sim import kernels

#: Purposes of keyed draws. Appending keeps earlier purposes' numbers unchanged (WAR_END is reserved, unused).
COUNCIL, HANDOVER, FUNDING, SKILL, SETTLEMENT, WAR_END, PREFERENCE, PARAMETERS, GRIEVANCE = 1, 2, 3, 4, 5, 6, 7, 8, 9
INTRACTABILITY = 10
#: Daily streams: each (site, world, day) gets two 64-bit words, split into uniforms (see ``daily``).
_DAILY_A, _DAILY_B = 0x51, 0x52
#: Sites per world in an address; a region never has more.
MAX_SITES = 1 << 12

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C1, _C2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


def _finalise(z: np.ndarray, tmp: np.ndarray | None = None) -> np.ndarray:
    """splitmix64's finaliser, in place on a uint64 array (a bijection with good avalanche)."""
    # No np.errstate here (it costs more than the arithmetic on small arrays): integer arrays wrap silently.
    tmp = np.empty_like(z) if tmp is None else tmp
    np.right_shift(z, _S30, out=tmp)
    z ^= tmp
    z *= _C1
    np.right_shift(z, _S27, out=tmp)
    z ^= tmp
    z *= _C2
    np.right_shift(z, _S31, out=tmp)
    z ^= tmp
    return z


_M64 = (1 << 64) - 1


def _scalar_mix(*parts: int) -> np.uint64:
    """One 64-bit key from a few integers (sequential splitmix of each part), in Python integers: the same
    arithmetic modulo 2^64 as ``_finalise``, without the cost of NumPy calls on one-element arrays."""
    z = 0
    for p in parts:
        z = ((z + (int(p) & _M64)) * 0x9E3779B97F4A7C15) & _M64
        z ^= z >> 30
        z = (z * 0xBF58476D1CE4E5B9) & _M64
        z ^= z >> 27
        z = (z * 0x94D049BB133111EB) & _M64
        z ^= z >> 31
    return np.uint64(z)


def _unit(bits: np.ndarray, n_bits: int, dtype=np.float32) -> np.ndarray:
    """Uniforms on the open interval (0, 1) from unsigned integers of ``n_bits``: (k + 1/2) / 2^n."""
    u = bits.astype(dtype)
    u += dtype(0.5)
    u *= dtype(1.0 / 2.0**n_bits)
    return u


def unit32(k: np.ndarray) -> np.ndarray:
    """float32 uniforms u = (k + 1/2) / 2^32 of 32-bit words k, in two passes: k + 1/2 (exact in float64) rounded
    once to float32, then an exact power-of-two scale (rounding commutes with it): the value of
    ``_unit(k, 32, float64)`` in float32. Non-decreasing in k (``first_word``)."""
    u = np.add(k, 0.5, out=np.empty(np.shape(k), dtype=np.float32), dtype=np.float64)
    u *= np.float32(2.0**-32)
    return u


def first_word(holds) -> int:
    """The least 32-bit word k whose uniform ``unit32(k)`` satisfies ``holds`` (2^32 if none), for a test that holds
    from some uniform on (as u >= rate does): comparing the words with it then gives the bits the test on the
    uniforms would, without converting a block of words (bisection on the very float32 values)."""
    lo, hi = 0, 1 << 32
    while lo < hi:
        mid = (lo + hi) // 2
        if bool(holds(unit32(np.array([mid], dtype=np.uint32)))[0]):
            hi = mid
        else:
            lo = mid + 1
    return lo


def first_words(holds, n: int) -> np.ndarray:
    """``first_word`` for n tests at once (int64, 2^32 where none holds): ``holds`` maps n uniforms to n bits, the
    i-th test on the i-th uniform (e.g. u < rates elementwise). One bisection on all of them."""
    lo, hi = np.zeros(n, dtype=np.int64), np.full(n, 1 << 32, dtype=np.int64)
    while (open_ := lo < hi).any():
        mid = (lo + hi) // 2  # below 2^32 wherever the search is open
        holds_mid = np.asarray(holds(unit32(np.minimum(mid, (1 << 32) - 1).astype(np.uint32))), dtype=bool)
        hi = np.where(open_ & holds_mid, mid, hi)
        lo = np.where(open_ & ~holds_mid, mid + 1, lo)
    return lo


def _logit_table() -> np.ndarray:
    """log(u / (1 - u)) for every 16-bit uniform u = (k + 1/2) / 2^16, k = 0 .. 65535, in float32 as the parties'
    rule computes it from u (sim.agents.Party.choose_moves): a lookup gives the same bits (checked in tests)."""
    u = _unit(np.arange(1 << 16, dtype=np.uint16), 16)
    return np.log(u / (1.0 - u))


LOGIT16 = _logit_table()


class RandomStreams:
    """The random numbers of one run: a pure function of (seed, purpose, address)."""

    def __init__(self, seed: int, n_sites: int, n_worlds: int, world_offset: int = 0, block: int | None = None):
        """``block``: worlds come in blocks of ``block`` and world ``i`` of every block draws the numbers of world
        ``i`` of a ``block``-world run (stacked sweep points, sim.sweep.stack: each keeps its own luck)."""
        if n_sites > MAX_SITES:
            raise ValueError(f"at most {MAX_SITES} sites per world, got {n_sites}")
        self.seed = int(seed)
        self._key = _scalar_mix(0xC0FFEE, self.seed)
        self._purposes: dict[int, np.uint64] = {}  # each purpose's key, mixed once
        self.n_sites, self.n_worlds, self.world_offset = n_sites, n_worlds, int(world_offset)
        self.block = int(block) if block and block < n_worlds else None
        worlds = np.arange(n_worlds, dtype=np.uint64)
        if self.block:
            worlds %= np.uint64(self.block)
        worlds += np.uint64(self.world_offset)
        sites = np.arange(n_sites, dtype=np.uint64)
        # The address of every (site, world) cell, pre-multiplied so that a day's salt just adds.
        with np.errstate(over="ignore"):
            self._cells = (worlds[None, :] * np.uint64(MAX_SITES) + sites[:, None]) * _GOLDEN
        # Both daily words of every cell in one block, hashed together (half the NumPy calls of one per stream).
        self._words = np.empty((2, n_sites, n_worlds), dtype=np.uint64)
        self._a, self._b = self._words
        self._high = None  # trigger_words_high's block
        self._day = None

    # -- daily noise --------------------------------------------------------------------------------
    def _daily(self, day: int) -> None:
        if self._day == day:
            return
        salts = np.array([_scalar_mix(self._key, _DAILY_A, day), _scalar_mix(self._key, _DAILY_B, day)],
                         dtype=np.uint64)
        kernels.daily_words(self._cells, salts, self._words)  # _finalise(cells + salt), in one compiled pass
        self._day = day

    def trigger(self, day: int) -> np.ndarray:
        """(site, world) uniforms from 32 bits: the day's rare events (triggers, preference shifts)."""
        return unit32(self.trigger_words(day))

    def trigger_words(self, day: int) -> np.ndarray:
        """(site, world) view of the 32-bit words k behind ``trigger`` (u = ``unit32(k)``)."""
        self._daily(day)
        # The low 32 bits as a uint32 view (little-endian, as the uint16 views below): the same integers as
        # ``a & 0xFFFFFFFF``, but uint32 -> float64 converts ten times faster than uint64 -> float64.
        return self._a.view(np.uint32).reshape(self.n_sites, self.n_worlds, 2)[..., 0]

    def trigger_words_high(self, day: int) -> np.ndarray:
        """(site, world) ``trigger_words`` k as k x 2^32 in a contiguous uint64 block (reused the next day): compared
        with K x 2^32 they order as k and K do, at a third of the cost of comparing the strided 32-bit view."""
        self._daily(day)
        if self._high is None:
            self._high = np.empty_like(self._a)
        return np.left_shift(self._a, np.uint64(32), out=self._high)

    def trigger_at(self, cells: np.ndarray) -> np.ndarray:
        """``trigger`` of the day last drawn at flat (site, world) ``cells`` only (a few a day)."""
        return unit32(self._a.reshape(-1).view(np.uint32).take(2 * cells))

    def parties(self, day: int) -> np.ndarray:
        """(site, side, world) uniforms from 16 bits each: the parties' private noise."""
        self._daily(day)
        words = self._a.view(np.uint16).reshape(self.n_sites, self.n_worlds, 4)
        return np.ascontiguousarray(np.moveaxis(_unit(words[..., 2:4], 16), -1, 1))

    def party_logit(self, day: int) -> np.ndarray:
        """(site, side, world) log-odds log(u / (1 - u)) of the ``parties`` uniforms, looked up by their 16 bits:
        the very float32 values computed from ``parties(day)``, without a log (and four passes) a day."""
        self._daily(day)
        words = self._a.view(np.uint16).reshape(self.n_sites, self.n_worlds, 4)
        # mode="wrap": a 16-bit word is always a valid index of the 65,536-entry table, so wrapping never changes one.
        # Without the default mode's bounds checks the lookup through the strided words measured 0.7 times the cost
        # of the contiguous copy and checked lookup before (60 against 86 us a day at R = 10,000).
        return LOGIT16.take(np.moveaxis(words[..., 2:4], -1, 1), mode="wrap")

    def words(self, day: int) -> np.ndarray:
        """The day's (stream, site, world) 64-bit words, both streams: the views below read their 32- and 16-bit
        fields (little-endian: field i of a word is its bits 16 i .. 16 i + 15); the compiled rules (sim.kernels)
        take the fields by shifts, which vectorises where reading a strided view does not."""
        self._daily(day)
        return self._words

    def tension(self, day: int) -> np.ndarray:
        """(site, world) uniforms from 16 bits: the day's tension noise."""
        return _unit(self.tension_words(day), 16)

    def observation(self, day: int) -> np.ndarray:
        """(observer, site, world) uniforms from 16 bits: UN, regional organisation, civil society."""
        return _unit(self.observation_words(day), 16)

    def observation_words(self, day: int) -> np.ndarray:
        """(observer, site, world) views of the 16-bit words k behind ``observation`` (u = (k + 1/2) / 2^16)."""
        return np.moveaxis(self.noise_words(day)[..., 1:4], -1, 0)

    def noise_words(self, day: int) -> np.ndarray:
        """(site, world, 4) 16-bit words of the second daily stream: the tension's (``tension_words``) and the three
        observers' (``observation_words``), contiguous (converting them at once costs a third of doing it view by
        view)."""
        self._daily(day)
        return self._b.view(np.uint16).reshape(self.n_sites, self.n_worlds, 4)

    def tension_words(self, day: int) -> np.ndarray:
        """(site, world) view of the 16-bit words k behind ``tension`` (u = (k + 1/2) / 2^16)."""
        return self.noise_words(day)[..., 0]

    # -- keyed draws for rare decisions -----------------------------------------------------------
    def keyed_uniform(self, purpose: int, cells: np.ndarray, *counters) -> np.ndarray:
        """Float64 uniforms on (0, 1) at flat (site, world) ``cells`` (index site * R + world), keyed by
        ``purpose`` and integer ``counters`` (scalars or arrays like ``cells``: an actor, an engagement
        ordinal, a day within it). Drawn only where needed: their cost follows the event, not R."""
        site, world = np.divmod(np.asarray(cells, dtype=np.int64), self.n_worlds)
        return self.address_uniform(purpose, world, site, *counters)

    def address_uniform(self, purpose: int, world, site, *counters) -> np.ndarray:
        """As ``keyed_uniform``, by world and site (or any second key, e.g. an envoy's number)."""
        # Arrays of at least one dimension throughout: integer arrays wrap silently modulo 2^64, so no
        # np.errstate is needed (entering one costs more than the arithmetic on the few cells of a day).
        world = np.array(world, dtype=np.uint64, ndmin=1)
        if self.block:
            world = world % np.uint64(self.block)
        if self.world_offset:
            world = world + np.uint64(self.world_offset)
        # In place after the first (broadcasting) sum: a few calls fewer on the few cells of a day's decisions.
        z = world * np.uint64(MAX_SITES) + np.asarray(site, dtype=np.uint64)
        z *= _GOLDEN
        if (key := self._purposes.get(purpose)) is None:
            key = self._purposes[purpose] = _scalar_mix(self._key, 0xA5, purpose)
        z += key
        tmp = np.empty_like(z)
        _finalise(z, tmp)
        for c in counters:  # an int64's two's-complement bits are its uint64 value, as astype gives
            if isinstance(c, (int, np.integer)):  # a scalar (an actor): its product modulo 2^64, in Python integers
                z += np.uint64(((int(c) & _M64) * int(_GOLDEN)) & _M64)
            else:
                z += np.array(c, dtype=np.int64, ndmin=1).view(np.uint64) * _GOLDEN
            _finalise(z, tmp)
        return ((z >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53
