"""tilescale.dist and the distributed operators of T on World.sim (the CPU backend)."""
import os
import sys
import threading

import numpy as np
import pytest

import tilescale
import tilescale.language as T
from tilescale.dist import World

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
import allgather  # noqa: E402


@pytest.mark.parametrize("ranks", [2, 4])
def test_allgather_example_on_sim(ranks):
    gathered, expected = allgather.run(World.sim(ranks), M=24, N=40)
    assert sorted(gathered) == list(range(ranks))
    for out in gathered.values():
        np.testing.assert_array_equal(out, expected)


def test_rank_properties_and_threads():
    world = World.sim(3)
    assert (world.size, world.transport, world.target, world.local_ranks) == (3, "sim", "cpu", [0, 1, 2])
    seen = {}

    def rank_main(rank):
        seen[rank.rank] = (rank.size, rank.device, rank.stream, threading.get_ident())
        rank.barrier()

    world.run(rank_main)
    assert sorted(seen) == [0, 1, 2]
    assert all(v[:3] == (3, "cpu", 0) for v in seen.values())
    assert len({v[3] for v in seen.values()}) == 3  # one thread per rank, each running Python


def test_heap_arrays_and_peer():
    world = World.sim(2)
    got = {}

    def rank_main(rank):
        a = rank.heap.zeros((2, 3), "float32")
        assert isinstance(a, np.ndarray) and a.dtype == np.float32 and a.shape == (2, 3) and not a.any()
        a[:] = rank.rank + 1
        rank.barrier()
        got[rank.rank] = np.array(rank.heap.peer(a, 1 - rank.rank))
        rank.barrier()
        assert rank.heap.used >= a.nbytes and rank.heap.capacity >= rank.heap.used

    world.run(rank_main)
    np.testing.assert_array_equal(got[0], np.full((2, 3), 2.0))
    np.testing.assert_array_equal(got[1], np.full((2, 3), 1.0))


def test_heap_arrays_outlive_the_world_object():
    arrays = []
    world = World.sim(2)
    world.run(lambda rank: arrays.append(rank.heap.zeros((3,), "int32")))
    del world
    for a in arrays:
        a[:] = 7  # the arrays keep the heap alive
        assert a.sum() == 21


def test_distributed_kernel_with_st_wait_and_atomics():
    P = 4

    @T.prim_func
    def ring(flags: T.Tensor((P,), "int32"), counter: T.Tensor((1,), "int32")):
        with T.Kernel(1, threads=32):
            me = T.get_rank()
            if T.get_thread_binding() == 0:
                T.st(flags[me], me + 1, scope="sys", sem="release", dst_pe=(me + 1) % T.get_num_ranks())
                T.atom_add(counter[0], 1, pe=0)
            T.wait_eq(flags[(me + P - 1) % P], (me + P - 1) % P + 1)

    kernel = tilescale.compile(ring, target="cpu")
    seen = {}

    def rank_main(rank):
        flags = rank.heap.zeros((P,), "int32")
        counter = rank.heap.zeros((1,), "int32")
        rank.barrier()
        kernel(flags, counter)
        rank.barrier()
        seen[rank.rank] = (flags.copy(), int(counter[0]))

    World.sim(P).run(rank_main)
    for r in range(P):
        left = (r + P - 1) % P
        assert seen[r][0][left] == left + 1
    assert seen[0][1] == P


def test_allocation_mismatch_is_a_runtime_error_on_every_rank():
    errors = {}

    def rank_main(rank):
        try:
            rank.heap.empty((4 if rank.rank == 0 else 8,), "float32")
        except tilescale.RuntimeError as e:
            errors[rank.rank] = str(e)

    World.sim(4).run(rank_main)
    assert sorted(errors) == [0, 1, 2, 3]
    for message in errors.values():
        assert "cannot make symmetric allocation #0" in message
        assert "rank 0 asked for float32[4]" in message and "float32[8]" in message


def test_allocation_mismatch_uncaught_raises_from_run():
    with pytest.raises(tilescale.RuntimeError, match="cannot make symmetric allocation"):
        World.sim(2).run(lambda rank: rank.heap.zeros((rank.rank + 1,), "int32"))


def test_run_inside_run_is_an_error():
    world = World.sim(2)
    with pytest.raises(tilescale.RuntimeError, match="cannot call World::run from inside World::run"):
        world.run(lambda rank: world.run(lambda r: None))


def test_python_exception_on_one_rank_stops_the_others():
    def rank_main(rank):
        if rank.rank == 1:
            raise ValueError("rank 1 gave up")
        rank.barrier()  # would wait for rank 1 forever; the run stops it instead

    with pytest.raises(ValueError, match="rank 1 gave up"):
        World.sim(3).run(rank_main)


