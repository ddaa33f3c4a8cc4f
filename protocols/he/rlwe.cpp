#include "protocols/he/rlwe.h"

#include <openssl/evp.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

namespace marill {

namespace {

// Draws from a Prg in blocks: Prg::next_u64 costs one EVP call per value.
class PrgStream {
 public:
  explicit PrgStream(Prg& prg) : prg_(prg) {}
  u64 next() {
    if (pos_ == kBlock) {
      prg_.fill(buf_, kBlock);
      pos_ = 0;
    }
    return buf_[pos_++];
  }

 private:
  static constexpr std::size_t kBlock = 512;
  Prg& prg_;
  u64 buf_[kBlock];
  std::size_t pos_ = kBlock;
};

int bit_length(u64 x) { return 64 - __builtin_clzll(x); }

u64 reduce_signed(const Modulus& m, std::int64_t c) {
  return c >= 0 ? m.reduce(static_cast<u64>(c)) : m.neg(m.reduce(static_cast<u64>(-(c + 1)) + 1));
}

// sigma_g on signed integer coefficients: X^i -> X^(i*g mod 2N) with X^N = -1.
std::vector<std::int64_t> automorphism_signed(const std::vector<std::int8_t>& s, u64 g) {
  const std::size_t n = s.size();
  std::vector<std::int64_t> out(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const u64 k = (static_cast<u64>(i) * g) % (2 * n);
    if (k < n) out[k] = s[i];
    else out[k - n] = -s[i];
  }
  return out;
}

// round(2^k * frac(x / q)) mod 2^k for x given by its residues rows[i][j], with frac(x/q) = frac(sum
// y_i / q_i), y_i = [x_i (q/q_i)^-1]_{q_i}: each y_i/q_i as a 128-bit fixed-point fraction (exact floor,
// two 128/64 divisions), summed mod 1 = mod 2^128. Error < L * 2^-128 before the rounding. k <= 127.
u128 scale_round_pow2(const HeContext& ctx, const RnsPoly& p, std::size_t j, int k_bits) {
  u128 sum = 0;
  for (int i = 0; i < ctx.levels(); ++i) {
    const Modulus& qi = ctx.q(i);
    const u64 y = qi.mul(p.row(i)[j], ctx.q_hat_inv[static_cast<std::size_t>(i)]);
    const u128 num_hi = static_cast<u128>(y) << 64;
    const u64 h = static_cast<u64>(num_hi / qi.value);
    const u64 r1 = static_cast<u64>(num_hi - static_cast<u128>(h) * qi.value);
    const u64 l = static_cast<u64>((static_cast<u128>(r1) << 64) / qi.value);
    sum += (static_cast<u128>(h) << 64) | l;
  }
  const int shift = 128 - k_bits;
  const u128 rounded = (sum + (static_cast<u128>(1) << (shift - 1))) >> shift;
  return rounded & ((static_cast<u128>(1) << k_bits) - 1);
}

void check_form(const RnsPoly& p, bool ntt, const char* what) {
  if (p.ntt != ntt) throw std::logic_error(std::string(what) + ": expects " + (ntt ? "NTT" : "coefficient") + " form");
}

}  // namespace

int he_standard_max_log_qp(int log_n) {
  switch (log_n) {
    case 10: return 27;
    case 11: return 54;
    case 12: return 109;
    case 13: return 218;
    case 14: return 438;
    case 15: return 881;
    default: return 0;
  }
}

HeContext::HeContext(const HeParams& params) : params_(params), n_(std::size_t{1} << params.log_n) {
  if (params.log_n < 10 || params.log_n > 15) throw std::invalid_argument("HE parameters: log2 N must be in [10, 15] (the Standard's table)");
  if (params.q_count < 1 || params.q_count > 8) throw std::invalid_argument("HE parameters: 1 to 8 ciphertext primes");
  if (params.noise_eta < 1 || params.noise_eta > 32) throw std::invalid_argument("HE parameters: noise_eta must be in [1, 32]");
  for (u64 v : ntt_primes(params.q_bits, n_, static_cast<std::size_t>(params.q_count))) q_.emplace_back(v);
  std::vector<u64> qs;
  for (const Modulus& m : q_) qs.push_back(m.value);
  p_ = Modulus(ntt_primes(params.p_bits, n_, 1, qs)[0]);
  const int max_log_qp = he_standard_max_log_qp(params.log_n);
  if (log2_qp() > max_log_qp)
    throw std::invalid_argument("HE parameters: log2(q*p) = " + std::to_string(log2_qp()) + " exceeds " + std::to_string(max_log_qp) +
                                ", the HE Standard's bound for 128-bit security at N = " + std::to_string(n_));
  for (int i = 0; i <= levels(); ++i) ntt_.push_back(std::make_unique<NttTables>(mod(i), n_));

  q_mod_2_128 = 1;
  for (const Modulus& m : q_) q_mod_2_128 *= m.value;
  for (int i = 0; i < levels(); ++i) {
    const Modulus& qi = q(i);
    u64 hat_mod_qi = 1;
    u128 hat = 1;
    for (int j = 0; j < levels(); ++j) {
      if (j == i) continue;
      hat_mod_qi = qi.mul(hat_mod_qi, qi.reduce(q(j).value));
      hat *= q(j).value;
    }
    q_hat_inv.push_back(qi.inverse(hat_mod_qi));
    q_hat_mod_2_128.push_back(hat);
    t_inv.push_back(qi.inverse(qi.reduce(static_cast<u128>(1) << 64)));
    p_mod_q.push_back(qi.reduce(p_.value));
    p_inv_mod_q.push_back(qi.inverse(p_mod_q.back()));
  }

  // The digest names the scheme version, the ring, every prime and the noise settings.
  std::string text = "marill-he-rlwe-v1 logN=" + std::to_string(params.log_n) + " eta=" + std::to_string(params.noise_eta) +
                     " flood=" + std::to_string(params.flood_bits) + " q=";
  for (const Modulus& m : q_) text += std::to_string(m.value) + ",";
  text += " p=" + std::to_string(p_.value);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(text.data(), text.size(), md, &md_len, EVP_sha256(), nullptr) != 1) throw std::runtime_error("SHA-256 failed");
  std::memcpy(digest_.data(), md, digest_.size());
}

