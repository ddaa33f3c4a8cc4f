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
  // helper: about 3/4 of a word per element; ltz (roles rotated over thirds): x + r's bit planes,
  // the Beaver openings and b ^ beta in the third where the server is the client's peer (120 bits
  // at 64), the re-sharing word in the third the server deals: about 0.96 of a word per element.
  return {{"input", Role::server, false},
          {"mul", Role::helper, false},
          {"trunc", Role::helper, false, kN * 2 / 3},
          {"ltz", Role::server, false, kN * 2 / 3}};
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

TEST_CASE("the 2pc-dealer spline gate opens the piece index under a fresh uniform mask", "[security][openings][spline]") {
  // Every element in the same piece: an unmasked index would open as one constant value.
  const FixedPoint fxp{};
  const SplineTable& t = gelu_spline_table(fxp.frac_bits);
  const int m = spline_index_bits(t);
  const RingTensor one(Shape{kN}, std::vector<u64>(kN, fxp.encode(1.0)));
  Recorded rec = run_recorded(Setting::two_pc_dealer, [&](Backend& be, FrameLog& log) {
    const Shared x = be.input(Role::client, own(be, Role::client, one));
    for (int rep = 1; rep <= 2; ++rep) {
      log.mark(be.role(), "spline#" + std::to_string(rep));
      be.spline(x, t);
    }
    log.mark(be.role(), "");
  });
  // The gate's frames each way: x^'s share, the index share (kN m bits, packed), the truncation's.
  const u64 index_bytes = (static_cast<u64>(kN) * static_cast<u64>(m) + 7) / 8;
  auto index_frame = [&](FrameDirection dir, int rep) {
    std::vector<RecordedFrame> frames = rec.log->frames(Role::client, dir, Role::server, "spline#" + std::to_string(rep));
    std::vector<RecordedFrame> hits;
    for (auto& f : frames)
      if (f.payload.size() == index_bytes) hits.push_back(f);
    REQUIRE(hits.size() == 1);
    return hits[0].payload;
  };
  auto unpack = [&](const std::vector<std::uint8_t>& bytes) {
    std::vector<u64> v(static_cast<size_t>(kN));
    for (size_t e = 0; e < v.size(); ++e)
      for (int b = 0; b < m; ++b) {
        const size_t bit = e * static_cast<size_t>(m) + static_cast<size_t>(b);
        v[e] |= static_cast<u64>((bytes[bit / 8] >> (bit % 8)) & 1) << b;
      }
    return v;
  };
  std::vector<std::vector<u64>> u(2);
  for (int rep = 1; rep <= 2; ++rep) {
    const std::vector<u64> mine = unpack(index_frame(FrameDirection::sent, rep)), theirs = unpack(index_frame(FrameDirection::received, rep));
    auto& ur = u[static_cast<size_t>(rep - 1)];
    for (size_t e = 0; e < mine.size(); ++e) ur.push_back((mine[e] + theirs[e]) & ((u64{1} << m) - 1));
    // Uniform over the 2^m values: kN / 2^m >= 5 per cell.
    std::vector<double> counts(size_t{1} << m, 0);
    for (u64 v : ur) counts[v] += 1;
    const double expect = static_cast<double>(kN) / static_cast<double>(counts.size());
    double stat = 0;
    for (double c : counts) stat += (c - expect) * (c - expect) / expect;
    const ChiSquare fit = chi_square(stat, static_cast<double>(counts.size() - 1));
    INFO("opened index, run " << rep << ": " << fit);
    CHECK(fit.passes());
  }
  // Fresh masks: the two runs agree where independent uniform values would (about kN / 2^m).
  size_t same = 0;
  for (size_t e = 0; e < u[0].size(); ++e) same += u[0][e] == u[1][e];
  CHECK(same < 3 * static_cast<size_t>(kN >> m));
}
