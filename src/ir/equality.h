// Structural equality of IR trees.
//
// Two trees are equal when they have the same shape, node kinds, dtypes, constants, operators, op
// names, messages and attributes, up to a consistent renaming of what they bind: loop and kernel
// variables, the symbolic dimensions of the parameters, and the buffers declared by Alloc or taken
// as parameters. Names never matter; a variable or buffer that neither tree binds (a free one) is
// only equal to itself. Layout annotations compare by their printed form.
//
//   Var i = make_var("i"), j = make_var("j");
//   Stmt a = make_for(i, make_int(0), make_int(8), ForKind::Serial, make_store(B, {i}, make_load(A, {i})));
//   Stmt b = make_for(j, make_int(0), make_int(8), ForKind::Serial, make_store(B, {j}, make_load(A, {j})));
//   structural_equal(a, b);                          // true: i and j are bound by their loops
//   structural_equal(make_load(A, {i}), make_load(A, {j}));  // false: i and j are free here
//
// Passes and tests use it to compare a rewritten program with the expected one built by hand.
#pragma once

#include "ir/IR.h"

namespace tilescale::ir {

bool structural_equal(const Expr& a, const Expr& b);
bool structural_equal(const Stmt& a, const Stmt& b);
bool structural_equal(const PrimFunc& a, const PrimFunc& b);  // also compares the functions' names

}  // namespace tilescale::ir
