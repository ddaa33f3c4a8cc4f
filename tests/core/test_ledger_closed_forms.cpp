// The cost ledger pinned to closed forms, and phantom runs equal to real runs byte for byte.
#include <utility>

#include "tests/core/harness.h"
#include "tests/core/phantom_check.h"

#include "protocols/fss/dcf.h"

using namespace marill;
using namespace marill::test;

namespace {

SessionResult run_op(Setting s, const Shape& a, const Shape& b, const BinaryOp& op) {
  SessionResult res;
  run_binary(s, random_ring(a), random_ring(b), op, &res);
  return res;
}

const BinaryOp kMatmul = [](Backend& be, const Shared& x, const Shared& y) { return be.matmul(x, y); };
const BinaryOp kMul = [](Backend& be, const Shared& x, const Shared& y) { return be.mul(x, y); };
const BinaryOp kTrunc = [](Backend& be, const Shared& x, const Shared&) { return be.trunc(x, 16); };
const BinaryOp kLtz = [](Backend& be, const Shared& x, const Shared&) { return be.ltz(x); };

}  // namespace

TEST_CASE("3pc matmul sends m*n*8 bytes per party in 1 round", "[ledger]") {
  const i64 m = 12, k = 33, n = 7;
  SessionResult res = run_op(Setting::three_pc, {m, k}, {k, n}, kMatmul);
  for (Role r : {Role::client, Role::server, Role::helper}) CHECK(op_bytes(res, r, "matmul") == static_cast<u64>(m * n * 8));
  CHECK(op_rounds(res, "matmul") == 1);
}

// The rotated truncation (protocols/mpc/backend_3pc_trunc.cpp) on n = 384: each party deals one
// third (128 elements, whole bit planes) and plays each side of the pair on another: as A it
// sends MSB(c) (1 bit) and its component (8 B), as B its masked part (8 B) and m hB + mu (d bits),
// as the dealer q's and h's corrections (2d bits) and, fused, its masked part of the product (8 B).
u64 rotated_trunc_bytes(i64 third, int d, bool fused) {
  return static_cast<u64>(third * (1 + 64 + 64 + d + 2 * d + (fused ? 64 : 0)) / 8);
}

TEST_CASE("3pc mul sends one element per party in 1 round, trunc a third of 16 + 3d/8 B each in 3 rounds", "[ledger]") {
  const i64 n = 384;
  SessionResult res = run_op(Setting::three_pc, {n}, {n}, kMul);
  for (Role r : {Role::client, Role::server, Role::helper}) CHECK(op_bytes(res, r, "mul") == static_cast<u64>(n * 8));
  CHECK(op_rounds(res, "mul") == 1);
  for (int d : {8, 16, 40}) {
    INFO("d = " << d);
    SessionResult t = run_op(Setting::three_pc, {n}, {n}, [d](Backend& be, const Shared& x, const Shared&) { return be.trunc(x, d); });
    for (Role r : {Role::client, Role::server, Role::helper}) CHECK(op_bytes(t, r, "trunc") == rotated_trunc_bytes(n / 3, d, false));
    CHECK(op_rounds(t, "trunc") == 3);
  }
  CHECK(rotated_trunc_bytes(8, 16, false) == 177);  // 177 B for 24 elements: 7.4 B per element at d = 16
}

TEST_CASE("3pc fused mul_trunc and matmul_trunc: 3 rounds, a third of 24 + 3d/8 B each, within one unit of the reference", "[ledger][backend]") {
  FixedPoint fxp;
  const i64 n = 384;
  RingTensor a = random_fixed({n}, -50, 50, fxp), b = random_fixed({n}, -50, 50, fxp);
  const BinaryOp mt = [](Backend& be, const Shared& x, const Shared& y) { return be.mul_trunc(x, y); };
  SessionResult res;
  RingTensor got = run_binary(Setting::three_pc, a, b, mt, &res);
  CHECK(max_ring_diff(got, shift_right_arith(mul_elem(a, b), fxp.frac_bits)) <= 1);
  for (Role r : {Role::client, Role::server, Role::helper})
    CHECK(op_bytes(res, r, "mul_trunc") == rotated_trunc_bytes(n / 3, fxp.frac_bits, true));
  CHECK(op_rounds(res, "mul_trunc") == 3);
  // mul_trunc_bits: the same fused product at any truncation.
  const BinaryOp mt28 = [](Backend& be, const Shared& x, const Shared& y) { return be.mul_trunc_bits(x, y, 28); };
  got = run_binary(Setting::three_pc, a, b, mt28, &res);
  CHECK(max_ring_diff(got, shift_right_arith(mul_elem(a, b), 28)) <= 1);
  for (Role r : {Role::client, Role::server, Role::helper}) CHECK(op_bytes(res, r, "mul_trunc") == rotated_trunc_bytes(n / 3, 28, true));
  RingTensor x = random_fixed({7, 30}, -4, 4, fxp), y = random_fixed({30, 5}, -4, 4, fxp);
  const BinaryOp mmt = [](Backend& be, const Shared& p, const Shared& q) { return be.matmul_trunc(p, q); };
  RingTensor m = run_binary(Setting::three_pc, x, y, mmt, &res);
  CHECK(max_ring_diff(m, shift_right_arith(marill::matmul(x, y), fxp.frac_bits)) <= 1);
  CHECK(op_rounds(res, "matmul_trunc") == 3);
}

