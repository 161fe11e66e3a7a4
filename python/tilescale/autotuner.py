"""tilescale.autotune: pick the fastest configuration of a kernel, as TileLang's @tilelang.autotune.

    @tilescale.autotune(configs=[{"block": 128}, {"block": 256}], warmup=25, rep=100)
    @tilescale.jit(out_idx=[-1])
    def add(N, block=128):
        ...                                     # returns a @T.prim_func

    kernel = add(1 << 20)                       # tunes block, returns the fastest compiled kernel

A call compiles the function's prim_func once per config (its keyword values added to the call's
arguments), checks it against ref_prog when one is given, times it with the profiler
(kernel.get_profiler().do_bench) and returns the fastest kernel, with .config and .latency (ms).
A config whose build, compile, check or run raises is reported and skipped; only when every one
fails is that an error. One line per config goes to stderr (quiet=True silences them).

The choice is kept on disk, as JSON, in <cache dir>/autotune/ (the JIT's cache directory:
$TILESCALE_CACHE_DIR, else ~/.cache/tilescale), keyed by the function's qualified name, a hash of
its source, the configs, the call's arguments (which fix the input shapes), the target (on CUDA,
the device's name and arch) and tilescale's version: a later process with the same key compiles
the chosen config and times nothing. TILESCALE_CACHE=0 skips the file both ways. The C++
autotuner (tilescale/autotune.h) is not used because its configs are integers only and it
compiles in threads that would each need Python's GIL to build the program.
"""

import hashlib
import inspect
import json
import os
import sys
import tempfile

from . import _tilescale as _C

_VERSION = "tilescale-autotune-v1"


def autotune(func=None, *, configs, warmup=25, rep=100, ref_prog=None, rtol=1e-2, atol=1e-2, supply_type=None,
             scalars=None, out_idx=None, target="auto", quiet=False):
    """Decorates a function returning a @T.prim_func (or a @tilescale.jit one, whose out_idx and
    target it uses). configs: a list of dicts of keyword values, or a function of the call's
    arguments that returns one. warmup, rep: do_bench's budgets in milliseconds. ref_prog, rtol,
    atol: a reference that every config must match (profiler.assert_allclose). supply_type, scalars:
    the profiler's inputs. out_idx, target: compile's, for a plain function."""
    options = dict(configs=configs, warmup=warmup, rep=rep, ref_prog=ref_prog, rtol=rtol, atol=atol,
                   supply_type=supply_type, scalars=scalars, out_idx=out_idx, target=target, quiet=quiet)
    if func is None:
        return lambda f: _Autotuned(f, options)
    return _Autotuned(func, options)


