"""tilescale.autotune on the CPU backend: only what is deterministic (skipped configs, the on-disk
choice, the returned kernel), never which config is fastest."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tilescale
import tilescale.language as T
from tilescale.profiler import Profiler

CONFIGS = [{"block": 128, "threads": 128}, {"block": 256, "threads": 4096}, {"block": 256, "threads": 64}]


def add(N, block=128, threads=128):
    @T.prim_func
    def main(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32"), C: T.Tensor((N,), "float32")):
        with T.Kernel(T.ceildiv(N, block), threads=threads) as bx:
            for i in T.Parallel(block):
                C[bx * block + i] = A[bx * block + i] + B[bx * block + i]
    return main


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TILESCALE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("TILESCALE_CACHE", raising=False)
    return tmp_path


def tuned(**options):
    return tilescale.autotune(configs=CONFIGS, warmup=1, rep=2, **options)(tilescale.jit(out_idx=[2], target="cpu")(add))


def test_skips_the_invalid_config_and_returns_a_working_kernel(cache_dir, capfd):
    kernel = tuned()(1024)
    err = capfd.readouterr().err
    assert "autotune add: [2/3] block=256, threads=4096 skipped: CompileError:" in err
    assert "a block holds at most 1024 threads" in err
    assert "autotune add: [1/3] block=128, threads=128 " in err and "autotune add: best " in err
    assert kernel.config in (CONFIGS[0], CONFIGS[2]) and kernel.latency > 0
    a, b = np.arange(1024, dtype=np.float32), np.ones(1024, np.float32)
    np.testing.assert_array_equal(kernel(a, b), a + 1)
    entries = os.listdir(cache_dir / "autotune")
    assert len(entries) == 1 and entries[0].startswith("add-") and entries[0].endswith(".json")


def test_a_second_tuner_takes_the_choice_from_disk_without_timing(cache_dir, capfd, monkeypatch):
    first = tuned()(1024)
    capfd.readouterr()

    def no_timing(*args, **kwargs):
        raise AssertionError("timed again")
    monkeypatch.setattr(Profiler, "do_bench", no_timing)
    second = tuned()(1024)  # a new decorator: nothing in memory, only the file
    assert second.config == first.config and second.latency == first.latency
    assert "from the cache" in capfd.readouterr().err
    with pytest.raises(tilescale.RuntimeError, match="every config failed"):
        tuned(quiet=True)(2048)  # another size is another key: it times (and fails, do_bench raising)


def test_every_config_failing_is_an_error_listing_them(cache_dir, monkeypatch):
    def no_timing(*args, **kwargs):
        raise ValueError("no clock")
    monkeypatch.setattr(Profiler, "do_bench", no_timing)
    with pytest.raises(tilescale.RuntimeError, match=r"cannot autotune add because every config failed:\n"
                                                     r"  block=128, threads=128: ValueError: no clock\n"
                                                     r"  block=256, threads=4096: CompileError: "):
        tuned(quiet=True)(1024)


def test_quiet_prints_nothing_and_the_call_is_memoized(cache_dir, capfd):
    f = tuned(quiet=True)
    assert f(1024) is f(1024)
    assert capfd.readouterr().err == ""


def test_another_process_picks_the_best_without_timing(tmp_path):
    script = tmp_path / "tune.py"
    script.write_text(textwrap.dedent("""
        import tilescale
        import tilescale.language as T

        @tilescale.autotune(configs=[{"block": 128}, {"block": 256}, {"threads": 4096}], warmup=1, rep=2)
        @tilescale.jit(out_idx=[1], target="cpu")
        def double(N, block=128, threads=128):
            @T.prim_func
            def main(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32")):
                with T.Kernel(T.ceildiv(N, block), threads=threads) as bx:
                    for i in T.Parallel(block):
                        B[bx * block + i] = A[bx * block + i] * 2
            return main

        print(double(1024).config)
    """))
    env = dict(os.environ, TILESCALE_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("TILESCALE_CACHE", None)
    runs = [subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
            for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    assert "[1/3]" in runs[0].stderr and "from the cache" not in runs[0].stderr
    assert "[1/3]" not in runs[1].stderr and "from the cache" in runs[1].stderr
    assert runs[0].stdout == runs[1].stdout


def test_cache_off_times_every_time(cache_dir, monkeypatch, capfd):
    monkeypatch.setenv("TILESCALE_CACHE", "0")
    tuned()(1024)
    tuned()(1024)
    assert "from the cache" not in capfd.readouterr().err and not (cache_dir / "autotune").exists()


def test_ref_prog_rejects_a_wrong_config(cache_dir, capfd):
    def wrong_when_small(N, block=128):
        @T.prim_func
        def main(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32")):
            with T.Kernel(T.ceildiv(N, block), threads=128) as bx:
                for i in T.Parallel(block):
                    B[bx * block + i] = A[bx * block + i] * (2 if block > 128 else 3)
        return main
    f = tilescale.autotune(configs=[{"block": 128}, {"block": 256}], warmup=1, rep=2, ref_prog=lambda a: a * 2,
                           out_idx=[1], target="cpu")(wrong_when_small)
    assert f(1024).config == {"block": 256}
    assert "[1/2] block=128 skipped: AssertionError: output B of main is not close" in capfd.readouterr().err


def test_configs_from_a_function_of_the_arguments(cache_dir):
    f = tilescale.autotune(configs=lambda N: [{"block": N // 4}], warmup=1, rep=2, out_idx=[2], target="cpu",
                           quiet=True)(add)
    assert f(512).config == {"block": 128}


def test_no_configs():
    with pytest.raises(ValueError, match=r"cannot autotune add with no configs; pass configs=\[\{...\}, ...\]"):
        tilescale.autotune(configs=[], out_idx=[2], target="cpu")(add)(1024)


def test_a_config_that_is_not_a_dict():
    with pytest.raises(TypeError, match=r"cannot use the tuple \('block', 128\) as a config of add; a config is a "
                                        r"dict of keyword values"):
        tilescale.autotune(configs=[("block", 128)], out_idx=[2], target="cpu")(add)(1024)


def test_a_tuned_argument_given_by_the_call():
    with pytest.raises(TypeError, match="cannot tune block of add because the call gives it; leave block to the "
                                        "configs"):
        tilescale.autotune(configs=[{"block": 128}], out_idx=[2], target="cpu")(add)(1024, block=64)


def test_compile_options_belong_to_jit():
    with pytest.raises(TypeError, match="cannot give out_idx or target to @tilescale.autotune over @tilescale.jit "
                                        "function add; give them to @tilescale.jit"):
        tilescale.autotune(configs=CONFIGS, out_idx=[2])(tilescale.jit(out_idx=[2])(add))