namespace {
// The helper-dealt comparison's closed form (protocols/mpc/backend_3pc_compare.cpp), bits per
// element: the low k - 1 bits in J chunks as even as can be, a chunk of m bits dealing 2^m - 1
// monomials; a tree level of p pairs opens 3p - 1 bits per side and deals 2p - 1 products; J with
// the fewest bits in all, then the fewest levels. At 64 bits the tree may take two levels more,
// the first ones combining only the lowest pair (the spine, whose eq is never needed).
struct LtzBits {
  int side = 0, helper = 0, levels = 0, chunks = 0;
  int bits() const { return 2 * side + helper; }
};
LtzBits ltz_3pc_bits_within(int k, int spine_levels, int max_levels) {
  const int L = k - 1;
  LtzBits best;
  for (int J = 1; J <= L; ++J) {
    if ((L + J - 1) / J > 4) continue;
    for (int E = 0; E <= spine_levels; ++E) {
      LtzBits b;
      b.chunks = J;
      b.side = 1;  // e = b ^ beta
      for (int j = 0; j < J; ++j) b.helper += (1 << (L / J + (j < L % J))) - 1;
      int g = J;
      auto level = [&](int p) {
        b.side += 3 * p - 1;
        b.helper += 2 * p - 1;
        ++b.levels;
      };
      for (int i = 0; i < E && g > 2; ++i, --g) level(1);
      for (; g > 1; g = g / 2 + g % 2) level(g / 2);
      if (b.levels > max_levels) continue;
      if (best.chunks == 0 || b.bits() < best.bits() || (b.bits() == best.bits() && b.levels < best.levels)) best = b;
    }
  }
  return best;
}
LtzBits ltz_3pc_bits(int k) {
  const LtzBits shallow = ltz_3pc_bits_within(k, 0, 1 << 20);
  return k == 64 ? ltz_3pc_bits_within(k, 2, shallow.levels + 2) : shallow;
}
}  // namespace

