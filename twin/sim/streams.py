"""Independent random streams, one per random element, keyed by a stable hash of its name.

A replication owns one ``SeedSequence(seed, spawn_key=(replication,))``; the element named
``"process:drill"`` draws from ``SeedSequence(seed, spawn_key=(replication, crc32(name)))``.
Adding, removing or changing one element therefore never shifts another's numbers (common
random numbers across scenarios), and the same seed gives the same numbers in any process.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["RandomStreams"]


class RandomStreams:
    """Factory of named, independent generators for one replication."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = seed
        self.replication = replication

    def generator(self, name: str) -> np.random.Generator:
        """The generator of the element called ``name`` (a new one each call, same sequence)."""
        key = zlib.crc32(name.encode("utf-8"))
        sequence = np.random.SeedSequence(self.seed, spawn_key=(self.replication, key))
        return np.random.Generator(np.random.PCG64(sequence))
