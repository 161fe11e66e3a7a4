// Layouts and fragments: where the elements of a tile live.
//
// A tile has a *logical* shape, the one the program indexes: A_shared[i, j] with i < 128, j < 32.
// Where element (i, j) really sits is a separate decision: its offset in shared memory, or which
// thread of the block holds it in which of its registers. A Layout records that decision as index
// arithmetic: a function from a logical index (i, j) to a physical index, written as IR expressions
// over the layout's own index variables. For example the row-major layout of a 4 x 8 tile is
//
//     Layout((4, 8) -> (i, j) => (i * 8 + j,))
//
// and its table (logical cell → physical offset) is
//
//         0   1   2   3   4   5   6   7
//     0   0   1   2   3   4   5   6   7
//     1   8   9  10  11  12  13  14  15
//     2  16  17  18  19  20  21  22  23
//     3  24  25  26  27  28  29  30  31
//
// Shared-memory layouts map to one flat element offset. A Fragment maps a logical index to an
// owning thread and a register index in that thread; it may be *replicated*: each element then has
// `replicate` owners, one per replica (a row maximum that every thread of a quad keeps).
//
// Why a separate, algebraic object: the program says *what* is computed on a tile and the layout
// says *where*, so the compiler can change the where (swizzle shared memory against bank
// conflicts, give a gemm accumulator the shape mma.sync wants) without touching the what. Lowering
// a copy or a Parallel loop needs the layout in both directions: forward (logical → physical, to
// address an element) and inverse (physical → logical, for a thread to know which elements its
// registers hold), so inverse() produces real index expressions, not a table. The checks below
// (is_bijective, every_element_owned_once_per_replica) are the properties the compiler relies on;
// the unit tests verify them cell by cell.
//
// Conventions. Index variables are int32 and indices are non-negative, so the factories write
// `/` and `%` (which agree with floordiv and floormod there). Tile layouts have constant input
// shapes; the operations that enumerate cells (output_shape, is_bijective, inverse, repeat, table)
// require it and cost time proportional to the tile's size, which is what they are for.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/IR.h"

namespace tilescale::layout {

class Layout {
 public:
  // A layout over `input_shape` with index variables `vars` (one per input dimension) and the
  // physical index `forward` written over them. InternalError when the sizes disagree.
  static std::shared_ptr<const Layout> make(std::vector<ir::Expr> input_shape, std::vector<ir::Var> vars,
                                            std::vector<ir::Expr> forward);
  virtual ~Layout() = default;

  const std::vector<ir::Expr>& input_shape() const { return input_shape_; }
  const std::vector<ir::Var>& vars() const { return vars_; }
  const std::vector<ir::Expr>& forward_index() const { return forward_; }

  // The physical index of a logical index: by substitution, or evaluated (InternalError when the
  // forward index does not evaluate to constants).
  std::vector<ir::Expr> map(const std::vector<ir::Expr>& index) const;
  std::vector<std::int64_t> map(const std::vector<std::int64_t>& index) const;

  // Per physical dimension, the largest value taken over the input box, plus one.
  std::vector<std::int64_t> output_shape() const;

  // Every cell of the output_shape box is the image of exactly one logical index.
  virtual bool is_bijective() const;

  // The physical → logical map, as a layout over output_shape(). It is found for layouts that
  // permute mixed-radix digits of the index (row- and column-major, transposes, reshapes, repeats)
  // and for XOR swizzles of power-of-two tiles, possibly repeated; otherwise CompileError
  // "cannot invert layout <layout> because <reason>".
  virtual std::shared_ptr<const Layout> inverse() const;

  // `factor` copies of this layout along input dimension `dim`, the copies stacked along the same
  // output dimension (or along the only one, for a flat layout), each offset by the extent of the
  // previous ones: row_major({4, 8}).repeat(0, 2) is row_major({8, 8}).
  virtual std::shared_ptr<const Layout> repeat(int dim, std::int64_t factor) const;

  // One line: Layout((128, 32) -> (i, j) => (i * 32 + j,)).
  virtual std::string to_string() const;
  // For a 1-D or 2-D layout, a text table of the physical index of every logical cell.
  virtual std::string table() const;

 protected:
  Layout(std::vector<ir::Expr> input_shape, std::vector<ir::Var> vars, std::vector<ir::Expr> forward);
  // The forward index of repeat(dim, factor).
  std::vector<ir::Expr> repeated_forward(int dim, std::int64_t factor) const;