double HeContext::log2_q() const {
  double s = 0;
  for (const Modulus& m : q_) s += std::log2(static_cast<double>(m.value));
  return s;
}
double HeContext::log2_qp() const { return log2_q() + std::log2(static_cast<double>(p_.value)); }
int HeContext::q_bits_total() const {
  int s = 0;
  for (const Modulus& m : q_) s += bit_length(m.value);
  return s;
}

std::string HeContext::describe() const {
  char buf[256];
  std::snprintf(buf, sizeof buf, "N=%zu q=%dx%d-bit (log2 q=%.1f) p=%d-bit log2(qp)=%.1f <= %d (HE Standard, 128-bit) t=2^64", n_, levels(),
                params_.q_bits, log2_q(), params_.p_bits, log2_qp(), he_standard_max_log_qp(params_.log_n));
  return buf;
}

// ---------------- sampling ----------------

std::vector<std::int8_t> sample_ternary(Prg& prg, std::size_t n) {
  std::vector<std::int8_t> s(n);
  PrgStream in(prg);
  std::size_t i = 0;
  while (i < n) {
    u64 r = in.next();
    for (int b = 0; b < 8 && i < n; ++b, r >>= 8) {
      const unsigned byte = static_cast<unsigned>(r & 0xff);
      if (byte < 255) s[i++] = static_cast<std::int8_t>(static_cast<int>(byte % 3) - 1);  // 255 = 3 * 85: uniform
    }
  }
  return s;
}

std::vector<std::int64_t> sample_cbd(Prg& prg, std::size_t n, int eta) {
  std::vector<std::int64_t> e(n);
  PrgStream in(prg);
  const u64 mask = eta == 32 ? 0xffffffffull : ((u64{1} << eta) - 1);
  for (std::size_t i = 0; i < n; ++i) {
    const u64 r = in.next();
    e[i] = static_cast<std::int64_t>(__builtin_popcountll(r & mask)) - static_cast<std::int64_t>(__builtin_popcountll((r >> 32) & mask));
  }
  return e;
}

RnsPoly sample_uniform(const HeContext& ctx, Prg& prg, int count) {
  RnsPoly p(ctx.n(), count, true);
  PrgStream in(prg);
  for (int i = 0; i < count; ++i) {
    const u64 q = ctx.mod(i).value;
    const u64 mask = (u64{1} << bit_length(q)) - 1;
    u64* row = p.row(i);
    for (std::size_t j = 0; j < ctx.n();) {
      const u64 r = in.next() & mask;
      if (r < q) row[j++] = r;  // rejection: exactly uniform
    }
  }
  return p;
}

// ---------------- conversions ----------------