class _Autotuned:
    def __init__(self, func, options):
        from . import _JIT
        if isinstance(func, _JIT):
            if options["out_idx"] is not None or options["target"] != "auto":
                raise TypeError(f"cannot give out_idx or target to @tilescale.autotune over @tilescale.jit function "
                                f"{func.fn.__name__}; give them to @tilescale.jit")
            self.fn, self.compile_options = func.fn, dict(func.options)
        else:
            self.fn, self.compile_options = func, dict(out_idx=options["out_idx"], target=options["target"])
        self.options, self.memo = options, {}
        self.__wrapped__ = self.fn
        self.__name__, self.__qualname__, self.__doc__ = self.fn.__name__, self.fn.__qualname__, self.fn.__doc__

    def __call__(self, *args, **kwargs):
        memo_key = repr((args, sorted(kwargs.items())))
        if memo_key not in self.memo:
            self.memo[memo_key] = self._tune(args, kwargs)
        return self.memo[memo_key]

    def _say(self, line):
        if not self.options["quiet"]:
            print(f"autotune {self.fn.__name__}: {line}", file=sys.stderr, flush=True)

    def _configs(self, args, kwargs):
        configs = self.options["configs"]
        if callable(configs):
            configs = configs(*args, **kwargs)
        configs = list(configs or [])
        if not configs:
            raise ValueError(f"cannot autotune {self.fn.__name__} with no configs; pass configs=[{{...}}, ...]")
        for c in configs:
            if not isinstance(c, dict):
                raise TypeError(f"cannot use the {type(c).__name__} {c!r} as a config of {self.fn.__name__}; a config "
                                f"is a dict of keyword values, e.g. {{'block_M': 128}}")
            given = sorted(set(c) & set(kwargs))
            if given:
                raise TypeError(f"cannot tune {', '.join(given)} of {self.fn.__name__} because the call gives "
                                f"{'it' if len(given) == 1 else 'them'}; leave {', '.join(given)} to the configs")
        return configs

    def _compile(self, args, kwargs, config):
        from . import compile
        return compile(self.fn(*args, **kwargs, **config), **self.compile_options)

    def _tune(self, args, kwargs):
        configs = self._configs(args, kwargs)
        path = self._cache_path(args, kwargs, configs) if _C.cache_enabled() else None
        cached = _read(path, configs)
        if cached is not None:
            config, ms = cached
            kernel = self._compile(args, kwargs, config)
            self._say(f"{_format(config)} from the cache ({ms:.4g} ms; {path})")
            return _chosen(kernel, config, ms)
        best, failures = None, []
        for n, config in enumerate(configs, 1):
            where = f"[{n}/{len(configs)}] {_format(config)}"
            try:
                kernel = self._compile(args, kwargs, config)
                profiler = kernel.get_profiler(self.options["supply_type"], self.options["scalars"])
                if self.options["ref_prog"] is not None:
                    profiler.assert_allclose(self.options["ref_prog"], rtol=self.options["rtol"],
                                             atol=self.options["atol"])
                ms = profiler.do_bench(warmup=self.options["warmup"], rep=self.options["rep"])
            except Exception as e:  # a bad config is skipped, never fatal
                why = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                failures.append(f"{_format(config)}: {why}")
                self._say(f"{where} skipped: {why}")
                continue
            self._say(f"{where} {ms:.4g} ms")
            if best is None or ms < best[2]:
                best = (kernel, config, ms)
        if best is None:
            raise _C.RuntimeError(f"cannot autotune {self.fn.__name__} because every config failed:\n  " +
                                  "\n  ".join(failures))
        kernel, config, ms = best
        self._say(f"best {_format(config)} ({ms:.4g} ms)")
        if path is not None:
            _write(path, {"version": _VERSION, "function": _qualname(self.fn), "config": config, "latency_ms": ms})
        return _chosen(kernel, config, ms)

    def _cache_path(self, args, kwargs, configs):
        from . import __version__, why_not_cuda
        target = str(self.compile_options.get("target") or "auto")
        if target == "auto":
            target = "cpu" if why_not_cuda() else "cuda"
        if target == "cuda":
            target += " " + _C.device_description(0)
        key = json.dumps({"version": _VERSION, "tilescale": __version__, "function": _qualname(self.fn),
                          "source": _source_hash(self.fn), "configs": configs, "args": repr(args),
                          "kwargs": repr(sorted(kwargs.items())), "target": target,
                          "out_idx": repr(self.compile_options.get("out_idx"))}, sort_keys=True, default=repr)
        name = f"{self.fn.__name__}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"
        return os.path.join(_C.cache_dir(), "autotune", name)


def _qualname(fn):
    return f"{fn.__module__}.{fn.__qualname__}"


def _source_hash(fn):
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):  # no file (an interactive session): the bytecode and constants instead
        text = repr((fn.__code__.co_code, fn.__code__.co_consts))
    return hashlib.sha256(text.encode()).hexdigest()


def _format(config):
    return ", ".join(f"{k}={v!r}" for k, v in config.items()) or "{}"


def _chosen(kernel, config, ms):
    kernel.config, kernel.latency = dict(config), ms
    return kernel


def _read(path, configs):
    """The cached (config, ms) when the file at `path` holds one of `configs`; None otherwise (a
    missing, unreadable or corrupt entry is tuned again, never trusted)."""
    if path is None:
        return None
    try:
        with open(path) as f:
            entry = json.load(f)
        config, ms = entry["config"], float(entry["latency_ms"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for c in configs:
        if json.dumps(c, sort_keys=True, default=repr) == json.dumps(config, sort_keys=True, default=repr):
            return c, ms
    return None


def _write(path, entry):
    """Atomically (a temporary file renamed into place); a cache that cannot be written is no error."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(entry, f, sort_keys=True, default=repr, indent=1)
        os.replace(tmp, path)
    except OSError:
        pass
