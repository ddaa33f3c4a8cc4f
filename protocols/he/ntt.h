// Arithmetic modulo NTT-friendly primes and the negacyclic number-theoretic transform over
// R_q = Z_q[X]/(X^N + 1), the building block of the RLWE scheme (rlwe.h).
//
// Primes q < 2^62 with q = 1 mod 2N, so Z_q holds a primitive 2N-th root of unity psi and
// a(X)*b(X) mod X^N+1 = INTT(NTT(a) . NTT(b)). The transforms are Harvey's lazy butterflies
// ("Faster arithmetic for number-theoretic transforms", J. Symb. Comp. 2014) with Shoup's
// precomputed quotients: values stay in [0, 4q) inside the loops, one reduction at the end.
// That needs 4q < 2^64, hence q < 2^62.
#pragma once

#include <cstdint>
#include <vector>

namespace marill {

using u64 = std::uint64_t;
using u128 = unsigned __int128;

// One prime modulus with its Barrett constant floor(2^128 / q).
struct Modulus {
  u64 value = 0;
  u64 ratio_hi = 0, ratio_lo = 0;

  Modulus() = default;
  explicit Modulus(u64 q);  // throws std::invalid_argument unless 2 <= q < 2^62

  // x mod q for any x < 2^128 (Barrett: the quotient estimate is at most 2 short).
  u64 reduce(u128 x) const {
    const u64 x0 = static_cast<u64>(x), x1 = static_cast<u64>(x >> 64);
    const u128 p00 = static_cast<u128>(x0) * ratio_lo;
    const u128 p01 = static_cast<u128>(x0) * ratio_hi;
    const u128 p10 = static_cast<u128>(x1) * ratio_lo;
    const u128 mid = (p00 >> 64) + static_cast<u64>(p01) + static_cast<u64>(p10);
    const u64 qhat = x1 * ratio_hi + static_cast<u64>(p01 >> 64) + static_cast<u64>(p10 >> 64) + static_cast<u64>(mid >> 64);
    u64 r = x0 - qhat * value;
    if (r >= value) r -= value;
    if (r >= value) r -= value;
    return r;
  }
  u64 mul(u64 a, u64 b) const { return reduce(static_cast<u128>(a) * b); }
  u64 add(u64 a, u64 b) const {
    const u64 s = a + b;
    return s >= value ? s - value : s;
  }
  u64 sub(u64 a, u64 b) const { return a >= b ? a - b : a + value - b; }
  u64 neg(u64 a) const { return a == 0 ? 0 : value - a; }
  u64 pow(u64 base, u64 exp) const;
  u64 inverse(u64 a) const;  // a^(q-2); throws std::invalid_argument for a = 0 mod q
};

// Shoup: for a fixed w < q, w' = floor(w * 2^64 / q) turns w*x mod q into two multiplies.
inline u64 shoup_precompute(u64 w, u64 q) { return static_cast<u64>((static_cast<u128>(w) << 64) / q); }
// w*x mod q in [0, 2q), for any x < 2^64.
inline u64 mul_shoup_lazy(u64 x, u64 w, u64 w_shoup, u64 q) {
  const u64 hi = static_cast<u64>((static_cast<u128>(x) * w_shoup) >> 64);
  return w * x - hi * q;
}
inline u64 mul_shoup(u64 x, u64 w, u64 w_shoup, u64 q) {
  const u64 r = mul_shoup_lazy(x, w, w_shoup, q);
  return r >= q ? r - q : r;
}

bool is_prime_u64(u64 n);  // deterministic Miller-Rabin for 64-bit n
// The `count` largest primes below 2^bits with q = 1 mod 2n, excluding `exclude` (descending).
// Throws std::invalid_argument when bits is outside [2 + log2(2n), 61] or too few exist.
std::vector<u64> ntt_primes(int bits, std::size_t n, std::size_t count, const std::vector<u64>& exclude = {});

// Tables of one prime for transforms of length n (a power of two, 2..2^17).
class NttTables {
 public:
  NttTables(const Modulus& q, std::size_t n);
  std::size_t n() const { return n_; }
  const Modulus& modulus() const { return q_; }
  u64 psi() const { return psi_; }

  // In place, input coefficients in [0, q), output evaluations in [0, q) (bit-reversed order).
  void forward(u64* a) const;
  // In place, input in [0, 2q), output coefficients in [0, q).
  void inverse(u64* a) const;

 private:
  Modulus q_;
  std::size_t n_;
  int log_n_;
  u64 psi_;
  std::vector<u64> roots_, roots_shoup_;          // psi^bitrev(i)
  std::vector<u64> inv_roots_, inv_roots_shoup_;  // psi^-bitrev(i)
  u64 inv_n_, inv_n_shoup_;
};

}  // namespace marill
