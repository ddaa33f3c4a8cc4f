// Fixed-key AES in Matyas-Meyer-Oseas mode, H(x) = AES_K(x) ^ x with one public key K (AES modelled
// as a random permutation, the usual fixed-key assumption): the PRG of the DCF and DPF trees, batched
// so a whole tree level is one pass; and the small helpers both trees' kernels share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "protocols/ring/ring.h"

namespace marill::fss_detail {

struct Blk {
  u64 lo, hi;  // little-endian halves of the 128-bit block (bit 0 = lowest bit of lo)
};
static_assert(sizeof(Blk) == 16, "Blk must be one AES block");

inline Blk bxor(Blk a, Blk b) { return {a.lo ^ b.lo, a.hi ^ b.hi}; }
// Masked selects (m all-zeros or all-ones): branch-free choices on secret-dependent bits.
inline u64 sel(u64 a, u64 b, u64 m) { return (a & ~m) | (b & m); }
inline Blk pick(Blk a, Blk b, u64 m) { return {sel(a.lo, b.lo, m), sel(a.hi, b.hi, m)}; }

// Key material read from a byte buffer (correction words travel little-endian, unaligned).
inline Blk load_blk(const std::uint8_t* p) {
  Blk b;
  std::memcpy(&b, p, 16);
  return b;
}
inline u64 load_u64(const std::uint8_t* p) {
  u64 v;
  std::memcpy(&v, p, 8);
  return v;
}

// Runs f(std::integral_constant<int, W>{}) for the payload width w (1..3, checked by the caller): the
// DCF and DPF kernels are compiled per width.
template <class F>
void with_width(int w, F&& f) {
  switch (w) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    default: f(std::integral_constant<int, 3>{}); break;
  }
}

// buf[i] = AES_K(buf[i]) ^ buf[i] for i < n: the batch kernel every level goes through.
void mmo_inplace(Blk* buf, std::size_t n);

}  // namespace marill::fss_detail
