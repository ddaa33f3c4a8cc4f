// Lattice-based homomorphic encryption (protocols/he/): NTT arithmetic against schoolbook
// products, the RLWE scheme with t = 2^64 against its plaintexts, the noise bounds against measured
// noise, and the secure matrix product against ring_matmul.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

#include "actors/memory_transport.h"
#include "protocols/he/he_matmul.h"
#include "protocols/he/ntt.h"
#include "protocols/he/rlwe.h"
#include "tests/core/recording_comm.h"

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

// ---------------- the secure matrix product ----------------

namespace {

// Generous receive timeouts: on a loaded machine a party may wait minutes for its peer's CPU share.
const NetworkModel& lan() {
  static const NetworkModel net = network_preset("lan");
  return net;
}
constexpr std::chrono::milliseconds kPatience(600000);

struct ProductRun {
  RingTensor client, server;
  HeMatmulPlan plan;
  CommPairResult ledgers;
};

RingTensor small_weights(Prg& prg, i64 k, i64 n, int bits) {
  RingTensor w({k, n});
  for (i64 i = 0; i < w.numel(); ++i)
    w[i] = static_cast<u64>(static_cast<std::int64_t>(prg.next_u64() % (u64{2} << bits)) - (std::int64_t{1} << bits));
  return w;
}

ProductRun run_product(const RingTensor& xc, const RingTensor& xs, const RingTensor& w, bool phantom = false, HeMatmulOptions opt = {}) {
  ProductRun r;
  r.ledgers = run_comm_pair(
      Role::client,
      [&](Comm& c) {
        HeMatmul he(c, Role::server, opt);
        he.set_up();
        r.client = he.client_product(phantom ? RingTensor::phantom(xc.shape()) : xc, w.dim(1));
        r.plan = he.last_plan();
      },
      Role::server,
      [&](Comm& c) {
        HeMatmul he(c, Role::client, opt);
        he.set_up();
        r.server = he.server_product(phantom ? RingTensor::phantom(xs.shape()) : xs, phantom ? RingTensor::phantom(w.shape()) : w);
      },
      lan(), phantom, kPatience);
  return r;
}

using test::RecordingComm;

}  // namespace

TEST_CASE("he matmul: the shares add up to ring_matmul exactly, for shapes off the block sizes and k not a power of two") {
  Prg prg = Prg::from_os();
  struct S {
    i64 m, k, n;
  };
  for (S s : {S{1, 1, 1}, S{3, 5, 2}, S{7, 100, 13}, S{33, 70, 65}, S{2, 300, 40}}) {
    const RingTensor xc = prg.random({s.m, s.k}), xs = prg.random({s.m, s.k});
    const RingTensor w = small_weights(prg, s.k, s.n, 20);
    const ProductRun r = run_product(xc, xs, w);
    INFO("shape " << s.m << "x" << s.k << "x" << s.n << " block " << r.plan.mw << "x" << r.plan.kw << "x" << r.plan.nw);
    CHECK(add(r.client, r.server).values() == matmul(add(xc, xs), w).values());
    CHECK(r.plan.format.noise.margin_bits() >= 1.0);
  }
  // Weights at the bound, both signs, with a 2-bit bound set explicitly.
  HeMatmulOptions opt;
  opt.weight_bits = 2;
  RingTensor w({9, 4});
  for (i64 i = 0; i < w.numel(); ++i) w[i] = static_cast<u64>(static_cast<std::int64_t>(i % 8) - 4);  // -4 .. 3
  const RingTensor xc = prg.random({5, 9}), xs = prg.random({5, 9});
  const ProductRun r = run_product(xc, xs, w, false, opt);
  CHECK(add(r.client, r.server).values() == matmul(add(xc, xs), w).values());
}