RnsPoly poly_from_signed(const HeContext& ctx, const std::int64_t* c, std::size_t len, int count) {
  if (len > ctx.n()) throw std::invalid_argument("poly_from_signed: more coefficients than N");
  RnsPoly p(ctx.n(), count, false);
  for (int i = 0; i < count; ++i) {
    const Modulus& m = ctx.mod(i);
    u64* row = p.row(i);
    for (std::size_t j = 0; j < len; ++j) row[j] = reduce_signed(m, c[j]);
  }
  return p;
}

void to_ntt(const HeContext& ctx, RnsPoly& p) {
  check_form(p, false, "to_ntt");
  for (int i = 0; i < p.count; ++i) ctx.ntt(i).forward(p.row(i));
  p.ntt = true;
}

void from_ntt(const HeContext& ctx, RnsPoly& p) {
  check_form(p, true, "from_ntt");
  for (int i = 0; i < p.count; ++i) ctx.ntt(i).inverse(p.row(i));
  p.ntt = false;
}

RnsPoly encode_scaled(const HeContext& ctx, const u64* m, std::size_t len) {
  if (len > ctx.n()) throw std::invalid_argument("encode_scaled: more coefficients than N");
  RnsPoly p(ctx.n(), ctx.levels(), false);
  const u64 q_mod_t = static_cast<u64>(ctx.q_mod_2_128);
  for (std::size_t j = 0; j < len; ++j) {
    const u64 r = q_mod_t * m[j];  // q*m mod t: q*m = t*floor(q*m/t) + r
    const u64 round_up = r >> 63;  // r >= t/2
    for (int i = 0; i < ctx.levels(); ++i) {
      const Modulus& qi = ctx.q(i);
      // floor(q*m/t) = (q*m - r)/t = -r * t^-1 mod q_i, since q = 0 mod q_i.
      p.row(i)[j] = qi.add(qi.neg(qi.mul(qi.reduce(r), ctx.t_inv[static_cast<std::size_t>(i)])), round_up);
    }
  }
  return p;
}

// ---------------- pointwise helpers ----------------

namespace {

void mul_acc_rows(const HeContext& ctx, const RnsPoly& x, const RnsPoly& y, RnsPoly& acc, int count) {
  for (int i = 0; i < count; ++i) {
    const Modulus& m = ctx.mod(i);
    const u64* a = x.row(i);
    const u64* b = y.row(i);
    u64* c = acc.row(i);
    for (std::size_t j = 0; j < ctx.n(); ++j) c[j] = m.add(c[j], m.mul(a[j], b[j]));
  }
}

void add_rows(const HeContext& ctx, RnsPoly& x, const RnsPoly& y, int count) {
  for (int i = 0; i < count; ++i) {
    const Modulus& m = ctx.mod(i);
    u64* a = x.row(i);
    const u64* b = y.row(i);
    for (std::size_t j = 0; j < ctx.n(); ++j) a[j] = m.add(a[j], b[j]);
  }
}

void sub_rows(const HeContext& ctx, RnsPoly& x, const RnsPoly& y, int count) {
  for (int i = 0; i < count; ++i) {
    const Modulus& m = ctx.mod(i);
    u64* a = x.row(i);
    const u64* b = y.row(i);
    for (std::size_t j = 0; j < ctx.n(); ++j) a[j] = m.sub(a[j], b[j]);
  }
}

void scale_rows(const HeContext& ctx, RnsPoly& x, const std::vector<u64>& factor) {
  for (int i = 0; i < x.count; ++i) {
    const Modulus& m = ctx.mod(i);
    const u64 f = factor[static_cast<std::size_t>(i)], fs = shoup_precompute(f, m.value);
    u64* a = x.row(i);
    for (std::size_t j = 0; j < ctx.n(); ++j) a[j] = mul_shoup(a[j], f, fs, m.value);
  }
}

// -x*y (NTT), first `count` rows.
RnsPoly neg_product(const HeContext& ctx, const RnsPoly& x, const RnsPoly& y, int count) {
  RnsPoly out(ctx.n(), count, true);
  for (int i = 0; i < count; ++i) {
    const Modulus& m = ctx.mod(i);
    for (std::size_t j = 0; j < ctx.n(); ++j) out.row(i)[j] = m.neg(m.mul(x.row(i)[j], y.row(i)[j]));
  }
  return out;
}

}  // namespace

// ---------------- keys ----------------

SecretKey make_secret_key(const HeContext& ctx, Prg& prg) {
  SecretKey sk;
  sk.s = sample_ternary(prg, ctx.n());
  std::vector<std::int64_t> wide(sk.s.begin(), sk.s.end());
  sk.s_ntt = poly_from_signed(ctx, wide.data(), wide.size(), ctx.levels() + 1);
  to_ntt(ctx, sk.s_ntt);
  return sk;
}

