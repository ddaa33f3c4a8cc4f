// `marill bench dcf`: DCF and LTZ micro benchmark (single thread): key bytes, keygen and eval
// time per element, for n = 64 and n = 32 over a batch of 2^16 elements (--count N).
// Times are the best of --reps runs (default 3); keygen includes first-touching the fresh key
// buffers (page faults), which the dealer pays too.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "app/cli.h"
#include "app/commands.h"
#include "protocols/fss/dcf.h"

namespace marill {
namespace {

double ns_per(double seconds, i64 count) { return count > 0 ? seconds * 1e9 / count : 0.0; }

template <class F>
double timed(F&& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int bench_dcf(int argc, char** argv) {
  Args args(argc, argv, {{"--count", Opt::integer}, {"--reps", Opt::integer}},
            "usage: marill bench dcf [--count N] [--reps R]  (defaults 65536, 3)");
  if (args.help()) return 0;
  const i64 count = args.get_int("--count", i64{1} << 16, 1, i64{1} << 30);
  const int reps = static_cast<int>(args.get_int("--reps", 3, 1, 1000000));

  Prg prg = Prg::from_os();
  const auto c = static_cast<std::size_t>(count);
  std::vector<u64> alpha(c), beta(c), x(c), y0(c), y1(c);
  std::printf("%-10s %6s %10s %14s %14s %14s\n", "gate", "n", "count", "key B/elem",
              "keygen ns/el", "eval ns/el");

  for (int n : {64, 32}) {
    const u64 mask = n == 64 ? ~u64{0} : (u64{1} << n) - 1;
    prg.fill(alpha.data(), c);
    prg.fill(beta.data(), c);
    prg.fill(x.data(), c);
    for (std::size_t i = 0; i < c; ++i) {
      alpha[i] &= mask;
      x[i] &= mask;
    }
    std::pair<DcfKeys, DcfKeys> keys;
    double tg = 1e30, te = 1e30;
    for (int r = 0; r < reps; ++r) {
      keys = {};  // free the previous keys first, so every run allocates fresh buffers
      tg = std::min(tg, timed([&] { keys = dcf_gen(n, alpha.data(), beta.data(), count, prg); }));
      te = std::min(te, timed([&] { dcf_eval(0, keys.first, x.data(), y0.data()); }));
    }
    dcf_eval(1, keys.second, x.data(), y1.data());
    std::size_t bad = 0;
    for (std::size_t i = 0; i < c; ++i) bad += (y0[i] + y1[i]) != (x[i] < alpha[i] ? beta[i] : 0);
    std::printf("%-10s %6d %10lld %14zu %14.1f %14.1f%s\n", "dcf", n,
                static_cast<long long>(count), dcf_key_bytes(n), ns_per(tg, count),
                ns_per(te, count), bad ? "  MISMATCH" : "");
    if (bad) return 1;
  }

  for (int n : {64, 32}) {
    prg.fill(alpha.data(), c);  // r_in
    prg.fill(x.data(), c);      // xhat
    std::pair<LtzKeys, LtzKeys> keys;
    double tg = 1e30, te = 1e30;
    for (int r = 0; r < reps; ++r) {
      keys = {};
      tg = std::min(tg, timed([&] { keys = ltz_gen(n, alpha.data(), count, prg); }));
      te = std::min(te, timed([&] { ltz_eval(0, keys.first, x.data(), y0.data()); }));
    }
    std::printf("%-10s %6d %10lld %14zu %14.1f %14.1f\n", "ltz", n, static_cast<long long>(count),
                ltz_key_bytes(n), ns_per(tg, count), ns_per(te, count));
  }
  return 0;
}

}  // namespace marill
