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
  std::mutex mu;
  std::vector<RingTensor> got_scores, got_ctx;
  SessionResult res = run_session(test_session(st, phantom), [&](Backend& be) {
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

namespace {

// A causal prefill's scores product (heads 2, T = S = 6, width 4) with only the kept outputs (key
// j <= query t) truncated: the kept ones revealed to the client, next to the exact product. The
// session, and per kept output the exact floor of the product by 2^f, for costs and checks.
struct KeptRun {
  SessionResult session;
  RingTensor got, exact;  // (heads, T, S)
};

constexpr i64 kKeptT = 6;

OutputSubset causal_subset(i64 heads, i64 T) {
  OutputSubset kept;
  for (i64 h = 0; h < heads; ++h)
    for (i64 t = 0; t < T; ++t)
      for (i64 j = 0; j <= t; ++j) kept.pos.push_back((h * T + t) * T + j);
  kept.count = static_cast<i64>(kept.pos.size());
  return kept;
}

// One cache product: the server's rows appended to an empty cache, the client's left operand, `op`
// with the kept positions (a phantom run passes their count only); its result revealed to the client.
using CacheProduct = std::function<Shared(Backend&, const Shared& left, Shared& cache, const OutputSubset&)>;
KeptRun run_cache_product(Setting st, bool phantom, const RingTensor& rows, const RingTensor& left, const CacheProduct& op) {
  const OutputSubset kept = causal_subset(kHeads, kKeptT);
  KeptRun out;
  std::mutex mu;
  out.session = run_session(test_session(st, phantom), [&](Backend& be) {
    auto mine = [&](Role r, const RingTensor& v) {
      return ((be.role() == r || be.setting() == Setting::cleartext) && !phantom) ? v : RingTensor::phantom(v.shape());
    };
    Shared cache = be.append_rows(Shared{}, be.input(Role::server, mine(Role::server, rows)));
    Shared x = be.input(Role::client, mine(Role::client, left));
    OutputSubset subset = kept;
    if (phantom) subset.pos.clear();
    RingTensor got = be.reveal(op(be, x, cache, subset), Role::client);
    if (be.role() == Role::client) {
      std::lock_guard<std::mutex> lock(mu);
      out.got = got;
    }
  });
  return out;
}

KeptRun run_kept_scores(Setting st, bool phantom) {
  const FixedPoint fxp{};
  std::vector<double> kv(kHeads * kKeptT * 4), qv(kHeads * kKeptT * 4);
  for (size_t i = 0; i < kv.size(); ++i) {
    kv[i] = std::sin(0.7 * static_cast<double>(i)) * 2;
    qv[i] = std::cos(1.3 * static_cast<double>(i)) * 2;
  }
  const RingTensor K = fxp.encode(kv, {kHeads, kKeptT, 4}), Q = fxp.encode(qv, {kHeads, kKeptT, 4});
  KeptRun out = run_cache_product(st, phantom, K, Q, [](Backend& be, const Shared& q, Shared& cache, const OutputSubset& kept) {
    return be.matmul_cache_trunc_kept(q, cache, true, kept);
  });
  out.exact = shift_right_arith(matmul(Q, transpose_last2(K)), fxp.frac_bits);
  return out;
}

}  // namespace

TEST_CASE("a causal scores product truncates only the kept outputs, the rest zero, in every setting", "[prepared_cache]") {
  const OutputSubset kept = causal_subset(kHeads, kKeptT);
  for (Setting st : all_settings()) {
    INFO(setting_name(st));
    const KeptRun r = run_kept_scores(st, false);
    REQUIRE(r.got.numel() == r.exact.numel());
    size_t next = 0;
    for (i64 i = 0; i < r.got.numel(); ++i) {
      if (next < kept.pos.size() && kept.pos[next] == i) {
        const i64 d = static_cast<i64>(r.got[i] - r.exact[i]);
        CHECK(std::abs(d) <= 1);  // one truncation: floor or floor + 1
        ++next;
      } else {
        CHECK(r.got[i] == 0);  // never read: not truncated, zero
      }
    }
  }
}

TEST_CASE("the kept outputs cost what a product of that many outputs costs, phantom as real", "[prepared_cache][phantom]") {
  const OutputSubset kept = causal_subset(kHeads, kKeptT);
  const i64 all = kHeads * kKeptT * kKeptT;
  REQUIRE(kept.count < all);
  // 3pc: the fused product-and-truncation of kept outputs sends what matmul_trunc of a (kept x 1)
  // product sends; 2pc-dealer: the product opens its operands as before and truncates kept outputs
  // (8 B each per party).
  {
    const KeptRun r = run_kept_scores(Setting::three_pc, false);
    SessionResult flat = run_session(test_session(Setting::three_pc, true), [&](Backend& be) {
      be.matmul_trunc(be.input(Role::client, RingTensor::phantom({kept.count, 1})), be.input(Role::server, RingTensor::phantom({1, 1})));
    });
    CHECK(online_bytes(r.session, "matmul_trunc") == online_bytes(flat, "matmul_trunc"));
  }
  {
    const KeptRun r = run_kept_scores(Setting::two_pc_dealer, false);
    CHECK(online_bytes(r.session, "trunc") == static_cast<u64>(2 * 8 * kept.count));
  }
  for (Setting st : {Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(st));
    require_phantom_equals_real([&](bool phantom) { return run_kept_scores(st, phantom).session; });
  }
}

TEST_CASE("kept outputs outside the product, or a count that is not the positions', are refused", "[prepared_cache][errors]") {
  run_session(test_session(Setting::cleartext, false), [&](Backend& be) {
    Shared cache = be.append_rows(Shared{}, be.input(Role::server, RingTensor({1, 2, 3})));
    Shared q = be.input(Role::client, RingTensor({1, 2, 3}));
    CHECK_THROWS_WITH(be.matmul_cache_trunc_kept(q, cache, true, OutputSubset{1, {4}}), Catch::Contains("position 4 outside"));
    CHECK_THROWS_WITH(be.matmul_cache_trunc_kept(q, cache, true, OutputSubset{2, {0}}), Catch::Contains("1 positions"));
  });
}

namespace {

// A causal prefill's context product P (heads 2, T = S = 6) · V (cache of S rows, width 4), P zero
// outside the kept (query, key) pairs (as the causal softmax leaves it). The product truncated,
// revealed to the client, next to the exact product.
KeptRun run_sparse_context(Setting st, bool phantom) {
  const FixedPoint fxp{};
  std::vector<double> pv(kHeads * kKeptT * kKeptT), vv(kHeads * kKeptT * 4);
  for (size_t i = 0; i < pv.size(); ++i) pv[i] = 0.5 + 0.4 * std::sin(0.9 * static_cast<double>(i));
  for (size_t i = 0; i < vv.size(); ++i) vv[i] = std::cos(1.1 * static_cast<double>(i)) * 2;
  const OutputSubset kept = causal_subset(kHeads, kKeptT);
  const RingTensor V = fxp.encode(vv, {kHeads, kKeptT, 4});
  RingTensor P = fxp.encode(pv, {kHeads, kKeptT, kKeptT});
  P = scatter_flat(gather_flat(P, kept.pos, {kept.count}), kept.pos, P.shape());
  KeptRun out = run_cache_product(st, phantom, V, P, [](Backend& be, const Shared& p, Shared& cache, const OutputSubset& nonzero) {
    return be.matmul_cache_trunc_sparse(p, cache, false, nonzero);
  });
  out.exact = shift_right_arith(matmul(P, V), fxp.frac_bits);
  return out;
}

}  // namespace

TEST_CASE("a causal context product equals the plain product in every setting, and 2pc-dealer opens only the kept probabilities", "[prepared_cache]") {
  for (Setting st : all_settings()) {
    INFO(setting_name(st));
    const KeptRun r = run_sparse_context(st, false);
    REQUIRE(r.got.numel() == r.exact.numel());
    for (i64 i = 0; i < r.got.numel(); ++i) CHECK(std::abs(static_cast<i64>(r.got[i] - r.exact[i])) <= 1);  // floor or floor + 1
  }
  // 2pc-dealer: the product opens the kept entries of P - A (A is dealt zero elsewhere) and the cache's
  // rows not opened yet (all S of them, width 4), 8 B each per party.
  const OutputSubset kept = causal_subset(kHeads, kKeptT);
  const KeptRun r = run_sparse_context(Setting::two_pc_dealer, false);
  CHECK(online_bytes(r.session, "matmul") == static_cast<u64>(2 * 8 * (kept.count + kHeads * kKeptT * 4)));
  for (Setting st : {Setting::three_pc, Setting::two_pc_dealer}) {
    INFO(setting_name(st));
    require_phantom_equals_real([&](bool phantom) { return run_sparse_context(st, phantom).session; });
  }
}