PublicKey public_key_from_seed(const HeContext& ctx, const Key128& seed, RnsPoly b) {
  Prg a_prg(seed);
  PublicKey pk;
  pk.a = sample_uniform(ctx, a_prg, ctx.levels());
  pk.b = std::move(b);
  pk.b.ntt = true;
  return pk;
}

PublicKey make_public_key(const HeContext& ctx, const SecretKey& sk, const Key128& seed, Prg& noise) {
  Prg a_prg(seed);
  PublicKey pk;
  pk.a = sample_uniform(ctx, a_prg, ctx.levels());
  const std::vector<std::int64_t> e = sample_cbd(noise, ctx.n(), ctx.params().noise_eta);
  RnsPoly ep = poly_from_signed(ctx, e.data(), e.size(), ctx.levels());
  to_ntt(ctx, ep);
  pk.b = neg_product(ctx, pk.a, sk.s_ntt, ctx.levels());
  add_rows(ctx, pk.b, ep, ctx.levels());
  return pk;
}

std::vector<RnsPoly> galois_key_a(const HeContext& ctx, const Key128& seed) {
  Prg a_prg(seed);
  std::vector<RnsPoly> a;
  for (int d = 0; d < ctx.levels(); ++d) a.push_back(sample_uniform(ctx, a_prg, ctx.levels() + 1));
  return a;
}

GaloisKey galois_key_from_seed(const HeContext& ctx, u64 galois_elt, const Key128& seed, std::vector<RnsPoly> b) {
  GaloisKey key;
  key.galois_elt = galois_elt;
  key.a = galois_key_a(ctx, seed);
  key.b = std::move(b);
  for (RnsPoly& p : key.b) p.ntt = true;
  return key;
}

GaloisKey make_galois_key(const HeContext& ctx, const SecretKey& sk, u64 galois_elt, const Key128& seed, Prg& noise) {
  GaloisKey key;
  key.galois_elt = galois_elt;
  key.a = galois_key_a(ctx, seed);
  const std::vector<std::int64_t> sigma_s = automorphism_signed(sk.s, galois_elt);
  RnsPoly ss = poly_from_signed(ctx, sigma_s.data(), sigma_s.size(), ctx.levels() + 1);
  to_ntt(ctx, ss);
  const int count = ctx.levels() + 1;
  for (int d = 0; d < ctx.levels(); ++d) {
    const std::vector<std::int64_t> e = sample_cbd(noise, ctx.n(), ctx.params().noise_eta);
    RnsPoly ep = poly_from_signed(ctx, e.data(), e.size(), count);
    to_ntt(ctx, ep);
    RnsPoly b = neg_product(ctx, key.a[static_cast<std::size_t>(d)], sk.s_ntt, count);
    add_rows(ctx, b, ep, count);
    // p * (q/q_d) * [(q/q_d)^-1]_{q_d} is p mod q_d and 0 mod every other prime (and mod p).
    const Modulus& qd = ctx.q(d);
    const u64 pd = ctx.p_mod_q[static_cast<std::size_t>(d)];
    for (std::size_t j = 0; j < ctx.n(); ++j) b.row(d)[j] = qd.add(b.row(d)[j], qd.mul(pd, ss.row(d)[j]));
    key.b.push_back(std::move(b));
  }
  return key;
}

// ---------------- encryption ----------------

RnsPoly seeded_a(const HeContext& ctx, Prg& a_prg) { return sample_uniform(ctx, a_prg, ctx.levels()); }

Ciphertext encrypt_symmetric(const HeContext& ctx, const SecretKey& sk, const u64* m, std::size_t len, Prg& a_prg, Prg& noise) {
  Ciphertext ct;
  ct.a = seeded_a(ctx, a_prg);
  const std::vector<std::int64_t> e = sample_cbd(noise, ctx.n(), ctx.params().noise_eta);
  RnsPoly body = encode_scaled(ctx, m, len);
  RnsPoly ep = poly_from_signed(ctx, e.data(), e.size(), ctx.levels());
  add_rows(ctx, body, ep, ctx.levels());
  to_ntt(ctx, body);
  ct.b = neg_product(ctx, ct.a, sk.s_ntt, ctx.levels());
  add_rows(ctx, ct.b, body, ctx.levels());
  return ct;
}

