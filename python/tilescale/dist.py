"""Ranks and the symmetric heap from Python: running a distributed program (include/tilescale/dist.h).

    world = tilescale.dist.World.sim(4)                  # 4 ranks simulated in this process
    kernel = tilescale.compile(allgather(M, N, 4), target=world.target)

    def rank_main(rank):                                 # on 4 threads, one per rank
        a = rank.heap.empty((M, N), "float16")           # numpy on sim, torch on a GPU world
        out = rank.heap.zeros((4 * M, N), "float16")
        a[:] = ...
        rank.barrier()                                   # every rank's input is ready
        kernel(a, out)                                   # runs as this rank
        rank.barrier()                                   # every rank's puts have landed

    world.run(rank_main)

Worlds: World.sim(n) (the CPU backend, any machine), World.local(n) (n ranks on this process's
GPUs), World.from_env() (one process per rank under a launcher: tilescale launch, torchrun, mpirun,
srun) and World.nvshmem(). world.run(fn) calls fn(rank) on every rank's thread and returns when all
have; an error on one rank stops the others' waits and run raises the first error. Allocation is
collective: every rank makes the same allocations in the same order, or each gets the same
tilescale.RuntimeError. Heap arrays stay valid while the World lives (they keep it alive); a Rank only
during its call.
"""

from . import _tilescale as _C
from .language import as_dtype as _as_dtype


def _shape(shape):
    return [int(d) for d in shape] if isinstance(shape, (list, tuple)) else [int(shape)]


class SymmetricHeap:
    """A rank's part of the symmetric heap: arrays at the same offset on every rank."""

    def __init__(self, heap):
        self._heap = heap

    def empty(self, shape, dtype="float32"):
        """A new uninitialised array (collective: every rank allocates the same in the same order)."""
        return self._heap.empty(_shape(shape), _as_dtype(dtype))

    def zeros(self, shape, dtype="float32"):
        """As empty, zero-filled."""
        return self._heap.zeros(_shape(shape), _as_dtype(dtype))

    def peer(self, array, pe):
        """The same object on rank pe (host-reachable on sim and local worlds)."""
        return self._heap.peer(array, pe)

    @property
    def capacity(self):
        return self._heap.capacity

    @property
    def used(self):
        return self._heap.used


class Rank:
    """What a rank's function sees: rank.rank, rank.size, rank.heap, rank.barrier()."""

    def __init__(self, rank):
        self._rank = rank

    @property
    def rank(self):
        return self._rank.rank

    @property
    def size(self):
        return self._rank.size

    @property
    def heap(self):
        return SymmetricHeap(self._rank.heap)

    @property
    def device(self):
        """"cpu" on sim, "cuda:i" otherwise."""
        return self._rank.device

    @property
    def stream(self):
        """The CUstream this rank's kernels run on (0 on sim)."""
        return self._rank.stream

    def barrier(self):
        """Returns when every rank has called it as often, and on a GPU this rank's kernels launched
        before it have finished."""
        self._rank.barrier()

    def __repr__(self):
        return f"<tilescale.dist.Rank {self._rank.rank} of {self._rank.size}>"


class World:
    """A set of ranks over a transport; make one with World.sim / local / from_env / nvshmem."""

    def __init__(self, world):
        if not isinstance(world, _C.World):
            raise TypeError("make a World with World.sim(n), World.local(n), World.from_env() or World.nvshmem()")
        self._world = world

    @classmethod
    def sim(cls, ranks, heap_bytes=256 << 20, wait_timeout_ms=-1):
        """`ranks` ranks simulated in this process by the CPU backend (kernels compile for "cpu")."""
        return cls(_C.World.sim(ranks, heap_bytes=heap_bytes, wait_timeout_ms=wait_timeout_ms))

    @classmethod
    def local(cls, ranks, heap_bytes=256 << 20, wait_timeout_ms=-1):
        """`ranks` ranks in this process on its GPUs, rank r on device r % devices."""
        return cls(_C.World.local(ranks, heap_bytes=heap_bytes, wait_timeout_ms=wait_timeout_ms))

    @classmethod
    def from_env(cls, heap_bytes=256 << 20, wait_timeout_ms=-1, setup_timeout_ms=120000):
        """This process as one rank of the world its launcher describes (collective)."""
        return cls(_C.World.from_env(heap_bytes=heap_bytes, wait_timeout_ms=wait_timeout_ms,
                                     setup_timeout_ms=setup_timeout_ms))

    @classmethod
    def nvshmem(cls, heap_bytes=256 << 20, wait_timeout_ms=-1, setup_timeout_ms=120000):
        """As from_env, each process an NVSHMEM PE (kernels compile for "nvshmem")."""
        return cls(_C.World.nvshmem(heap_bytes=heap_bytes, wait_timeout_ms=wait_timeout_ms,
                                    setup_timeout_ms=setup_timeout_ms))

    @property
    def size(self):
        return self._world.size

    @property
    def transport(self):
        """"sim", "local", "ipc" or "nvshmem"."""
        return self._world.transport

    @property
    def target(self):
        """What its kernels compile for: "cpu", "cuda" or "nvshmem"."""
        return self._world.target

    @property
    def local_ranks(self):
        return list(self._world.local_ranks)

    def run(self, fn):
        """Calls fn(rank) on every rank this process drives, each on its own thread; returns when all
        have returned, or raises the first error raised on any rank. On a GPU world with torch, fn
        runs with the rank's device and stream as torch's current ones: torch work on heap tensors,
        the outputs a kernel allocates and the kernels themselves all go to the rank's stream, which
        rank.barrier() waits for."""
        if self.target == "cpu":
            self._world.run(lambda r: fn(Rank(r)))
        else:
            self._world.run(lambda r: _run_on_rank_stream(fn, Rank(r)))

    def __repr__(self):
        return f"<tilescale.dist.World {self.transport}, {self.size} ranks>"


def _run_on_rank_stream(fn, rank):
    try:
        import torch
    except ImportError:
        return fn(rank)
    device = int(rank.device.split(":")[1])
    with torch.cuda.device(device), torch.cuda.stream(torch.cuda.ExternalStream(rank.stream, device=device)):
        return fn(rank)


__all__ = ["World", "Rank", "SymmetricHeap"]
