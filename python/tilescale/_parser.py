"""@T.prim_func: rewrites a Python function's AST so that its control flow builds a tile program.

The function's statements run once, at decoration, against the C++ builder (lang.h). Calls such as
T.copy append statements; `with T.Kernel(...)` and `for ... in T.Parallel/T.Pipelined/T.serial(...)`
begin and end scopes by themselves (their objects are context managers and one-pass iterators).
What Python cannot express that way is rewritten, as TileLang does, so that both branches of a
symbolic `if` are built (never only the branch one value would take):

    if c: A            with _ts_rt_.if_(c) as _ts_c1:
    else: B     -->        if _ts_c1.then(): A          # symbolic c: T::If, A, T::Else, B
                           if _ts_c1.orelse(): B        # Python bool: Python's own if

    while c: A  -->    with _ts_rt_.while_(lambda: c) as _ts_w1:
                           while _ts_w1.next(): A       # symbolic: one T::While; Python: a loop

`for` iterates through _ts_rt_.loop_iter (so that `break` knows its loop: a T.serial loop or a
`while` on a symbolic condition gets T::Break, a Python loop Python's break), `range(...)` is
T.serial as in TileLang, `a and b` / `or` / `not` / chained comparisons / `x if c else y` become
symbolic when an operand is, and `x = v` stores into x when x is a T.alloc_var scalar (and names
the buffer an alloc_* call on the right makes). On plain Python values everything keeps Python's
semantics. Line numbers are kept, so errors point at the user's file and line.
"""

import ast
import inspect
import itertools
import linecache
import sys
import textwrap

from . import _tilescale as _C

_RT = "_ts_rt_"


def _rt(attr):
    return ast.Attribute(value=ast.Name(id=_RT, ctx=ast.Load()), attr=attr, ctx=ast.Load())


def _thunk(expr):
    return ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                                         kwarg=None, defaults=[]), body=expr)


def _call(attr, *args):
    return ast.Call(func=_rt(attr), args=list(args), keywords=[])