Ciphertext encrypt_zero_public(const HeContext& ctx, const PublicKey& pk, Prg& prg) {
  const std::vector<std::int8_t> u8 = sample_ternary(prg, ctx.n());
  const std::vector<std::int64_t> u(u8.begin(), u8.end());
  RnsPoly up = poly_from_signed(ctx, u.data(), u.size(), ctx.levels());
  to_ntt(ctx, up);
  Ciphertext ct{RnsPoly(ctx.n(), ctx.levels(), true), RnsPoly(ctx.n(), ctx.levels(), true)};
  mul_acc_rows(ctx, pk.b, up, ct.b, ctx.levels());
  mul_acc_rows(ctx, pk.a, up, ct.a, ctx.levels());
  from_ntt(ctx, ct.b);
  from_ntt(ctx, ct.a);
  for (RnsPoly* part : {&ct.b, &ct.a}) {
    const std::vector<std::int64_t> e = sample_cbd(prg, ctx.n(), ctx.params().noise_eta);
    add_rows(ctx, *part, poly_from_signed(ctx, e.data(), e.size(), ctx.levels()), ctx.levels());
  }
  return ct;
}

std::vector<u64> decrypt(const HeContext& ctx, const SecretKey& sk, const Ciphertext& ct) {
  RnsPoly a = ct.a;
  if (!a.ntt) to_ntt(ctx, a);
  RnsPoly v(ctx.n(), ctx.levels(), true);
  mul_acc_rows(ctx, a, sk.s_ntt, v, ctx.levels());
  from_ntt(ctx, v);
  RnsPoly b = ct.b;
  if (b.ntt) from_ntt(ctx, b);
  add_rows(ctx, v, b, ctx.levels());
  std::vector<u64> m(ctx.n());
  for (std::size_t j = 0; j < ctx.n(); ++j) m[j] = static_cast<u64>(scale_round_pow2(ctx, v, j, 64));
  return m;
}

// ---------------- homomorphic operations ----------------

void multiply_plain_accumulate(const HeContext& ctx, const Ciphertext& ct, const RnsPoly& w_ntt, Ciphertext& acc) {
  check_form(ct.b, true, "multiply_plain_accumulate");
  check_form(w_ntt, true, "multiply_plain_accumulate");
  mul_acc_rows(ctx, ct.b, w_ntt, acc.b, ctx.levels());
  mul_acc_rows(ctx, ct.a, w_ntt, acc.a, ctx.levels());
}

void add_plain(const HeContext& ctx, Ciphertext& ct, const u64* m, std::size_t len) {
  RnsPoly enc = encode_scaled(ctx, m, len);
  if (ct.b.ntt) to_ntt(ctx, enc);
  add_rows(ctx, ct.b, enc, ctx.levels());
}

void add_inplace(const HeContext& ctx, Ciphertext& x, const Ciphertext& y) {
  if (x.b.ntt != y.b.ntt) throw std::logic_error("add_inplace: ciphertexts in different forms");
  add_rows(ctx, x.b, y.b, ctx.levels());
  add_rows(ctx, x.a, y.a, ctx.levels());
}

RnsPoly multiply_monomial(const RnsPoly& p, std::size_t e, const HeContext& ctx) {
  check_form(p, false, "multiply_monomial");
  const std::size_t n = p.n;
  RnsPoly out(n, p.count, false);
  for (int i = 0; i < p.count; ++i) {
    const Modulus& m = ctx.mod(i);
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t k = (j + e) % (2 * n);
      if (k < n) out.row(i)[k] = p.row(i)[j];
      else out.row(i)[k - n] = m.neg(p.row(i)[j]);
    }
  }
  return out;
}

RnsPoly apply_automorphism(const RnsPoly& p, u64 g, const HeContext& ctx) {
  check_form(p, false, "apply_automorphism");
  const std::size_t n = p.n;
  RnsPoly out(n, p.count, false);
  for (int i = 0; i < p.count; ++i) {
    const Modulus& m = ctx.mod(i);
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t k = static_cast<std::size_t>((static_cast<u64>(j) * g) % (2 * n));
      if (k < n) out.row(i)[k] = p.row(i)[j];
      else out.row(i)[k - n] = m.neg(p.row(i)[j]);
    }
  }
  return out;
}

