"""One rank of an allgather, one process per rank: what test_distributed_gpu.py starts under
`tilescale launch -n P python launch_allgather_rank.py [M N]`. Exits 0 when this rank gathered every
rank's rows correctly, non-zero with the error otherwise.

World.from_env reads the launcher's RANK, WORLD_SIZE, LOCAL_RANK and MASTER_ADDR/PORT (the ipc
transport); the heap arrays are torch tensors on this rank's GPU; each rank's rows are
rank * 1000 + their index, made by torch, so that the gathered array is known without numpy.
"""
import os
import sys

import torch

import tilescale
from tilescale.dist import World

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import allgather  # noqa: E402


def rows(rank, M, N, device):
    return torch.arange(M * N, device=device, dtype=torch.float32).reshape(M, N) % 997 + rank * 1000


def main(M=64, N=96):
    world = World.from_env(wait_timeout_ms=60000)
    assert world.transport == "ipc", world.transport
    assert world.size == int(os.environ["WORLD_SIZE"]), (world.size, os.environ["WORLD_SIZE"])
    assert world.local_ranks == [int(os.environ["RANK"])], world.local_ranks
    P = world.size
    kernel = tilescale.compile(allgather.allgather(M, N, P, "float32"), target=world.target)
    done = []

    def rank_main(rank):
        a = rank.heap.empty((M, N), "float32")
        out = rank.heap.zeros((P * M, N), "float32")
        bar = rank.heap.zeros((P,), "int32")
        for t in (a, out, bar):
            assert isinstance(t, torch.Tensor) and t.device == torch.device(rank.device), (type(t), t.device, rank.device)
        a.copy_(rows(rank.rank, M, N, a.device))
        rank.barrier()
        kernel(a, out, bar)
        rank.barrier()
        expected = torch.cat([rows(r, M, N, out.device) for r in range(P)])
        torch.testing.assert_close(out, expected, rtol=0, atol=0)
        assert not bar.any(), "barrier_blocks leaves its flags at zero"
        done.append(rank.rank)

    world.run(rank_main)
    assert done == [world.local_ranks[0]], done
    print(f"rank {done[0]} of {P}: allgather of [{M}, {N}] float32 on {world.transport} correct")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
