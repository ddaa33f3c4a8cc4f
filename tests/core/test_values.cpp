// Values that know their owner: a role's private weight set up once, then products of shared
// activations with it (mmul_sv), against the cleartext reference in every setting, with the costs of
// today's input + prepare_weight + matmul path.
#include "tests/core/harness.h"

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <mutex>
#include <utility>

#include "protocols/mpc/dealer_backend.h"

using namespace marill;
using namespace marill::test;

namespace {

// A role's input as that role holds it: the value for its owner (and in cleartext), a shape elsewhere.
RingTensor held(const Backend& be, Role owner, const RingTensor& v) {
  return be.setting() == Setting::cleartext || be.role() == owner ? v : RingTensor::phantom(v.shape());
}

using Inputs = std::vector<Shared>;
// Makes the inputs, runs `op` on them inside the ledger scope "op" in a session of `st`, and opens
// its result to the client.
std::pair<RingTensor, SessionResult> opened_by_client(Setting st, const std::function<Inputs(Backend&)>& inputs,
                                                      const std::function<Shared(Backend&, const Inputs&)>& op) {
  SessionConfig cfg;
  cfg.setting = st;
  std::mutex mu;
  RingTensor got;
  SessionResult res = run_session(cfg, [&](Backend& be) {
    const Inputs in = inputs(be);
    Shared y;
    {
      OpScope scope(be.ledger(), "op");
      y = op(be, in);
    }
    RingTensor v = be.reveal(y, Role::client);
    if (be.role() == Role::client) {
      std::lock_guard<std::mutex> lock(mu);
      got = v;
    }
  });
  return {got, res};
}

}  // namespace

TEST_CASE("mmul_sv: shared activations times the server's private weight equals the cleartext product in every setting") {
  const FixedPoint fxp;
  const RingTensor x = random_fixed({5, 12}, -2.0, 2.0, fxp);
  const RingTensor w = random_fixed({12, 7}, -1.0, 1.0, fxp);
  const RingTensor expected = matmul(x, w);  // 2f fractional bits, exact ring product
  for (Setting st : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(st));
    SessionConfig cfg;
    cfg.setting = st;
    std::mutex mu;
    RingTensor got;
    run_session(cfg, [&](Backend& be) {
      const bool clear = be.setting() == Setting::cleartext;
      Private pw{Role::server, (clear || be.role() == Role::server) ? w : RingTensor::phantom(w.shape()), fxp.frac_bits};
      PrivateWeight weight = be.setup_private_weight(pw);
      REQUIRE(weight.owner == Role::server);
      REQUIRE(weight.shape == Shape{12, 7});
      Shared sx = be.input(Role::client, (clear || be.role() == Role::client) ? x : RingTensor::phantom(x.shape()));
      // Two products with one set-up: the weight is prepared once.
      Shared y1 = be.mmul_sv(sx, weight);
      Shared y2 = be.mmul_sv(sx, weight);
      RingTensor v = be.reveal(be.sub(y1, y2), Role::client);
      RingTensor v1 = be.reveal(y1, Role::client);
      if (be.role() == Role::client) {
        for (i64 i = 0; i < v.numel(); ++i) REQUIRE(v[i] == 0);
        std::lock_guard<std::mutex> lock(mu);
        got = v1;
      }
    });
    REQUIRE(got.values() == expected.values());
  }
}

TEST_CASE("mmul_sv in 2pc-dealer opens only the activations after set-up") {
  const FixedPoint fxp;
  const RingTensor x = random_fixed({4, 16}, -1.0, 1.0, fxp), w = random_fixed({16, 8}, -1.0, 1.0, fxp);
  SessionConfig cfg;
  cfg.setting = Setting::two_pc_dealer;
  SessionResult res = run_session(cfg, [&](Backend& be) {
    Private pw{Role::server, be.role() == Role::server ? w : RingTensor::phantom(w.shape()), fxp.frac_bits};
    PrivateWeight weight = be.setup_private_weight(pw);
    Shared sx = be.input(Role::client, be.role() == Role::client ? x : RingTensor::phantom(x.shape()));
    OpScope op(be.ledger(), "product");
    be.mmul_sv(sx, weight);
  });
  for (Role r : {Role::client, Role::server}) {
    REQUIRE(op_bytes(res, r, "product") == 4 * 16 * 8);  // x - A only: m*k words per party
    REQUIRE(op_bytes(res, r, "prepare_weight") == 16 * 8 * 8);
  }
  REQUIRE(op_rounds(res, "product") == 1);
}

