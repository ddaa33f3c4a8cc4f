// The CLI's options (app/cli.h on Boost.Program_options): bad values are errors that name the
// option, never a crash or a message from deep inside (`bench layer --lora -1` once failed with
// "cannot create std::vector larger than max_size()").
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "app/cli.h"
#include "app/commands.h"

using namespace marill;

namespace {

// Calls a command with argv built from words (the words after the command's name).
int call(int (*command)(int, char**), std::vector<std::string> words) {
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  return command(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("bench layer: bad option values name the option", "[cli][errors]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(call(bench_layer, {"--lora", "-1"}), Contains("option '--lora'") && Contains("-1 is outside"));
  CHECK_THROWS_WITH(call(bench_layer, {"--lora", "0,8,x"}), Contains("'--lora'") && Contains("0,8,x"));
  CHECK_THROWS_WITH(call(bench_layer, {"--b", "abc"}), Contains("'--b'") && Contains("abc"));
  CHECK_THROWS_WITH(call(bench_layer, {"--b", "0"}), Contains("option '--b': 0 is outside"));
  CHECK_THROWS_WITH(call(bench_layer, {"--b"}), Contains("'--b'"));
  CHECK_THROWS_WITH(call(bench_layer, {"--b", "1", "--b", "2"}), Contains("'--b'"));
  CHECK_THROWS_WITH(call(bench_layer, {"--merge", "1,,2"}), Contains("'--merge'"));
  CHECK_THROWS_WITH(call(bench_layer, {"--merge", "0"}), Contains("option '--merge': 0 is outside"));
  CHECK_THROWS_WITH(call(bench_layer, {"--stage", "sideways"}), Contains("option '--stage'") && Contains("sideways"));
  CHECK_THROWS_WITH(call(bench_layer, {"--settings", "3pc,4pc"}), Contains("option '--settings'") && Contains("4pc"));
  CHECK_THROWS_WITH(call(bench_layer, {"--net", "moon"}), Contains("option '--net'") && Contains("moon"));
  CHECK_THROWS_WITH(call(bench_layer, {"--softmax", "3relu"}), Contains("option '--softmax'"));
  CHECK_THROWS_WITH(call(bench_layer, {"--arch", "bert"}), Contains("option '--arch'"));
  CHECK_THROWS_WITH(call(bench_layer, {"--fss", "maybe"}), Contains("option '--fss'"));
  CHECK_THROWS_WITH(call(bench_layer, {"--bogus", "1"}), Contains("unrecognised option '--bogus'"));
  CHECK_THROWS_WITH(call(bench_layer, {"--lor", "8"}), Contains("'--lor'"));  // no abbreviations
  CHECK_THROWS_WITH(call(bench_layer, {"extra"}), Contains("unexpected argument 'extra'"));
  CHECK_THROWS_WITH(call(bench_layer, {"--phantom", "yes"}), Contains("unexpected argument 'yes'"));  // flags take no value
}

TEST_CASE("bench primitives, dcf and matmul: bad option values name the option", "[cli][errors]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(call(bench_primitives, {"--frac-bits", "40"}), Contains("option '--frac-bits': 40 is outside [1, 30]"));
  CHECK_THROWS_WITH(call(bench_primitives, {"--settings", ""}), Contains("'--settings'"));
  CHECK_THROWS_WITH(call(bench_dcf, {"--count", "0"}), Contains("option '--count'"));
  CHECK_THROWS_WITH(call(bench_dcf, {"--reps", "three"}), Contains("'--reps'"));
  CHECK_THROWS_WITH(call(bench_ring_matmul, {"--reps", "-5"}), Contains("option '--reps'"));
}

TEST_CASE("bench layer through the runner writes the layer CSV schema", "[cli]") {
  const std::string path = "test_cli_layer.csv";
  REQUIRE(call(bench_layer, {"--phantom", "--settings", "3pc,2pc-dealer", "--fss", "on,off", "--d", "32", "--heads", "4", "--ffn", "64",
                             "--b", "4", "--merge", "1,2", "--lora", "0", "--csv", path}) == 0);
  std::ifstream in(path);
  std::string header, line;
  std::getline(in, header);
  CHECK(header == "setting,arch,stage,b,d,heads,merge,lora,fss,kind,party,bytes_sent,bytes_share,rounds,secure_macs,sim_time_s");
  int totals = 0, offline = 0;
  while (std::getline(in, line)) {
    totals += line.find(",(total),all,") != std::string::npos;
    offline += line.find(",(offline),all,") != std::string::npos;
  }
  CHECK(totals == 6);  // 3pc: m 1,2; 2pc-dealer: fss on,off x m 1,2
  CHECK(offline == 6);
  std::remove(path.c_str());
}

TEST_CASE("comma lists and flags parse as declared", "[cli]") {
  std::vector<std::string> words = {"--merge", "1,2,4", "--settings", "3pc,2pc-dealer", "--phantom", "--b", "-3", "pos"};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  Args a(static_cast<int>(argv.size()), argv.data(),
         {{"--merge", Opt::ints}, {"--settings", Opt::texts}, {"--phantom", Opt::flag}, {"--quick", Opt::flag}, {"--b", Opt::integer}},
         "usage", /*positional_allowed=*/true);
  CHECK(a.get_ints("--merge", {}, 1, 8) == std::vector<long long>{1, 2, 4});
  CHECK(a.get_texts("--settings", {}) == std::vector<std::string>{"3pc", "2pc-dealer"});
  CHECK(a.has("--phantom"));
  CHECK_FALSE(a.has("--quick"));
  CHECK(a.get_int("--b", 0, -10, 10) == -3);  // a negative number is a value, not an option
  CHECK(a.positional() == std::vector<std::string>{"pos"});
}
