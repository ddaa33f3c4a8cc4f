// 2pc-dealer with key files: a dealer run of its own writes DIR/client.keys and DIR/server.keys,
// the online parties read them. Same online bytes and rounds as with the live dealer stream, the
// same outputs given the same dealer seed, and every kind of bad key file is a clear error.
#include "tests/core/harness.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "models/secure/block_weights.h"
#include "models/secure/secure_transformer.h"
#include "protocols/mpc/dealer_backend.h"
#include "protocols/mpc/key_file.h"
#include "runner/runner.h"

using namespace marill;
using namespace marill::test;

namespace {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name) {
    path = std::filesystem::temp_directory_path() / ("marill_keys_" + name + "_" + std::to_string(Prg::from_os().next_u64()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string str() const { return path.string(); }
};

// One block's forward pass (prefill then one decode step); the output is revealed to the client.
struct BlockProgram {
  BlockShape shape;
  FloatBlock weights;
  i64 T;
  std::mutex mu;
  RingTensor out;

  BlockProgram(Arch arch, i64 T_) : T(T_) {
    shape.arch = arch;
    shape.d_model = 32;
    shape.n_heads = 4;
    shape.ffn_dim = 64;
    weights = random_block(shape, 0);
  }
  Program program() {
    return [this](Backend& be) {
      SecureBlock blk = setup_block(be, weights);
      KvCache cache;
      const bool mine = be.role() == Role::client && !be.phantom();
      std::vector<double> x(static_cast<size_t>(T * shape.d_model));
      for (size_t i = 0; i < x.size(); ++i) x[i] = 0.25 * std::sin(0.37 * static_cast<double>(i));
      Shared in = be.input(Role::client, mine ? be.fxp().encode(x, {T, shape.d_model}) : RingTensor::phantom({T, shape.d_model}));
      Shared y = block_forward(be, blk, in, cache);
      Shared step = block_forward(be, blk, slice_rows(be, y), cache);
      RingTensor v = be.reveal(be.concat({y, step}, 0), Role::client);
      if (be.role() == Role::client) {
        std::lock_guard<std::mutex> lock(mu);
        out = v;
      }
    };
  }
  static Shared slice_rows(Backend& be, const Shared& y) {
    return be.map(y, [](const RingTensor& t) { return slice(t, 0, t.dim(0) - 1, t.dim(0)); });
  }
};

SessionConfig dealer_config(CorrelationSourceKind source, const std::string& dir, std::uint64_t seed) {
  SessionConfig cfg;
  cfg.setting = Setting::two_pc_dealer;
  cfg.recv_timeout = std::chrono::milliseconds(60000);
  cfg.correlations.source = source;
  cfg.correlations.key_dir = dir;
  cfg.correlations.dealer_seed = seed;
  return cfg;
}

BackendOptions dealer_options(const SessionConfig& cfg) { return BackendOptions{cfg.fxp, false, cfg.policy, cfg.correlations}; }

void require_same_online_costs(const SessionResult& a, const SessionResult& b) {
  for (Role r : {Role::client, Role::server}) {
    const auto& la = a.party(r).ledger;
    const auto& lb = b.party(r).ledger;
    REQUIRE(la.total(Phase::online).bytes_sent == lb.total(Phase::online).bytes_sent);
    REQUIRE(la.total(Phase::online).messages == lb.total(Phase::online).messages);
    REQUIRE(la.total(Phase::online).rounds == lb.total(Phase::online).rounds);
    for (const auto& [path, c] : la.by_op(Phase::online)) {
      INFO(role_name(r) << " " << path);
      auto it = lb.by_op(Phase::online).find(path);
      REQUIRE(it != lb.by_op(Phase::online).end());
      REQUIRE(it->second.bytes_sent == c.bytes_sent);
      REQUIRE(it->second.rounds == c.rounds);
    }
  }
}

}  // namespace

TEST_CASE("key files: a dealer run of its own, then the online run reads them: same costs and outputs as the live dealer") {
  for (Arch arch : {Arch::llama, Arch::gpt2}) {
    INFO(arch_name(arch));
    const std::uint64_t seed = 0x5eed0001;
    TempDir dir(arch_name(arch));

    BlockProgram live_prog(arch, 6);
    SessionResult live = run_session(dealer_config(CorrelationSourceKind::dealer_stream, "", seed), live_prog.program());

    BlockProgram file_prog(arch, 6);
    SessionConfig file_cfg = dealer_config(CorrelationSourceKind::key_files, dir.str(), seed);
    DealReport deal = deal_key_files(dealer_options(file_cfg), dir.str(), file_prog.program());
    SessionResult online = run_session(file_cfg, file_prog.program());

    REQUIRE(online.parties.size() == 2);  // no dealer in the online run
    REQUIRE(file_prog.out.defined());
    REQUIRE(file_prog.out.values() == live_prog.out.values());  // same dealer seed: same outputs
    require_same_online_costs(live, online);

    // The dealer run books what the live dealer sends (less its two 16-byte PRG keys, which the key
    // files carry in their headers), and the files hold that plus headers and record framing.
    const u64 live_offline = live.party(Role::dealer).ledger.total(Phase::offline).bytes_sent;
    REQUIRE(deal.ledger.total(Phase::offline).bytes_sent + 32 == live_offline);
    REQUIRE(deal.file_bytes[0] + deal.file_bytes[1] > deal.ledger.total(Phase::offline).bytes_sent);
    REQUIRE(deal.file_bytes[0] + deal.file_bytes[1] < deal.ledger.total(Phase::offline).bytes_sent + 64 * 1024);
    // Derived values go to whichever party has received fewer words (DerivedBalance): the two files
    // differ by less than the largest single value plus the files' framing, not by all of them.
    const double c_bytes = static_cast<double>(deal.file_bytes[0]), s_bytes = static_cast<double>(deal.file_bytes[1]);
    INFO("client.keys " << c_bytes << " B, server.keys " << s_bytes << " B");
    REQUIRE(std::abs(c_bytes - s_bytes) < 0.02 * (c_bytes + s_bytes));  // all to the server: 14%
    const KeyFileHeader hc = read_key_file_header(key_file_path(dir.str(), 0));
    const KeyFileHeader hs = read_key_file_header(key_file_path(dir.str(), 1));
    REQUIRE(hc.run_id == hs.run_id);
    REQUIRE(hc.party == 0);
    REQUIRE(hs.party == 1);
    REQUIRE(hc.prg_key != hs.prg_key);
  }
}

TEST_CASE("key files: without a seed two dealer runs deal different material, and outputs still agree up to truncation") {
  TempDir a("a"), b("b");
  BlockProgram pa(Arch::llama, 3), pb(Arch::llama, 3);
  SessionConfig ca = dealer_config(CorrelationSourceKind::key_files, a.str(), 0), cb = dealer_config(CorrelationSourceKind::key_files, b.str(), 0);
  ca.correlations.dealer_seed.reset();
  cb.correlations.dealer_seed.reset();
  deal_key_files(dealer_options(ca), a.str(), pa.program());
  deal_key_files(dealer_options(cb), b.str(), pb.program());
  REQUIRE(read_key_file_header(key_file_path(a.str(), 0)).prg_key != read_key_file_header(key_file_path(b.str(), 0)).prg_key);
  run_session(ca, pa.program());
  run_session(cb, pb.program());
  // Truncations round up or down depending on the masks: values agree within a few units.
  REQUIRE(max_ring_diff(pa.out, pb.out) < 64);
}

TEST_CASE("key files: bad files are clear errors naming the file") {
  TempDir dir("bad");
  BlockProgram prog(Arch::llama, 4);
  SessionConfig cfg = dealer_config(CorrelationSourceKind::key_files, dir.str(), 7);
  deal_key_files(dealer_options(cfg), dir.str(), prog.program());
  const std::string client = key_file_path(dir.str(), 0), server = key_file_path(dir.str(), 1);

  SECTION("missing directory") {
    SessionConfig c = cfg;
    c.correlations.key_dir = dir.str() + "/nowhere";
    REQUIRE_THROWS_WITH(run_session(c, prog.program()), Catch::Contains("cannot be opened") && Catch::Contains("client.keys"));
  }
  SECTION("another program than the dealer's") {
    BlockProgram other(Arch::llama, 5);  // a longer prompt: other shapes
    REQUIRE_THROWS_WITH(run_session(cfg, other.program()), Catch::Contains("another program"));
  }
  SECTION("a program that uses less than the files hold") {
    Program shorter = [](Backend& be) {
      Shared x = be.input(Role::client, be.role() == Role::client ? RingTensor(Shape{4}) : RingTensor::phantom({4}));
      be.trunc(x, 8);
    };
    REQUIRE_THROWS_WITH(run_session(cfg, shorter), Catch::Contains("another program"));
  }
  SECTION("truncated file") {
    const auto size = std::filesystem::file_size(server);
    std::filesystem::resize_file(server, size / 2);
    REQUIRE_THROWS_WITH(run_session(cfg, prog.program()), Catch::Contains("server.keys") && Catch::Contains("truncated"));
  }
  SECTION("files swapped between the parties") {
    std::filesystem::rename(client, dir.path / "tmp");
    std::filesystem::rename(server, client);
    std::filesystem::rename(dir.path / "tmp", server);
    REQUIRE_THROWS_WITH(run_session(cfg, prog.program()), Catch::Contains("written for the"));
  }
  SECTION("not a key file") {
    std::ofstream(client, std::ios::trunc) << "hello";
    REQUIRE_THROWS_WITH(run_session(cfg, prog.program()), Catch::Contains("not a marill key file"));
  }
  SECTION("phantom runs read no key files") {
    SessionConfig c = cfg;
    c.phantom = true;
    REQUIRE_THROWS_WITH(run_session(c, prog.program()), Catch::Contains("size-only"));
  }
}

TEST_CASE("size-only source: a phantom online run without a dealer sends the online bytes and rounds of a real one") {
  BlockProgram real_prog(Arch::gpt2, 4), ph_prog(Arch::gpt2, 4);
  SessionResult real = run_session(dealer_config(CorrelationSourceKind::dealer_stream, "", 3), real_prog.program());
  SessionConfig ph = dealer_config(CorrelationSourceKind::size_only, "", 3);
  ph.phantom = true;
  SessionResult phantom = run_session(ph, ph_prog.program());
  REQUIRE(phantom.parties.size() == 2);
  require_same_online_costs(real, phantom);
}

TEST_CASE("runner: deal a point, then run it from the key files: the client opens the live run's output") {
  TempDir dir("runner");
  Point p;
  p.setting = Setting::two_pc_dealer;
  p.model.d_model = 32;
  p.model.n_heads = 4;
  p.model.ffn_dim = 64;
  p.b = 6;
  p.blocks = 2;
  p.reveal_output = true;
  p.correlations.dealer_seed = 99;
  const PointResult live = run_point(p);
  REQUIRE(live.output_sha256.size() == 64);

  const DealReport deal = deal_point(p, dir.str());
  Point online = p;
  online.correlations.source = CorrelationSourceKind::key_files;
  online.correlations.key_dir = dir.str();
  const PointResult files = run_point(online);
  REQUIRE(files.output_sha256 == live.output_sha256);
  require_same_online_costs(live.session, files.session);
  REQUIRE(deal.ledger.total(Phase::offline).bytes_sent + 32 == live.session.party(Role::dealer).ledger.total(Phase::offline).bytes_sent);

  Point bad = online;
  bad.setting = Setting::three_pc;
  REQUIRE_THROWS_WITH(run_point(bad), Catch::Contains("2pc-dealer only"));
  Point phantom = p;
  phantom.mode = Mode::phantom;
  REQUIRE_THROWS_WITH(deal_point(phantom, dir.str()), Catch::Contains("phantom"));
}
