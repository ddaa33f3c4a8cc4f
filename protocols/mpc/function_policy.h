// Which method each function of the library uses (DESIGN.md layer 4: the function policy), and the
// one registry of approximation names shared by packages, the secure model, the CLI and tests.
//
// A policy is plain data a backend holds (Backend::policy()), so functions written against the
// Backend interface read their method from it and never ask which setting they run in. Every
// party of a session must run the same policy (the dealer runs the same program and must emit the
// material of the same gates). The default per setting is the cheapest known method there:
// 2pc-dealer evaluates a spline in one FSS gate whatever its number of pieces, so splines win;
// in 3pc and cleartext a spline costs one comparison per knot, so polynomials win.
//
// Two kinds of entries:
// - methods (how a function is computed; any method gives the function within its stated error):
//   silu, gelu: spline | poly | relu (the ReLU approximation, MARILL's act=relu on that function)
//   exp:        spline | squaring
//   reciprocal, rsqrt (the mantissa step after range reduction): spline | iteration
// - approximations (MARILL §6.3: the model is trained with them, so a package fixes them):
//   softmax: exact | 2relu | 2quad     act (the MLP activation): exact | relu | quad
//
// Text form: "silu=poly,exp=spline" (comma-separated name=value; parse_policy overrides a base).
#pragma once

#include <string>
#include <vector>

#include "protocols/comm/roles.h"

namespace marill {

// ---- the approximation registry ----
enum class SoftmaxApprox { exact, relu2, quad2 };  // "exact" | "2relu" | "2quad"
enum class ActApprox { exact, relu, quad };        // "exact" | "relu" | "quad"; exact = SiLU / GeLU

const char* approx_name(SoftmaxApprox a);
const char* approx_name(ActApprox a);
std::string to_string(SoftmaxApprox a);
std::string to_string(ActApprox a);
// Throw std::invalid_argument ("unknown softmax approximation 'x' (exact, 2relu, 2quad)").
SoftmaxApprox parse_softmax_approx(const std::string& s);
ActApprox parse_act_approx(const std::string& s);
const std::vector<SoftmaxApprox>& all_softmax_approx();
const std::vector<ActApprox>& all_act_approx();

// ---- methods ----
enum class ActMethod { spline, poly, relu, cubic };  // cubic: a cubic spline (half the knots, one more product)
enum class ExpMethod { spline, squaring, cubic };
enum class InvMethod { spline, iteration };

const char* method_name(ActMethod m);
const char* method_name(ExpMethod m);
const char* method_name(InvMethod m);

struct FunctionPolicy {
  ActMethod silu = ActMethod::poly;
  ActMethod gelu = ActMethod::poly;
  ExpMethod exp = ExpMethod::squaring;
  InvMethod reciprocal = InvMethod::iteration;
  InvMethod rsqrt = InvMethod::iteration;
  SoftmaxApprox softmax = SoftmaxApprox::exact;
  ActApprox act = ActApprox::exact;

  bool operator==(const FunctionPolicy& o) const;
  bool operator!=(const FunctionPolicy& o) const { return !(*this == o); }
};

// 2pc-dealer: spline methods; 2pc: splines for the activations and exp, iterations for reciprocal
// and rsqrt; 3pc and cleartext: polynomial / iterative methods. Approximations exact.
FunctionPolicy default_policy(Setting s);

// `base` with the entries of `overrides` ("silu=poly,exp=spline"; empty: none) replaced. Throws
// std::invalid_argument naming an unknown function or method and listing the known ones.
FunctionPolicy parse_policy(const std::string& overrides, FunctionPolicy base);

// Every entry, in the text form parse_policy reads ("silu=spline,gelu=spline,...").
std::string policy_str(const FunctionPolicy& p);

}  // namespace marill