TEST_CASE("mmul_sv_x: one x times several private weights equals the cleartext products, x opened once in 2pc-dealer") {
  const FixedPoint fxp;
  const RingTensor x = random_fixed({4, 16}, -1.0, 1.0, fxp);
  const std::vector<RingTensor> ws{random_fixed({16, 8}, -1.0, 1.0, fxp), random_fixed({16, 3}, -1.0, 1.0, fxp),
                                   random_fixed({16, 8}, -1.0, 1.0, fxp)};
  for (Setting st : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc}) {
    INFO(setting_name(st));
    SessionConfig cfg;
    cfg.setting = st;
    std::mutex mu;
    std::vector<RingTensor> got;
    SessionResult res = run_session(cfg, [&](Backend& be) {
      const bool clear = be.setting() == Setting::cleartext;
      std::vector<PrivateWeight> weights;
      for (const RingTensor& w : ws)
        weights.push_back(be.setup_private_weight(Private{Role::server, (clear || be.role() == Role::server) ? w : RingTensor::phantom(w.shape()), fxp.frac_bits}));
      Shared sx = be.input(Role::client, (clear || be.role() == Role::client) ? x : RingTensor::phantom(x.shape()));
      std::vector<Shared> ys;
      {
        OpScope op(be.ledger(), "products");
        ys = be.mmul_sv_x(sx, {&weights[0], &weights[1], &weights[2]});
      }
      std::vector<RingTensor> opened;
      for (const Shared& y : ys) opened.push_back(be.reveal(y, Role::client));
      if (be.role() == Role::client) {
        std::lock_guard<std::mutex> lock(mu);
        got = opened;
      }
    });
    REQUIRE(got.size() == 3u);
    for (size_t i = 0; i < 3; ++i) REQUIRE(got[i].values() == matmul(x, ws[i]).values());
    if (st == Setting::two_pc_dealer) {
      for (Role r : {Role::client, Role::server}) REQUIRE(op_bytes(res, r, "products") == 4 * 16 * 8);  // x - A once, not per weight
      REQUIRE(op_rounds(res, "products") == 1);
    }
  }
}

TEST_CASE("mmul_sv_x in 2pc-dealer from key files: the dealer run deals one mask for x, the online run reads it") {
  const FixedPoint fxp;
  const RingTensor x = random_fixed({3, 8}, -1.0, 1.0, fxp);
  const std::vector<RingTensor> ws{random_fixed({8, 5}, -1.0, 1.0, fxp), random_fixed({8, 5}, -1.0, 1.0, fxp)};
  const std::string dir = (std::filesystem::temp_directory_path() / ("marill_mmul_sv_x_" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  SessionConfig cfg;
  cfg.setting = Setting::two_pc_dealer;
  cfg.correlations.source = CorrelationSourceKind::key_files;
  cfg.correlations.key_dir = dir;
  std::mutex mu;
  std::vector<RingTensor> got;
  auto program = [&](Backend& be) {
    std::vector<PrivateWeight> weights;
    for (const RingTensor& w : ws)
      weights.push_back(be.setup_private_weight(Private{Role::server, be.role() == Role::server ? w : RingTensor::phantom(w.shape()), fxp.frac_bits}));
    Shared sx = be.input(Role::client, be.role() == Role::client ? x : RingTensor::phantom(x.shape()));
    std::vector<RingTensor> opened;
    for (const Shared& y : be.mmul_sv_x(sx, {&weights[0], &weights[1]})) opened.push_back(be.reveal(y, Role::client));
    if (be.role() == Role::client) {
      std::lock_guard<std::mutex> lock(mu);
      got = opened;
    }
  };
  deal_key_files(BackendOptions{cfg.fxp, false, cfg.policy, cfg.correlations}, dir, program);
  run_session(cfg, program);  // reads every record in order, or fails naming the first that differs
  std::filesystem::remove_all(dir);
  REQUIRE(got.size() == 2u);
  for (size_t i = 0; i < 2; ++i) REQUIRE(got[i].values() == matmul(x, ws[i]).values());
}

TEST_CASE("negative_part: min(x, 0) exactly in every setting, 2pc-dealer at 8 B and 1 bit per element in 2 rounds") {
  const int bits = 24;
  std::vector<u64> vals;
  for (i64 v : {i64{0}, i64{1}, i64{-1}, i64{5}, i64{-5}, (i64{1} << 22) - 1, -(i64{1} << 22), i64{12345}, i64{-98765}}) vals.push_back(static_cast<u64>(v));
  const RingTensor x(Shape{static_cast<i64>(vals.size())}, vals);
  for (Setting st : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc}) {
    INFO(setting_name(st));
    const auto [got, res] = opened_by_client(
        st, [&](Backend& be) { return Inputs{be.input(Role::client, held(be, Role::client, x))}; },
        [&](Backend& be, const Inputs& in) { return be.negative_part(in[0], bits); });
    for (size_t i = 0; i < vals.size(); ++i) REQUIRE(static_cast<i64>(got[static_cast<i64>(i)]) == std::min<i64>(static_cast<i64>(vals[i]), 0));
    if (st == Setting::two_pc_dealer) {
      // x + r, then the select bit c = [x < 0] ^ u, packed (ltz_gate.h)
      for (Role r : {Role::client, Role::server}) REQUIRE(op_bytes(res, r, "op") == 8 * static_cast<u64>(vals.size()) + (vals.size() + 7) / 8);
      REQUIRE(op_rounds(res, "op") == 2);
    }
  }
}

TEST_CASE("mul_cols: x times a per-row value equals the cleartext product in every setting, 2pc-dealer opens the row value once") {
  const FixedPoint fxp;
  const RingTensor x = random_fixed({3, 7}, -2.0, 2.0, fxp), y = random_fixed({3, 1}, -2.0, 2.0, fxp);
  RingTensor expected(Shape{3, 7});
  for (i64 i = 0; i < 3; ++i)
    for (i64 j = 0; j < 7; ++j) expected[i * 7 + j] = x[i * 7 + j] * y[i];
  for (Setting st : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc}) {
    INFO(setting_name(st));
    const auto [got, res] = opened_by_client(
        st, [&](Backend& be) { return Inputs{be.input(Role::client, held(be, Role::client, x)), be.input(Role::server, held(be, Role::server, y))}; },
        [](Backend& be, const Inputs& in) { return be.mul_cols(in[0], in[1]); });
    REQUIRE(got.values() == expected.values());
    if (st == Setting::two_pc_dealer)
      for (Role r : {Role::client, Role::server}) REQUIRE(op_bytes(res, r, "op") == (3 * 7 + 3) * 8);  // x - a and y - b, once per row
  }
  SessionConfig cfg;
  cfg.setting = Setting::cleartext;
  REQUIRE_THROWS_WITH(run_session(cfg, [](Backend& be) { be.mul_cols(be.constant(RingTensor(Shape{3, 7})), be.constant(RingTensor(Shape{3, 2}))); }),
                      Catch::Contains("mul_cols: want x (..., C) and y (..., 1)"));
}

