#include "protocols/he/ntt.h"

#include <stdexcept>
#include <string>

namespace marill {

Modulus::Modulus(u64 q) : value(q) {
  if (q < 2 || q >= (u64{1} << 62)) throw std::invalid_argument("Modulus: q = " + std::to_string(q) + " is outside [2, 2^62)");
  // floor(2^128 / q): q is never a power of two here except 2, so floor((2^128 - 1) / q) is the same.
  const u128 ratio = ~u128{0} / q;
  ratio_hi = static_cast<u64>(ratio >> 64);
  ratio_lo = static_cast<u64>(ratio);
}

u64 Modulus::pow(u64 base, u64 exp) const {
  u64 result = 1 % value, b = base % value;
  while (exp) {
    if (exp & 1) result = mul(result, b);
    b = mul(b, b);
    exp >>= 1;
  }
  return result;
}

u64 Modulus::inverse(u64 a) const {
  if (a % value == 0) throw std::invalid_argument("Modulus::inverse: 0 has no inverse");
  return pow(a, value - 2);
}

namespace {

u64 mulmod_u128(u64 a, u64 b, u64 m) { return static_cast<u64>(static_cast<u128>(a) * b % m); }

u64 powmod_u128(u64 b, u64 e, u64 m) {
  u64 r = 1 % m;
  b %= m;
  while (e) {
    if (e & 1) r = mulmod_u128(r, b, m);
    b = mulmod_u128(b, b, m);
    e >>= 1;
  }
  return r;
}

int log2_exact(std::size_t n) {
  int l = 0;
  while ((std::size_t{1} << l) < n) ++l;
  return l;
}

std::size_t bit_reverse(std::size_t x, int bits) {
  std::size_t r = 0;
  for (int i = 0; i < bits; ++i) r |= ((x >> i) & 1) << (bits - 1 - i);
  return r;
}

}  // namespace

bool is_prime_u64(u64 n) {
  if (n < 2) return false;
  for (u64 p : {2ull, 3ull, 5ull, 7ull, 11ull, 13ull, 17ull, 19ull, 23ull, 29ull, 31ull, 37ull}) {
    if (n % p == 0) return n == p;
  }
  u64 d = n - 1;
  int s = 0;
  while ((d & 1) == 0) d >>= 1, ++s;
  // These 12 bases decide primality for every n < 3.3e24 (Sorenson & Webster 2015).
  for (u64 a : {2ull, 3ull, 5ull, 7ull, 11ull, 13ull, 17ull, 19ull, 23ull, 29ull, 31ull, 37ull}) {
    u64 x = powmod_u128(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int r = 1; r < s; ++r) {
      x = mulmod_u128(x, x, n);
      if (x == n - 1) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

std::vector<u64> ntt_primes(int bits, std::size_t n, std::size_t count, const std::vector<u64>& exclude) {
  const u64 step = 2 * static_cast<u64>(n);
  if (bits > 61 || (u64{1} << bits) <= 4 * step) throw std::invalid_argument("ntt_primes: " + std::to_string(bits) + "-bit primes for N = " + std::to_string(n) + " are out of range");
  std::vector<u64> out;
  // Largest candidate 1 mod 2n below 2^bits, then down in steps of 2n.
  for (u64 c = ((u64{1} << bits) - 1) / step * step + 1; c > step && out.size() < count; c -= step) {
    if (c >= (u64{1} << bits)) continue;
    bool excluded = false;
    for (u64 e : exclude) excluded |= (e == c);
    if (!excluded && is_prime_u64(c)) out.push_back(c);
    if (c < (u64{1} << (bits - 1))) break;  // stay within the bit size
  }
  if (out.size() < count) throw std::invalid_argument("ntt_primes: not enough " + std::to_string(bits) + "-bit primes = 1 mod " + std::to_string(step));
  return out;
}

NttTables::NttTables(const Modulus& q, std::size_t n) : q_(q), n_(n), log_n_(log2_exact(n)) {
  if (n < 2 || (std::size_t{1} << log_n_) != n || log_n_ > 17) throw std::invalid_argument("NttTables: N must be a power of two in [2, 2^17]");
  const u64 qv = q.value;
  if ((qv - 1) % (2 * n) != 0) throw std::invalid_argument("NttTables: q != 1 mod 2N");
  // psi = x^((q-1)/2N) for the first x whose power has psi^N = -1: then psi has order exactly 2N.
  psi_ = 0;
  for (u64 x = 2; x < qv && psi_ == 0; ++x) {
    const u64 cand = q.pow(x, (qv - 1) / (2 * n));
    if (q.pow(cand, n) == qv - 1) psi_ = cand;
  }
  if (psi_ == 0) throw std::invalid_argument("NttTables: no primitive 2N-th root of unity");
  const u64 psi_inv = q.inverse(psi_);
  roots_.resize(n);
  roots_shoup_.resize(n);
  inv_roots_.resize(n);
  inv_roots_shoup_.resize(n);
  u64 pw = 1, ipw = 1;
  std::vector<u64> powers(n), inv_powers(n);
  for (std::size_t i = 0; i < n; ++i) {
    powers[i] = pw;
    inv_powers[i] = ipw;
    pw = q.mul(pw, psi_);
    ipw = q.mul(ipw, psi_inv);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t r = bit_reverse(i, log_n_);
    roots_[i] = powers[r];
    inv_roots_[i] = inv_powers[r];
    roots_shoup_[i] = shoup_precompute(roots_[i], qv);
    inv_roots_shoup_[i] = shoup_precompute(inv_roots_[i], qv);
  }
  inv_n_ = q.inverse(n % qv);
  inv_n_shoup_ = shoup_precompute(inv_n_, qv);
}

// Cooley-Tukey, decimation in time, natural order in, bit-reversed out (Longa & Naehrig 2016,
// Alg. 1) with Harvey's lazy reduction.
void NttTables::forward(u64* a) const {
  const u64 q = q_.value, two_q = 2 * q;
  std::size_t t = n_;
  for (std::size_t m = 1; m < n_; m <<= 1) {
    t >>= 1;
    for (std::size_t i = 0; i < m; ++i) {
      const u64 w = roots_[m + i], ws = roots_shoup_[m + i];
      u64* x = a + 2 * i * t;
      u64* y = x + t;
      for (std::size_t j = 0; j < t; ++j) {
        u64 u = x[j];
        if (u >= two_q) u -= two_q;
        const u64 v = mul_shoup_lazy(y[j], w, ws, q);
        x[j] = u + v;
        y[j] = u - v + two_q;
      }
    }
  }
  for (std::size_t j = 0; j < n_; ++j) {
    u64 v = a[j];
    if (v >= two_q) v -= two_q;
    if (v >= q) v -= q;
    a[j] = v;
  }
}

// Gentleman-Sande, bit-reversed in, natural order out (Longa & Naehrig 2016, Alg. 2), lazy.
void NttTables::inverse(u64* a) const {
  const u64 q = q_.value, two_q = 2 * q;
  std::size_t t = 1;
  for (std::size_t m = n_; m > 1; m >>= 1) {
    const std::size_t h = m >> 1;
    for (std::size_t i = 0; i < h; ++i) {
      const u64 w = inv_roots_[h + i], ws = inv_roots_shoup_[h + i];
      u64* x = a + 2 * i * t;
      u64* y = x + t;
      for (std::size_t j = 0; j < t; ++j) {
        const u64 u = x[j], v = y[j];
        u64 s = u + v;
        if (s >= two_q) s -= two_q;
        x[j] = s;
        y[j] = mul_shoup_lazy(u - v + two_q, w, ws, q);
      }
    }
    t <<= 1;
  }
  for (std::size_t j = 0; j < n_; ++j) a[j] = mul_shoup(a[j], inv_n_, inv_n_shoup_, q);
}

}  // namespace marill