 private:
  const std::vector<ir::Expr> input_shape_;
  const std::vector<ir::Var> vars_;
  const std::vector<ir::Expr> forward_;
};

// Element (i, j, ...) at offset i * (n1 * n2 ...) + j * (n2 ...) + ...: the last dimension is
// contiguous. column_major: the first dimension is contiguous.
std::shared_ptr<const Layout> row_major(const std::vector<std::int64_t>& shape);
std::shared_ptr<const Layout> column_major(const std::vector<std::int64_t>& shape);

// The XOR swizzle that makes ldmatrix (and row-wise 16-byte stores) free of shared-memory bank
// conflicts, for a rows x cols tile of element_bytes-byte elements, as a flat element offset.
//
// Shared memory has 32 banks of 4 bytes: a 128-byte line touches every bank once. ldmatrix has 8
// threads each read one 16-byte chunk, and for a tile operand they are the same chunk column of 8
// consecutive rows. With plain row-major 128-byte rows those 8 chunks all start at a multiple of
// 128 bytes plus the same column offset: the same 4 banks, an 8-way conflict. View each row as
// 16-byte chunks and store chunk c of row r at chunk position
//
//     c ^ (r % 8)                           rows of 128 bytes or a multiple of it (8k chunks)
//     c ^ ((r / (8 / chunks)) % chunks)     rows of 2 or 4 chunks (32 or 64 bytes)
//
// Then any 8 consecutive rows put a given chunk column in 8 different 16-byte bank groups: with
// 64-byte rows two rows share a 128-byte line, so the XOR value changes every 2 rows; with 32-byte
// rows every 4. Elements inside a chunk stay in order, so 16-byte vector accesses still work, and
// the map is its own inverse on the chunk index. Rows of one chunk are left row-major (8 of them
// already fill the 32 banks). Rows wider than 128 bytes are cut into 128-byte column panels, stored
// one after the other, each swizzled as a [rows][128 bytes] tile: what a TMA load with the 128-byte
// swizzle writes, box by box, and what wgmma's descriptors address. This is the 128/64/32-byte
// swizzle of CuTe and of the TMA.
//
// CompileError unless 16 % element_bytes == 0, a row is 1, 2 or 4 chunks or a multiple of 8, and
// rows is a power of two or a multiple of 8 (the pattern repeats every 8 rows; a partial period
// would leave the layout without an inverse).
std::shared_ptr<const Layout> swizzled(std::int64_t rows, std::int64_t cols, int element_bytes);

// A Fragment: logical tile index → (thread, register index), with replication.
//
// As a Layout, its forward index is the register index (map, output_shape and forward_index speak
// of registers); forward_thread gives the owning thread. A replicated fragment has a replica
// variable, ranging over [0, replicate), that forward_thread may use and the register index may not:
// the copies of an element sit in the same register of different threads. For example the default
// partition of a Parallel loop over a 128 x 32 tile among 128 threads, 4-wide vectors, is
//
//     Fragment((128, 32) -> (i, j) => thread (i * 32 + j) / 4 % 128,
//              register ((i * 32 + j) / 512 * 4 + (i * 32 + j) % 4,))
class Fragment : public Layout {
 public:
  static std::shared_ptr<const Fragment> make(std::vector<ir::Expr> input_shape, std::vector<ir::Var> vars,
                                              ir::Expr forward_thread, std::vector<ir::Expr> forward_register,
                                              std::int64_t replicate = 1, ir::Var replica_var = nullptr);

  // The default partition of a Parallel loop (REFERENCE.md): flatten the tile row-major, cut it
  // into vectors of `vector_width` consecutive elements, deal the vectors round-robin to `threads`
  // threads; a thread's register index counts its elements in order.
  static std::shared_ptr<const Fragment> row_major_partition(const std::vector<std::int64_t>& shape,
                                                             std::int64_t threads, std::int64_t vector_width);

  const ir::Expr& forward_thread() const { return thread_; }
  std::int64_t replicate() const { return replicate_; }
  const ir::Var& replica_var() const { return replica_var_; }  // null when not given

  // The thread that holds copy `replica` of the element at `index`.
  std::int64_t map_thread(const std::vector<std::int64_t>& index, std::int64_t replica = 0) const;
  // Largest thread index, plus one; number of register slots per thread (product of output_shape).
  std::int64_t thread_count() const;
  std::int64_t register_count() const;

  // No two (element, replica) pairs share a (thread, register) slot: each element is held exactly
  // once per replica, its copies by distinct threads. Thread and register indices are non-negative.
  bool every_element_owned_once_per_replica() const;

  // Bijective onto the box threads x registers: unreplicated, and every thread holds the same
  // number of elements.
  bool is_bijective() const override;
  // (thread, register...) → logical index, for an unreplicated fragment.
  std::shared_ptr<const Layout> inverse() const override;
  // Returns a Fragment: the copies go to further registers of the same threads.
  std::shared_ptr<const Layout> repeat(int dim, std::int64_t factor) const override;

  // What register `reg` of thread `thread` holds: the logical index (of the element it holds a
  // copy of, for a replicated fragment) and whether the slot is used at all (a partition of a tile
  // that does not divide evenly leaves some threads' last registers empty). Code generators walk
  // a thread's registers with it. It comes from the owner map when one was given (with_owner_map),
  // otherwise from inverse() (unreplicated fragments; CompileError for replicated ones).
  struct Owned {
    std::vector<ir::Expr> index;
    ir::Expr valid;  // null when every slot is used
  };
  Owned owned(const ir::Expr& thread, const ir::Expr& reg) const;
  // This fragment with an explicit owner map: `index` and `valid` written over `thread` and `reg`
  // (the flat register index). Factories of structured fragments (mma accumulators, their rows)
  // give it in closed form, which is simpler than what inverse() derives.
  std::shared_ptr<const Fragment> with_owner_map(ir::Var thread, ir::Var reg, std::vector<ir::Expr> index,
                                                 ir::Expr valid = nullptr) const;

  // Fragment((64,) -> (i,) => thread i % 32 + r * 32, register (i / 32,), replicate r < 2)
  std::string to_string() const override;
  // Cells read T<thread>:R<register> (register flattened row-major); replicas' threads joined by /.
  std::string table() const override;

 private:
  Fragment(std::vector<ir::Expr> input_shape, std::vector<ir::Var> vars, std::vector<ir::Expr> forward_register,
           ir::Expr forward_thread, std::int64_t replicate, ir::Var replica_var);
  // The same map as a Layout onto (thread, register...).
  std::shared_ptr<const Layout> as_thread_register_layout() const;

  const ir::Expr thread_;
  const std::int64_t replicate_;
  const ir::Var replica_var_;
  struct OwnerMap {
    ir::Var thread, reg;
    Owned owned;
  };
  std::optional<OwnerMap> owner_map_;
};

}  // namespace tilescale::layout