TEST_CASE("he matmul: the client's share is freshly masked (two runs with the same inputs differ)") {
  Prg prg = Prg::from_os();
  const RingTensor xc = prg.random({4, 6}), xs = prg.random({4, 6}), w = small_weights(prg, 6, 3, 16);
  const ProductRun a = run_product(xc, xs, w), b = run_product(xc, xs, w);
  CHECK(add(a.client, a.server).values() == add(b.client, b.server).values());
  int equal = 0;
  for (i64 i = 0; i < a.client.numel(); ++i) equal += a.client[i] == b.client[i];
  CHECK(equal == 0);
}

TEST_CASE("he matmul: bytes follow the closed forms, one round trip, key set-up offline, phantom sends the same bytes") {
  Prg prg = Prg::from_os();
  const RingTensor xc = prg.random({6, 40}), xs = prg.random({6, 40}), w = small_weights(prg, 40, 9, 20);
  const ProductRun real = run_product(xc, xs, w);
  const HeContext& ctx = *he_context(HeParams::standard());
  const HeMatmulPlan& p = real.plan;
  const u64 N = ctx.n(), q_bits = static_cast<u64>(ctx.q_bits_total());
  // Upload: header, seed, b of every input ciphertext at full q. Response: a at 2^k, the m*n useful b's at k - drop bits.
  CHECK(p.upload_bytes == 20 + 16 + (static_cast<u64>(p.in_cts) * N * q_bits + 7) / 8);
  CHECK(p.response_bytes == 20 + (static_cast<u64>(p.packed_cts) * N * p.format.k_bits + 6 * 9 * static_cast<u64>(p.format.k_bits - p.format.drop_bits) + 7) / 8);
  const u64 p_bits = static_cast<u64>(64 - __builtin_clzll(ctx.p().value));
  CHECK(he_setup_bytes(ctx, 7) == 20 + 32 + (N * q_bits + 7 * 3 * N * (q_bits + p_bits) + 7) / 8);
  CHECK(real.ledgers.a.total(Phase::online).bytes_sent == p.upload_bytes);
  CHECK(real.ledgers.b.total(Phase::online).bytes_sent == p.response_bytes);
  CHECK(real.ledgers.a.total(Phase::online).messages == 1);
  CHECK(real.ledgers.b.total(Phase::online).messages == 1);
  CHECK(real.ledgers.a.total(Phase::offline).bytes_sent == he_setup_bytes(ctx, 7));
  CHECK(real.ledgers.b.total(Phase::offline).bytes_sent == 0);

  const ProductRun ph = run_product(xc, xs, w, true);
  CHECK(ph.client.is_phantom());
  CHECK(ph.server.shape() == Shape{6, 9});
  for (Phase phase : {Phase::offline, Phase::online}) {
    CHECK(ph.ledgers.a.total(phase).bytes_sent == real.ledgers.a.total(phase).bytes_sent);
    CHECK(ph.ledgers.b.total(phase).bytes_sent == real.ledgers.b.total(phase).bytes_sent);
    CHECK(ph.ledgers.a.total(phase).messages == real.ledgers.a.total(phase).messages);
    CHECK(ph.ledgers.a.clock[static_cast<int>(phase)].hops == real.ledgers.a.clock[static_cast<int>(phase)].hops);
  }
}

TEST_CASE("he matmul: the issue's shape (128x768)x(768x768) plans under 6 MB online with at least a bit of noise margin") {
  const HeContext& ctx = *he_context(HeParams::standard());
  const HeMatmulPlan p = plan_he_matmul(ctx, 128, 768, 768, 32, 7, 1, HeMatmulOptions{}.key_switch_bytes);
  CHECK(p.total_bytes() <= 6000000);
  CHECK(p.format.noise.margin_bits() >= 1.0);
  CHECK(p.mw * p.kw * p.nw <= static_cast<i64>(ctx.n()));
  // Packing is what makes it fit: the unpacked response alone (one ciphertext per product) is larger.
  CHECK(static_cast<u64>(p.out_cts) * ctx.n() * static_cast<u64>(p.format.k_bits) / 8 > 6000000);
  CHECK_THROWS_AS(plan_he_matmul(ctx, 0, 4, 4, 32, 7), std::invalid_argument);
}

