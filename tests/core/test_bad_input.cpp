// Bad input gives a clear error, never a crash or a hang.
#include "tests/core/harness.h"

#include "actors/frame.h"
#include "protocols/comm/comm.h"

using namespace marill;
using namespace marill::test;

TEST_CASE("unknown setting and role names are named in the error", "[errors]") {
  CHECK_THROWS_WITH(parse_setting("4pc"), Catch::Contains("unknown setting '4pc'"));
  CHECK_THROWS_WITH(parse_role("king"), Catch::Contains("unknown role 'king'"));
}

TEST_CASE("shape mismatches fail the session with the shapes named", "[errors]") {
  for (Setting s : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(s));
    RingTensor a = random_ring({4, 3}), b = random_ring({3, 4});
    CHECK_THROWS_WITH(run_binary(s, a, b, [](Backend& be, const Shared& x, const Shared& y) { return be.mul(x, y); }),
                      Catch::Contains("shape mismatch 4x3 vs 3x4"));
    CHECK_THROWS_WITH(run_binary(s, a, a, [](Backend& be, const Shared& x, const Shared& y) { return be.matmul(x, y); }),
                      Catch::Contains("inner dimensions differ"));
  }
}

TEST_CASE("a message of the wrong size is a clear error for every party", "[errors]") {
  SessionConfig cfg;
  cfg.setting = Setting::three_pc;
  cfg.recv_timeout = std::chrono::milliseconds(5000);
  std::vector<std::uint8_t> bytes(16, 1);
  CHECK_THROWS_WITH(run_session(cfg, [&](Backend& be) {
                      if (be.role() == Role::client) be.comm()->send_bytes(Role::server, bytes.data(), 16);
                      if (be.role() == Role::server) be.comm()->recv_bytes(Role::client, 8);
                    }),
                    Catch::Contains("client sent 16 bytes where the protocol expects 8"));
}

TEST_CASE("a peer that never answers times out instead of hanging", "[errors]") {
  SessionConfig cfg;
  cfg.setting = Setting::two_pc_dealer;
  cfg.recv_timeout = std::chrono::milliseconds(300);
  auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(run_session(cfg, [&](Backend& be) {
                      if (be.role() == Role::server) be.comm()->recv_bytes(Role::client, 8);
                    }),
                    Catch::Contains("timed out") && Catch::Contains("waiting for client"));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
}

TEST_CASE("a party that fails aborts its peers at once with the root cause", "[errors]") {
  SessionConfig cfg;
  cfg.setting = Setting::three_pc;
  cfg.recv_timeout = std::chrono::milliseconds(60000);  // the abort, not the timeout, must end it
  auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(run_session(cfg, [&](Backend& be) {
                      if (be.role() == Role::helper) throw std::runtime_error("helper ran out of disk");
                      be.comm()->recv_bytes(Role::helper, 8);
                    }),
                    Catch::Contains("helper: helper ran out of disk"));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
}

TEST_CASE("garbage and truncated frames are rejected before allocation", "[errors]") {
  CHECK_THROWS_AS(decode_frame(std::vector<std::uint8_t>{1, 2, 3}), ProtocolError);
  FrameHeader h;
  h.payload_bytes = 64;
  std::vector<std::uint8_t> payload(64, 9);
  auto ok = encode_frame(h, payload.data(), payload.size());
  CHECK(decode_frame(std::vector<std::uint8_t>(ok)).payload.size() == 64);
  auto truncated = ok;
  truncated.resize(ok.size() - 1);
  CHECK_THROWS_WITH(decode_frame(std::move(truncated)), Catch::Contains("declares 64 payload bytes"));
  auto bad_magic = ok;
  bad_magic[0] ^= 0xff;
  CHECK_THROWS_WITH(decode_frame(std::move(bad_magic)), Catch::Contains("bad magic"));
  FrameHeader huge;
  huge.payload_bytes = u64{1} << 60;  // a lie about the size: rejected without allocating it
  CHECK_THROWS_AS(decode_frame(encode_frame(huge, nullptr, 0)), ProtocolError);
}

