// Work counters: how much work of each kind the calling thread's kernels did, so a phantom run
// (shapes only, no data) can be charged the compute a real run of the same program spends
// (sim/compute_model.h turns counts into seconds).
//
// Each kernel counts ONCE, at its API entry, in the calling thread (a party runs on one thread: a
// detached actor), before it looks at whether its tensors are phantom; kernels that fan out to
// worker threads (ring_gemm) still count once, in the caller. Counts depend on shapes only, so a
// real and a phantom run of one program count exactly the same (tests/core/test_compute_model.cpp).
// Where a real path calls a kernel that its phantom path skips, the phantom path counts the same
// work explicitly (e.g. dcf_eval_work, spline_index_work).
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace marill {

enum class WorkKind : std::uint8_t {
  gemm_mac,        // ring GEMM multiply-accumulates, products with more than 32 rows (packed kernel)
  gemm_thin_mac,   // ring GEMM multiply-accumulates, products with at most 32 rows (decode: streams B)
  ring_elem,       // element-wise ring ops (add, mul, shifts, ...): elements written
  ring_copy,       // data movement (slice, concat, permute, reshape copies, broadcast, sums): elements
  prg_byte,        // AES-CTR PRG output bytes
  dcf_gen_level,   // DCF key generation: elements x tree levels
  dcf_eval_level,  // DCF evaluation: evaluated points x tree levels walked
  spline_term,     // FSS spline gate's local steps: elements x coefficient terms
  bit_word,        // bit-plane ops (xor, and, plane copies): 64-bit words
  bit_extract,     // ring <-> bit planes: elements x planes
  msg,             // messages a party sends or receives (framing, mailbox, per-message bookkeeping)
  msg_byte,        // payload bytes a party sends or receives (encode, copies, decode)
  op_call,         // secure ops entered (the ledger's op scopes: per-op fixed overhead)
  large_alloc,     // elements of tensors (and words of bit planes) of at least kLargeAllocElements
                   // created: the cost of a big buffer beyond its arithmetic (fresh pages under glibc's
                   // defaults; small since protocols/ring/allocator.h keeps freed memory)
  ot_column_byte,  // OT extension's column bytes: leaf PRG output expanded and folded (SoftSpokenOT:
                   // 2^k leaves per chunk of k columns; IKNP: one or two per column), plus the 128
                   // columns transposed to rows
  ot_hash,         // correlation-robust hashes of one 128-bit block (OT outputs, 1-of-N pads)
  he_ntt,          // number-theoretic transforms of one RNS prime's N coefficients (either way)
  he_coeff,        // coefficient operations on one RNS prime (products, sums, sampling, encoding)
  cmp_leaf,        // millionaires' comparison leaves (comparisons x 4-bit digits) with their share of
                   // the AND tree: 3 per leaf at the 1-of-16 OT's sender (its table and the tree), 2 at
                   // the receiver (its pick and the tree), the ratio `marill calibrate` measures
};
constexpr int kWorkKinds = 19;
constexpr std::int64_t kLargeAllocElements = std::int64_t{1} << 15;  // 256 KiB: above glibc's first mmap threshold

// Counts a new buffer of n 64-bit elements (large_alloc when it is large).
void count_alloc(std::int64_t n);

const char* work_kind_name(WorkKind k);
// Throws std::invalid_argument naming the name and the known kinds.
WorkKind parse_work_kind(const std::string& name);

struct WorkCounts {
  std::array<std::uint64_t, kWorkKinds> n{};
  std::uint64_t& operator[](WorkKind k) { return n[static_cast<size_t>(k)]; }
  std::uint64_t operator[](WorkKind k) const { return n[static_cast<size_t>(k)]; }
  WorkCounts& operator+=(const WorkCounts& o);
  WorkCounts operator-(const WorkCounts& o) const;
  bool operator==(const WorkCounts& o) const { return n == o.n; }
  bool operator!=(const WorkCounts& o) const { return n != o.n; }
  std::string str() const;  // "gemm_mac=123 ring_elem=45 ..." (non-zero kinds)
};

namespace detail {
extern thread_local WorkCounts t_work;
extern thread_local int t_discarding;  // open DiscardWorkScopes
// Messages, op calls and the composite kinds count inside a DiscardWorkScope; leaf kernels do not.
constexpr bool counts_while_discarding(WorkKind k) {
  return k == WorkKind::msg || k == WorkKind::msg_byte || k == WorkKind::op_call || k == WorkKind::ot_column_byte || k == WorkKind::ot_hash ||
         k == WorkKind::he_ntt || k == WorkKind::he_coeff || k == WorkKind::cmp_leaf;
}
}  // namespace detail

// Adds `units` of `kind` to the calling thread's counters. Call once per kernel call, never per
// element in an inner loop.
inline void count_work(WorkKind kind, std::uint64_t units) {
  if (detail::t_discarding > 0 && !detail::counts_while_discarding(kind)) return;
  detail::t_work[kind] += units;
}
inline void count_work(WorkKind kind, std::int64_t units) { count_work(kind, static_cast<std::uint64_t>(units)); }

// The calling thread's counters since it started.
inline const WorkCounts& thread_work() { return detail::t_work; }

// Leaf kernels called in its lifetime do not count (every kind but messages, op calls and the
// composite kinds ot_*, he_* and cmp_leaf): a composite kernel (an OT extension, an HE product, a 2pc op)
// counts its own units from the shapes alone, so that its phantom path, which skips those kernels,
// counts the same. Messages and nested composite kernels count the same either way. (Counters
// never go back: a phantom party's clock advances by the work between its messages.)
class DiscardWorkScope {
 public:
  DiscardWorkScope() { ++detail::t_discarding; }
  ~DiscardWorkScope() { --detail::t_discarding; }
  DiscardWorkScope(const DiscardWorkScope&) = delete;
  DiscardWorkScope& operator=(const DiscardWorkScope&) = delete;
};

}  // namespace marill