TEST_CASE("he matmul: bad input and bad messages are clear errors") {
  Prg prg = Prg::from_os();
  const RingTensor xc = prg.random({3, 8}), xs = prg.random({3, 8}), w = small_weights(prg, 8, 4, 20);

  // Weights over the public bound: refused before anything is sent.
  HeMatmulOptions narrow;
  narrow.weight_bits = 10;
  CHECK_THROWS_WITH(run_product(xc, xs, w, false, narrow), Catch::Contains("exceeds the bound 2^10"));
  // A weight whose inner dimension does not match the share.
  CHECK_THROWS_WITH(run_product(xc, xs, small_weights(prg, 7, 4, 20)), Catch::Contains("shares m x k and weight k x n"));

  // A client with other HE parameters (same sizes, other digest): the set-up is refused.
  HeMatmulOptions other;
  other.params.flood_bits = 41;
  CHECK_THROWS_WITH(run_comm_pair(
                        Role::client, [&](Comm& c) { HeMatmul(c, Role::server, other).set_up(); }, Role::server,
                        [&](Comm& c) { HeMatmul(c, Role::client).set_up(); }, lan(), false, kPatience),
                    Catch::Contains("parameters differ"));

  // An upload made under another key (recorded from an earlier session) is refused by its fingerprint.
  std::vector<std::uint8_t> foreign;
  const CommProgram honest_server = [&](Comm& c) {
    HeMatmul he(c, Role::client);
    he.set_up();
    (void)he.server_product(xs, w);
  };
  run_comm_pair(
      Role::client,
      [&](Comm& c) {
        RecordingComm rec(c);
        HeMatmul he(rec, Role::server);
        he.set_up();
        (void)he.client_product(xc, 4);
        foreign = rec.sent.at(1);
      },
      Role::server, honest_server, lan(), false, kPatience);
  auto send_instead = [&](std::function<void(std::vector<std::uint8_t>&, const HeMatmul&)> tamper) {
    run_comm_pair(
        Role::client,
        [&](Comm& c) {
          HeMatmul he(c, Role::server);
          he.set_up();
          std::vector<std::uint8_t> msg = foreign;
          tamper(msg, he);
          c.send_bytes(Role::server, msg.data(), msg.size());
          (void)c.recv_bytes(Role::server, 1);
        },
        Role::server, honest_server, lan(), false, kPatience);
  };
  CHECK_THROWS_WITH(send_instead([](std::vector<std::uint8_t>&, const HeMatmul&) {}), Catch::Contains("fingerprint mismatch"));
  // The right fingerprint on a message of another kind, on coefficients that are not residues, on a short message.
  CHECK_THROWS_WITH(send_instead([](std::vector<std::uint8_t>& m, const HeMatmul& he) {
                      std::memcpy(m.data() + 4, he.fingerprint().data(), 16);
                      m[2] = 'r';
                    }),
                    Catch::Contains("not an HE message of this kind"));
  CHECK_THROWS_WITH(send_instead([](std::vector<std::uint8_t>& m, const HeMatmul& he) {
                      std::memcpy(m.data() + 4, he.fingerprint().data(), 16);
                      std::fill(m.begin() + 36, m.end(), 0xff);
                    }),
                    Catch::Contains("not reduced mod q"));
  CHECK_THROWS_AS(send_instead([](std::vector<std::uint8_t>& m, const HeMatmul&) { m.resize(m.size() - 1); }), ProtocolError);

  // A response that is not the session's is refused by the client.
  CHECK_THROWS_WITH(run_comm_pair(
                        Role::client,
                        [&](Comm& c) {
                          HeMatmul he(c, Role::server);
                          he.set_up();
                          (void)he.client_product(xc, 4);
                        },
                        Role::server,
                        [&](Comm& c) {
                          HeMatmul he(c, Role::client);
                          he.set_up();
                          const HeMatmulPlan p = plan_he_matmul(he.context(), 3, 8, 4, 32, 7, 1, HeMatmulOptions{}.key_switch_bytes);
                          (void)c.recv_bytes(Role::client, p.upload_bytes);
                          std::vector<std::uint8_t> junk(p.response_bytes, 0);
                          std::memcpy(junk.data(), "HEr\x01", 4);
                          c.send_bytes(Role::client, junk.data(), junk.size());
                        },
                        lan(), false, kPatience),
                    Catch::Contains("HE response: fingerprint mismatch"));
}

