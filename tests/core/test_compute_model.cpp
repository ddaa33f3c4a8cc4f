// The compute model of phantom runs (sim/compute_model.h): the kernels' work counters are the same
// in a real and a phantom run of one point, party by party; phantom time grows with the work; a
// calibration file round-trips and a bad one is a clear error naming the file and the key.
// (Timings are never compared with the wall clock here: the counters and the model are.)
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "runner/runner.h"
#include "sim/compute_model.h"

using namespace marill;

namespace {

Point block_point(Setting st, i64 d, i64 heads, i64 b, Stage stage, Mode mode) {
  Point p;
  p.setting = st;
  p.model.d_model = d;
  p.model.n_heads = heads;
  p.model.ffn_dim = 2 * d;
  p.b = b;
  p.stage = stage;
  p.mode = mode;
  return p;
}

// Every party's counters of a real and a phantom run of `p` (the dealer's offline keygen is not
// modelled in phantom runs: only the online parties are compared).
void require_same_work(Point p) {
  p.mode = Mode::real;
  const PointResult real = run_point(p);
  p.mode = Mode::phantom;
  const PointResult phantom = run_point(p);
  REQUIRE(real.session.parties.size() == phantom.session.parties.size());
  for (size_t i = 0; i < real.session.parties.size(); ++i) {
    const PartyReport& r = real.session.parties[i];
    const PartyReport& f = phantom.session.parties[i];
    REQUIRE(r.role == f.role);
    if (r.role == Role::dealer) continue;
    INFO(setting_name(p.setting) << " " << role_name(r.role) << "\n  real:    " << r.work.str() << "\n  phantom: " << f.work.str());
    CHECK(r.work[WorkKind::gemm_mac] + r.work[WorkKind::gemm_thin_mac] > 0);
    CHECK(r.work == f.work);
  }
}

std::string temp_path(const char* name) { return std::string("/tmp/marill_test_") + name; }

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string error_of(const std::string& path) {
  try {
    ComputeModel::load(path);
  } catch (const CalibrationError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("work counters of a real and a phantom run are equal per party", "[compute_model]") {
  for (Setting st : {Setting::three_pc, Setting::two_pc_dealer, Setting::two_pc}) {
    SECTION(std::string(setting_name(st)) + " prefill d32 h4 b8") { require_same_work(block_point(st, 32, 4, 8, Stage::prefill, Mode::real)); }
    SECTION(std::string(setting_name(st)) + " prefill d48 h3 b40") { require_same_work(block_point(st, 48, 3, 40, Stage::prefill, Mode::real)); }
    SECTION(std::string(setting_name(st)) + " decode d32 h4 b16") { require_same_work(block_point(st, 32, 4, 16, Stage::decode, Mode::real)); }
  }
  SECTION("gpt2 block, lora 4, merged heads, 2pc-dealer") {
    Point p = block_point(Setting::two_pc_dealer, 32, 4, 8, Stage::prefill, Mode::real);
    p.model.arch = Arch::gpt2;
    p.marill.lora = 4;
    p.marill.merge = 2;
    require_same_work(p);
  }
  SECTION("2pc-dealer without a dealer (size-only phantom) counts what the dealer stream delivers") {
    Point p = block_point(Setting::two_pc_dealer, 32, 4, 8, Stage::prefill, Mode::real);
    const PointResult real = run_point(p);
    p.mode = Mode::phantom;
    p.correlations.source = CorrelationSourceKind::size_only;
    const PointResult phantom = run_point(p);
    for (Role r : {Role::client, Role::server}) {
      // The dealer stream's one difference: the PRG key the dealer sends at set-up (a message of 16
      // bytes, received in one op scope), which a run without a dealer has no use for.
      WorkCounts expected = real.session.party(r).work;
      expected[WorkKind::msg] -= 1;
      expected[WorkKind::msg_byte] -= 16;
      expected[WorkKind::op_call] -= 1;
      INFO(role_name(r) << "\n  real:    " << expected.str() << "\n  phantom: " << phantom.session.party(r).work.str());
      CHECK(expected == phantom.session.party(r).work);
    }
  }
}

TEST_CASE("phantom simulated time grows with the counted work", "[compute_model]") {
  // Network-free clocks would hide nothing here: the LAN's latency is the same in both runs, so the
  // growth comes from the modelled compute of the doubled batch.
  for (Setting st : {Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(st));
    const PointResult small = run_point(block_point(st, 64, 4, 64, Stage::prefill, Mode::phantom));
    const PointResult big = run_point(block_point(st, 64, 4, 128, Stage::prefill, Mode::phantom));
    const PartyReport& s = small.session.party(Role::server);
    const PartyReport& b = big.session.party(Role::server);
    // b doubled: the linear layers' GEMM work (every product has b rows) doubles; attention's grows more.
    const u64 gemm_s = s.work[WorkKind::gemm_mac] + s.work[WorkKind::gemm_thin_mac];
    const u64 gemm_b = b.work[WorkKind::gemm_mac] + b.work[WorkKind::gemm_thin_mac];
    CHECK(gemm_b >= 2 * gemm_s);
    const auto model = builtin_compute_model();
    CHECK(model->seconds(b.work) > 1.9 * model->seconds(s.work));
    CHECK(big.session.online_time_s() > small.session.online_time_s());
    // The clock carries the modelled compute: with it off, the same runs see the network only.
    Point p = block_point(st, 64, 4, 128, Stage::prefill, Mode::phantom);
    ComputeModel none = *model;
    none.seconds_per_unit.fill(0);
    p.compute_model = std::make_shared<const ComputeModel>(none);
    const double network_only = run_point(p).session.online_time_s();
    CHECK(big.session.online_time_s() - network_only == Approx(model->seconds(big.session.party(Role::server).work)).epsilon(0.5));
    CHECK(big.session.online_time_s() > network_only + 0.5 * model->seconds(b.work));
  }
}

TEST_CASE("the compute model is the sum of each kind's units times its seconds per unit", "[compute_model]") {
  ComputeModel m;
  m[WorkKind::gemm_mac] = 2e-11;
  m[WorkKind::msg] = 1e-6;
  WorkCounts w;
  w[WorkKind::gemm_mac] = 1000000;
  w[WorkKind::msg] = 10;
  w[WorkKind::ring_elem] = 12345;  // at 0 s per unit
  CHECK(m.seconds(w) == Approx(2e-5 + 1e-5));
  // A threaded kind is charged at its speedup on a party's two cores.
  m.parallel_speedup[static_cast<size_t>(WorkKind::gemm_mac)] = 2.0;
  CHECK(m.seconds(w) == Approx(1e-5 + 1e-5));
}

TEST_CASE("a calibration file round-trips", "[compute_model]") {
  ComputeModel m = *builtin_compute_model();
  for (int i = 0; i < kWorkKinds; ++i) m.seconds_per_unit[static_cast<size_t>(i)] = 1e-9 * (i + 1) / 3.0;
  m.machine = MachineInfo{"Test CPU @ 1 GHz", 7, "2026-01-02T03:04:05Z", "abc123"};
  m.fit_json = R"({"gemm_mac":{"r2":0.99}})";
  m.parallel_speedup[static_cast<size_t>(WorkKind::dcf_eval_level)] = 1.75;
  const std::string path = temp_path("calibration_roundtrip.json");
  m.save(path);
  const ComputeModel back = ComputeModel::load(path);
  CHECK(back.seconds_per_unit == m.seconds_per_unit);
  CHECK(back.parallel_speedup == m.parallel_speedup);
  CHECK(back.machine.cpu_model == "Test CPU @ 1 GHz");
  CHECK(back.machine.cores == 7);
  CHECK(back.machine.date == "2026-01-02T03:04:05Z");
  CHECK(back.machine.commit == "abc123");
  CHECK(back.to_json() == m.to_json());
  std::remove(path.c_str());
}

TEST_CASE("the built-in calibration names its machine and covers every kind", "[compute_model]") {
  const auto m = builtin_compute_model();
  CHECK_FALSE(m->machine.cpu_model.empty());
  CHECK(m->machine.cores > 0);
  for (int i = 0; i < kWorkKinds; ++i) {
    INFO(work_kind_name(static_cast<WorkKind>(i)));
    CHECK(m->seconds_per_unit[static_cast<size_t>(i)] >= 0);
  }
  CHECK((*m)[WorkKind::gemm_mac] > 0);
  CHECK((*m)[WorkKind::dcf_eval_level] > 0);
}

TEST_CASE("a malformed calibration file is an error naming the file and the key", "[compute_model]") {
  const std::string good = builtin_compute_model()->to_json();
  const std::string path = temp_path("calibration_bad.json");
  SECTION("truncated") {
    write_file(path, good.substr(0, good.size() / 2));
    const std::string e = error_of(path);
    CHECK_THAT(e, Catch::Contains(path));
    CHECK_THAT(e, Catch::Contains("not valid JSON"));
  }
  SECTION("unknown kind") {
    std::string text = good;
    text.replace(text.find("\"gemm_mac\""), 10, "\"gemm_flop\"");
    write_file(path, text);
    const std::string e = error_of(path);
    CHECK_THAT(e, Catch::Contains(path));
    CHECK_THAT(e, Catch::Contains("seconds_per_unit.gemm_flop"));
    CHECK_THAT(e, Catch::Contains("unknown work kind"));
  }
  SECTION("a kind missing") {
    std::string text = good;
    const size_t at = text.find("\"msg_byte\"");
    text.replace(at, text.find('\n', at) - at, "\"x_ignored\": 0,");
    text.replace(text.find("\"x_ignored\": 0,"), 15, "");
    write_file(path, text);
    const std::string e = error_of(path);
    CHECK_THAT(e, Catch::Contains(path));
    CHECK_THAT(e, Catch::Contains("seconds_per_unit.msg_byte"));
    CHECK_THAT(e, Catch::Contains("missing"));
  }
  SECTION("a parallel speedup below 1") {
    std::string text = good;
    const size_t at = text.find("\"dcf_eval_level\": ", text.find("\"parallel_speedup\"")) + 18;
    text.replace(at, text.find_first_of(",\n", at) - at, "0.5");
    write_file(path, text);
    CHECK_THAT(error_of(path), Catch::Contains("parallel_speedup.dcf_eval_level': speedup must be a number in [1, 1024], got 0.5"));
  }
  SECTION("a value that is not a number, or negative") {
    std::string text = good;
    const size_t at = text.find("\"ring_elem\": ") + 13;
    text.replace(at, text.find_first_of(",\n", at) - at, "\"fast\"");
    write_file(path, text);
    CHECK_THAT(error_of(path), Catch::Contains("seconds_per_unit.ring_elem': not a number"));
    text = good;
    text.replace(at, text.find_first_of(",\n", at) - at, "-1e-9");
    write_file(path, text);
    CHECK_THAT(error_of(path), Catch::Contains("seconds_per_unit.ring_elem': seconds per unit must be in [0, 1]"));
  }
  SECTION("no machine") {
    std::string text = good;
    text.replace(text.find("\"cpu_model\""), 11, "\"cpu_name\"");
    write_file(path, text);
    CHECK_THAT(error_of(path), Catch::Contains("machine.cpu_model"));
  }
  SECTION("a file that is not there") { CHECK_THAT(error_of("/nonexistent/marill.json"), Catch::Contains("/nonexistent/marill.json: cannot open")); }
  std::remove(path.c_str());
}
