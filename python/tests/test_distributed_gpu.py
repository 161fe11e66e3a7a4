"""tilescale.dist on GPUs from Python: World.local in this process (ranks may share one GPU) and one
process per rank under `tilescale launch` (World.from_env, the ipc transport). Skipped, saying why,
without torch and a CUDA device (the launcher's own environment test runs anywhere).
"""
import os
import subprocess
import sys

import pytest

import tilescale
import tilescale.language as T
from tilescale.dist import World

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "examples")
sys.path.insert(0, EXAMPLES)
import allgather  # noqa: E402

# NVLink multicast stays off in this process too (ARCHITECTURE.md section 5).
os.environ["NVSHMEM_DISABLE_NVLS"] = "1"
os.environ["NCCL_NVLS_ENABLE"] = "0"

WAIT_MS = 60000  # a wait that lasts longer is an error naming it, not a hung test


def _ranks(torch):
    """Two ranks, or one per GPU where there are more: rank r runs on GPU r % devices."""
    return max(2, torch.cuda.device_count())


def _rows(torch, rank, M, N, device, dtype):
    """Rank `rank`'s input: values that say whose rows they are."""
    return (torch.arange(M * N, device=device, dtype=torch.float32).reshape(M, N) % 997 + rank * 1000).to(dtype)


# --------------------------------------------------------------------------------------------------
# World.local: ranks in this process


@pytest.mark.gpu
def test_local_world_heap_arrays_are_torch_tensors_on_each_ranks_device(torch_cuda):
    torch = torch_cuda
    P, devices = _ranks(torch), torch.cuda.device_count()
    world = World.local(P, wait_timeout_ms=WAIT_MS)
    assert (world.size, world.transport, world.target, world.local_ranks) == (P, "local", "cuda", list(range(P)))
    seen = {}

    def rank_main(rank):
        assert rank.device == f"cuda:{rank.rank % devices}"
        assert rank.stream != 0  # a stream of the rank's own
        a = rank.heap.zeros((3, 5), "float16")
        b = rank.heap.empty((7,), "bfloat16")  # numpy has no bfloat16; torch has
        for t, dtype, shape in ((a, torch.float16, (3, 5)), (b, torch.bfloat16, (7,))):
            assert isinstance(t, torch.Tensor), type(t)
            assert (t.device, t.dtype, tuple(t.shape)) == (torch.device(rank.device), dtype, shape)
        assert not a.any()
        a.fill_(rank.rank + 1)
        rank.barrier()
        right = (rank.rank + 1) % rank.size
        peer = rank.heap.peer(a, right)
        assert isinstance(peer, torch.Tensor) and peer.device == torch.device(rank.device)
        seen[rank.rank] = peer.cpu()
        rank.barrier()

    world.run(rank_main)
    for r in range(P):
        torch.testing.assert_close(seen[r], torch.full((3, 5), (r + 1) % P + 1.0, dtype=torch.float16), rtol=0, atol=0)


@pytest.mark.gpu
@pytest.mark.parametrize("ranks,M,N", [(2, 24, 40), (4, 24, 40), (2, 256, 1000)])
def test_allgather_example_on_a_local_world_against_torch(torch_cuda, ranks, M, N):
    torch = torch_cuda
    gathered, expected = allgather.run(World.local(ranks, wait_timeout_ms=WAIT_MS), M=M, N=N)
    assert sorted(gathered) == list(range(ranks))
    reference = torch.from_numpy(expected)  # every rank's input, in rank order
    for out in gathered.values():
        torch.testing.assert_close(torch.from_numpy(out), reference, rtol=0, atol=0)


@pytest.mark.gpu
def test_allgather_example_main_runs_on_a_gpu_world(torch_cuda, capsys):
    allgather.main(["-n", "2"])
    out = capsys.readouterr().out
    assert "World local, 2 ranks" in out and "matches numpy" in out


