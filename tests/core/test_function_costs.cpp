// The "Cost" lines of protocols/functions/functions.h pinned: each stated figure measured by the
// ledger at the stated shape and compared with the number written there.
//
// Conventions (functions.h's header): bytes are per element of the function's input (per score for
// softmax), the function's own op scope only (its input and reveal excluded). 3pc: the largest
// party's online bytes. 2pc-dealer: the client's and server's online bytes (equal), then the
// dealer's offline bytes. Rounds are session-wide online rounds of the scope. KB = 1000 B. A figure
// written with k digits is checked to within half a unit of its last digit ("2.4 KB": 2350..2450 B
// per element; "293 B": 292.5..293.5). Runs are phantom: the same bytes and rounds as real runs
// (tests/core/phantom_check.h pins that), without the arithmetic. MARILL_COST_REPORT=1 prints every
// measured figure.
#include "tests/core/harness.h"

#include <cmath>
#include <cstdlib>
#include <iostream>

#include "protocols/functions/functions.h"

using namespace marill;
using namespace marill::test;

namespace {

// A function of the client's input x and the server's input w (a norm's secret gamma, else unused).
using Fn = std::function<Shared(Backend&, const Shared& x, const Shared& w)>;

struct Measured {
  double online = 0;   // bytes per element (3pc: largest party; 2pc-dealer: client/server)
  double offline = 0;  // dealer's bytes per element (2pc-dealer)
  u64 rounds = 0;
};

Measured measure(Setting s, const Shape& x_shape, const Shape& w_shape, const std::string& scope, const Fn& f) {
  SessionResult res;
  run_binary(s, RingTensor::phantom(x_shape), RingTensor::phantom(w_shape), f, &res, /*phantom=*/true);
  i64 n = 1;
  for (i64 e : x_shape) n *= e;
  Measured m;
  u64 online = 0, online_client = 0, online_server = 0;
  for (const PartyOutcome& p : res.parties) {
    online = std::max(online, op_bytes(res, p.role, scope, Phase::online));
    if (p.role == Role::client) online_client = op_bytes(res, p.role, scope, Phase::online);
    if (p.role == Role::server) online_server = op_bytes(res, p.role, scope, Phase::online);
  }
  if (s == Setting::two_pc_dealer) {
    CHECK(online_client == online_server);  // the convention reads one figure for both
    CHECK(op_bytes(res, Role::dealer, scope, Phase::online) == 0);
    m.offline = static_cast<double>(op_bytes(res, Role::dealer, scope, Phase::offline)) / static_cast<double>(n);
  }
  m.online = static_cast<double>(online) / static_cast<double>(n);
  m.rounds = op_rounds(res, scope);
  REQUIRE(online > 0);  // the scope ran and sent: a misspelt scope name must not pass as "0 B"
  return m;
}

// A figure as functions.h writes it: value and the half-unit of its last written digit.
struct Figure {
  double value;
  double half_unit;
};
// "293 B": 292.5..293.5; "2.4 KB" is kb(2.4, 0.05): 2350..2450 B.
Figure bytes(double v) { return {v, 0.5}; }
Figure kb(double v, double half_unit_kb) { return {v * 1000, half_unit_kb * 1000}; }

// One function's "Cost" line: the figures functions.h states for it in each setting.
constexpr u64 kUnstated = ~u64{0};
struct CostLine {
  const char* what;  // the function and the shape its line names
  Shape x, w;        // the client's input; the server's (a norm's secret gamma; else unused)
  const char* scope;
  Fn f;
  Figure three_pc;
  u64 three_pc_rounds;
  Figure dealer_online, dealer_offline;
  u64 dealer_rounds;
};

void check_line(const CostLine& line) {
  for (Setting s : secure_settings()) {
    if (s == Setting::two_pc) continue;  // functions.h states 3pc and 2pc-dealer figures; 2pc's gates: test_ot_gates.cpp
    const bool dealer = s == Setting::two_pc_dealer;
    Measured m = measure(s, line.x, line.w, line.scope, line.f);
    INFO(line.what << " in " << setting_name(s) << ": measured " << m.online << " B + " << m.offline
                   << " B offline per element, " << m.rounds << " rounds");
    if (std::getenv("MARILL_COST_REPORT"))
      std::cout << line.what << " [" << setting_name(s) << "] " << m.online << " B + " << m.offline << " B offline, "
                << m.rounds << " rounds\n";
    const Figure& online = dealer ? line.dealer_online : line.three_pc;
    CHECK(std::abs(m.online - online.value) <= online.half_unit);
    if (dealer) CHECK(std::abs(m.offline - line.dealer_offline.value) <= line.dealer_offline.half_unit);
    const u64 rounds = dealer ? line.dealer_rounds : line.three_pc_rounds;
    if (rounds != kUnstated) CHECK(m.rounds == rounds);
  }
}

}  // namespace

TEST_CASE("functions.h cost lines: exp, reciprocal, rsqrt", "[functions][costs]") {
  // Elementwise figures at 4096 elements.
  check_line({"exp_neg", {4096}, {1}, "exp", [](Backend& be, const Shared& x, const Shared&) { return exp_neg(be, x); },
              bytes(125), 33, bytes(17), kb(0.87, 0.005), 3});
  check_line({"reciprocal [1, 2048]", {4096}, {1}, "reciprocal",
              [](Backend& be, const Shared& x, const Shared&) { return reciprocal(be, x, 1, 2048); },
              bytes(370), 23, bytes(97), kb(2.3, 0.05), 8});
  check_line({"rsqrt [0.01, 100]", {4096}, {1}, "rsqrt",
              [](Backend& be, const Shared& x, const Shared&) { return rsqrt(be, x, 0.01, 100); },
              bytes(429), 26, bytes(97), kb(2.1, 0.05), 8});
}

