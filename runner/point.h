// One point of the design space, typed: what runs (a secure block of a model shape, or one
// primitive), where (setting, network), with which MARILL configuration, stage, batch and mode.
// A point is all a party needs besides its own inputs to build its program (runner/runner.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "models/secure/secure_transformer.h"
#include "protocols/mpc/function_policy.h"
#include "sim/compute_model.h"
#include "sim/network.h"

namespace marill {

enum class Stage : std::uint8_t { prefill, decode };
enum class Mode : std::uint8_t { real, phantom };  // phantom: shapes only, the same bytes and rounds
// What the point runs: one private block or one primitive (whole-model generation: runner/generation.h).
enum class Workload : std::uint8_t { block, primitive };

const char* stage_name(Stage s);
const char* mode_name(Mode m);
Stage parse_stage(const std::string& s);  // throw std::invalid_argument naming the accepted values
Mode parse_mode(const std::string& s);

// MARILL's knobs that change the secure program (paper §5-6). Overrides the model shape's own.
struct MarillConfig {
  int merge = 1;  // m: heads merged into groups of m
  i64 lora = 0;   // LoRA rank on every private linear (0: the linears' weights are private)
  SoftmaxApprox softmax = SoftmaxApprox::exact;
  ActApprox act = ActApprox::exact;
};

// One secure primitive on operands of the given shapes (b unused for unary ops).
struct PrimitiveOp {
  std::string op;  // mul | matmul | trunc | ltz | spline
  Shape a, b;
  std::string shape_label() const;  // "1024", "64x64x64" (matmul: m x k x n)
  i64 out_elements() const;
};

struct Point {
  Setting setting = Setting::three_pc;
  NetworkModel network = network_preset("lan");
  Workload workload = Workload::block;
  BlockShape model;       // model shape (a block's, for now); its merge/approximations come from `marill`
  PrimitiveOp primitive;  // Workload::primitive
  MarillConfig marill;
  // The functions' methods: the setting's default policy (fss_gates: 2pc-dealer's spline gates) or
  // 3pc's polynomial methods (false), with the MARILL approximations above and these overrides
  // ("silu=poly,exp=spline", protocols/mpc/function_policy.h) on top.
  bool fss_gates = true;
  std::string policy;
  // 2pc-dealer: where the gates' material comes from (the dealer's live stream, key files a dealer
  // run wrote, or nothing: size-only phantom runs), and an optional seed for the dealer's randomness.
  CorrelationOptions correlations;
  int blocks = 1;               // identical private blocks run one after the other (each set up once)
  bool reveal_output = false;   // after "forward": the output opened to the client (its SHA-256 in the result)
  Stage stage = Stage::prefill;
  i64 b = 128;  // prompt tokens (prefill), or tokens in the KV cache before the new one (decode)
  Mode mode = Mode::real;
  int frac_bits = 16;
  std::uint32_t weight_seed = 7;  // the server's random weights (and the public base weights)
  // Phantom runs' compute: seconds per unit of counted work (sim/compute_model.h; `marill calibrate`).
  std::shared_ptr<const ComputeModel> compute_model = builtin_compute_model();

  BlockShape block_shape() const;
  FunctionPolicy function_policy() const;  // the model shape with the MARILL config applied
  i64 step_tokens() const { return stage == Stage::prefill ? b : 1; }
  // Throws std::invalid_argument naming the bad field.
  void validate() const;
};

}  // namespace marill