@pytest.mark.gpu
def test_out_idx_output_on_the_ranks_device(torch_cuda):
    """A kernel called inside a rank allocates its out_idx outputs on the rank's device (cuda:1 for
    rank 1 with two GPUs; on one GPU every rank is on cuda:0)."""
    torch = torch_cuda
    P, N = _ranks(torch), 1024

    @T.prim_func
    def plus_rank(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32")):
        with T.Kernel(T.ceildiv(N, 128), threads=128) as bx:
            for i in T.Parallel(128):
                B[bx * 128 + i] = A[bx * 128 + i] + T.cast(T.get_rank(), "float32")

    world = World.local(P, wait_timeout_ms=WAIT_MS)
    kernel = tilescale.compile(plus_rank, out_idx=[1], target=world.target)
    got = {}

    def rank_main(rank):
        a = torch.arange(N, dtype=torch.float32, device=rank.device)
        b = kernel(a)
        rank.barrier()
        got[rank.rank] = (str(b.device), b.cpu(), a.cpu() + rank.rank)

    world.run(rank_main)
    for r in range(P):
        device, b, expected = got[r]
        assert device == f"cuda:{r % torch.cuda.device_count()}", f"rank {r}'s output is on {device}"
        torch.testing.assert_close(b, expected, rtol=0, atol=0)


@pytest.mark.gpu
@pytest.mark.parametrize("side_stream", [False, True], ids=["rank-stream", "side-stream"])
def test_rank_barrier_waits_for_the_ranks_kernels(torch_cuda, side_stream):
    """On torch's current stream in World.run (the rank's), a rank's kernel goes to the rank's
    stream, which rank.barrier() waits for. Under `with torch.cuda.stream(side)` it is launched on
    `side` (after the copy there) and joined to the rank's stream, so the barrier waits for it too.
    The kernel is large enough (32 MB of float16 per rank) to outlast the host barrier were it not
    waited for."""
    torch = torch_cuda
    P, M, N = 2, 8192, 2048
    world = World.local(P, wait_timeout_ms=WAIT_MS)
    kernel = tilescale.compile(allgather.allgather(M, N, P), target=world.target)
    got = {}

    def rank_main(rank):
        a = rank.heap.empty((M, N), "float16")
        out = rank.heap.zeros((P * M, N), "float16")
        bar = rank.heap.zeros((P,), "int32")
        stream = torch.cuda.Stream(device=a.device) if side_stream else torch.cuda.current_stream(a.device)
        with torch.cuda.stream(stream):
            a.copy_(_rows(torch, rank.rank, M, N, a.device, torch.float16))
            kernel(a, out, bar)
        rank.barrier()
        got[rank.rank] = out.cpu()  # on the rank's stream, no other wait

    world.run(rank_main)
    expected = torch.cat([_rows(torch, r, M, N, "cpu", torch.float16) for r in range(P)])
    for r in range(P):
        torch.testing.assert_close(got[r], expected, rtol=0, atol=0)


# --------------------------------------------------------------------------------------------------
# One process per rank: `tilescale launch -n P <program>` sets RANK, WORLD_SIZE, LOCAL_RANK,
# LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT (tools/launch.h); World.from_env reads them.


def _launch(cli, env, ranks, *command, timeout=300):
    return subprocess.run([cli, "launch", "-n", str(ranks), *command], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_launch_gives_each_python_rank_its_environment(tilescale_cli, child_env):
    check = ("import os; e = os.environ; "
             "assert e['WORLD_SIZE'] == e['LOCAL_WORLD_SIZE'] == '2', e['WORLD_SIZE']; "
             "assert e['RANK'] == e['LOCAL_RANK'] and e['RANK'] in ('0', '1'), e['RANK']; "
             "assert e['MASTER_ADDR'] and int(e['MASTER_PORT']) > 0; "
             "assert e['NVSHMEM_DISABLE_NVLS'] == '1' and e['NCCL_NVLS_ENABLE'] == '0'; "
             "import tilescale; print('rank', e['RANK'], 'ok')")
    p = _launch(tilescale_cli, child_env, 2, sys.executable, "-c", check, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "[rank 0] rank 0 ok" in p.stdout and "[rank 1] rank 1 ok" in p.stdout, p.stdout


def test_launch_reports_a_failing_python_rank(tilescale_cli, child_env):
    fail_on_one = "import os, sys; sys.exit(3 if os.environ['RANK'] == '1' else 0)"
    p = _launch(tilescale_cli, child_env, 2, sys.executable, "-c", fail_on_one, timeout=120)
    assert p.returncode != 0
    assert "rank 1 of 2 failed (exit status 3" in p.stderr, p.stderr


@pytest.mark.gpu
def test_launch_two_processes_run_an_allgather(tilescale_cli, child_env, torch_cuda):
    env = dict(child_env, TILESCALE_WAIT_TIMEOUT_MS=str(WAIT_MS))
    p = _launch(tilescale_cli, env, 2, sys.executable, os.path.join(HERE, "launch_allgather_rank.py"))
    assert p.returncode == 0, p.stdout + p.stderr
    for r in range(2):
        assert f"[rank {r}] rank {r} of 2: allgather of [64, 96] float32 on ipc correct" in p.stdout, p.stdout


@pytest.mark.gpu
def test_launch_runs_the_allgather_example_one_process_per_rank(tilescale_cli, child_env, torch_cuda):
    env = dict(child_env, TILESCALE_WAIT_TIMEOUT_MS=str(WAIT_MS))
    p = _launch(tilescale_cli, env, 2, sys.executable, os.path.join(EXAMPLES, "allgather.py"), "--world", "env")
    assert p.returncode == 0, p.stdout + p.stderr
    for r in range(2):
        assert f"[rank {r}] allgather on <tilescale.dist.World ipc, 2 ranks>: rank(s) {r} gathered" in p.stdout, p.stdout


def test_allgather_example_main_on_sim(capsys):
    allgather.main(["--world", "sim", "-n", "3"])
    assert "World sim, 3 ranks" in capsys.readouterr().out
