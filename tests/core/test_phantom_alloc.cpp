// Phantom runs are shape-only end to end (DESIGN.md: mode): a phantom secure block allocates
// nothing that grows with its tensors. Seen through a probe on the global operator new of this test
// binary: while armed it records the largest single allocation of any thread (party actors run on
// their own threads). Two sanity checks show the probe sees tensor storage, on party threads too,
// so the phantom check cannot pass by not looking.
#include "tests/core/harness.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include "models/secure/block_weights.h"
#include "models/secure/secure_transformer.h"
#include "protocols/he/he_matmul.h"

namespace {

std::atomic<bool> g_armed{false};
std::atomic<std::size_t> g_largest{0};

void note(std::size_t n) {
  if (!g_armed.load(std::memory_order_relaxed)) return;
  std::size_t cur = g_largest.load(std::memory_order_relaxed);
  while (n > cur && !g_largest.compare_exchange_weak(cur, n, std::memory_order_relaxed)) {
  }
}

void* allocate(std::size_t n) {
  note(n);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}

// The largest single allocation while `f` runs.
template <class F>
std::size_t largest_allocation(F&& f) {
  g_largest = 0;
  g_armed = true;
  try {
    f();
  } catch (...) {
    g_armed = false;
    throw;
  }
  g_armed = false;
  return g_largest;
}

}  // namespace

// Replaceable global allocation functions (the array and nothrow forms of libstdc++ call these).
void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace marill;
using namespace marill::test;

TEST_CASE("the allocation probe sees tensor storage, on party threads too", "[phantom][alloc]") {
  const std::size_t big = largest_allocation([] { RingTensor t({1 << 20}); });
  CHECK(big >= (std::size_t{8} << 20));
  const std::size_t in_session = largest_allocation([] {
    RingTensor a = random_ring({512, 512});
    run_binary(Setting::three_pc, a, a, [](Backend& be, const Shared& x, const Shared& y) { return be.mul(x, y); });
  });
  CHECK(in_session >= std::size_t{512 * 512 * 8});
}

TEST_CASE("a phantom block allocates nothing that grows with its tensors", "[phantom][alloc]") {
  // T = 8192 tokens: the smallest tensor of the block, a (T, 1) row statistic, is 64 KB; the
  // scores are (h', T, T). Any data-sized buffer (values, index lists, masks, float weights)
  // is at least that. What a phantom run may allocate: shapes, ledgers, spline tables (the largest,
  // 18 KB: the reciprocal mantissa spline, fitted once), messages.
  const i64 T = 8192;
  const std::size_t row_stat_bytes = static_cast<std::size_t>(T) * sizeof(u64);
  for (Arch arch : {Arch::llama, Arch::gpt2})
    for (Setting st : secure_settings())
      for (i64 lora : {0, 8}) {
        BlockShape s;
        s.arch = arch;
        s.d_model = 64;
        s.n_heads = 4;
        s.ffn_dim = 256;
        s.merge = 2;
        const FloatBlock w = shape_only_block(s, lora);
        SessionConfig cfg;
        cfg.setting = st;
        cfg.phantom = true;
        // 2pc's HE context (NTT tables of N = 8192 coefficients, fixed by the parameters, not by the
        // tensors) is built once per process: build it before measuring.
        if (st == Setting::two_pc) (void)he_context(HeParams::standard());
        const std::size_t largest = largest_allocation([&] {
          run_session(cfg, [&](Backend& be) {
            SecureBlock blk = setup_block(be, w);
            KvCache cache;
            block_forward(be, blk, be.input(Role::client, RingTensor::phantom({T, s.d_model})), cache);  // prefill
            block_forward(be, blk, be.input(Role::client, RingTensor::phantom({1, s.d_model})), cache);  // decode
          });
        });
        INFO(arch_name(arch) << " " << setting_name(st) << " lora " << lora << ": largest allocation " << largest << " B");
        CHECK(largest < row_stat_bytes);
      }
}

TEST_CASE("weights as shapes: only a phantom run takes them", "[phantom]") {
  BlockShape s;
  s.d_model = 32;
  s.n_heads = 2;
  s.ffn_dim = 64;
  const FloatBlock w = shape_only_block(s, 0);
  CHECK(w.shape_only);
  CHECK(w.wq.w.empty());
  CHECK(w.w_gate.in == 32);
  CHECK(w.w_gate.out == 64);
  // The same structure as the random weights (what a real run of the same shape sets up).
  const FloatBlock r = random_block(s, 8);
  const FloatBlock ws = shape_only_block(s, 8);
  CHECK(ws.wo.lora_rank == r.wo.lora_rank);
  CHECK(ws.wo.w_public == r.wo.w_public);
  CHECK(ws.w_down.in == r.w_down.in);
  SessionConfig cfg;
  cfg.setting = Setting::cleartext;
  CHECK_THROWS_WITH(run_session(cfg, [&](Backend& be) { setup_block(be, w); }), Catch::Contains("shapes only"));
}