Ciphertext apply_galois(const HeContext& ctx, const Ciphertext& ct, const GaloisKey& key) {
  check_form(ct.b, false, "apply_galois");
  const int L = ctx.levels(), count = L + 1;
  const std::size_t n = ctx.n();
  Ciphertext out{apply_automorphism(ct.b, key.galois_elt, ctx), RnsPoly()};
  const RnsPoly c1 = apply_automorphism(ct.a, key.galois_elt, ctx);
  // Key switching with RNS digits: digit d = [c1]_{q_d}, lifted to every modulus of (q, p).
  RnsPoly acc_b(n, count, true), acc_a(n, count, true), digit(n, count, false);
  for (int d = 0; d < L; ++d) {
    const u64 qd = ctx.q(d).value;
    for (int i = 0; i < count; ++i) {
      const Modulus& m = ctx.mod(i);
      u64* row = digit.row(i);
      const u64* src = c1.row(d);
      if (m.value > qd) std::memcpy(row, src, n * sizeof(u64));
      else for (std::size_t j = 0; j < n; ++j) row[j] = m.reduce(src[j]);
    }
    digit.ntt = false;
    to_ntt(ctx, digit);
    mul_acc_rows(ctx, digit, key.b[static_cast<std::size_t>(d)], acc_b, count);
    mul_acc_rows(ctx, digit, key.a[static_cast<std::size_t>(d)], acc_a, count);
  }
  from_ntt(ctx, acc_b);
  from_ntt(ctx, acc_a);
  // Mod-down by p: (x - [x]_p) / p, with [x]_p centred, per prime of q.
  const u64 p = ctx.p().value;
  RnsPoly res_b(n, L, false), res_a(n, L, false);
  for (auto [acc, res] : {std::pair<RnsPoly*, RnsPoly*>{&acc_b, &res_b}, {&acc_a, &res_a}}) {
    const u64* xp = acc->row(L);
    for (int i = 0; i < L; ++i) {
      const Modulus& qi = ctx.q(i);
      const u64 pinv = ctx.p_inv_mod_q[static_cast<std::size_t>(i)];
      for (std::size_t j = 0; j < n; ++j) {
        const u64 centred = xp[j] > p / 2 ? qi.sub(qi.reduce(xp[j]), qi.reduce(p)) : qi.reduce(xp[j]);
        res->row(i)[j] = qi.mul(qi.sub(acc->row(i)[j], centred), pinv);
      }
    }
  }
  add_rows(ctx, out.b, res_b, L);
  out.a = std::move(res_a);
  return out;
}

u64 pack_galois_elt(std::size_t n, int i) { return 1 + static_cast<u64>(n >> i); }

Ciphertext pack_strided(const HeContext& ctx, std::vector<Ciphertext> cts, std::size_t stride, const std::vector<GaloisKey>& keys) {
  const std::size_t n = ctx.n();
  if (stride == 0 || (stride & (stride - 1)) != 0 || stride > n) throw std::invalid_argument("pack_strided: stride must be a power of two <= N");
  if (cts.empty() || cts.size() > stride) throw std::invalid_argument("pack_strided: 1 to stride ciphertexts");
  if (stride == 1) return std::move(cts[0]);
  // stride^-1 mod q: the merges multiply by 2 each, stride in all.
  std::vector<u64> inv;
  for (int i = 0; i < ctx.levels(); ++i) inv.push_back(ctx.q(i).inverse(ctx.q(i).reduce(stride)));
  for (Ciphertext& c : cts) {
    check_form(c.b, false, "pack_strided");
    scale_rows(ctx, c.b, inv);
    scale_rows(ctx, c.a, inv);
  }
  while (cts.size() < stride) cts.push_back({RnsPoly(n, ctx.levels(), false), RnsPoly(n, ctx.levels(), false)});
  int log_stride = 0;
  while ((std::size_t{1} << log_stride) < stride) ++log_stride;
  // Level l merges pairs valid on multiples of stride/2^(l-1) with the shift stride/2^l and
  // sigma_{1 + N 2^l / stride}, which fixes multiples of stride/2^(l-1) and negates the odd
  // multiples of stride/2^l: the sum keeps 2*A there and 2*X^shift*B at the odd multiples.
  for (int l = 1; l <= log_stride; ++l) {
    const std::size_t half = stride >> l;
    const u64 g = pack_galois_elt(n, log_stride - l);
    const GaloisKey* key = nullptr;
    for (const GaloisKey& k : keys)
      if (k.galois_elt == g) key = &k;
    if (!key) throw std::invalid_argument("pack_strided: no Galois key for element " + std::to_string(g) + " (stride " + std::to_string(stride) + ")");
    for (std::size_t j = 0; j < half; ++j) {
      Ciphertext& A = cts[j];
      const Ciphertext& B = cts[j + half];
      Ciphertext xb{multiply_monomial(B.b, half, ctx), multiply_monomial(B.a, half, ctx)};
      Ciphertext diff = A;
      sub_rows(ctx, diff.b, xb.b, ctx.levels());
      sub_rows(ctx, diff.a, xb.a, ctx.levels());
      add_inplace(ctx, A, xb);
      add_inplace(ctx, A, apply_galois(ctx, diff, *key));
    }
    cts.resize(half);
  }
  return std::move(cts[0]);
}

