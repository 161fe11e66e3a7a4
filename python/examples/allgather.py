"""allgather: every rank's [M, N] rows gathered into a [P*M, N] array on every rank, in rank order
(torch's all_gather_into_tensor), TileScale style.

One block per rank pushes its rows into every rank's output with put_block (the whole block copies,
widest aligned chunks), then meets the other ranks' blocks in barrier_blocks, which fences at system
scope first: when the kernel returns, every rank's rows have landed here. `bar` is P int32 of the
symmetric heap, zero before the first use and back to zero after each barrier.

    python allgather.py            # World.sim(4) on the CPU backend, checked against numpy
"""
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
        a[:] = inputs[rank.rank]
        rank.barrier()  # every rank's input is ready before anyone reads it
        kernel(a, out, bar)
        rank.barrier()
        gathered[rank.rank] = np.array(out)

    world.run(rank_main)
    return gathered, np.concatenate(inputs)


def main(ranks=4):
    world = World.sim(ranks)
    gathered, expected = run(world)
    for r, out in sorted(gathered.items()):
        np.testing.assert_array_equal(out, expected)
    print(f"allgather on {world}: {len(gathered)} ranks gathered {expected.shape} correctly")


if __name__ == "__main__":
    main()