def test_rank_used_after_its_run_is_an_error():
    kept = []
    World.sim(2).run(kept.append)
    with pytest.raises(tilescale.RuntimeError, match="after its function returned from World.run"):
        kept[0].barrier()


def test_world_errors():
    with pytest.raises(tilescale.RuntimeError):
        World.sim(0)
    with pytest.raises(ValueError, match="cannot use 'nope' as a dtype"):
        World.sim(2).run(lambda rank: rank.heap.empty((2,), "nope"))
    with pytest.raises(tilescale.RuntimeError, match="numpy has no bfloat16"):
        World.sim(2).run(lambda rank: rank.heap.empty((2,), "bfloat16"))


def test_gpu_worlds_without_a_gpu_say_why():
    if not tilescale.why_not_cuda():
        pytest.skip("a CUDA device is present: the GPU worlds work here")
    for make in (lambda: World.local(2), World.from_env, World.nvshmem):
        with pytest.raises(tilescale.RuntimeError, match="CUDA"):
            make()


def test_dist_operators_reach_the_builder():
    """Every distributed operator of lang_dist.h builds from T (NVSHMEM's only compile for nvshmem)."""
    @T.prim_func
    def ops(A: T.Tensor((64,), "float16"), B: T.Tensor((64,), "float16"), flags: T.Tensor((4,), "int32"),
            sig: T.Tensor((4,), "uint64")):
        with T.Kernel(1, threads=128):
            pe = (T.get_rank() + 1) % T.get_num_ranks()
            T.put_warp(A[0], B[0], 32, pe, unroll=2, vectorize=True)
            T.get_warp(A[0], B[0], 32, pe)
            T.put_block(A, B, 64, pe)
            T.get_block(A, B, 64)
            v = T.ld(flags[0], scope="gpu", sem="relaxed")
            T.st(flags[1], v, sem="volatile")
            T.wait_ge(flags[2], 1, peer=pe)
            T.fence_cta()
            T.fence_gpu()
            T.fence_sys()
            T.barrier_blocks(flags)
            T.putmem_nbi_block(B[0], A[0], 128, pe)
            T.putmem_signal_nbi_block(B[0], A[0], 128, sig[0], 1, "add", pe)
            T.signal_op(sig[1], 1, T.NVSHMEM_SIGNAL_SET, pe)
            T.signal_wait_until(sig[0], "ge", 1)
            T.int_p(flags[3], 1, pe)
            T.quiet()
            T.fence()
            T.barrier_all_block()
            T.sync_all()
    text = ops.script()
    for name in ["put_warp", "put_block", "barrier_blocks", "quiet"]:
        assert name in text, name


def test_dist_operator_argument_errors():
    with pytest.raises(ValueError, match="cannot use 'device' as a memory scope"):
        @T.prim_func
        def bad_scope(flags: T.Tensor((4,), "int32")):
            with T.Kernel(1, threads=32):
                T.st(flags[0], 1, scope="device")
    with pytest.raises(TypeError, match="address operand of T.put_block"):
        @T.prim_func
        def bad_addr(A: T.Tensor((4,), "int32")):
            with T.Kernel(1, threads=32):
                T.put_block(3, A[0], 4, 0)


def test_kernel_called_outside_a_run_is_one_rank():
    kernel = tilescale.compile(allgather.allgather(4, 4, 2), target="cpu")
    a, out, bar = np.zeros((4, 4), np.float16), np.zeros((8, 4), np.float16), np.zeros(2, np.int32)
    with pytest.raises(tilescale.RuntimeError, match="because the run has 1 rank"):
        kernel(a, out, bar)


def test_remote_access_to_an_array_not_from_the_heap_is_an_error():
    kernel = tilescale.compile(allgather.allgather(4, 4, 2), target="cpu")

    def rank_main(rank):
        a, out, bar = np.zeros((4, 4), np.float16), np.zeros((8, 4), np.float16), np.zeros(2, np.int32)
        kernel(a, out, bar)

    with pytest.raises(tilescale.RuntimeError, match="not in the symmetric heap"):
        World.sim(2).run(rank_main)


def test_world_reused_after_a_failed_run_keeps_no_stale_barrier_arrivals():
    world = World.sim(2)

    def fail_on_one(rank):
        if rank.rank == 1:
            raise ValueError("rank 1 gave up")
        rank.barrier()

    with pytest.raises(ValueError):
        world.run(fail_on_one)
    world.run(lambda rank: rank.barrier())
