// `marill bench functions`: a table per setting of every function of the library (and the
// primitives mul/matmul/trunc/ltz for reference): online bytes per element per party, rounds,
// offline bytes per element and, in real runs, the error against double precision
// (runner/function_bench.h states the conventions). Optional CSV: one row per function and party.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/commands.h"
#include "runner/function_bench.h"
#include "runner/rows.h"

namespace marill {

namespace {
// Bytes per element by op path, one line per path, nested paths indented: the largest party's online
// bytes, then all parties' offline bytes (a dealer's keys).
void print_paths(const std::map<std::string, u64>& by_op, i64 elements, const char* who) {
  for (const auto& [path, bytes] : by_op) {
    const auto depth = std::count(path.begin(), path.end(), '/');
    std::printf("  %*s%-*s %9.1f  (%s)\n", static_cast<int>(2 * depth), "", static_cast<int>(30 - 2 * depth),
                path.substr(path.rfind('/') + 1).c_str(), static_cast<double>(bytes) / static_cast<double>(elements), who);
  }
}

void print_breakdown(const FunctionResult& r) {
  const FunctionPartyCost* most = nullptr;
  for (const FunctionPartyCost& p : r.online)
    if (!most || p.online_bytes > most->online_bytes) most = &p;
  if (most) print_paths(most->by_op, r.elements, role_name(most->role));
  print_paths(r.offline_by_op, r.elements, "offline");
}
}  // namespace

int bench_functions(int argc, char** argv) {
  Args args(argc, argv,
            {{"--settings", Opt::texts}, {"--functions", Opt::texts}, {"--shape", Opt::text}, {"--policy", Opt::text},
             {"--csv", Opt::text}, {"--phantom", Opt::flag}, {"--frac-bits", Opt::integer}, {"--seed", Opt::integer},
             {"--breakdown", Opt::flag}},
            "usage: marill bench functions [--settings 3pc,2pc-dealer,2pc,cleartext] [--functions exp,silu,softmax,...]\n"
            "                              [--shape N | --shape RxC] [--policy silu=poly,exp=spline] [--csv FILE]\n"
            "                              [--phantom] [--frac-bits 16] [--seed 1] [--breakdown]\n"
            "functions: exp reciprocal rsqrt silu gelu relu quad softmax softmax-causal softmax-2relu softmax-2quad\n"
            "           argmax rmsnorm layernorm ltz ltz-range trunc mul matmul (default: all)\n"
            "shapes (default): element-wise 4096; softmax rows of 128 (32x128) and of 2048 (2x2048); softmax-causal\n"
            "           128x128 (the last R queries of a C-token prefill); argmax 2x2048; norms 4x1024; matmul 64x64 (x 64x64)\n"
            "--breakdown: under each row, the largest party's bytes per element by op path (where they go)");
  if (args.help()) return 0;
  std::vector<Setting> settings;
  for (const auto& s : args.get_texts("--settings", {"3pc", "2pc-dealer", "2pc", "cleartext"}))
    settings.push_back(args.parsed("--settings", s, parse_setting));
  const std::vector<std::string> functions = args.get_texts("--functions", bench_function_names());
  for (const auto& f : functions) args.parsed("--functions", f, [](const std::string& n) { check_bench_function(n); return 0; });
  std::vector<Shape> shape_override;
  if (args.has("--shape")) shape_override = {args.parsed("--shape", args.get("--shape", ""), parse_function_shape)};
  const std::string policy = args.get("--policy", "");
  for (Setting s : settings) args.parsed("--policy", policy, [s](const std::string& t) { return parse_policy(t, default_policy(s)); });
  const Mode mode = args.has("--phantom") ? Mode::phantom : Mode::real;
  const int frac_bits = static_cast<int>(args.get_int("--frac-bits", 16, 1, 30));
  const auto seed = static_cast<std::uint64_t>(args.get_int("--seed", 1, 0, 1LL << 62));
  const bool breakdown = args.has("--breakdown");
  CsvWriter csv = args.has("--csv") ? CsvWriter(args.get("--csv", ""), function_csv_header()) : CsvWriter();

  std::printf("marill bench functions: %s runs, %d fractional bits (one ulp %.3g)\n", mode_name(mode), frac_bits, std::ldexp(1.0, -frac_bits));
  for (Setting st : settings) {
    std::printf("\n== %s (policy %s)\n", setting_name(st), policy_str(parse_policy(policy, default_policy(st))).c_str());
    bool header = false;
    for (const std::string& fn : functions) {
      for (const Shape& shape : shape_override.empty() ? default_function_shapes(fn) : shape_override) {
        FunctionBenchPoint p;
        p.setting = st;
        p.function = fn;
        p.shape = shape;
        p.policy = policy;
        p.mode = mode;
        p.frac_bits = frac_bits;
        p.seed = seed;
        const FunctionResult r = run_function_bench(p);
        const std::vector<FunctionRow> rows = function_rows(r);
        if (!header) {
          std::printf("%-15s %-9s", "function", "shape");
          for (const FunctionRow& row : rows) std::printf(" %9s", (row.party + " B/el").c_str());
          std::printf(" %7s %12s %10s %10s  %s\n", "rounds", "offl B/el", "max|err|", "max rel", "input range");
          header = true;
        }
        std::printf("%-15s %-9s", fn.c_str(), rows.front().shape.c_str());
        for (const FunctionRow& row : rows) std::printf(" %9.1f", row.online_per_element);
        std::printf(" %7llu %12.1f %10s %10s  %s\n", static_cast<unsigned long long>(r.rounds), r.offline_per_element(),
                    r.has_error ? rows.front().max_abs_err.c_str() : "-",
                    rows.front().max_rel_err.empty() ? "-" : rows.front().max_rel_err.c_str(), r.input_range.c_str());
        if (breakdown) print_breakdown(r);
        for (const FunctionRow& row : rows) csv.write(row);
      }
    }
  }
  std::printf("\nB/el: online bytes that party sent per element of the input (per score for softmax, masked scores of\n"
              "a causal block included; matmul: per output element), the function's own op scope only; rounds: its\n"
              "session-wide online rounds; offl B/el: all parties' offline bytes per element (2pc-dealer: the dealer's\n"
              "material for both parties); max rel: over outputs with |reference| >= 1e-2. Errors: real runs only.\n");
  return 0;
}

}  // namespace marill
