// Lattice-based homomorphic encryption (protocols/he/): NTT arithmetic against schoolbook
// products, the RLWE scheme with t = 2^64 against its plaintexts, the noise bounds against measured
// noise, and the secure matrix product against ring_matmul.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "protocols/he/ntt.h"
#include "protocols/he/rlwe.h"

using namespace marill;

namespace {

// Negacyclic schoolbook product mod q.
std::vector<u64> schoolbook(const std::vector<u64>& a, const std::vector<u64>& b, const Modulus& q) {
  const std::size_t n = a.size();
  std::vector<u64> c(n, 0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      const u64 p = q.mul(a[i], b[j]);
      if (i + j < n) c[i + j] = q.add(c[i + j], p);
      else c[i + j - n] = q.sub(c[i + j - n], p);
    }
  return c;
}

std::vector<u64> random_mod(Prg& prg, std::size_t n, u64 q) {
  std::vector<u64> v(n);
  for (auto& x : v) x = prg.next_u64() % q;
  return v;
}

const HeContext& standard_context() {
  static const HeContext ctx(HeParams::standard());
  return ctx;
}

}  // namespace

TEST_CASE("he ntt: primes are NTT-friendly and Barrett reduction matches the 128-bit remainder") {
  for (int bits : {30, 52, 60, 61}) {
    const auto primes = ntt_primes(bits, 4096, 3);
    for (u64 q : primes) {
      CHECK(is_prime_u64(q));
      CHECK((q - 1) % 8192 == 0);
      CHECK(q < (u64{1} << bits));
      CHECK(q >= (u64{1} << (bits - 1)));
    }
  }
  CHECK_FALSE(is_prime_u64(3215031751ull));  // a strong pseudoprime to bases 2, 3, 5, 7
  Prg prg = Prg::from_os();
  const Modulus q(ntt_primes(61, 8192, 1)[0]);
  for (int i = 0; i < 10000; ++i) {
    const u128 x = (static_cast<u128>(prg.next_u64()) << 64) | prg.next_u64();
    REQUIRE(q.reduce(x) == static_cast<u64>(x % q.value));
  }
  CHECK_THROWS_AS(Modulus(u64{1} << 62), std::invalid_argument);
}

TEST_CASE("he ntt: negacyclic product through the NTT equals the schoolbook product") {
  Prg prg = Prg::from_os();
  for (std::size_t n : {std::size_t{2}, std::size_t{8}, std::size_t{64}, std::size_t{256}}) {
    for (int bits : {40, 52, 61}) {
      const Modulus q(ntt_primes(bits, n, 1)[0]);
      const NttTables t(q, n);
      const auto a = random_mod(prg, n, q.value), b = random_mod(prg, n, q.value);
      auto fa = a, fb = b;
      t.forward(fa.data());
      t.forward(fb.data());
      for (std::size_t i = 0; i < n; ++i) fa[i] = q.mul(fa[i], fb[i]);
      t.inverse(fa.data());
      REQUIRE(fa == schoolbook(a, b, q));
      auto round_trip = a;
      t.forward(round_trip.data());
      t.inverse(round_trip.data());
      REQUIRE(round_trip == a);
    }
  }
  // Values near q (the lazy butterflies' worst case) survive too.
  const Modulus q(ntt_primes(61, 1024, 1)[0]);
  const NttTables t(q, 1024);
  std::vector<u64> top(1024, q.value - 1), one(1024, 0);
  one[1] = 1;  // X: the product is X * top, a negacyclic shift
  auto ft = top, fo = one;
  t.forward(ft.data());
  t.forward(fo.data());
  for (std::size_t i = 0; i < 1024; ++i) ft[i] = q.mul(ft[i], fo[i]);
  t.inverse(ft.data());
  CHECK(ft == schoolbook(top, one, q));
}

TEST_CASE("he params: the standard set is 128-bit secure per the HE Standard and insecure sets are refused") {
  const HeContext& ctx = standard_context();
  CHECK(ctx.n() == 8192);
  CHECK(ctx.log2_qp() <= he_standard_max_log_qp(13));
  CHECK(ctx.log2_q() > 150);
  HeParams big = HeParams::standard();
  big.q_count = 4;  // 4 x 52 + 60 = 268 > 218
  CHECK_THROWS_WITH(HeContext(big), Catch::Contains("exceeds 218"));
  HeParams other = HeParams::standard();
  other.q_bits = 51;
  CHECK(HeContext(other).digest() != ctx.digest());
}

TEST_CASE("he rlwe: symmetric encryption with a seeded a decrypts to the message, exactly mod 2^64") {
  const HeContext& ctx = standard_context();
  Prg prg = Prg::from_os();
  const SecretKey sk = make_secret_key(ctx, prg);
  std::vector<u64> m(ctx.n());
  prg.fill(m.data(), m.size());
  m[0] = 0;
  m[1] = ~u64{0};
  m[2] = u64{1} << 63;
  const Key128 seed = prg.next_key();
  Prg a_prg(seed);
  const Ciphertext ct = encrypt_symmetric(ctx, sk, m.data(), m.size(), a_prg, prg);
  CHECK(decrypt(ctx, sk, ct) == m);
  // The receiver rebuilds a from the seed alone.
  Prg again(seed);
  CHECK(seeded_a(ctx, again).v == ct.a.v);
  // Another key does not decrypt it.
  const SecretKey other = make_secret_key(ctx, prg);
  CHECK(decrypt(ctx, other, ct) != m);
}