TEST_CASE("functions.h cost lines: softmax and its approximations", "[functions][costs]") {
  SoftmaxOptions causal;
  causal.causal = true;
  check_line({"softmax 1 x 2048", {1, 2048}, {1}, "softmax",
              [](Backend& be, const Shared& x, const Shared&) { return softmax(be, x); },
              bytes(151), 119, bytes(57), kb(1.4, 0.05), 37});
  // Per score of the 64 x 64 block, masked ones included; the line states 2pc-dealer's rounds only.
  check_line({"softmax causal 64 x 64", {64, 64}, {1}, "softmax",
              [causal](Backend& be, const Shared& x, const Shared&) { return softmax(be, x, causal); },
              bytes(81), kUnstated, bytes(30), bytes(723), 26});
  check_line({"softmax_2relu 4 x 1024", {4, 1024}, {1}, "softmax",
              [](Backend& be, const Shared& x, const Shared&) { return softmax_2relu(be, x); },
              bytes(30), 31, bytes(24), bytes(835), 11});
  check_line({"softmax_2quad 4 x 1024", {4, 1024}, {1}, "softmax",
              [](Backend& be, const Shared& x, const Shared&) { return softmax_2quad(be, x); },
              bytes(24), 31, bytes(40), bytes(51), 12});
}

TEST_CASE("functions.h cost lines: ReLU, Quad, GeLU, SiLU", "[functions][costs]") {
  check_line({"relu", {4096}, {1}, "relu", [](Backend& be, const Shared& x, const Shared&) { return relu(be, x); },
              bytes(16.6), 7, bytes(8.1), kb(1.0, 0.05), 2});
  check_line({"quad", {4096}, {1}, "quad", [](Backend& be, const Shared& x, const Shared&) { return quad(be, x); },
              bytes(10), 3, bytes(24), bytes(24), 2});
  check_line({"gelu", {4096}, {1}, "gelu", [](Backend& be, const Shared& x, const Shared&) { return gelu(be, x); },
              bytes(91), 28, bytes(17), kb(1.0, 0.05), 3});
  check_line({"silu", {4096}, {1}, "silu", [](Backend& be, const Shared& x, const Shared&) { return silu(be, x); },
              bytes(104), 31, bytes(17), kb(1.0, 0.05), 3});
}

TEST_CASE("functions.h cost lines: RMSNorm and LayerNorm", "[functions][costs]") {
  const i64 C = 1024;
  const RingTensor ones = FixedPoint{}.encode(std::vector<double>(C, 1.0), {C}), zeros({C});
  const Fn with_gain = [](Backend& be, const Shared& x, const Shared& gamma) { return rmsnorm(be, x, gamma); };
  check_line({"rmsnorm 4 x 1024, shared gamma", {4, C}, {C}, "norm", with_gain, bytes(24), 37, bytes(42), bytes(59), 14});
  check_line({"layernorm 4 x 1024, public gamma and beta", {4, C}, {C}, "norm",
              [ones, zeros](Backend& be, const Shared& x, const Shared&) { return layernorm(be, x, ones, zeros); },
              bytes(21), 40, bytes(32), bytes(51), 14});
  // The gain-less form saves the product by the gain: in 2pc-dealer the opening of x (8 B per
  // element), of each column's gain (8 B per column: 2 B per element at 4 rows) and the truncation
  // (8 B), and 2 rounds.
  const Fn no_gain = [](Backend& be, const Shared& x, const Shared&) { return rmsnorm(be, x); };
  Measured with = measure(Setting::two_pc_dealer, {4, C}, {C}, "norm", with_gain);
  Measured without = measure(Setting::two_pc_dealer, {4, C}, {C}, "norm", no_gain);
  CHECK(with.online - without.online == 18);
  CHECK(with.rounds - without.rounds == 2);
}

TEST_CASE("functions.h cost lines: argmax, and one ltz's DCF keys", "[functions][costs]") {
  check_line({"argmax 2 x 32000", {2, 32000}, {1}, "argmax",
              [](Backend& be, const Shared& x, const Shared&) { return argmax(be, x).index; },
              bytes(25), 114, bytes(32), kb(1.4, 0.05), 30});
  // The header: "one comparison is ~1.4-1.6 KB of DCF keys in 2pc-dealer, ~1.0 KB for a negative
  // part" (the dealer's keys for both parties, at the comparison widths the functions' bounds give):
  // argmax's ltz (bound 1024; V - 1 comparisons over V elements, so per element ~ per comparison)
  // and ReLU's negative part (bound 32768, one-byte words and the select's two words).
  struct KeyRange {
    std::string scope;
    Fn f;
    double lo, hi;
  };
  for (const KeyRange& k : std::vector<KeyRange>{
           {"argmax/ltz", [](Backend& be, const Shared& x, const Shared&) { return argmax(be, x).index; }, 1350, 1650},
           {"relu/negative_part", [](Backend& be, const Shared& x, const Shared&) { return relu(be, x); }, 950, 1150}}) {
    Measured ltz = measure(Setting::two_pc_dealer, {2, 4096}, {1}, k.scope, k.f);
    INFO(k.scope << ": " << ltz.offline << " B offline per element");
    CHECK(ltz.offline >= k.lo);
    CHECK(ltz.offline < k.hi);
  }
}
