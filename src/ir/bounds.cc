#include "ir/bounds.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <numeric>

namespace tilescale::ir {

namespace {

constexpr std::int64_t kLimit = std::int64_t(1) << 40;  // beyond this, give up rather than overflow

std::optional<Interval> checked(std::int64_t lo, std::int64_t hi, std::int64_t multiple) {
  if (lo < -kLimit || hi > kLimit) return std::nullopt;
  return Interval{lo, hi, std::max<std::int64_t>(multiple, 1)};
}

}  // namespace

// The bounds of e, dropped when they leave e's type (where the arithmetic would wrap).
std::optional<Interval> bounds_in_type(const Expr& e, const VarRanges& ranges);

std::optional<Interval> bounds_of(const Expr& e, const VarRanges& ranges) {
  auto r = bounds_in_type(e, ranges);
  if (!r || bits(e->dtype) >= 64) return r;
  const std::int64_t max = is_signed(e->dtype) ? (std::int64_t(1) << (bits(e->dtype) - 1)) - 1 : (std::int64_t(1) << bits(e->dtype)) - 1;
  const std::int64_t min = is_signed(e->dtype) ? -max - 1 : 0;
  if (r->lo < min || r->hi > max) return std::nullopt;
  return r;
}

std::optional<Interval> bounds_in_type(const Expr& e, const VarRanges& ranges) {
  if (!e || is_float(e->dtype)) return std::nullopt;
  if (auto c = as_const_int(e)) return Interval{*c, *c, *c == 0 ? kLimit : std::abs(*c)};
  if (auto* v = as<VarNode>(e)) {
    auto it = ranges.find(v);
    if (it == ranges.end()) return std::nullopt;
    return it->second;
  }
  if (auto* c = as<CastNode>(e)) {
    if (!is_integer(c->value->dtype) || bits(e->dtype) < bits(c->value->dtype)) return std::nullopt;
    return bounds_of(c->value, ranges);
  }
  auto* b = as<BinaryNode>(e);
  if (!b || is_comparison(b->op) || is_logical(b->op)) return std::nullopt;
  const auto x = bounds_of(b->a, ranges), y = bounds_of(b->b, ranges);
  if (!x || !y) return std::nullopt;
  const std::int64_t g = std::gcd(x->multiple, y->multiple);
  switch (b->op) {
    case BinaryOp::Add: return checked(x->lo + y->lo, x->hi + y->hi, g);
    case BinaryOp::Sub: return checked(x->lo - y->hi, x->hi - y->lo, g);
    case BinaryOp::Mul: {
      const std::int64_t c[] = {x->lo * y->lo, x->lo * y->hi, x->hi * y->lo, x->hi * y->hi};
      const std::int64_t m = x->multiple < kLimit && y->multiple < kLimit ? x->multiple * y->multiple : kLimit;
      return checked(*std::min_element(c, c + 4), *std::max_element(c, c + 4), std::min(m, kLimit));
    }
    case BinaryOp::Div:
    case BinaryOp::FloorDiv:
      // Non-negative dividend by a positive constant: both divisions agree and are monotonic.
      if (y->lo != y->hi || y->lo <= 0 || x->lo < 0) return std::nullopt;
      return Interval{x->lo / y->lo, x->hi / y->lo, x->multiple % y->lo == 0 ? x->multiple / y->lo : 1};
    case BinaryOp::Mod:
    case BinaryOp::FloorMod: {
      if (y->lo != y->hi || y->lo <= 0 || x->lo < 0) return std::nullopt;
      if (x->hi < y->lo) return x;
      const std::int64_t m = std::gcd(x->multiple, y->lo);
      return Interval{0, y->lo - m, m};
    }
    case BinaryOp::Min: return Interval{std::min(x->lo, y->lo), std::min(x->hi, y->hi), g};
    case BinaryOp::Max: return Interval{std::max(x->lo, y->lo), std::max(x->hi, y->hi), g};
    default: return std::nullopt;
  }
}

bool provably(const Expr& cond, const VarRanges& ranges) {
  auto* b = as<BinaryNode>(cond);
  if (!b) return as_const_int(cond).value_or(0) != 0;
  if (b->op == BinaryOp::And) return provably(b->a, ranges) && provably(b->b, ranges);
  if (b->op == BinaryOp::Or) return provably(b->a, ranges) || provably(b->b, ranges);
  if (!is_comparison(b->op)) return false;
  const auto x = bounds_of(b->a, ranges), y = bounds_of(b->b, ranges);
  if (!x || !y) return false;
  switch (b->op) {
    case BinaryOp::LT: return x->hi < y->lo;
    case BinaryOp::LE: return x->hi <= y->lo;
    case BinaryOp::GT: return x->lo > y->hi;
    case BinaryOp::GE: return x->lo >= y->hi;
    case BinaryOp::EQ: return x->lo == x->hi && y->lo == y->hi && x->lo == y->lo;
    case BinaryOp::NE: return x->hi < y->lo || y->hi < x->lo;
    default: return false;
  }
}

}  // namespace tilescale::ir
