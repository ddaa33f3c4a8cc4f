// Two openings of the same value differ and look uniform. Every word a party sends is a share or a
// masked value; with fresh masks two runs of the same op on the same input send unrelated uniform
// words. A skipped mask leaves the value's structure in the bits (a constant 1.0 has one bit set);
// a reused mask makes the two openings equal; a mask derived from the previous one makes their
// difference structured. The outputs are right in all three cases.
#include "tests/security/security_harness.h"

#include "protocols/fss/spline_gate.h"
#include "protocols/functions/functions.h"

using namespace marill;
using namespace marill::sectest;

namespace {

constexpr i64 kN = 4096;  // words per opening: 16 per cell of the byte test; whole 64-element bit planes

struct OpeningCase {
  std::string op;
  Role peer;      // the client's words sent to this peer (and received from it, for an exchange)
  bool exchange;  // both sides send masked shares: the opened value is their sum
  i64 min_words = kN;  // at least this many words per run
};

std::vector<OpeningCase> cases_of(Setting s) {
  if (s == Setting::two_pc_dealer)  // input: x - r to the server; mul: x - a, y - b; trunc, ltz: x + r
    return {{"input", Role::server, false}, {"mul", Role::server, true}, {"trunc", Role::server, true}, {"ltz", Role::server, true}};
  // 3pc input: x - c_0 to the server; mul: the zero-masked cross terms to the helper; trunc (the
  // dealer rotated over thirds): the client's masked part (a word), its re-masked component (a
  // word) and, in the third it deals, the dealt d-bit corrections (2 x 8 bits at d = 8), all to the
  // helper: about 3/4 of a word per element; ltz (roles rotated over thirds): the Beaver openings
  // and b ^ beta in the third where the server is the client's peer (56 bits at 64), the
  // re-sharing word in the third the server deals: about 0.63 of a word per element.
  return {{"input", Role::server, false},
          {"mul", Role::helper, false},
          {"trunc", Role::helper, false, kN * 2 / 3},
          {"ltz", Role::server, false, kN / 2}};
}

// Runs each op twice on the same shared input, labelled "op#1" and "op#2".
Recorded run_twice(Setting s) {
  const FixedPoint fxp{};
  const RingTensor one(Shape{kN}, std::vector<u64>(kN, fxp.encode(1.0)));
  const RingTensor two(Shape{kN}, std::vector<u64>(kN, fxp.encode(2.0)));
  return run_recorded(s, [&](Backend& be, FrameLog& log) {
    auto twice = [&](const std::string& op, const std::function<void()>& f) {
      for (int rep = 1; rep <= 2; ++rep) {
        log.mark(be.role(), op + "#" + std::to_string(rep));
        f();
      }
      log.mark(be.role(), "");
    };
    Shared x, y;
    twice("input", [&] { x = be.input(Role::client, own(be, Role::client, one)); });
    y = be.input(Role::server, own(be, Role::server, two));
    twice("mul", [&] { be.mul(x, y); });
    twice("trunc", [&] { be.trunc(x, 8); });
    twice("ltz", [&] { be.ltz(x); });
  });
}

std::vector<u64> opening(const FrameLog& log, const OpeningCase& c, int rep) {
  const std::string label = c.op + "#" + std::to_string(rep);
  return c.exchange ? opened(log, Role::client, c.peer, label) : sent(log, Role::client, c.peer, label);
}

}  // namespace

TEST_CASE("two openings of the same input differ and look uniform", "[security][openings]") {
  for (Setting s : {Setting::three_pc, Setting::two_pc_dealer}) {
    Recorded rec = run_twice(s);
    for (const auto& c : cases_of(s)) {
      INFO(setting_name(s) << " " << c.op << ": the client's words " << (c.exchange ? "opened with " : "sent to ") << role_name(c.peer));
      const std::vector<u64> w1 = opening(*rec.log, c, 1), w2 = opening(*rec.log, c, 2);
      REQUIRE(w1.size() >= static_cast<size_t>(c.min_words));
      REQUIRE(w1.size() == w2.size());
      CHECK(equal_words(w1, w2) == 0);
      for (const auto* w : {&w1, &w2}) {
        const ChiSquare bits = bit_balance(*w), bytes = byte_uniformity(*w);
        INFO("bit balance: " << bits << "; byte uniformity: " << bytes);
        CHECK(bits.passes());
        CHECK(bytes.passes());
      }
      const ChiSquare diff = bit_balance(difference(w1, w2));
      INFO("bit balance of the difference of the two openings: " << diff);
      CHECK(diff.passes());
    }
  }
}

