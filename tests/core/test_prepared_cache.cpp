// The KV cache kept prepared (Backend::append_rows / matmul_cache): products with a cache that grows
// by rows equal the plain products in every setting; in 2pc-dealer each row is opened once, so a
// decode step's online bytes no longer grow with the cache by S·d; phantom runs send exactly the
// bytes and rounds of real ones.
#include "tests/core/harness.h"
#include "tests/core/phantom_check.h"

#include "models/secure/block_weights.h"
#include "models/secure/secure_transformer.h"

using namespace marill;
using namespace marill::test;

namespace {

constexpr i64 kHeads = 2, kWidth = 3;

// Rows appended in steps of `steps` rows each; after every append, one scores product (x·cacheᵀ)
// and one context product (p·cache), both revealed to the client and checked against ring matmul
// of the plain cache. Returns the session (for costs).
SessionResult run_cache_steps(Setting st, const std::vector<i64>& steps, bool phantom) {
  std::vector<RingTensor> rows, queries, probs;
  i64 S = 0;
  for (i64 t : steps) {
    S += t;
    rows.push_back(random_ring({kHeads, t, kWidth}));
    queries.push_back(random_ring({kHeads, 1, kWidth}));
    probs.push_back(random_ring({kHeads, 1, S}));
  }
  SessionConfig cfg;
  cfg.setting = st;
  cfg.phantom = phantom;
  cfg.recv_timeout = std::chrono::milliseconds(30000);
  std::mutex mu;
  std::vector<RingTensor> got_scores, got_ctx;
  SessionResult res = run_session(cfg, [&](Backend& be) {
    auto mine = [&](Role r, const RingTensor& v) {
      return ((be.role() == r || be.setting() == Setting::cleartext) && !phantom) ? v : RingTensor::phantom(v.shape());
    };
    Shared cache;
    for (size_t i = 0; i < steps.size(); ++i) {
      cache = be.append_rows(cache, be.input(Role::server, mine(Role::server, rows[i])));
      Shared q = be.input(Role::client, mine(Role::client, queries[i]));
      Shared p = be.input(Role::client, mine(Role::client, probs[i]));
      RingTensor sc = be.reveal(be.matmul_cache(q, cache, true), Role::client);
      RingTensor cx = be.reveal(be.matmul_cache(p, cache, false), Role::client);
      if (be.role() == Role::client) {
        std::lock_guard<std::mutex> lock(mu);
        got_scores.push_back(sc);
        got_ctx.push_back(cx);
      }
    }
  });
  if (!phantom) {
    REQUIRE(got_scores.size() == steps.size());
    for (size_t i = 0; i < steps.size(); ++i) {
      std::vector<RingTensor> so_far(rows.begin(), rows.begin() + static_cast<long>(i) + 1);
      RingTensor full = concat(so_far, 1);
      CHECK(max_ring_diff(got_scores[i], matmul(queries[i], transpose_last2(full))) == 0);
      CHECK(max_ring_diff(got_ctx[i], matmul(probs[i], full)) == 0);
    }
  }
  return res;
}

u64 online_bytes(const SessionResult& r, const std::string& op) {
  u64 sum = 0;
  for (const PartyReport& p : r.parties) {
    auto it = p.ledger.by_op(Phase::online).find(op);
    if (it != p.ledger.by_op(Phase::online).end()) sum += it->second.bytes_sent;
  }
  return sum;
}

}  // namespace

TEST_CASE("products with a cache grown by rows equal the plain products in every setting", "[prepared_cache]") {
  for (Setting st : {Setting::cleartext, Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(st));
    run_cache_steps(st, {4, 1, 1, 2, 1}, false);
  }
}