TEST_CASE("3pc ltz sends its closed form: nothing opened, a dealt comparison tree, one word each, negative_part one word more at the helper, roles rotated", "[ledger]") {
  // Three parts of 192 elements (whole bytes of bit planes); each party is the helper of one, the client of
  // one and the server of one. Client and server send their bits and the re-sharing word, the
  // helper its dealt bits and beta's word, and `helper_words` - 1 words more.
  const i64 part = 192, n = 3 * part;
  auto check_form = [&](const char* op, int bits, int low, int helper_words) {
    SessionResult res = run_op(Setting::three_pc, {n}, {n}, [op, bits, low](Backend& be, const Shared& x, const Shared&) {
      return std::string(op) == "ltz" ? be.ltz(x, bits, low) : be.negative_part(x, bits, low);
    });
    const LtzBits b = ltz_3pc_bits(bits - low);
    const u64 each = static_cast<u64>(part * (2 * b.side + b.helper) / 8 + 8 * part * (2 + helper_words));
    for (Role r : {Role::client, Role::server, Role::helper}) CHECK(op_bytes(res, r, op) == each);
    CHECK(op_rounds(res, op) == static_cast<u64>(3 + b.levels));
  };
  for (int k : {64, 40, 12}) {
    INFO("k = " << k);
    check_form("ltz", k, 0, 1);
  }
  // Dropping low bits (Backend::ltz's `low`) runs the same circuit on bits - low bits.
  for (auto [bits, low] : {std::pair{27, 10}, std::pair{64, 40}}) {
    INFO("bits = " << bits << ", low = " << low);
    check_form("ltz", bits, low, 1);
  }
  // negative_part [x < 0] x rides on the comparison: the helper deals beta (x0 + x2)'s server share
  // (one word more), client and server re-share the product in ltz's re-sharing word; no round of
  // its own (ltz then mul: a word each and a round more).
  for (auto [bits, low] : {std::pair{64, 0}, std::pair{27, 10}}) {
    INFO("negative_part: bits = " << bits << ", low = " << low);
    check_form("negative_part", bits, low, 2);
  }
  // Under 192 elements one part, its helper rotating over calls: P0 deals the session's first.
  {
    const i64 few = 128;
    const LtzBits b = ltz_3pc_bits(64);
    SessionResult res = run_op(Setting::three_pc, {few}, {few}, [](Backend& be, const Shared& x, const Shared&) { return be.ltz(x); });
    CHECK(op_bytes(res, Role::client, "ltz") == static_cast<u64>(b.helper * few / 8 + 8 * few));
    for (Role r : {Role::server, Role::helper}) CHECK(op_bytes(res, r, "ltz") == static_cast<u64>(b.side * few / 8 + 8 * few));
  }
  // k = 64: 21 chunks of three, 54 bits (client, server) and 180 (helper), 7 levels, 10 rounds:
  // 480 bits and three words in all, 20 B per party (the shallowest tree: 56 and 182, 5 levels);
  // ABY3's MSB extraction alone quotes 4K + 32 = 288 bits and log K + 2 = 8 rounds, before its bit
  // injection. k = 22 (|x| <= 16 at 16 fractional bits): 7 chunks, 3 levels, 6 rounds.
  CHECK(ltz_3pc_bits(64).chunks == 21);
  CHECK(ltz_3pc_bits(64).side == 54);
  CHECK(ltz_3pc_bits(64).helper == 180);
  CHECK(ltz_3pc_bits(64).levels == 7);
  CHECK(ltz_3pc_bits_within(64, 0, 1 << 20).bits() == 2 * 56 + 182);
  CHECK(ltz_3pc_bits_within(64, 0, 1 << 20).levels == 5);
  CHECK(ltz_3pc_bits(54).levels == ltz_3pc_bits_within(54, 0, 1 << 20).levels);
  CHECK(ltz_3pc_bits(22).chunks == 7);
  CHECK(ltz_3pc_bits(22).levels == 3);
}

TEST_CASE("2pc-dealer Beaver mul sends 2 elements per party online in 1 round", "[ledger]") {
  const i64 n = 100;
  SessionResult res = run_op(Setting::two_pc_dealer, {n}, {n}, kMul);
  CHECK(op_bytes(res, Role::client, "mul") == static_cast<u64>(2 * n * 8));
  CHECK(op_bytes(res, Role::server, "mul") == static_cast<u64>(2 * n * 8));
  CHECK(op_rounds(res, "mul") == 1);
  CHECK(op_bytes(res, Role::dealer, "mul", Phase::offline) == static_cast<u64>(n * 8));
  CHECK(op_bytes(res, Role::dealer, "mul", Phase::online) == 0);
}

TEST_CASE("square is exact everywhere and costs one opened element in 2pc-dealer", "[ledger][backend]") {
  const i64 n = 120;
  RingTensor x = random_ring({n});
  const BinaryOp sq = [](Backend& be, const Shared& a, const Shared&) { return be.square(a); };
  for (Setting s : secure_settings()) {
    INFO(setting_name(s));
    SessionResult res;
    RingTensor got = run_binary(s, x, x, sq, &res);
    CHECK(max_ring_diff(got, mul_elem(x, x)) == 0);
    if (s == Setting::two_pc_dealer) {
      CHECK(op_bytes(res, Role::client, "square") == static_cast<u64>(n * 8));
      CHECK(op_bytes(res, Role::server, "square") == static_cast<u64>(n * 8));
      CHECK(op_rounds(res, "square") == 1);
    }
  }
}