class _Rewriter(ast.NodeTransformer):
    def __init__(self):
        self._ids = itertools.count(1)

    def _fresh(self, prefix):
        return f"_ts_{prefix}{next(self._ids)}"

    def visit_If(self, node):
        self.generic_visit(node)
        var = self._fresh("c")
        then = ast.If(test=ast.Call(func=ast.Attribute(value=ast.Name(id=var, ctx=ast.Load()), attr="then",
                                                       ctx=ast.Load()), args=[], keywords=[]),
                      body=node.body, orelse=[])
        body = [then]
        if node.orelse:
            body.append(ast.If(test=ast.Call(func=ast.Attribute(value=ast.Name(id=var, ctx=ast.Load()),
                                                                attr="orelse", ctx=ast.Load()), args=[], keywords=[]),
                               body=node.orelse, orelse=[]))
        out = ast.With(items=[ast.withitem(context_expr=_call("if_", node.test),
                                           optional_vars=ast.Name(id=var, ctx=ast.Store()))], body=body)
        return ast.copy_location(out, node)

    def visit_While(self, node):
        self.generic_visit(node)
        var = self._fresh("w")
        loop = ast.While(test=ast.Call(func=ast.Attribute(value=ast.Name(id=var, ctx=ast.Load()), attr="next",
                                                          ctx=ast.Load()), args=[], keywords=[]),
                         body=node.body, orelse=node.orelse)
        out = ast.With(items=[ast.withitem(context_expr=_call("while_", _thunk(node.test)),
                                           optional_vars=ast.Name(id=var, ctx=ast.Store()))], body=[loop])
        return ast.copy_location(out, node)

    def visit_For(self, node):
        self.generic_visit(node)
        it = node.iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range":
            it = ast.Call(func=_rt("range_"), args=it.args, keywords=it.keywords)
        node.iter = _call("loop_iter", it)
        return node

    def _guarded(self, node, attr, stmt):
        return ast.copy_location(ast.If(test=_call(attr), body=[stmt], orelse=[]), node)

    def visit_Break(self, node):
        return self._guarded(node, "break_", node)

    def visit_Continue(self, node):
        return self._guarded(node, "continue_", node)

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        attr = "and_" if isinstance(node.op, ast.And) else "or_"
        return ast.copy_location(_call(attr, node.values[0], *[_thunk(v) for v in node.values[1:]]), node)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return ast.copy_location(_call("not_", node.operand), node)
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) == 1:
            return node
        parts, left = [], node.left
        for op, right in zip(node.ops, node.comparators):
            parts.append(ast.Compare(left=left, ops=[op], comparators=[right]))
            left = right
        return ast.copy_location(_call("and_", parts[0], *[_thunk(p) for p in parts[1:]]), node)

    def visit_IfExp(self, node):
        self.generic_visit(node)
        return ast.copy_location(_call("ifexp", node.test, _thunk(node.body), _thunk(node.orelse)), node)

    def visit_Assign(self, node):
        self.generic_visit(node)
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            return node
        name = node.targets[0].id
        old = ast.Call(func=ast.Attribute(value=ast.Call(func=ast.Name(id="locals", ctx=ast.Load()), args=[],
                                                         keywords=[]), attr="get", ctx=ast.Load()),
                       args=[ast.Constant(name)], keywords=[])
        node.value = _call("assign", ast.Constant(name), old, _thunk(node.value))
        return node

    def visit_AnnAssign(self, node):
        self.generic_visit(node)
        if node.value is None or not isinstance(node.target, ast.Name):
            return node
        value = _call("ann_assign", ast.Constant(node.target.id), node.annotation, _thunk(node.value))
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)

    def visit_FunctionDef(self, node):
        # Functions defined inside the kernel (helpers, TileLang macros) are rewritten too.
        self.generic_visit(node)
        return node


def _closure_values(fn):
    values = {}
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                values[name] = cell.cell_contents
            except ValueError:  # a cell not yet bound
                pass
    return values


def rewrite(fn, runtime):
    """The function `fn` rewritten (see the module's doc), its globals those of fn plus its closure."""
    filename = fn.__code__.co_filename
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError) as e:
        raise NotImplementedError(f"cannot build @T.prim_func {fn.__name__} because its source is not available "
                                  f"({e}); define it in a file") from None
    tree = ast.parse(textwrap.dedent("".join(lines)))
    ast.increment_lineno(tree, first - 1)
    fdef = tree.body[0]
    if not isinstance(fdef, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise NotImplementedError(f"cannot build @T.prim_func {fn.__name__} from {type(fdef).__name__}; decorate a def")
    fdef.decorator_list = []
    fdef.returns = None
    for a in fdef.args.args + fdef.args.kwonlyargs + fdef.args.posonlyargs:
        a.annotation = None  # already evaluated by Python (or from the strings, by prim_func)
    fdef.body = [_Rewriter().visit(s) for s in fdef.body]
    ast.fix_missing_locations(tree)
    namespace = dict(fn.__globals__)
    namespace.update(_closure_values(fn))
    namespace[_RT] = runtime
    exec(compile(tree, filename, "exec"), namespace)
    return namespace[fdef.name]


def user_location(tb, filename, first, last):
    """(line, source) of the innermost traceback frame in `filename` between lines first and last."""
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == filename and first <= tb.tb_lineno <= last:
            found = tb.tb_lineno
        tb = tb.tb_next
    if found is None:
        return None
    return found, linecache.getline(filename, found).strip()


def source_range(fn):
    try:
        lines, first = inspect.getsourcelines(fn)
        return fn.__code__.co_filename, first, first + len(lines) - 1
    except (OSError, TypeError):
        return fn.__code__.co_filename, fn.__code__.co_firstlineno, sys.maxsize