TEST_CASE("2pc-dealer opens each cached row once: a product's bytes are its left operand and the new rows", "[prepared_cache]") {
  // Two products per step: the scores product opens q (h·1·w) and the new rows (h·t·w), the context
  // product p (h·1·S) only; the old cost would reopen all S rows in both.
  SessionResult r = run_cache_steps(Setting::two_pc_dealer, {4, 1, 1}, false);
  u64 expected = 0;
  i64 S = 0;
  for (i64 t : {4, 1, 1}) {
    S += t;
    expected += static_cast<u64>(kHeads * (kWidth + t * kWidth) + kHeads * S) * 8;
  }
  CHECK(online_bytes(r, "matmul") == 2 * expected);  // client and server each
}

TEST_CASE("a cache product in a phantom run sends exactly the bytes and rounds of a real one", "[prepared_cache][phantom]") {
  for (Setting st : {Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(st));
    require_phantom_equals_real([&](bool phantom) { return run_cache_steps(st, {3, 1, 2}, phantom); });
  }
}

TEST_CASE("cache rows that do not extend the cache, and products with a cache not built by append_rows, are refused", "[prepared_cache][errors]") {
  SessionConfig cfg;
  cfg.setting = Setting::two_pc_dealer;
  cfg.phantom = true;
  run_session(cfg, [&](Backend& be) {
    Shared cache = be.append_rows(Shared{}, be.input(Role::server, RingTensor::phantom({2, 3, 4})));
    CHECK_THROWS_WITH(be.append_rows(cache, be.input(Role::server, RingTensor::phantom({2, 1, 5}))), Catch::Contains("do not extend"));
    CHECK_THROWS_WITH(be.append_rows(Shared{}, be.input(Role::server, RingTensor::phantom({4}))), Catch::Contains("(.., T, n)"));
    Shared plain = be.input(Role::server, RingTensor::phantom({2, 3, 4}));
    Shared q = be.input(Role::client, RingTensor::phantom({2, 1, 4}));
    CHECK_THROWS_WITH(be.matmul_cache(q, plain, true), Catch::Contains("append_rows"));
  });
}

TEST_CASE("a 2pc-dealer decode step's online bytes grow with the cache far less than by S·d", "[prepared_cache][transformer]") {
  // One LLaMA block, phantom: a decode step after a prompt of 8 and of 40 tokens. Before the cache
  // was prepared, K and V were reopened at every step: 2 parties · 2 · d · ΔS · 8 B more at the longer
  // context. Now only the attention's S-wide rows (scores, softmax, P) grow: a few values per head.
  BlockShape s;
  s.d_model = 128;
  s.n_heads = 2;  // the softmax's bytes grow with S per head (~130 B per score with FSS), the old reopening by S·d
  s.ffn_dim = 256;
  FloatBlock w = shape_only_block(s, 0);
  auto decode_bytes = [&](i64 prompt) {
    SessionConfig cfg;
    cfg.setting = Setting::two_pc_dealer;
    cfg.phantom = true;
    u64 before = 0, after = 0;
    std::mutex mu;
    run_session(cfg, [&](Backend& be) {
      SecureBlock blk = setup_block(be, w);
      KvCache cache;
      be.reveal(block_forward(be, blk, be.input(Role::client, RingTensor::phantom({prompt, s.d_model})), cache), Role::client);
      const u64 b0 = be.ledger().total(Phase::online).bytes_sent;
      be.reveal(block_forward(be, blk, be.input(Role::client, RingTensor::phantom({1, s.d_model})), cache), Role::client);
      const u64 b1 = be.ledger().total(Phase::online).bytes_sent;
      if (be.role() == Role::client) {
        std::lock_guard<std::mutex> lock(mu);
        before = b0;
        after = b1;
      }
    });
    return after - before;
  };
  const u64 short_ctx = decode_bytes(8), long_ctx = decode_bytes(40);
  const u64 old_growth = 2 * static_cast<u64>(s.d_model) * 32 * 8;  // K and V reopened by one party
  INFO("decode step bytes (client): " << short_ctx << " at 8, " << long_ctx << " at 40");
  REQUIRE(long_ctx > short_ctx);
  CHECK(long_ctx - short_ctx < old_growth / 4);
}