TEST_CASE("2pc-dealer matmul, trunc and ltz closed forms", "[ledger]") {
  const i64 m = 9, k = 20, n = 4;
  SessionResult mm = run_op(Setting::two_pc_dealer, {m, k}, {k, n}, kMatmul);
  for (Role r : {Role::client, Role::server}) CHECK(op_bytes(mm, r, "matmul") == static_cast<u64>((m * k + k * n) * 8));
  CHECK(op_rounds(mm, "matmul") == 1);
  CHECK(op_bytes(mm, Role::dealer, "matmul", Phase::offline) == static_cast<u64>(m * n * 8));

  const i64 e = 300;
  SessionResult t = run_op(Setting::two_pc_dealer, {e}, {e}, kTrunc);
  for (Role r : {Role::client, Role::server}) CHECK(op_bytes(t, r, "trunc") == static_cast<u64>(e * 8));
  CHECK(op_rounds(t, "trunc") == 1);
  CHECK(op_bytes(t, Role::dealer, "trunc", Phase::offline) == static_cast<u64>(2 * e * 8));

  SessionResult c = run_op(Setting::two_pc_dealer, {e}, {e}, kLtz);
  for (Role r : {Role::client, Role::server}) {
    CHECK(op_bytes(c, r, "ltz") == static_cast<u64>(e * 8));  // <= 16 B per element: the target
  }
  CHECK(op_rounds(c, "ltz") == 1);
  CHECK(op_bytes(c, Role::dealer, "ltz", Phase::offline) == static_cast<u64>(2 * e) * ltz_key_bytes(64));
  SessionResult c40 = run_op(Setting::two_pc_dealer, {e}, {e}, [](Backend& be, const Shared& x, const Shared&) { return be.ltz(x, 40); });
  CHECK(op_bytes(c40, Role::dealer, "ltz", Phase::offline) == static_cast<u64>(2 * e) * ltz_key_bytes(40));
  CHECK(ltz_key_bytes(40) < ltz_key_bytes(64) * 2 / 3);
  // Dropped low bits: the keys of the remaining width, the same opening.
  SessionResult c27 = run_op(Setting::two_pc_dealer, {e}, {e}, [](Backend& be, const Shared& x, const Shared&) { return be.ltz(x, 27, 10); });
  CHECK(op_bytes(c27, Role::dealer, "ltz", Phase::offline) == static_cast<u64>(2 * e) * ltz_key_bytes(17));
  for (Role r : {Role::client, Role::server}) CHECK(op_bytes(c27, r, "ltz") == static_cast<u64>(e * 8));
  SessionResult np = run_op(Setting::two_pc_dealer, {e}, {e}, [](Backend& be, const Shared& x, const Shared&) { return be.negative_part(x, 27, 10); });
  // negative_part: the comparison key with one-byte words, and the select bit u and u r to one
  // party (16 B); online x^ and the select bit c = b ^ u, in 2 rounds.
  CHECK(op_bytes(np, Role::dealer, "negative_part", Phase::offline) == static_cast<u64>(e) * (2 * ltz_key_bytes(17, 1, 1) + 16));
  for (Role r : {Role::client, Role::server}) CHECK(op_bytes(np, r, "negative_part") == static_cast<u64>(e * 8) + (static_cast<u64>(e) + 7) / 8);
  CHECK(op_rounds(np, "negative_part") == 2);
}

TEST_CASE("a prepared weight is opened once at set-up, then matmul opens only its left operand", "[ledger][backend]") {
  const i64 m = 5, k = 24, n = 6, uses = 3;
  RingTensor w = random_ring({k, n});
  std::vector<RingTensor> xs;
  for (int i = 0; i < uses; ++i) xs.push_back(random_ring({m, k}));
  for (Setting s : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc}) {
    INFO(setting_name(s));
    SessionConfig cfg;
    cfg.setting = s;
    std::vector<RingTensor> got(uses);
    SessionResult res = run_session(cfg, [&](Backend& be) {
      bool clear = be.setting() == Setting::cleartext;
      Shared W = be.prepare_weight(be.input(Role::server, (clear || be.role() == Role::server) ? w : RingTensor::phantom(w.shape())));
      for (int i = 0; i < uses; ++i) {
        Shared X = be.input(Role::client, (clear || be.role() == Role::client) ? xs[static_cast<size_t>(i)] : RingTensor::phantom({m, k}));
        RingTensor v = be.reveal(be.matmul(X, W), Role::client);
        if (be.role() == Role::client) got[static_cast<size_t>(i)] = v;
      }
    });
    for (int i = 0; i < uses; ++i) CHECK(max_ring_diff(got[static_cast<size_t>(i)], marill::matmul(xs[static_cast<size_t>(i)], w)) == 0);
    if (s == Setting::two_pc_dealer) {
      for (Role r : {Role::client, Role::server}) {
        CHECK(op_bytes(res, r, "prepare_weight") == static_cast<u64>(k * n * 8));
        CHECK(op_bytes(res, r, "matmul") == static_cast<u64>(uses * m * k * 8));
      }
      CHECK(op_bytes(res, Role::dealer, "matmul", Phase::offline) == static_cast<u64>(uses * m * n * 8));
    }
  }
}