// ---------------- power-of-two modulus ----------------

std::vector<u128> switch_to_pow2(const HeContext& ctx, const RnsPoly& p, int k_bits) {
  check_form(p, false, "switch_to_pow2");
  if (k_bits < 65 || k_bits > 127) throw std::invalid_argument("switch_to_pow2: k must be in [65, 127]");
  std::vector<u128> out(ctx.n());
  for (std::size_t j = 0; j < ctx.n(); ++j) out[j] = scale_round_pow2(ctx, p, j, k_bits);
  return out;
}

namespace {

// (b_high*2^drop + a*s) mod 2^k at the positions, a*s computed exactly over Z (|a*s| < N 2^k << q/2).
std::vector<u128> phase_pow2(const HeContext& ctx, const SecretKey& sk, const std::vector<u128>& a, const std::vector<u128>& b_high,
                             const std::vector<std::uint32_t>& positions, int k_bits, int drop_bits) {
  const std::size_t n = ctx.n();
  const int L = ctx.levels();
  if (a.size() != n || b_high.size() != positions.size()) throw std::invalid_argument("decrypt_pow2: sizes do not match");
  if (k_bits + ctx.params().log_n + 2 > static_cast<int>(ctx.log2_q())) throw std::invalid_argument("decrypt_pow2: k too large for exact a*s");
  RnsPoly ap(n, L, false);
  for (int i = 0; i < L; ++i)
    for (std::size_t j = 0; j < n; ++j) ap.row(i)[j] = ctx.q(i).reduce(a[j]);
  to_ntt(ctx, ap);
  for (int i = 0; i < L; ++i) {
    const Modulus& m = ctx.q(i);
    for (std::size_t j = 0; j < n; ++j) ap.row(i)[j] = m.mul(ap.row(i)[j], sk.s_ntt.row(i)[j]);
  }
  from_ntt(ctx, ap);
  const u128 mask = (static_cast<u128>(1) << k_bits) - 1;
  std::vector<u128> out(positions.size());
  for (std::size_t x = 0; x < positions.size(); ++x) {
    const std::size_t j = positions[x];
    if (j >= n) throw std::invalid_argument("decrypt_pow2: position out of range");
    // Centred CRT: sum y_i (q/q_i) - round(sum y_i/q_i) q, evaluated mod 2^128.
    u128 acc = 0;
    double frac = 0;
    for (int i = 0; i < L; ++i) {
      const u64 y = ctx.q(i).mul(ap.row(i)[j], ctx.q_hat_inv[static_cast<std::size_t>(i)]);
      acc += static_cast<u128>(y) * ctx.q_hat_mod_2_128[static_cast<std::size_t>(i)];
      frac += static_cast<double>(y) / static_cast<double>(ctx.q(i).value);
    }
    const u64 kappa = static_cast<u64>(std::llround(frac));
    acc -= static_cast<u128>(kappa) * ctx.q_mod_2_128;
    out[x] = ((b_high[x] << drop_bits) + acc) & mask;
  }
  return out;
}

}  // namespace

std::vector<u64> decrypt_pow2(const HeContext& ctx, const SecretKey& sk, const std::vector<u128>& a, const std::vector<u128>& b_high,
                              const std::vector<std::uint32_t>& positions, int k_bits, int drop_bits) {
  const std::vector<u128> v = phase_pow2(ctx, sk, a, b_high, positions, k_bits, drop_bits);
  const int shift = k_bits - 64;
  std::vector<u64> m(v.size());
  for (std::size_t x = 0; x < v.size(); ++x) m[x] = static_cast<u64>((v[x] + (static_cast<u128>(1) << (shift - 1))) >> shift);
  return m;
}

std::vector<double> noise_pow2(const HeContext& ctx, const SecretKey& sk, const std::vector<u128>& a, const std::vector<u128>& b_high,
                               const std::vector<std::uint32_t>& positions, int k_bits, int drop_bits, const std::vector<u64>& expected) {
  const std::vector<u128> v = phase_pow2(ctx, sk, a, b_high, positions, k_bits, drop_bits);
  const u128 mask = (static_cast<u128>(1) << k_bits) - 1;
  std::vector<double> e(v.size());
  for (std::size_t x = 0; x < v.size(); ++x) {
    const u128 d = (v[x] - (static_cast<u128>(expected[x]) << (k_bits - 64))) & mask;
    const bool negative = (d >> (k_bits - 1)) & 1;
    e[x] = negative ? -static_cast<double>((mask + 1 - d) & mask) : static_cast<double>(d);
  }
  return e;
}