TEST_CASE("mul_rows: ragged rows times their row value equal the cleartext product in every setting, 2pc-dealer opens each row value once") {
  const FixedPoint fxp;
  const RowLengths rows{6, 2, 3, 3};  // causal-like rows of 2, 3, 3, 2, 3, 3
  const i64 n = rows.total();
  REQUIRE(n == 16);
  const RingTensor x = random_fixed({n}, -2.0, 2.0, fxp), y = random_fixed({rows.rows}, -2.0, 2.0, fxp);
  RingTensor expected(Shape{n});
  for (i64 r = 0, e = 0; r < rows.rows; ++r)
    for (i64 j = 0; j < rows[r]; ++j, ++e) expected[e] = x[e] * y[r];
  for (Setting st : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc}) {
    INFO(setting_name(st));
    const auto [got, res] = opened_by_client(
        st, [&](Backend& be) { return Inputs{be.input(Role::client, held(be, Role::client, x)), be.input(Role::server, held(be, Role::server, y))}; },
        [&](Backend& be, const Inputs& in) { return be.mul_rows(in[0], in[1], rows); });
    REQUIRE(got.values() == expected.values());
    if (st == Setting::two_pc_dealer)
      for (Role r : {Role::client, Role::server}) REQUIRE(op_bytes(res, r, "op") == static_cast<u64>(n + rows.rows) * 8);
  }
  SessionConfig cfg;
  cfg.setting = Setting::cleartext;
  REQUIRE_THROWS_WITH(run_session(cfg, [&](Backend& be) { be.mul_rows(be.constant(RingTensor(Shape{15})), be.constant(RingTensor(Shape{6})), rows); }),
                      Catch::Contains("mul_rows: x 15 and y 6 for 6 rows of 16 elements"));
}

TEST_CASE("private weights: bad shapes and missing set-up are clear errors") {
  SessionConfig cfg;
  cfg.setting = Setting::cleartext;
  REQUIRE_THROWS_WITH(run_session(cfg, [](Backend& be) { be.setup_private_weight(Private{Role::server, RingTensor(Shape{3}), 16}); }),
                      Catch::Contains("(k,n)"));
  REQUIRE_THROWS_WITH(run_session(cfg, [](Backend& be) { be.mmul_sv(be.constant(RingTensor(Shape{2, 3})), PrivateWeight{}); }),
                      Catch::Contains("no private weight"));
  REQUIRE(std::string(visibility_name(Visibility::private_value)) == "private");
}
