// Work counters: how much work of each kind the calling thread's kernels did, so a phantom run
// (shapes only, no data) can be charged the compute a real run of the same program spends
// (sim/compute_model.h turns counts into seconds).
//
// Each kernel counts ONCE, at its API entry, in the calling thread (a party runs on one thread: a
// detached actor), before it looks at whether its tensors are phantom; kernels that fan out to
// worker threads (ring_gemm) still count once, in the caller. Counts depend on shapes only, so a
// real and a phantom run of one program count exactly the same (tests/core/test_compute_model.cpp).
// Where a real path calls a kernel that its phantom path skips, the phantom path counts the same
// work explicitly (e.g. dcf_eval_work, spline_eval_work).
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
                   // created: big buffers come from the OS as fresh pages more often than not, and
                   // the page faults cost more than the arithmetic on them
};
constexpr int kWorkKinds = 14;
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
}

// Adds `units` of `kind` to the calling thread's counters. Call once per kernel call, never per
// element in an inner loop.
inline void count_work(WorkKind kind, std::uint64_t units) { detail::t_work[kind] += units; }
inline void count_work(WorkKind kind, std::int64_t units) { count_work(kind, static_cast<std::uint64_t>(units)); }
// The calling thread's counters since it started.
inline const WorkCounts& thread_work() { return detail::t_work; }

}  // namespace marill