TEST_CASE("the bit and byte statistics reject structured words", "[security][statistics]") {
  // The checks above can fail: a constant and words with one stuck byte are refused.
  std::vector<u64> constant(kN, 0x10000), stuck(kN);
  Prg prg(Key128{7});
  for (auto& w : stuck) w = prg.next_u64() & ~u64{0xff00};
  CHECK_FALSE(bit_balance(constant).passes());
  CHECK_FALSE(byte_uniformity(constant).passes());
  CHECK_FALSE(byte_uniformity(stuck).passes());
  CHECK_FALSE(bit_balance(stuck).passes());
  std::vector<u64> uniform(kN), other(kN);
  for (auto& w : uniform) w = prg.next_u64();
  for (auto& w : other) w = prg.next_u64();
  CHECK(bit_balance(uniform).passes());
  CHECK(byte_uniformity(uniform).passes());
  CHECK(same_byte_distribution(uniform, other).passes());
  CHECK_FALSE(same_byte_distribution(uniform, stuck).passes());
  CHECK(equal_words(uniform, other) == 0);
  CHECK(equal_words(uniform, uniform) == static_cast<size_t>(kN));
}

namespace {

// The values a 2pc-dealer op opens at `bits` bits per element (packed: the one frame of that size each
// way under `label`): the client's sent and received shares, summed mod 2^bits.
std::vector<u64> opened_packed(const FrameLog& log, const std::string& label, int bits) {
  const u64 size = (static_cast<u64>(kN) * static_cast<u64>(bits) + 7) / 8;
  auto frame = [&](FrameDirection dir) {
    std::vector<RecordedFrame> hits;
    for (auto& f : log.frames(Role::client, dir, Role::server, label))
      if (f.payload.size() == size) hits.push_back(f);
    REQUIRE(hits.size() == 1);
    return hits[0].payload;
  };
  const std::vector<std::uint8_t> mine = frame(FrameDirection::sent), theirs = frame(FrameDirection::received);
  auto field = [&](const std::vector<std::uint8_t>& bytes, size_t e) {
    u64 v = 0;
    for (int b = 0; b < bits; ++b) {
      const size_t bit = e * static_cast<size_t>(bits) + static_cast<size_t>(b);
      v |= static_cast<u64>((bytes[bit / 8] >> (bit % 8)) & 1) << b;
    }
    return v;
  };
  std::vector<u64> out(static_cast<size_t>(kN));
  for (size_t e = 0; e < out.size(); ++e) out[e] = (field(mine, e) + field(theirs, e)) & ((u64{1} << bits) - 1);
  return out;
}

// Two runs' opened values: each uniform over [0, 2^bits) (chi-square, kN / 2^bits >= 5 per cell), and
// fresh (equal where independent uniform values would be, about kN / 2^bits).
void check_uniform_and_fresh(const std::vector<u64>& u1, const std::vector<u64>& u2, int bits) {
  for (const auto* u : {&u1, &u2}) {
    std::vector<double> counts(size_t{1} << bits, 0);
    for (u64 v : *u) counts[v] += 1;
    const double expect = static_cast<double>(kN) / static_cast<double>(counts.size());
    double stat = 0;
    for (double c : counts) stat += (c - expect) * (c - expect) / expect;
    const ChiSquare fit = chi_square(stat, static_cast<double>(counts.size() - 1));
    INFO("opened values: " << fit);
    CHECK(fit.passes());
  }
  size_t same = 0;
  for (size_t e = 0; e < u1.size(); ++e) same += u1[e] == u2[e];
  CHECK(same < static_cast<size_t>(kN >> bits) + static_cast<size_t>(kN) / 8);
}

// Runs op twice on x = value (one constant everywhere: an unmasked opening would be constant),
// labelled "op#1" and "op#2".
Recorded run_constant_twice(double value, const std::function<void(Backend&, const Shared&)>& op) {
  const FixedPoint fxp{};
  const RingTensor v(Shape{kN}, std::vector<u64>(kN, fxp.encode(value)));
  return run_recorded(Setting::two_pc_dealer, [&](Backend& be, FrameLog& log) {
    const Shared x = be.input(Role::client, own(be, Role::client, v));
    for (int rep = 1; rep <= 2; ++rep) {
      log.mark(be.role(), "op#" + std::to_string(rep));
      op(be, x);
    }
    log.mark(be.role(), "");
  });
}

}  // namespace

TEST_CASE("the 2pc-dealer spline gate opens the piece index under a fresh uniform mask", "[security][openings][spline]") {
  // Every element in the same piece.
  const SplineTable& t = gelu_spline_table(FixedPoint{}.frac_bits);
  const int m = spline_index_bits(t);
  Recorded rec = run_constant_twice(1.0, [&](Backend& be, const Shared& x) { be.spline(x, t); });
  check_uniform_and_fresh(opened_packed(*rec.log, "op#1", m), opened_packed(*rec.log, "op#2", m), m);
}

TEST_CASE("the 2pc-dealer negative part opens its select bit under a fresh uniform bit", "[security][openings]") {
  // Every element negative: [x < 0] = 1 everywhere.
  Recorded rec = run_constant_twice(-1.0, [](Backend& be, const Shared& x) { be.negative_part(x, 40, 10); });
  check_uniform_and_fresh(opened_packed(*rec.log, "op#1", 1), opened_packed(*rec.log, "op#2", 1), 1);
}
