// RLWE encryption with a power-of-two plaintext modulus t = 2^64 (our ring Z_2^64) and
// coefficient encoding, the scheme of Cheetah (Huang, Lu, Hong, Ding: "Cheetah: Lean and Fast
// Secure Two-Party Deep Neural Network Inference", USENIX Security 2022, Sec. 2.4 and 3).
//
// A message m in Z_t[X]/(X^N+1) encrypts as (b, a) with b = -a*s + e + round(q*m/t) mod q, where q
// (a product of NTT primes, RNS form) need not be a multiple of t: round(q*m/t) mod q_i is
// -[(q mod t)*m mod t] * t^-1 (+1 to round) mod q_i, exact. Because q*t*k/t = q*k = 0 mod q,
// multiplying by a plaintext w (centred integers) gives round(q*(m*w mod t)/t) + (noise)*w: the
// product is right modulo t without q being a multiple of t. Decryption is round(t*(b + a*s)/q) mod t.
//
// Parameters (HeParams::standard(), the Homomorphic Encryption Standard, Albrecht et al. 2018,
// Table 1, 128-bit classical security for a uniform ternary secret: log2(q*p) <= 27, 54, 109, 218,
// 438, 881 for N = 2^10 .. 2^15):
//   N = 8192, q = three 52-bit primes (log2 q ~ 156), special prime p of 60 bits for key switching,
//   log2(q*p) ~ 216 <= 218. Secret uniform ternary; errors centred binomial with eta = 21
//   (sigma = 3.24, the Standard's 3.2; |e| <= 21 always, which makes the noise bounds worst case).
// Why N = 8192 and not 4096: hiding the weights needs 40 bits of noise flooding above the product's
// noise, and packing the sparse products (pack_strided) needs key switching with a special prime;
// together they need log2(q*p) ~ 216, over 4096's 109.
//
// Randomness: all from the ring layer's AES-CTR Prg. The `a` parts of uploads and of keys come
// from a 128-bit seed (Prg(seed)), so only b travels with the seed.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocols/he/ntt.h"
#include "protocols/ring/prg.h"

namespace marill {

struct HeParams {
  int log_n = 13;
  int q_bits = 52;    // bits of each ciphertext prime
  int q_count = 3;    // number of ciphertext primes (RNS limbs)
  int p_bits = 60;    // the special prime of key switching
  int noise_eta = 21;  // centred binomial errors: sum of eta bits minus sum of eta bits
  int flood_bits = 40;  // statistical security of noise flooding: SD <= 2^-flood_bits per coefficient

  static HeParams standard() { return HeParams{}; }
};

// The Homomorphic Encryption Standard's largest log2(q*p) for 128-bit classical security with a
// uniform ternary secret at ring degree 2^log_n (0 when the table has no row for log_n).
int he_standard_max_log_qp(int log_n);

using HeDigest = std::array<std::uint8_t, 16>;

// Everything precomputed for one parameter set: primes, NTT tables, CRT and scaling constants.
class HeContext {
 public:
  // Throws std::invalid_argument when the parameters are not 128-bit secure per the Standard.
  explicit HeContext(const HeParams& params);

  const HeParams& params() const { return params_; }
  std::size_t n() const { return n_; }
  int levels() const { return static_cast<int>(q_.size()); }  // L: number of ciphertext primes
  const Modulus& q(int i) const { return q_[static_cast<std::size_t>(i)]; }
  const Modulus& p() const { return p_; }
  // Modulus i of an extended (q, p) poly: i < L the ciphertext primes, i == L the special prime.
  const Modulus& mod(int i) const { return i < levels() ? q(i) : p_; }
  const NttTables& ntt(int i) const { return *ntt_[static_cast<std::size_t>(i)]; }
  double log2_q() const;
  double log2_qp() const;
  int q_bits_total() const;  // sum of the bit lengths of the q primes (what a coefficient costs on the wire)
  // SHA-256 of the parameters and primes, first 16 bytes: part of every message's fingerprint.
  const HeDigest& digest() const { return digest_; }
  std::string describe() const;  // "N=8192 q=3x52-bit (log2 q=155.9) p=60-bit log2(qp)=215.9 <= 218 t=2^64"

  // CRT and scaling constants (rlwe.cpp).
  std::vector<u64> q_hat_inv;         // [(q/q_i)^-1] mod q_i
  std::vector<u128> q_hat_mod_2_128;  // (q/q_i) mod 2^128
  u128 q_mod_2_128 = 0;               // q mod 2^128 (its low 64 bits: q mod t)
  std::vector<u64> t_inv;             // (2^64)^-1 mod q_i
  std::vector<u64> p_mod_q, p_inv_mod_q;  // p and p^-1 mod q_i