// ---------------- noise ----------------

double NoiseAnalysis::margin_bits() const { return std::log2(budget / switched); }

int flood_log2(const HeContext& ctx, double noise_bound) {
  return static_cast<int>(std::ceil(std::log2(std::max(noise_bound, 1.0)))) + ctx.params().flood_bits;
}

NoiseAnalysis analyse_noise(const HeContext& ctx, double terms, int weight_bits, std::size_t pack_stride, int k_bits, int drop_bits) {
  const double n = static_cast<double>(ctx.n()), eta = ctx.params().noise_eta;
  NoiseAnalysis a;
  a.fresh = eta + 0.5;  // |e| <= eta, plus the encoding's rounding
  a.product = terms * std::ldexp(1.0, weight_bits) * a.fresh;
  // One key switch: sum_d digit_d * e_d / p (digit < q_d) and the mod-down rounding (1 + ||s||_1)/2.
  double q_max = 0;
  for (int i = 0; i < ctx.levels(); ++i) q_max = std::max(q_max, static_cast<double>(ctx.q(i).value));
  const double key_switch = ctx.levels() * n * q_max * eta / static_cast<double>(ctx.p().value) + (n + 1) / 2;
  // Each key switch's noise is doubled by every later merge: (stride - 1) switches' worth in all.
  a.packed = a.product + static_cast<double>(pack_stride - 1) * key_switch;
  // Re-randomisation e*u + e0 + e1*s (u, s ternary), and the mask's encoding rounding.
  a.masked = a.packed + (2 * n + 1) * eta + 0.5;
  a.flood = std::ldexp(1.0, flood_log2(ctx, a.masked));
  // Switching to 2^k scales by 2^k/q and rounds b and a (the latter times s: (1 + ||s||_1)/2).
  a.switched = (a.masked + a.flood) * std::ldexp(1.0, k_bits) / std::exp2(ctx.log2_q()) + (1 + n) / 2 + 1e-6;
  if (drop_bits > 0) a.switched += std::ldexp(1.0, drop_bits - 1);
  a.budget = std::ldexp(1.0, k_bits - 65);
  return a;
}

ResponseFormat choose_response_format(const HeContext& ctx, double terms, int weight_bits, std::size_t pack_stride) {
  for (int k = 66; k <= 127; ++k) {
    if (k + ctx.params().log_n + 2 > static_cast<int>(ctx.log2_q())) break;
    NoiseAnalysis a = analyse_noise(ctx, terms, weight_bits, pack_stride, k, 0);
    if (a.switched > a.budget / 2) continue;
    int drop = 0;
    while (drop + 1 < k - 64 && analyse_noise(ctx, terms, weight_bits, pack_stride, k, drop + 1).switched <= a.budget / 2) ++drop;
    return {k, drop, analyse_noise(ctx, terms, weight_bits, pack_stride, k, drop)};
  }
  throw std::invalid_argument("HE noise: no response modulus decrypts a product of " + std::to_string(terms) + " terms with " +
                              std::to_string(weight_bits) + "-bit weights under " + ctx.describe());
}

void add_flood(const HeContext& ctx, RnsPoly& p, int log2_bound, Prg& prg) {
  check_form(p, false, "add_flood");
  if (log2_bound < 1 || log2_bound > 126) throw std::invalid_argument("add_flood: bound out of range");
  PrgStream in(prg);
  const u128 range_mask = (static_cast<u128>(1) << (log2_bound + 1)) - 1;
  const u128 offset = static_cast<u128>(1) << log2_bound;
  for (std::size_t j = 0; j < ctx.n(); ++j) {
    const u128 r = ((static_cast<u128>(in.next()) << 64) | in.next()) & range_mask;  // uniform in [0, 2^(f+1))
    const bool negative = r < offset;
    const u128 mag = negative ? offset - r : r - offset;  // value r - 2^f
    for (int i = 0; i < p.count; ++i) {
      const Modulus& m = ctx.mod(i);
      const u64 v = m.reduce(mag);
      p.row(i)[j] = m.add(p.row(i)[j], negative ? m.neg(v) : v);
    }
  }
}

}  // namespace marill
