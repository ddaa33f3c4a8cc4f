// A party's view has the same distribution whatever the other party's input: the words it receives
// (and, where both sides send masked shares, the values it opens) pass a chi-square homogeneity test
// between a run where the other party inputs zeros and one where it inputs spread-out values, and
// each run's words look uniform. A skipped or input-dependent mask leaves outputs correct but
// makes the words the observer receives depend on the other input.
//
// What this cannot see: a leak visible only jointly with the observer's own randomness (e.g. one
// party's half of a two-party mask dropped: the opened word stays uniform because the other half
// still masks it, but the observer knows that half). The key and opening tests cover other cases.
#include "tests/security/security_harness.h"

#include "protocols/functions/functions.h"

using namespace marill;
using namespace marill::sectest;

namespace {

constexpr i64 kN = 4096;

struct ViewOp {
  std::string op;
  bool exchange;  // the observer and the other party open a masked value to each other
  i64 min_words = kN;  // what the observer receives at least (2pc's truncation: R + d bits per element)
};

std::vector<ViewOp> ops_of(Setting s, Role observer, Role other) {
  // The other party's input reaches the observer as one masked value: in 2pc-dealer always, in 3pc
  // only when the observer is the owner's next party (P_{o+1} gets x - c_o; P_{o-1} gets nothing).
  std::vector<ViewOp> ops;
  if (s == Setting::two_pc) {  // input: x − r; then OT-extension columns, corrections under OT pads, openings under fresh triples
    for (const char* op : {"input", "mul", "mul_trunc", "ltz", "ltz_low", "silu"}) ops.push_back({op, false});
    ops.push_back({"trunc", false, kN / 2});  // 16 + 8 bits per element of 4 kN: 2,048 words and more each way
    return ops;
  }
  if (s == Setting::two_pc_dealer || role_index(observer) == (role_index(other) + 1) % 3) ops.push_back({"input", false});
  if (s == Setting::two_pc_dealer) {  // every other online message is one side of an opening
    // relu: a comparison and its select bit (negative_part); exp: trunc_square; rmsnorm:
    // sum_squares and mul_rows; causal softmax: the ragged max and mul_rows.
    for (const char* op : {"mul", "mul_trunc", "trunc", "ltz", "ltz_low", "silu", "relu", "exp", "rmsnorm", "softmax"}) ops.push_back({op, true});
    return ops;
  }
  // 3pc: mul reshares zero-masked values (received from the next party); trunc and the fused
  // mul_trunc (dealer rotated over thirds) send masked parts, dealt corrections and re-masked
  // shares; ltz sends the helper's masked monomials of its addend (with dropped low bits: of its
  // bits [low, bits)), Beaver openings, b ^ beta and re-masked words; relu's negative_part the
  // helper's share of beta x
  // (masked by the client's PRG share). No opening is a sum of the two parties' words.
  for (const ViewOp& v : std::vector<ViewOp>{{"mul", false}, {"mul_trunc", false}, {"trunc", false}, {"ltz", false}, {"ltz_low", false}, {"silu", false}, {"relu", false}})
    ops.push_back(v);
  return ops;
}

// The observer's view in a session where it inputs `mine` and `other` inputs `theirs`.
Recorded run_view(Setting s, Role observer, Role other, const RingTensor& mine, const RingTensor& theirs) {
  return run_recorded(s, [&](Backend& be, FrameLog& log) {
    Shared x = be.input(observer, own(be, observer, mine));
    log.mark(be.role(), "input");
    Shared y = be.input(other, own(be, other, theirs));
    auto step = [&](const std::string& label, const std::function<void()>& f) {
      log.mark(be.role(), label);
      f();
    };
    step("mul", [&] { be.mul(x, y); });
    step("mul_trunc", [&] { be.mul_trunc(x, y); });
    step("trunc", [&] { be.trunc(be.concat({y, y, y, y}, 0), 8); });  // 4 kN: 2pc's truncation sends only R + d bits each
    step("ltz", [&] { be.ltz(y); });
    step("ltz_low", [&] { be.ltz(y, 40, 12); });  // Backend::ltz's low: bits [12, 40) compared
    step("silu", [&] { silu(be, y); });
    if (s != Setting::two_pc) step("relu", [&] { relu(be, y); });  // a fused negative_part in both
    if (s == Setting::two_pc_dealer) {  // the gates only 2pc-dealer has
      step("exp", [&] { exp_neg(be, y); });
      step("rmsnorm", [&] { rmsnorm(be, be.map(y, [](const RingTensor& t) { return t.reshaped({kN / 64, 64}); })); });
      SoftmaxOptions causal;
      causal.causal = true;
      step("softmax", [&] { softmax(be, be.map(y, [](const RingTensor& t) { return t.reshaped({kN / 64, 64}); }), causal); });
    }
    log.mark(be.role(), "");
  });
}

std::vector<u64> received_from_peers(const FrameLog& log, Setting s, Role observer, const std::string& label) {
  std::vector<u64> out;
  for (Role peer : roles_of(s)) {
    if (peer == observer || peer == Role::dealer) continue;  // the dealer's keys are input-independent
    auto w = received(log, observer, peer, label);
    out.insert(out.end(), w.begin(), w.end());
  }
  return out;
}

void check_views(Setting s, Role observer, Role other) {
  const RingTensor mine = seeded_fixed({kN}, -4, 4, 21);
  const RingTensor zeros(Shape{kN});
  const RingTensor spread = seeded_fixed({kN}, -8, 8, 22);
  Recorded run_a = run_view(s, observer, other, mine, zeros);
  Recorded run_b = run_view(s, observer, other, mine, spread);
  for (const auto& v : ops_of(s, observer, other)) {
    INFO(setting_name(s) << " " << v.op << ": what the " << role_name(observer) << " sees when the "
                         << role_name(other) << " inputs zeros or spread values");
    std::vector<std::pair<std::string, std::pair<std::vector<u64>, std::vector<u64>>>> views;
    views.push_back({"received words", {received_from_peers(*run_a.log, s, observer, v.op), received_from_peers(*run_b.log, s, observer, v.op)}});
    if (v.exchange)
      views.push_back({"opened words", {opened(*run_a.log, observer, other, v.op), opened(*run_b.log, observer, other, v.op)}});
    for (const auto& [what, ab] : views) {
      const auto& [a, b] = ab;
      INFO(what << " (" << a.size() << " per run)");
      REQUIRE(a.size() >= static_cast<size_t>(v.min_words));
      REQUIRE(a.size() == b.size());  // data-oblivious: the same messages whatever the input
      const ChiSquare same = same_byte_distribution(a, b), ua = byte_uniformity(a), ub = byte_uniformity(b);
      INFO("homogeneity: " << same << "; uniformity with zeros: " << ua << "; with spread values: " << ub);
      CHECK(same.passes());
      CHECK(ua.passes());
      CHECK(ub.passes());
    }
  }
}

}  // namespace

TEST_CASE("the client's view does not depend on the server's input", "[security][view]") {
  for (Setting s : {Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc}) check_views(s, Role::client, Role::server);
}

TEST_CASE("the server's view does not depend on the client's input", "[security][view]") {
  for (Setting s : {Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc}) check_views(s, Role::server, Role::client);
}

TEST_CASE("the 3pc helper's view does not depend on the client's or the server's input", "[security][view]") {
  // The helper deals the comparisons' and (a third of) the truncations' correlations and plays a
  // side of the pair in the other thirds: what it receives is masked all the same.
  check_views(Setting::three_pc, Role::helper, Role::client);
  check_views(Setting::three_pc, Role::helper, Role::server);
}
