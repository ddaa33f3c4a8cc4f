// Example 3: non-linear functions from the function library (protocols/functions/functions.h) in each
// setting: their error against double math and their online cost per element. In 2pc-dealer the
// activations and exp are single FSS spline gates (Backend::spline), elsewhere polynomials.
#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

#include "actors/session.h"
#include "protocols/functions/functions.h"

using namespace marill;

namespace {

struct Case {
  const char* name;
  double lo, hi;
  std::function<Shared(Backend&, const Shared&)> secure;
  std::function<double(double)> plain;
};

}  // namespace

int main() {
  const std::vector<Case> cases = {
      {"silu", -16, 16, [](Backend& be, const Shared& x) { return silu(be, x); },
       [](double x) { return x / (1 + std::exp(-x)); }},
      {"gelu", -8, 8, [](Backend& be, const Shared& x) { return gelu(be, x); },
       [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }},
      {"exp", -24, 0, [](Backend& be, const Shared& x) { return exp_neg(be, x); }, [](double x) { return std::exp(x); }},
  };
  const i64 n = 4096;
  std::printf("%-10s %-10s %12s %10s %8s %14s\n", "function", "setting", "max |err|", "B/elem", "rounds", "offline B/elem");
  for (const Case& c : cases) {
    std::vector<double> xs(static_cast<size_t>(n));
    for (i64 i = 0; i < n; ++i) xs[static_cast<size_t>(i)] = c.lo + (c.hi - c.lo) * static_cast<double>(i) / static_cast<double>(n - 1);
    for (Setting setting : {Setting::three_pc, Setting::two_pc_dealer}) {
      SessionConfig cfg;
      cfg.setting = setting;
      RingTensor x = cfg.fxp.encode(xs, {n});
      const std::vector<double> exact_in = cfg.fxp.decode(x);  // the inputs as the parties see them
      std::vector<double> got;
      SessionResult res = run_session(cfg, [&](Backend& be) {
        Shared a = be.input(Role::client, be.role() == Role::client ? x : RingTensor::phantom(x.shape()));
        RingTensor v = be.reveal(c.secure(be, a), Role::client);
        if (be.role() == Role::client) got = be.fxp().decode(v);
      });
      double err = 0;
      for (i64 i = 0; i < n; ++i) err = std::max(err, std::fabs(got[static_cast<size_t>(i)] - c.plain(exact_in[static_cast<size_t>(i)])));
      // Online bytes of the function's own scope (the input and the reveal are not counted).
      u64 bytes = 0, offline = 0;
      for (const auto& party : res.parties) {
        auto on = party.ledger.by_op(Phase::online).find(c.name);
        if (on != party.ledger.by_op(Phase::online).end()) bytes = std::max(bytes, on->second.bytes_sent);
        auto off = party.ledger.by_op(Phase::offline).find(c.name);
        if (off != party.ledger.by_op(Phase::offline).end()) offline += off->second.bytes_sent;
      }
      std::printf("%-10s %-10s %12.3g %10.1f %8llu %14.0f\n", c.name, setting_name(setting), err,
                  static_cast<double>(bytes) / static_cast<double>(n), static_cast<unsigned long long>(res.op_rounds(c.name)),
                  static_cast<double>(offline) / static_cast<double>(n));
    }
  }
  return 0;
}
