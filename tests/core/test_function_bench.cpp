// `marill bench functions` (runner/function_bench.h): its per-element figures are the ledger's bytes
// over the elements, its measured errors stay within the bounds tests/core/test_functions.cpp checks,
// phantom runs print the bytes and rounds of real ones, and bad options are clear errors.
#include "tests/core/harness.h"

#include <algorithm>
#include <string>
#include <vector>

#include "app/commands.h"
#include "protocols/functions/functions.h"
#include "runner/function_bench.h"

using namespace marill;
using namespace marill::test;

namespace {

constexpr double kUlp = 1.0 / 65536;

FunctionResult bench(Setting s, const std::string& fn, const Shape& shape, Mode mode = Mode::real, const std::string& policy = "") {
  FunctionBenchPoint p;
  p.setting = s;
  p.function = fn;
  p.shape = shape;
  p.mode = mode;
  p.policy = policy;
  return run_function_bench(p);
}

int call(std::vector<std::string> words) {
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  return bench_functions(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("bench functions: per-element figures are the ledger's bytes of the function over its elements", "[bench][functions]") {
  const i64 n = 1024;
  for (Setting s : secure_settings()) {
    INFO(setting_name(s));
    // The same function through the test harness, its own op scope read from the ledger.
    SessionResult res;
    run_binary(s, RingTensor::phantom({n}), RingTensor::phantom({1}), [](Backend& be, const Shared& x, const Shared&) { return relu(be, x); },
               &res, /*phantom=*/true);
    const FunctionResult r = bench(s, "relu", {n});
    REQUIRE(r.elements == n);
    u64 most = 0, offline = 0;
    for (const PartyOutcome& p : res.parties) offline += op_bytes(res, p.role, "relu", Phase::offline);
    REQUIRE_FALSE(r.online.empty());
    for (const FunctionPartyCost& c : r.online) {
      CHECK(c.online_bytes == op_bytes(res, c.role, "relu", Phase::online));
      most = std::max(most, c.online_bytes);
    }
    CHECK(most > 0);
    CHECK(r.online_per_element() == static_cast<double>(most) / static_cast<double>(n));
    CHECK(r.rounds == op_rounds(res, "relu"));
    CHECK(r.offline_bytes == offline);
    CHECK(r.offline_per_element() == static_cast<double>(offline) / static_cast<double>(n));
    if (s == Setting::two_pc_dealer) CHECK(offline > 0);  // the dealer's comparison keys
    // CSV rows carry the same figures, one per online party.
    const std::vector<FunctionRow> rows = function_rows(r);
    REQUIRE(rows.size() == r.online.size());
    for (size_t i = 0; i < rows.size(); ++i) CHECK(rows[i].online_bytes == r.online[i].online_bytes);
  }
}

TEST_CASE("bench functions: the breakdown by op path partitions the function's bytes", "[bench][functions]") {
  for (Setting s : {Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(s));
    const FunctionResult r = bench(s, "softmax", {4, 128}, Mode::phantom);
    for (const FunctionPartyCost& c : r.online) {
      INFO(role_name(c.role));
      REQUIRE(c.by_op.count("softmax"));
      CHECK(c.by_op.at("softmax") == c.online_bytes);
      // The softmax's direct sub-ops (max, exp, its normalisation's product, the reciprocal) and
      // the bytes sent in its own scope add up to it; every path lies under the function.
      u64 children = 0;
      for (const auto& [path, bytes] : c.by_op) {
        CHECK(path.compare(0, 7, "softmax") == 0);
        if (std::count(path.begin(), path.end(), '/') == 1) children += bytes;
      }
      CHECK(children > 0);
      CHECK(children <= c.online_bytes);
      CHECK(c.by_op.count("softmax/exp"));
      CHECK(c.by_op.count("softmax/max"));
    }
    // Offline (2pc-dealer: the dealer's keys) by the same paths: the function's path holds all of
    // it, its sub-ops' paths (the exp's spline keys, the max's comparison keys) part of it.
    if (s == Setting::two_pc_dealer) {
      REQUIRE(r.offline_by_op.count("softmax"));
      CHECK(r.offline_by_op.at("softmax") == r.offline_bytes);
      u64 children = 0;
      for (const auto& [path, bytes] : r.offline_by_op)
        if (std::count(path.begin(), path.end(), '/') == 1) children += bytes;
      CHECK(children > 0);
      CHECK(children <= r.offline_bytes);
      CHECK(r.offline_by_op.at("softmax/exp") > 0);
      CHECK(r.offline_by_op.at("softmax/max") > 0);
    } else {
      CHECK(r.offline_bytes == 0);
    }
  }
  CHECK(call({"--settings", "3pc", "--functions", "gelu", "--shape", "256", "--phantom", "--breakdown"}) == 0);
  CHECK(call({"--settings", "2pc-dealer", "--functions", "gelu", "--shape", "256", "--phantom", "--breakdown"}) == 0);
}

TEST_CASE("bench functions: the cleartext setting sends nothing", "[bench][functions]") {
  const FunctionResult r = bench(Setting::cleartext, "silu", {256});
  CHECK(r.online_per_element() == 0);
  CHECK(r.offline_bytes == 0);
  CHECK(r.has_error);
  CHECK(r.max_abs_err <= 3.5e-5);
}

TEST_CASE("bench functions: measured errors within the function tests' bounds", "[bench][functions]") {
  struct Bound {
    const char* fn;
    Shape shape;
    double max_abs;
  };
  // tests/core/test_functions.cpp's bounds (reciprocal: 2 ulp + 4e-5 of 1/x <= 1; rsqrt: of 1/sqrt(x) <= 10).
  const std::vector<Bound> bounds = {
      {"exp", {512}, 3 * kUlp},          {"reciprocal", {512}, 2 * kUlp + 4e-5}, {"rsqrt", {512}, 2 * kUlp + 4e-4},
      {"silu", {512}, 3.5e-5},           {"gelu", {512}, 3e-5},                  {"relu", {512}, 0},
      {"quad", {512}, kUlp},             {"softmax", {3, 128}, 3e-5},            {"softmax-causal", {12, 12}, 3e-5},
      {"softmax-2relu", {2, 128}, 3e-5}, {"softmax-2quad", {2, 128}, 3e-5},      {"argmax", {2, 100}, 0},
      {"rmsnorm", {7, 96}, 1.5e-4},      {"layernorm", {7, 96}, 1.5e-4},         {"ltz", {512}, 0},
      {"ltz-range", {512}, 0},
      {"trunc", {512}, 2 * kUlp},        {"mul", {512}, 1e-9},                   {"matmul", {8, 16}, 1e-9},
  };
  for (Setting s : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc}) {
    for (const Bound& b : bounds) {
      INFO(b.fn << " in " << setting_name(s));
      const FunctionResult r = bench(s, b.fn, b.shape);
      REQUIRE(r.has_error);
      CHECK(r.max_abs_err <= b.max_abs);
      // Relative error over outputs >= 1e-2: the same bound divided by the smallest such output.
      if (std::string(b.fn) == "reciprocal") CHECK(r.max_rel_err <= (2 * kUlp + 4e-5 * 1e-2) / 1e-2);
    }
  }
}

TEST_CASE("bench functions: an approximation's error is against the exact function", "[bench][functions]") {
  // silu=relu is MARILL's ReLU in place of SiLU: up to 0.28 off; the bench must show it, not hide it.
  const FunctionResult r = bench(Setting::three_pc, "silu", {512}, Mode::real, "silu=relu");
  CHECK(r.max_abs_err > 0.2);
  CHECK(r.max_abs_err < 0.3);
  CHECK(r.policy.find("silu=relu") != std::string::npos);
}

TEST_CASE("bench functions: phantom runs give the bytes and rounds of real runs", "[bench][functions][phantom]") {
  struct Case {
    const char* fn;
    Shape shape;
  };
  for (Setting s : secure_settings()) {
    for (const Case& c : {Case{"exp", {256}}, Case{"silu", {256}}, Case{"softmax", {2, 64}}, Case{"softmax-causal", {16, 16}},
                          Case{"argmax", {2, 64}}, Case{"rmsnorm", {2, 64}}, Case{"reciprocal", {128}}}) {
      INFO(c.fn << " in " << setting_name(s));
      const FunctionResult real = bench(s, c.fn, c.shape), phantom = bench(s, c.fn, c.shape, Mode::phantom);
      CHECK_FALSE(phantom.has_error);
      CHECK(phantom.rounds == real.rounds);
      CHECK(phantom.offline_bytes == real.offline_bytes);
      REQUIRE(phantom.online.size() == real.online.size());
      for (size_t i = 0; i < real.online.size(); ++i) CHECK(phantom.online[i].online_bytes == real.online[i].online_bytes);
    }
  }
}

TEST_CASE("bench functions: bad options are clear errors", "[bench][functions][cli][errors]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(call({"--functions", "exp,expp"}), Contains("option '--functions'") && Contains("unknown function 'expp'") && Contains("softmax"));
  CHECK_THROWS_WITH(call({"--shape", "0"}), Contains("option '--shape'") && Contains("bad shape '0'"));
  CHECK_THROWS_WITH(call({"--shape", "12x"}), Contains("option '--shape'") && Contains("bad shape '12x'"));
  CHECK_THROWS_WITH(call({"--shape", "2x3x4"}), Contains("bad shape '2x3x4'"));
  CHECK_THROWS_WITH(call({"--shape", "abc"}), Contains("bad shape 'abc'"));
  CHECK_THROWS_WITH(parse_function_shape("-4"), Contains("bad shape '-4'"));
  CHECK_THROWS_WITH(call({"--settings", "4pc"}), Contains("option '--settings'") && Contains("4pc"));
  CHECK_THROWS_WITH(call({"--policy", "silu=quartic"}), Contains("option '--policy'") && Contains("quartic"));
  CHECK_THROWS_WITH(bench(Setting::three_pc, "softmax-causal", {8, 4}), Contains("more queries than keys"));
  CHECK_THROWS_WITH(bench(Setting::three_pc, "sigmoid", {8}), Contains("unknown function 'sigmoid'"));
  CHECK(parse_function_shape("32x128") == Shape{32, 128});
  CHECK(parse_function_shape("4096") == Shape{4096});
}