 private:
  HeParams params_;
  std::size_t n_;
  std::vector<Modulus> q_;
  Modulus p_;
  std::vector<std::unique_ptr<NttTables>> ntt_;  // L + 1 tables, the last for p
  HeDigest digest_{};
};

// A polynomial in RNS form over the first `count` moduli of the context (count = L, or L + 1 with
// the special prime), coefficients or NTT evaluations.
struct RnsPoly {
  std::size_t n = 0;
  int count = 0;
  bool ntt = false;
  std::vector<u64> v;  // count rows of n

  RnsPoly() = default;
  RnsPoly(std::size_t n_, int count_, bool ntt_) : n(n_), count(count_), ntt(ntt_), v(n_ * static_cast<std::size_t>(count_), 0) {}
  u64* row(int i) { return v.data() + static_cast<std::size_t>(i) * n; }
  const u64* row(int i) const { return v.data() + static_cast<std::size_t>(i) * n; }
};

struct Ciphertext {
  RnsPoly b, a;  // b + a*s = round(q*m/t) + e
};

struct SecretKey {
  std::vector<std::int8_t> s;  // ternary coefficients
  RnsPoly s_ntt;               // over L + 1 moduli, NTT form
};
struct PublicKey {
  RnsPoly b, a;  // NTT form over L moduli: b = -a*s + e
};
// Key switching from sigma_g(s) to s, one RNS digit per ciphertext prime, over L + 1 moduli (NTT).
struct GaloisKey {
  u64 galois_elt = 0;
  std::vector<RnsPoly> b, a;  // b_i = -a_i*s + e_i + p*[q/q_i]*[(q/q_i)^-1]_{q_i}*sigma_g(s)
};

// ---- sampling (all from a Prg) ----
std::vector<std::int8_t> sample_ternary(Prg& prg, std::size_t n);
std::vector<std::int64_t> sample_cbd(Prg& prg, std::size_t n, int eta);
// Uniform in every modulus of the first `count` (used as NTT evaluations: uniform either way).
RnsPoly sample_uniform(const HeContext& ctx, Prg& prg, int count);

// ---- conversions ----
RnsPoly poly_from_signed(const HeContext& ctx, const std::int64_t* c, std::size_t len, int count);  // zero-padded to N
void to_ntt(const HeContext& ctx, RnsPoly& p);
void from_ntt(const HeContext& ctx, RnsPoly& p);
// round(q*m/t) mod q_i for m in Z_t (len <= N coefficients, zero-padded), coefficient form, L moduli.
RnsPoly encode_scaled(const HeContext& ctx, const u64* m, std::size_t len);

// ---- keys ----
SecretKey make_secret_key(const HeContext& ctx, Prg& prg);
PublicKey make_public_key(const HeContext& ctx, const SecretKey& sk, const Key128& seed, Prg& noise);
PublicKey public_key_from_seed(const HeContext& ctx, const Key128& seed, RnsPoly b);  // rebuilds a
GaloisKey make_galois_key(const HeContext& ctx, const SecretKey& sk, u64 galois_elt, const Key128& seed, Prg& noise);
GaloisKey galois_key_from_seed(const HeContext& ctx, u64 galois_elt, const Key128& seed, std::vector<RnsPoly> b);
// The a parts of one key, from its seed (L digits of L + 1 moduli each).
std::vector<RnsPoly> galois_key_a(const HeContext& ctx, const Key128& seed);

// ---- encryption ----
// Symmetric: a from `a_prg` (seeded: the receiver regenerates it), e from `noise`. NTT form.
Ciphertext encrypt_symmetric(const HeContext& ctx, const SecretKey& sk, const u64* m, std::size_t len, Prg& a_prg, Prg& noise);
// The a part encrypt_symmetric draws from a_prg (the receiver's side of a seeded upload).
RnsPoly seeded_a(const HeContext& ctx, Prg& a_prg);
// Fresh public-key encryption of zero (u ternary): re-randomises a ciphertext it is added to. Coefficient form.
Ciphertext encrypt_zero_public(const HeContext& ctx, const PublicKey& pk, Prg& prg);
// round(t*(b + a*s)/q) mod t, N coefficients.
std::vector<u64> decrypt(const HeContext& ctx, const SecretKey& sk, const Ciphertext& ct);

// ---- homomorphic operations ----
// acc += ct * w, all NTT form (w over L moduli). Lazy-free: results reduced.
void multiply_plain_accumulate(const HeContext& ctx, const Ciphertext& ct, const RnsPoly& w_ntt, Ciphertext& acc);
// ct.b += round(q*m/t) (coefficient form).
void add_plain(const HeContext& ctx, Ciphertext& ct, const u64* m, std::size_t len);
void add_inplace(const HeContext& ctx, Ciphertext& x, const Ciphertext& y);  // same form
// Coefficient form: X^e * p for e in [0, 2N).
RnsPoly multiply_monomial(const RnsPoly& p, std::size_t e, const HeContext& ctx);
// Coefficient form: p(X^g) for odd g < 2N.
RnsPoly apply_automorphism(const RnsPoly& p, u64 g, const HeContext& ctx);
// sigma_g(ct) re-keyed to s: decrypts to m(X^g). Coefficient form in and out.
Ciphertext apply_galois(const HeContext& ctx, const Ciphertext& ct, const GaloisKey& key);
// The Galois element the level-th merge of pack_strided uses: 1 + N / 2^i for i in [0, log N).
u64 pack_galois_elt(std::size_t n, int i);

// Packs `stride` (a power of two, <= N) ciphertexts whose useful coefficients sit at multiples of
// `stride` into one whose coefficient j + stride*r holds input j's coefficient stride*r: stride - 1
// automorphisms and key switches, merging pairs as in PackLWEs (Chen, Dai, Kim, Song, ACNS 2021,
// Alg. 2) and Cheetah's/BumbleBee's output packing. Inputs are pre-multiplied by stride^-1 mod q,
// so the factor stride the merges introduce cancels exactly (t = 2^64 has no inverse of stride).
// Missing inputs (cts.size() < stride) count as zero. Coefficient form in and out.
Ciphertext pack_strided(const HeContext& ctx, std::vector<Ciphertext> cts, std::size_t stride, const std::vector<GaloisKey>& keys);

// ---- a ciphertext at a power-of-two modulus 2^k, the response format ----
// Modulus switching from q to 2^k: round(2^k * x / q) mod 2^k per coefficient (x in RNS, CRT).
std::vector<u128> switch_to_pow2(const HeContext& ctx, const RnsPoly& coeff_form, int k_bits);
// (b*2^drop + a*s) mod 2^k, then round(. / 2^(k-64)) mod 2^64, at the listed coefficient positions
// (b_high holds those positions' b, their low `drop` bits dropped). a: N coefficients mod 2^k.
std::vector<u64> decrypt_pow2(const HeContext& ctx, const SecretKey& sk, const std::vector<u128>& a, const std::vector<u128>& b_high,
                              const std::vector<std::uint32_t>& positions, int k_bits, int drop_bits);
// The noise of the same: (b*2^drop + a*s) - 2^(k-64)*expected, centred, per position (tests).
std::vector<double> noise_pow2(const HeContext& ctx, const SecretKey& sk, const std::vector<u128>& a, const std::vector<u128>& b_high,
                               const std::vector<std::uint32_t>& positions, int k_bits, int drop_bits, const std::vector<u64>& expected);

// ---- noise analysis (worst case: every bound holds with probability 1) ----
struct NoiseAnalysis {
  double fresh = 0;         // |e| + encoding rounding of one fresh encryption
  double product = 0;       // after the plaintext products and their sum
  double packed = 0;        // after packing (key switching noise added)
  double masked = 0;        // after re-randomisation and the mask's encoding (before flooding)
  double flood = 0;         // the flooding bound (uniform in [-flood, flood])
  double switched = 0;      // after switching to 2^k and dropping b's low bits, the final bound
  double budget = 0;        // 2^(k-65): decryption is right while the noise stays below
  double margin_bits() const;  // log2(budget / switched)
};
// The bound for a product whose every output coefficient sums `terms` products of a fresh error
// with a weight |w| <= 2^weight_bits, packed with `pack_stride` (1: no packing), switched to 2^k with
// `drop_bits` of b dropped.
NoiseAnalysis analyse_noise(const HeContext& ctx, double terms, int weight_bits, std::size_t pack_stride, int k_bits, int drop_bits);
// The response format for such a product: the smallest k (and then the largest drop) that leaves at
// least one bit of margin (noise <= budget / 2). Throws std::invalid_argument when none does.
struct ResponseFormat {
  int k_bits = 0, drop_bits = 0;
  NoiseAnalysis noise;
};
ResponseFormat choose_response_format(const HeContext& ctx, double terms, int weight_bits, std::size_t pack_stride);

// The flood for a product's noise bound: uniform in [-2^bits, 2^bits) with 2^bits >= 2^flood_bits * bound.
int flood_log2(const HeContext& ctx, double noise_bound);
// Adds flooding noise uniform in [-2^log2_bound, 2^log2_bound) to every coefficient of p (coefficient form).
void add_flood(const HeContext& ctx, RnsPoly& p, int log2_bound, Prg& prg);

}  // namespace marill
