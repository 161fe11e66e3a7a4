"""allgather: every rank's [M, N] rows gathered into a [P*M, N] array on every rank, in rank order
(torch's all_gather_into_tensor), TileScale style.

One block per rank pushes its rows into every rank's output with put_block (the whole block copies,
widest aligned chunks), then meets the other ranks' blocks in barrier_blocks, which fences at system
scope first: when the kernel returns, every rank's rows have landed here. `bar` is P int32 of the
symmetric heap, zero before the first use and back to zero after each barrier.

The same code runs on every world: on World.sim the heap arrays are numpy arrays, on a GPU world
torch tensors on the rank's GPU, filled through torch and synchronized before the barrier (the rank's
kernels run on a stream of the rank's own, which does not wait for torch's).

    python allgather.py                      # World.local(4) with torch and a GPU (4 ranks share
                                             # one GPU if need be), else World.sim(4); against numpy
    python allgather.py --world sim -n 2     # sim | local | env | auto
    tilescale launch -n 2 python allgather.py --world env   # one process per rank (World.from_env)
"""
import argparse
import sys

import numpy as np

import tilescale
import tilescale.language as T
from tilescale.dist import World


def allgather(M, N, num_ranks, dtype="float16", threads=128):
    @T.prim_func
    def main(A: T.Tensor((M, N), dtype), out: T.Tensor((num_ranks * M, N), dtype),
             bar: T.Tensor((num_ranks,), "int32")):
        with T.Kernel(1, threads=threads):
            me = T.get_rank()
            for peer in T.serial(num_ranks):
                T.put_block(A[0, 0], out[me * M, 0], M * N, peer)
            T.barrier_blocks(bar[0])
    return main


def run(world, M=24, N=40, dtype="float16", seed=0):
    """Runs the allgather on every rank of `world`; returns each local rank's output and the expected one."""
    P = world.size
    kernel = tilescale.compile(allgather(M, N, P, dtype), target=world.target)
    inputs = [np.random.default_rng(seed + r).uniform(-1, 1, (M, N)).astype(dtype) for r in range(P)]
    gathered = {}

    def rank_main(rank):
        a = rank.heap.empty((M, N), dtype)
        out = rank.heap.zeros((P * M, N), dtype)
        bar = rank.heap.zeros((P,), "int32")
        fill(a, inputs[rank.rank])
        rank.barrier()  # every rank's input is ready before anyone reads it
        kernel(a, out, bar)
        rank.barrier()  # this rank's kernel has finished, and so every rank's puts into out
        gathered[rank.rank] = to_numpy(out)

    world.run(rank_main)
    return gathered, np.concatenate(inputs)


def fill(array, values):
    """array[:] = values (numpy) for a heap array: numpy on sim; a torch tensor on a GPU world, copied
    on torch's current stream, which World.run makes the rank's."""
    if isinstance(array, np.ndarray):
        array[:] = values
        return
    import torch
    array.copy_(torch.from_numpy(values))


def to_numpy(array):
    """A copy of a heap array in host memory, as numpy."""
    return np.array(array) if isinstance(array, np.ndarray) else array.cpu().numpy()


def make_world(kind, ranks):
    """World.sim, World.local or World.from_env ("env"); "auto" is local with torch and a GPU, else sim."""
    if kind == "auto":
        kind = "local" if tilescale.torch_cuda_available() else "sim"
    if kind == "env":
        return World.from_env()
    return World.local(ranks) if kind == "local" else World.sim(ranks)


def main(argv=()):
    parser = argparse.ArgumentParser(description="allgather on a tilescale.dist World, checked against numpy")
    parser.add_argument("--world", choices=["auto", "sim", "local", "env"], default="auto")
    parser.add_argument("-n", "--ranks", type=int, default=4, help="ranks of a sim or local world (default 4)")
    args = parser.parse_args(argv)
    world = make_world(args.world, args.ranks)
    gathered, expected = run(world)
    for r, out in sorted(gathered.items()):
        np.testing.assert_array_equal(out, expected)
    ranks = ", ".join(str(r) for r in sorted(gathered))
    print(f"allgather on {world}: rank(s) {ranks} gathered {expected.shape} correctly (matches numpy)")


if __name__ == "__main__":
    main(sys.argv[1:])
