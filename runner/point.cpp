#include "runner/point.h"

#include <stdexcept>

namespace marill {

const char* stage_name(Stage s) { return s == Stage::prefill ? "prefill" : "decode"; }
const char* mode_name(Mode m) { return m == Mode::real ? "real" : "phantom"; }

Stage parse_stage(const std::string& s) {
  if (s == "prefill") return Stage::prefill;
  if (s == "decode") return Stage::decode;
  throw std::invalid_argument("unknown stage '" + s + "' (expected prefill or decode)");
}

Mode parse_mode(const std::string& s) {
  if (s == "real") return Mode::real;
  if (s == "phantom") return Mode::phantom;
  throw std::invalid_argument("unknown mode '" + s + "' (expected real or phantom)");
}

std::string PrimitiveOp::shape_label() const {
  if (op == "matmul" && a.size() == 2 && b.size() == 2)
    return std::to_string(a[0]) + "x" + std::to_string(a[1]) + "x" + std::to_string(b[1]);
  return shape_str(a);
}

i64 PrimitiveOp::out_elements() const { return op == "matmul" ? a[0] * b[1] : shape_numel(a); }

BlockShape Point::block_shape() const {
  BlockShape s = model;
  s.merge = marill.merge;
  return s;
}

FunctionPolicy Point::function_policy() const {
  FunctionPolicy base = default_policy(fss_gates ? setting : Setting::three_pc);
  base.softmax = marill.softmax;
  base.act = marill.act;
  return parse_policy(policy, base);
}

void Point::validate() const {
  if (frac_bits < 1 || frac_bits > 30) throw std::invalid_argument("point: frac_bits " + std::to_string(frac_bits) + " is outside [1, 30]");
  if (workload == Workload::primitive) {
    const auto& p = primitive;
    const bool known = p.op == "mul" || p.op == "matmul" || p.op == "trunc" || p.op == "ltz" || p.op == "spline";
    if (!known) throw std::invalid_argument("point: unknown primitive '" + p.op + "' (expected mul, matmul, trunc, ltz or spline)");
    if (p.a.empty() || shape_numel(p.a) <= 0) throw std::invalid_argument("point: primitive " + p.op + " needs a non-empty shape");
    if (p.op == "matmul" && (p.a.size() != 2 || p.b.size() != 2 || p.a[1] != p.b[0]))
      throw std::invalid_argument("point: matmul needs shapes (m, k) and (k, n), got " + shape_str(p.a) + " and " + shape_str(p.b));
    return;
  }
  if (b < 1) throw std::invalid_argument("point: b " + std::to_string(b) + " must be at least 1");
  if (blocks < 1 || blocks > 4096) throw std::invalid_argument("point: blocks " + std::to_string(blocks) + " is outside [1, 4096]");
  if (correlations.source != CorrelationSourceKind::dealer_stream && setting != Setting::two_pc_dealer)
    throw std::invalid_argument(std::string("point: the ") + correlation_source_name(correlations.source) + " correlation source serves 2pc-dealer only");
  if (correlations.source == CorrelationSourceKind::key_files && correlations.key_dir.empty())
    throw std::invalid_argument("point: key files need their directory");
  if (marill.merge < 1) throw std::invalid_argument("point: merge " + std::to_string(marill.merge) + " must be at least 1");
  if (marill.lora < 0) throw std::invalid_argument("point: LoRA rank " + std::to_string(marill.lora) + " must not be negative");
  if (model.d_model < 1 || model.n_heads < 1 || model.ffn_dim < 1)
    throw std::invalid_argument("point: model shape d " + std::to_string(model.d_model) + ", heads " + std::to_string(model.n_heads) +
                                ", ffn " + std::to_string(model.ffn_dim) + " must be positive");
  block_shape().validate();
  function_policy();  // throws on unknown names in the overrides
}

}  // namespace marill