TEST_CASE("phantom runs send exactly the bytes and rounds of real runs", "[ledger][phantom]") {
  struct Case { const char* name; Shape a, b; BinaryOp op; };
  std::vector<Case> cases = {{"mul", {50}, {50}, kMul}, {"matmul", {6, 10}, {10, 3}, kMatmul},
                             {"trunc", {70}, {70}, kTrunc}, {"ltz", {70}, {70}, kLtz},
                             {"mul_trunc", {40}, {40}, [](Backend& be, const Shared& x, const Shared& y) { return be.mul_trunc(x, y); }},
                             {"square", {40}, {40}, [](Backend& be, const Shared& x, const Shared&) { return be.square(x); }}};
  for (Setting s : secure_settings()) {
    for (const auto& c : cases) {
      INFO(setting_name(s) << " " << c.name);
      require_phantom_equals_real(s, random_ring(c.a), random_ring(c.b), c.op);
    }
  }
}

TEST_CASE("the phantom check sees a difference in one op path", "[ledger][phantom]") {
  // Two runs whose costs differ only in mul's size: the comparison must name mul's path.
  SessionResult a = run_op(Setting::two_pc_dealer, {50}, {50}, kMul), b = run_op(Setting::two_pc_dealer, {51}, {51}, kMul);
  const std::vector<std::string> diffs = cost_differences(a, b);
  REQUIRE(!diffs.empty());
  bool names_mul = false;
  for (const auto& d : diffs) names_mul = names_mul || d.find(" mul: bytes") != std::string::npos;
  CHECK(names_mul);
  CHECK(cost_differences(a, a).empty());
}

TEST_CASE("matmul_many: the separate products, their bytes, in one round", "[ledger][backend]") {
  // x (6,10) times w1 (10,4) [prepared in 2pc-dealer] and w2 (10,3) [not prepared], and x2 (5,4) w3 (4,2).
  RingTensor x = random_ring({6, 10}), w1 = random_ring({10, 4}), w2 = random_ring({10, 3});
  RingTensor x2 = random_ring({5, 4}), w3 = random_ring({4, 2});
  RingTensor packed = concat({x.reshaped({60}), x2.reshaped({20})}, 0);
  RingTensor weights = concat({w1.reshaped({40}), w2.reshaped({30}), w3.reshaped({8})}, 0);
  auto part = [](Backend& be, const Shared& s, i64 from, i64 n, const Shape& shape) {
    return be.map(s, [=](const RingTensor& t) { return slice(t, 0, from, from + n).reshaped(shape); });
  };
  auto operands = [&](Backend& be, const Shared& a, const Shared& b) {
    std::vector<std::pair<Shared, Shared>> p;
    p.emplace_back(part(be, a, 0, 60, {6, 10}), be.prepare_weight(part(be, b, 0, 40, {10, 4})));
    p.emplace_back(part(be, a, 0, 60, {6, 10}), part(be, b, 40, 30, {10, 3}));
    p.emplace_back(part(be, a, 60, 20, {5, 4}), part(be, b, 70, 8, {4, 2}));
    return p;
  };
  const BinaryOp many = [&](Backend& be, const Shared& a, const Shared& b) {
    std::vector<Shared> out = be.matmul_many(operands(be, a, b));
    for (auto& o : out) o = be.map(o, [](const RingTensor& t) { return t.reshaped({t.numel()}); });
    return be.concat(out, 0);
  };
  const BinaryOp separate = [&](Backend& be, const Shared& a, const Shared& b) {
    std::vector<Shared> out;
    for (const auto& [l, r] : operands(be, a, b)) out.push_back(be.map(be.matmul(l, r), [](const RingTensor& t) { return t.reshaped({t.numel()}); }));
    return be.concat(out, 0);
  };
  RingTensor want = concat({matmul(x, w1).reshaped({24}), matmul(x, w2).reshaped({18}), matmul(x2, w3).reshaped({10})}, 0);
  for (Setting s : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc}) {
    INFO(setting_name(s));
    SessionResult rm, rs;
    CHECK(max_ring_diff(run_binary(s, packed, weights, many, &rm), want) == 0);
    CHECK(max_ring_diff(run_binary(s, packed, weights, separate, &rs), want) == 0);
    if (s == Setting::cleartext) continue;
    // 2pc: each product is an HE round trip (uploads out, responses back), all of them in one
    const u64 one = s == Setting::two_pc ? 2 : 1;
    CHECK(op_rounds(rm, "matmul") == one);
    CHECK(op_rounds(rs, "matmul") == 3 * one);
    for (Role r : {Role::client, Role::server}) CHECK(op_bytes(rm, r, "matmul") == op_bytes(rs, r, "matmul"));
    if (s == Setting::two_pc_dealer)
      CHECK(op_bytes(rm, Role::dealer, "matmul", Phase::offline) == op_bytes(rs, Role::dealer, "matmul", Phase::offline));
  }
}
