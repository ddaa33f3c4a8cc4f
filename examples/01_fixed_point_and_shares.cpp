// Example 1: fixed-point values on the ring Z_2^64, and a secret shared among three parties.
// Build: cmake --build build --target example_01_fixed_point_and_shares
#include <cstdio>
#include <vector>

#include "actors/session.h"

using namespace marill;

int main() {
  FixedPoint fxp;  // 16 fractional bits: 1.5 is the ring element 1.5 * 2^16
  RingTensor x = fxp.encode(std::vector<double>{1.5, -2.25, 3.0}, {3});
  std::printf("1.5 encodes as %llu; -2.25 as %llu (two's complement)\n", static_cast<unsigned long long>(x[0]),
              static_cast<unsigned long long>(x[1]));

  // The client secret-shares x; every party runs this same program on its own backend.
  SessionConfig cfg;
  cfg.setting = Setting::three_pc;
  run_session(cfg, [&](Backend& be) {
    Shared s = be.input(Role::client, be.role() == Role::client ? x : RingTensor::phantom(x.shape()));
    // Each party holds two of the three replicated shares; alone they look uniformly random.
    std::printf("%-6s holds shares starting %016llx %016llx\n", role_name(be.role()),
                static_cast<unsigned long long>(s.s0[0]), static_cast<unsigned long long>(s.s1[0]));
    Shared doubled = be.add(s, s);  // local: no communication
    RingTensor out = be.reveal(doubled, Role::client);
    if (be.role() == Role::client) {
      auto v = be.fxp().decode(out);
      std::printf("client opens 2x = %.2f %.2f %.2f\n", v[0], v[1], v[2]);
    }
  });
  return 0;
}
