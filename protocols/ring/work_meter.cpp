#include "protocols/ring/work_meter.h"

#include <stdexcept>

namespace marill {

namespace detail {
thread_local WorkCounts t_work;
thread_local int t_discarding = 0;
}

namespace {
constexpr const char* kNames[kWorkKinds] = {"gemm_mac",    "gemm_thin_mac", "ring_elem", "ring_copy", "prg_byte",
                                             "dcf_gen_level", "dcf_eval_level", "spline_term", "bit_word", "bit_extract",
                                             "msg",         "msg_byte",      "op_call",   "large_alloc",
                                             "ot_column_byte", "ot_hash",     "he_ntt",    "he_coeff", "cmp_leaf"};
}

void count_alloc(std::int64_t n) {
  if (n >= kLargeAllocElements) count_work(WorkKind::large_alloc, n);
}

const char* work_kind_name(WorkKind k) { return kNames[static_cast<size_t>(k)]; }

WorkKind parse_work_kind(const std::string& name) {
  for (int i = 0; i < kWorkKinds; ++i)
    if (name == kNames[i]) return static_cast<WorkKind>(i);
  std::string known;
  for (int i = 0; i < kWorkKinds; ++i) known += std::string(i ? ", " : "") + kNames[i];
  throw std::invalid_argument("unknown work kind '" + name + "' (known: " + known + ")");
}

WorkCounts& WorkCounts::operator+=(const WorkCounts& o) {
  for (int i = 0; i < kWorkKinds; ++i) n[static_cast<size_t>(i)] += o.n[static_cast<size_t>(i)];
  return *this;
}

WorkCounts WorkCounts::operator-(const WorkCounts& o) const {
  WorkCounts d;
  for (int i = 0; i < kWorkKinds; ++i) d.n[static_cast<size_t>(i)] = n[static_cast<size_t>(i)] - o.n[static_cast<size_t>(i)];
  return d;
}

std::string WorkCounts::str() const {
  std::string out;
  for (int i = 0; i < kWorkKinds; ++i) {
    if (!n[static_cast<size_t>(i)]) continue;
    if (!out.empty()) out += ' ';
    out += std::string(kNames[i]) + "=" + std::to_string(n[static_cast<size_t>(i)]);
  }
  return out.empty() ? "(none)" : out;
}

}  // namespace marill