TEST_CASE("he rlwe: plaintext times ciphertext and plaintext addition equal the cleartext negacyclic product mod 2^64") {
  const HeContext& ctx = standard_context();
  Prg prg = Prg::from_os();
  const SecretKey sk = make_secret_key(ctx, prg);
  const std::size_t n = ctx.n();
  std::vector<u64> m(n), add(n);
  prg.fill(m.data(), n);
  prg.fill(add.data(), n);
  // A sparse centred plaintext of 20-bit weights (negatives included).
  std::vector<std::int64_t> w(n, 0);
  for (std::size_t i = 0; i < n; i += 97) w[i] = static_cast<std::int64_t>(prg.next_u64() % (1u << 21)) - (1 << 20);
  Prg a_prg(prg.next_key());
  const Ciphertext ct = encrypt_symmetric(ctx, sk, m.data(), n, a_prg, prg);
  RnsPoly wp = poly_from_signed(ctx, w.data(), n, ctx.levels());
  to_ntt(ctx, wp);
  Ciphertext acc{RnsPoly(n, ctx.levels(), true), RnsPoly(n, ctx.levels(), true)};
  multiply_plain_accumulate(ctx, ct, wp, acc);
  add_plain(ctx, acc, add.data(), n);
  std::vector<u64> expect(n, 0);
  for (std::size_t j = 0; j < n; ++j) {
    if (!w[j]) continue;
    for (std::size_t i = 0; i < n; ++i) {
      const u64 p = m[i] * static_cast<u64>(w[j]);
      if (i + j < n) expect[i + j] += p;
      else expect[i + j - n] -= p;
    }
  }
  for (std::size_t i = 0; i < n; ++i) expect[i] += add[i];
  CHECK(decrypt(ctx, sk, acc) == expect);
}

TEST_CASE("he rlwe: public-key encryptions of zero decrypt to zero") {
  const HeContext& ctx = standard_context();
  Prg prg = Prg::from_os();
  const SecretKey sk = make_secret_key(ctx, prg);
  const PublicKey pk = make_public_key(ctx, sk, prg.next_key(), prg);
  const Ciphertext z = encrypt_zero_public(ctx, pk, prg);
  CHECK(decrypt(ctx, sk, z) == std::vector<u64>(ctx.n(), 0));
}

TEST_CASE("he rlwe: packing strided ciphertexts interleaves them, and the power-of-two response decrypts with noise under the bound") {
  const HeContext& ctx = standard_context();
  Prg prg = Prg::from_os();
  const SecretKey sk = make_secret_key(ctx, prg);
  const std::size_t n = ctx.n(), stride = 8;
  std::vector<GaloisKey> keys;
  for (int i = 0; i < 3; ++i) keys.push_back(make_galois_key(ctx, sk, pack_galois_elt(n, i), prg.next_key(), prg));
  std::vector<std::vector<u64>> msgs(stride - 1, std::vector<u64>(n));  // one short: the last slot is zero
  std::vector<Ciphertext> cts;
  for (auto& m : msgs) {
    prg.fill(m.data(), n);
    Prg a_prg(prg.next_key());
    Ciphertext ct = encrypt_symmetric(ctx, sk, m.data(), n, a_prg, prg);
    from_ntt(ctx, ct.b);
    from_ntt(ctx, ct.a);
    cts.push_back(std::move(ct));
  }
  Ciphertext packed = pack_strided(ctx, cts, stride, keys);
  std::vector<u64> expect(n, 0);
  for (std::size_t r = 0; r < n / stride; ++r)
    for (std::size_t j = 0; j < stride - 1; ++j) expect[j + stride * r] = msgs[j][stride * r];
  CHECK(decrypt(ctx, sk, packed) == expect);

  // Response format: switch to 2^k, drop b's low bits, decrypt; noise measured below the analysis.
  const ResponseFormat fmt = choose_response_format(ctx, 1, 0, stride);
  const std::vector<u128> a = switch_to_pow2(ctx, packed.a, fmt.k_bits);
  const std::vector<u128> b = switch_to_pow2(ctx, packed.b, fmt.k_bits);
  std::vector<std::uint32_t> positions(n);
  std::vector<u128> b_high(n);
  for (std::size_t j = 0; j < n; ++j) {
    positions[j] = static_cast<std::uint32_t>(j);
    b_high[j] = ((b[j] + (static_cast<u128>(1) << fmt.drop_bits >> 1)) >> fmt.drop_bits) & ((static_cast<u128>(1) << (fmt.k_bits - fmt.drop_bits)) - 1);
  }
  CHECK(decrypt_pow2(ctx, sk, a, b_high, positions, fmt.k_bits, fmt.drop_bits) == expect);
  const auto noise = noise_pow2(ctx, sk, a, b_high, positions, fmt.k_bits, fmt.drop_bits, expect);
  double worst = 0;
  for (double e : noise) worst = std::max(worst, std::fabs(e));
  CHECK(worst <= fmt.noise.switched);
  CHECK(fmt.noise.margin_bits() >= 1.0);
}
