// `marill bench functions`: every function of the library (protocols/functions/functions.h) and the
// primitives beside them, one session per (setting, function, shape), costs read from the ledgers and,
// in real runs, the error against a double-precision reference on a stated input range.
//
// Conventions (those of functions.h's Cost lines): bytes are per element of the function's input
// (per score for softmax, masked scores of a causal block included; matmul: per output element),
// counted in the function's own op scope only (its inputs and the reveal for the error excluded).
// Online bytes are given per party; rounds are the session-wide online rounds of the scope; offline
// bytes are all parties' input-independent bytes (2pc-dealer: the dealer's material for both
// parties; 0 in 3pc today).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runner/runner.h"

namespace marill {

// The functions the bench knows, in table order.
const std::vector<std::string>& bench_function_names();
// Throws std::invalid_argument listing the known names if `name` is not one.
void check_bench_function(const std::string& name);
// The shapes run when no --shape is given: 4096 elements for element-wise functions; softmax rows
// of 128 (32 x 128) and of 2048 (2 x 2048); causal softmax a 128 x 128 prefill block; argmax
// 2 x 2048; norms 4 x 1024; matmul 64 x 64 (times 64 x 64).
std::vector<Shape> default_function_shapes(const std::string& name);
// "4096" or "32x128" -> {4096} / {32, 128}. Throws std::invalid_argument on anything else (zero,
// negative, more than two dimensions, trailing text).
Shape parse_function_shape(const std::string& text);

struct FunctionBenchPoint {
  Setting setting = Setting::three_pc;
  std::string function = "exp";
  Shape shape{4096};
  std::string policy;  // overrides of the setting's default policy ("silu=poly,exp=spline")
  Mode mode = Mode::real;
  int frac_bits = 16;
  std::uint64_t seed = 1;  // the inputs (uniform or log-uniform on the stated range)
};

struct FunctionPartyCost {
  Role role;
  u64 online_bytes = 0;
  // Online bytes by op path under the bench's scope ("gelu", "gelu/ltz", "softmax/exp/mul_trunc"):
  // where the function's bytes go (`bench functions --breakdown`).
  std::map<std::string, u64> by_op;
};

struct FunctionResult {
  FunctionBenchPoint point;
  std::string policy;       // the policy the parties ran (policy_str)
  std::string input_range;  // where the inputs were drawn, e.g. "[-24, 0]"
  i64 elements = 0;         // the divisor of every per-element figure
  std::vector<FunctionPartyCost> online;  // every party but a dealer, in session order
  u64 rounds = 0;
  u64 offline_bytes = 0;
  std::map<std::string, u64> offline_by_op;  // all parties' offline bytes by op path, as FunctionPartyCost::by_op
  bool has_error = false;   // real runs
  double max_abs_err = 0;
  double max_rel_err = -1;  // over outputs with |reference| >= 1e-2; < 0: not meaningful here
  double online_per_element() const;  // the largest party's
  double offline_per_element() const { return static_cast<double>(offline_bytes) / static_cast<double>(elements); }
};

// Runs one point (every party in this process). Throws std::invalid_argument on an unknown
// function, a shape the function cannot take or a bad policy; SessionError if a party fails.
FunctionResult run_function_bench(const FunctionBenchPoint& p);

// CSV: one row per result and online party.
struct FunctionRow {
  std::string setting, function, policy, shape, mode, party, input_range;
  i64 elements = 0;
  u64 online_bytes = 0, rounds = 0, offline_bytes = 0;
  double online_per_element = 0, offline_per_element = 0;
  std::string max_abs_err, max_rel_err;  // empty where not measured / not meaningful
};
std::vector<FunctionRow> function_rows(const FunctionResult& r);
const char* function_csv_header();
std::string csv_line(const FunctionRow& r);

}  // namespace marill
