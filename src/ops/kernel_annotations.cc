#include "ops/kernel_annotations.h"

namespace tilescale::ops {

ir::Stmt BlockSwizzle::encode() const {
  return ir::make_annotate("swizzle", nullptr, nullptr, {{"panel_size", panel_size}, {"order", std::string(column_major ? "col" : "row")}});
}

std::optional<BlockSwizzle> BlockSwizzle::decode(const ir::AnnotateNode& a) {
  if (a.key != "swizzle") return std::nullopt;
  return BlockSwizzle{std::get<std::int64_t>(a.attrs.at("panel_size")), std::get<std::string>(a.attrs.at("order")) == "col"};
}

ir::Stmt MinBlocksPerSm::encode() const { return ir::make_annotate("min_blocks_per_sm", nullptr, nullptr, {{"blocks", blocks}}); }

std::optional<MinBlocksPerSm> MinBlocksPerSm::decode(const ir::AnnotateNode& a) {
  if (a.key != "min_blocks_per_sm") return std::nullopt;
  return MinBlocksPerSm{std::get<std::int64_t>(a.attrs.at("blocks"))};
}

ir::Stmt Persistent::encode() const { return ir::make_annotate("persistent", nullptr, nullptr, {}); }

std::optional<Persistent> Persistent::decode(const ir::AnnotateNode& a) {
  if (a.key != "persistent") return std::nullopt;
  return Persistent{};
}

}  // namespace tilescale::ops
