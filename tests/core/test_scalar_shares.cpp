// Rank-0 (scalar) tensors and shares: a rank-0 tensor holds one value; a default-constructed
// tensor holds none. Both have shape {}, so shape checks must also compare element counts, and a
// 3pc share of a rank-0 tensor must keep its second component through local ops.
#include "tests/core/harness.h"

#include "protocols/ring/ring.h"

using namespace marill;
using namespace marill::test;

TEST_CASE("a default tensor is not a rank-0 tensor", "[ring][scalar]") {
  RingTensor none;
  RingTensor scalar(Shape{});
  CHECK_FALSE(none.defined());
  CHECK(scalar.defined());
  CHECK(RingTensor(Shape{0}).defined());  // zero elements, but a tensor of shape {0}
  CHECK(RingTensor::phantom(Shape{}).defined());
  CHECK(none.numel() == 0);
  CHECK(scalar.numel() == 1);
  CHECK(scalar.rank() == 0);
}

TEST_CASE("shape checks tell a default tensor from a rank-0 one", "[ring][scalar][errors]") {
  RingTensor none;
  RingTensor scalar(Shape{}, {7});
  CHECK_THROWS_WITH(require_same_shape(none, scalar, "probe"), Catch::Contains("probe") && Catch::Contains("empty"));
  CHECK_THROWS_AS(marill::add(scalar, none), std::invalid_argument);
  CHECK_THROWS_AS(marill::mul_elem(none, scalar), std::invalid_argument);
  CHECK_THROWS_AS(marill::sub(RingTensor::phantom(Shape{}), none), std::invalid_argument);
  RingTensor acc = scalar;
  CHECK_THROWS_AS(add_inplace(acc, none), std::invalid_argument);
  CHECK_NOTHROW(require_same_shape(scalar, RingTensor(Shape{}, {9}), "probe"));
  CHECK(marill::add(scalar, RingTensor(Shape{}, {9}))[0] == 16);
}

TEST_CASE("a share missing a component is refused, not read out of bounds", "[backend][scalar][errors]") {
  // A Shared whose operand is an empty default tensor must fail the shape check in every setting.
  for (Setting s : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(s));
    SessionConfig cfg;
    cfg.setting = s;
    cfg.recv_timeout = std::chrono::milliseconds(5000);
    CHECK_THROWS_WITH(run_session(cfg,
                                  [](Backend& be) {
                                    Shared real = be.constant(RingTensor(Shape{}, {1}));
                                    Shared broken;  // default: no tensor at all
                                    be.add(real, broken);
                                  }),
                      Catch::Contains("shape mismatch"));
  }
}

TEST_CASE("rank-0 inputs survive local ops, mul, trunc and reveal in every setting", "[backend][scalar]") {
  const FixedPoint fxp{};
  const RingTensor a(Shape{}, {fxp.encode(1.75)}), b(Shape{}, {fxp.encode(-2.5)});
  for (Setting s : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(s));
    // (a + b) * (a - b) goes through add/sub (both components kept) and then mul, which reads both.
    RingTensor got = run_binary(s, a, b, [](Backend& be, const Shared& x, const Shared& y) {
      return be.mul(be.add(x, y), be.sub(x, y));
    });
    REQUIRE(got.shape() == Shape{});
    REQUIRE(got.numel() == 1);
    CHECK(got[0] == (a[0] + b[0]) * (a[0] - b[0]));
    RingTensor prod = run_binary(s, a, b, [](Backend& be, const Shared& x, const Shared& y) {
      return be.mul_trunc(be.neg(x), be.scale(y, 2));
    });
    REQUIRE(prod.numel() == 1);
    CHECK(std::abs(fxp.decode(prod[0]) - 1.75 * 5.0) <= 2.0 / (1 << fxp.frac_bits));
    RingTensor sign = run_binary(s, a, b, [](Backend& be, const Shared& x, const Shared& y) {
      return be.ltz(be.add_scalar(y, 0));
    });
    REQUIRE(sign.numel() == 1);
    CHECK(sign[0] == 1);
  }
}

TEST_CASE("rank-0 shares concatenate and reshape with both components", "[backend][scalar]") {
  const RingTensor a(Shape{}, {5}), b(Shape{}, {11});
  for (Setting s : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(s));
    RingTensor got = run_binary(s, a, b, [](Backend& be, const Shared& x, const Shared& y) {
      auto as_row = [](const RingTensor& t) { return t.reshaped({1}); };
      Shared pair = be.concat({be.map(x, as_row), be.map(y, as_row)}, 0);  // (2): [a, b]
      return be.mul(pair, pair);
    });
    REQUIRE(got.shape() == Shape{2});
    CHECK(got[0] == 25);
    CHECK(got[1] == 121);
  }
}