TEST_CASE("he matmul: any ring weight in 32-bit limbs, and shared x shared products in one round trip, equal ring_matmul") {
  Prg prg = Prg::from_os();
  // Uniform 64-bit weights: two centred limbs, two responses to one upload.
  const RingTensor xc = prg.random({5, 12}), xs = prg.random({5, 12}), w = prg.random({12, 7});
  ProductRun r;
  r.ledgers = run_comm_pair(
      Role::client,
      [&](Comm& c) {
        HeMatmul he(c, Role::server);
        he.set_up();
        r.client = he.client_product(xc, 7, 2);
        r.plan = he.last_plan();
      },
      Role::server,
      [&](Comm& c) {
        HeMatmul he(c, Role::client);
        he.set_up();
        r.server = he.server_product(xs, w, 2);
      },
      lan(), false, kPatience);
  CHECK(add(r.client, r.server).values() == matmul(add(xc, xs), w).values());
  CHECK(r.plan.limbs == 2);
  CHECK(r.ledgers.b.total(Phase::online).bytes_sent == r.plan.response_bytes);

  // Both factors shared (attention's Q K^T and P V).
  const RingTensor x0 = prg.random({6, 9}), x1 = prg.random({6, 9}), y0 = prg.random({9, 4}), y1 = prg.random({9, 4});
  for (bool phantom : {false, true}) {
    RingTensor zc, zs;
    const CommPairResult led = run_comm_pair(
        Role::client,
        [&](Comm& c) {
          HeMatmul he(c, Role::server);
          he.set_up();
          zc = phantom ? he.client_shared_product(RingTensor::phantom({6, 9}), RingTensor::phantom({9, 4})) : he.client_shared_product(x0, y0);
        },
        Role::server,
        [&](Comm& c) {
          HeMatmul he(c, Role::client);
          he.set_up();
          zs = phantom ? he.server_shared_product(RingTensor::phantom({6, 9}), RingTensor::phantom({9, 4})) : he.server_shared_product(x1, y1);
        },
        lan(), phantom, kPatience);
    const HeContext& ctx = *he_context(HeParams::standard());
    const u64 up = plan_he_matmul(ctx, 6, 9, 4, 32, 7, 2, HeMatmulOptions{}.key_switch_bytes).upload_bytes + plan_he_matmul(ctx, 4, 9, 6, 32, 7, 2, HeMatmulOptions{}.key_switch_bytes).upload_bytes;
    const u64 down = plan_he_matmul(ctx, 6, 9, 4, 32, 7, 2, HeMatmulOptions{}.key_switch_bytes).response_bytes + plan_he_matmul(ctx, 4, 9, 6, 32, 7, 2, HeMatmulOptions{}.key_switch_bytes).response_bytes;
    CHECK(led.a.total(Phase::online).bytes_sent == up);
    CHECK(led.b.total(Phase::online).bytes_sent == down);
    // One round trip: both uploads leave before either response.
    CHECK(led.a.clock[static_cast<int>(Phase::online)].hops == 2);
    if (!phantom) CHECK(add(zc, zs).values() == matmul(add(x0, x1), add(y0, y1)).values());
  }
}
