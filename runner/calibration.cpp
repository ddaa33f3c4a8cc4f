#include "runner/calibration.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <sys/mman.h>

#include <nlohmann/json.hpp>

#include "actors/frame.h"
#include "actors/memory_transport.h"
#include "protocols/comm/ledger.h"
#include "protocols/fss/dcf.h"
#include "protocols/fss/dpf.h"
#include "protocols/fss/ltz_gate.h"
#include "protocols/fss/spline_gate.h"
#include "protocols/ring/cpu_meter.h"
#include "protocols/ring/thread_pool.h"
#include "protocols/functions/functions.h"
#include "protocols/he/he_matmul.h"
#include "protocols/mpc/correlation_options.h"
#include "protocols/nonlinear/ot_gates.h"
#include "protocols/ot/ot_extension.h"
#include "protocols/ot/tccr_hash.h"
#include "protocols/ring/bits.h"
#include "protocols/ring/cpu_meter.h"
#include "protocols/ring/prg.h"

namespace marill {

namespace {

struct Sample {
  WorkCounts work;
  double cpu_s = 0;
};

// The least of `reps` timings of f() (CPU seconds of this thread and its kernel workers) with the
// work f counted once (f counts the same work every time). The least: on a shared machine other
// processes only ever add (cache and memory-bandwidth contention), and the accuracy check takes
// the best of its real runs too.
template <class F>
Sample measure(int reps, F&& f) {
  std::vector<double> t;
  WorkCounts once;
  for (int r = 0; r < reps; ++r) {
    const WorkCounts w0 = thread_work();
    const double c0 = party_cpu_seconds();
    f();
    t.push_back(party_cpu_seconds() - c0);
    once = thread_work() - w0;
  }
  return Sample{once, *std::min_element(t.begin(), t.end())};
}

// A two-party program with both parties in this process, each in its thread over the in-memory
// transport: prepare(comm, peer, side) sets a side up (side 0: the client) and returns the work to
// time; each side's counts and thread CPU, the least CPU of `reps` runs per side.
using SidePrepare = std::function<std::function<void()>(Comm&, Role peer, int side)>;
std::array<Sample, 2> two_party_best(int reps, const SidePrepare& prepare) {
  std::array<Sample, 2> best;
  best[0].cpu_s = best[1].cpu_s = 1e300;
  for (int r = 0; r < reps; ++r) {
    Sample got[2];
    auto party = [&](int i, Role peer) {
      return [&, i, peer](Comm& c) {
        const std::function<void()> work = prepare(c, peer, i);
        const WorkCounts w0 = thread_work();
        const double c0 = party_cpu_seconds();
        work();
        got[i] = Sample{thread_work() - w0, party_cpu_seconds() - c0};
      };
    };
    (void)run_comm_pair(Role::client, party(0, Role::server), Role::server, party(1, Role::client));
    for (int i = 0; i < 2; ++i)
      if (got[i].cpu_s < best[static_cast<size_t>(i)].cpu_s) best[static_cast<size_t>(i)] = got[i];
  }
  return best;
}

struct LineFit {
  double slope = 0, intercept = 0, r2 = 0;
};

LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
  LineFit f;
  const double den = n * sxx - sx * sx;
  if (x.size() < 2 || den <= 0) {
    f.slope = sx > 0 ? sy / sx : 0;  // one size: through the origin
    f.r2 = 1;
    return f;
  }
  f.slope = (n * sxy - sx * sy) / den;
  f.intercept = (sy - f.slope * sx) / n;
  double ss_res = 0, ss_tot = 0;
  const double my = sy / n;
  for (size_t i = 0; i < x.size(); ++i) {
    const double e = y[i] - (f.intercept + f.slope * x[i]);
    ss_res += e * e;
    ss_tot += (y[i] - my) * (y[i] - my);
  }
  f.r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 1;
  return f;
}

class Calibrator {
 public:
  explicit Calibrator(const CalibrationOptions& opt) : opt_(opt), reps_(opt.quick ? 3 : 5) {}

  // Fits `kind` from samples: the other kinds at the coefficients fitted so far.
  void fit(WorkKind kind, const std::vector<Sample>& samples, const char* bench) {
    std::vector<double> x, y;
    nlohmann::ordered_json pts = nlohmann::ordered_json::array();
    for (const Sample& s : samples) {
      WorkCounts others = s.work;
      others[kind] = 0;
      x.push_back(static_cast<double>(s.work[kind]));
      y.push_back(s.cpu_s - model_.seconds(others));
      pts.push_back({{"units", s.work[kind]}, {"cpu_s", s.cpu_s}, {"others_s", model_.seconds(others)}});
    }
    LineFit f = fit_line(x, y);
    if (!(f.slope > 0)) {  // noise swamped the kind: fall back to the ratio of the largest sample
      const size_t big = static_cast<size_t>(std::max_element(x.begin(), x.end()) - x.begin());
      f.slope = x[big] > 0 ? std::max(0.0, y[big] / x[big]) : 0;
    }
    model_[kind] = f.slope;
    report_[work_kind_name(kind)] = {{"benchmark", bench}, {"seconds_per_unit", f.slope}, {"intercept_s", f.intercept},
                                     {"r2", f.r2}, {"samples", pts}};
    if (opt_.log) {
      char line[256];
      std::snprintf(line, sizeof line, "  %-15s %10.3e s/unit  (intercept %9.2e s, R^2 %.4f, %zu sizes: %s)", work_kind_name(kind), f.slope,
                    f.intercept, f.r2, samples.size(), bench);
      opt_.log(line);
    }
  }

  ComputeModel run();

 private:
  void refine_on_real_runs();

  const CalibrationOptions& opt_;
  int reps_;
  ComputeModel model_;
  nlohmann::ordered_json report_;
};

RingTensor random_tensor(Prg& prg, const Shape& s) { return prg.random(s); }

ComputeModel Calibrator::run() {
  Prg prg = Prg::from_os();
  const bool q = opt_.quick;
  // Sizes of a block's tensors (b x d to b x ffn, and attention's h x b x b): the per-unit costs of
  // memory-bound kernels depend on where the data sits in the cache hierarchy.
  const std::vector<i64> elems = q ? std::vector<i64>{1 << 13, 1 << 16, 1 << 18} : std::vector<i64>{1 << 12, 1 << 14, 1 << 16, 1 << 17, 1 << 18, 1 << 19};

  {  // PRG: a fresh uniform tensor (AES-CTR into a new buffer)
    std::vector<Sample> s;
    for (i64 n : elems) s.push_back(measure(reps_, [&] { prg.random({n}); }));
    fit(WorkKind::prg_byte, s, "Prg::random of n elements");
  }
  {  // element-wise: add, mul, shift, in-place add (each a new or rewritten tensor)
    std::vector<Sample> s;
    for (i64 n : elems) {
      RingTensor a = random_tensor(prg, {n}), b = random_tensor(prg, {n});
      s.push_back(measure(reps_, [&] {
        RingTensor c = add(a, b);
        RingTensor d = mul_elem(c, b);
        RingTensor e = shift_right_arith(d, 16);
        add_inplace(e, a);
      }));
    }
    fit(WorkKind::ring_elem, s, "add, mul_elem, shift_right_arith, add_inplace of n elements");
  }
  {  // data movement: transpose, slice, concat, reshape copies
    std::vector<Sample> s;
    for (i64 n : elems) {
      const i64 rows = std::max<i64>(8, static_cast<i64>(std::sqrt(static_cast<double>(n))));
      RingTensor a = random_tensor(prg, {rows, n / rows});
      s.push_back(measure(reps_, [&] {
        RingTensor t = transpose_last2(a);
        RingTensor h = slice(a, 1, 0, a.dim(1) / 2);
        RingTensor c = concat({h, h}, 1);
        RingTensor r = c.reshaped({c.numel()});
      }));
    }
    fit(WorkKind::ring_copy, s, "transpose_last2, slice, concat, reshaped of n elements");
  }
  {  // packed GEMM (prefill-sized products)
    std::vector<Sample> s;
    const std::vector<std::array<i64, 3>> dims = q ? std::vector<std::array<i64, 3>>{{64, 256, 256}, {128, 512, 768}, {256, 768, 768}}
                                                   : std::vector<std::array<i64, 3>>{{64, 128, 128}, {64, 256, 256}, {128, 512, 768}, {128, 768, 2304}, {256, 768, 768}, {512, 512, 1024}};
    for (auto [m, k, n] : dims) {
      RingTensor a = random_tensor(prg, {m, k}), b = random_tensor(prg, {k, n});
      s.push_back(measure(reps_, [&] { matmul(a, b); }));
    }
    fit(WorkKind::gemm_mac, s, "matmul m x k x n, m > 32");
  }
  {  // thin GEMM (decode's matrix-vector products stream B)
    std::vector<Sample> s;
    const std::vector<std::array<i64, 3>> dims = q ? std::vector<std::array<i64, 3>>{{1, 512, 512}, {1, 768, 2304}, {8, 512, 2048}}
                                                   : std::vector<std::array<i64, 3>>{{1, 256, 256}, {1, 512, 512}, {1, 768, 2304}, {1, 1024, 4096}, {8, 512, 2048}, {32, 768, 768}};
    for (auto [m, k, n] : dims) {
      RingTensor a = random_tensor(prg, {m, k}), b = random_tensor(prg, {k, n});
      s.push_back(measure(reps_, [&] { matmul(a, b); }));
    }
    fit(WorkKind::gemm_thin_mac, s, "matmul m x k x n, m <= 32");
  }
  const std::vector<i64> gates = q ? std::vector<i64>{1 << 10, 1 << 13} : std::vector<i64>{1 << 9, 1 << 10, 1 << 11, 1 << 12, 1 << 13};
  std::vector<std::pair<LtzKeys, LtzKeys>> keys;
  {  // DCF key generation (the comparison gate's, 64-bit)
    std::vector<Sample> s;
    for (i64 n : gates) {
      RingTensor r = random_tensor(prg, {n});
      s.push_back(measure(reps_, [&] { ltz_gen(64, r.data(), n, prg); }));
      keys.push_back(ltz_gen(64, r.data(), n, prg));
    }
    fit(WorkKind::dcf_gen_level, s, "ltz_gen (DCF on 63 bits) of n elements");
  }
  {  // DCF evaluation: its CPU per level on all threads, then its speedup on them (wall clock, alone)
    std::vector<Sample> s;
    set_parallel_speedup(WorkKind::dcf_eval_level, 1.0);  // measure the CPU itself
    for (size_t i = 0; i < gates.size(); ++i) {
      RingTensor x = random_tensor(prg, {gates[i]}), out({gates[i]});
      s.push_back(measure(reps_, [&] { ltz_eval(0, keys[i].first, x.data(), out.data()); }));
    }
    fit(WorkKind::dcf_eval_level, s, "ltz_eval (DCF on 63 bits) of n elements");
    // 2^16 elements (tens of ms: long enough to time), best of several runs each way.
    const i64 big = i64{1} << 16;
    RingTensor r = random_tensor(prg, {big}), x = random_tensor(prg, {big}), out({big});
    const auto big_keys = ltz_gen(64, r.data(), big, prg);
    auto wall = [&] {
      double best = 1e30;
      for (int rep = 0; rep < std::max(reps_, 5); ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        ltz_eval(0, big_keys.first, x.data(), out.data());
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      return best;
    };
    const int threads = compute_threads();
    set_compute_threads(1);
    const double one = wall();
    set_compute_threads(std::min(threads, 2));  // a party's two cores
    const double two = wall();
    set_compute_threads(threads);
    const double speedup = std::clamp(one / two, 1.0, 2.0);
    // The spline gate's local steps run in the same parallel sections as its DCF walks.
    model_.parallel_speedup[static_cast<size_t>(WorkKind::dcf_eval_level)] = speedup;
    model_.parallel_speedup[static_cast<size_t>(WorkKind::spline_term)] = speedup;
    report_["parallel_speedup"] = {{"dcf_eval_level", {{"benchmark", "ltz_eval of " + std::to_string(big) + " elements, one thread vs two, wall clock"},
                                                      {"one_thread_s", one}, {"two_threads_s", two}, {"speedup", speedup}}}};
  }
  {  // the spline gate's local steps (SiLU's table), its DCF walks charged at the rate just fitted
    std::vector<Sample> s;
    const SplineTable& t = silu_spline_table(16);
    for (i64 n : gates) {
      RingTensor r = random_tensor(prg, {n}), s_mask = random_tensor(prg, {n});
      auto k = ltz_gen(t.cmp_bits, shift_right_logical(r, t.cmp_shift).data(), n, prg, 1, nullptr, 1);
      const Bytes index_wire = ltz_serialize(k.first);
      const int m_bits = spline_index_bits(t), W = t.degree + 1;
      std::vector<u64> alpha(static_cast<size_t>(n)), beta(static_cast<size_t>(n * W));
      for (i64 e = 0; e < n; ++e) {
        alpha[static_cast<size_t>(e)] = s_mask[e] & ((u64{1} << m_bits) - 1);
        u64 p = 1;
        for (int j = 0; j < W; ++j, p *= r[e]) beta[static_cast<size_t>(e * W + j)] = p;
      }
      const Bytes table_wire = dpf_gen(m_bits, alpha.data(), beta.data(), n, prg, W).first.bytes;
      RingTensor xhat = random_tensor(prg, {n});
      for (i64 e = 0; e < n; ++e) xhat[e] >>= 20;  // inputs of a realistic magnitude
      s.push_back(measure(reps_, [&] {
        SplineMaterial m;
        m.r = r;
        m.s = s_mask;
        m.index_keys = index_wire;
        m.table_keys = table_wire;
        const RingTensor u = spline_index_share(0, t, m, xhat);  // the opening is not compute
        spline_local(0, t, m, xhat, u);
      }));
    }
    fit(WorkKind::spline_term, s, "spline gate local steps (SiLU table) of n elements");
  }
  {  // bit planes: the 3pc MSB circuit's AND / XOR / plane copies
    std::vector<Sample> s;
    for (i64 n : elems) {
      if (n > (1 << 17)) continue;  // 64 planes of n bits: a block's comparisons are at most this wide
      RingTensor a = random_tensor(prg, {n}), b = random_tensor(prg, {n});
      Bits x = Bits::from_ring(a, 0, 64), y = Bits::from_ring(b, 0, 64);
      s.push_back(measure(reps_, [&] {
        Bits z = bits_xor(bits_and(x, y), x);
        Bits p = bits_planes(z, 1, 62);
        bits_stack({p, p});
      }));
    }
    fit(WorkKind::bit_word, s, "bits_and, bits_xor, bits_planes, bits_stack of 64 planes x n");
  }
  {  // ring <-> bit planes
    std::vector<Sample> s;
    for (i64 n : elems) {
      RingTensor a = random_tensor(prg, {n});
      s.push_back(measure(reps_, [&] {
        Bits x = Bits::from_ring(a, 0, 64);
        x.plane_to_ring(63, {n});
      }));
    }
    fit(WorkKind::bit_extract, s, "Bits::from_ring (64 planes), plane_to_ring of n elements");
  }
  {  // the ledger's per-op bookkeeping
    std::vector<Sample> s;
    for (int n : {2000, 20000, 100000}) {
      Ledger l;
      l.sync_clock = [] {};
      s.push_back(measure(reps_, [&] {
        for (int i = 0; i < n; ++i) {
          OpScope outer(l, "forward");
          OpScope inner(l, "matmul");
        }
      }));
    }
    fit(WorkKind::op_call, s, "nested OpScope pairs");
  }
  {  // message payload bytes: a frame encoded, decoded and copied into a tensor (what a send and a
     // receive do per byte; the mailbox's per-message cost is fitted next)
    std::vector<Sample> s;
    for (i64 n : elems) {
      RingTensor a = random_tensor(prg, {n});
      s.push_back(measure(reps_, [&] {
        const u64 bytes = static_cast<u64>(n) * 8;
        count_work(WorkKind::msg_byte, 2 * bytes);  // one send and one receive
        FrameHeader h;
        h.payload_bytes = bytes;
        Frame f = decode_frame(encode_frame(h, reinterpret_cast<const std::uint8_t*>(a.data()), bytes));
        RingTensor t({n});
        std::memcpy(t.data(), f.payload.data(), bytes);
      }));
    }
    fit(WorkKind::msg_byte, s, "frame encode + decode + copy of n elements (counted as a send and a receive)");
  }
  {  // messages: 3pc sessions opening shares of n elements `times` times; every party's CPU
    std::vector<Sample> s;
    const std::vector<std::pair<i64, int>> runs = q ? std::vector<std::pair<i64, int>>{{1, 300}, {1, 1000}, {64, 600}}
                                                    : std::vector<std::pair<i64, int>>{{1, 300}, {1, 1000}, {1, 3000}, {64, 600}, {64, 2000}};
    for (auto [n, times] : runs) {
      SessionConfig cfg;
      cfg.setting = Setting::three_pc;
      const i64 len = n;
      const int count = times;
      SessionResult res = run_session(cfg, [len, count](Backend& be) {
        Shared x = be.input(Role::client, be.role() == Role::client ? RingTensor({len}) : RingTensor::phantom({len}));
        for (int i = 0; i < count; ++i) be.reveal_all(x);
      });
      for (const PartyReport& p : res.parties) s.push_back(Sample{p.work, p.ledger.total(Phase::online).cpu_s + p.ledger.total(Phase::offline).cpu_s});
    }
    fit(WorkKind::msg, s, "3pc sessions opening a few elements repeatedly (every party)");
  }
  {  // fresh pages: a large buffer straight from the OS, touched once (its page faults); runs get
     // many of their large buffers from the allocator's free lists instead, which the refinement weighs
    std::vector<Sample> s;
    for (i64 n : elems) {
      if (n < kLargeAllocElements) continue;
      s.push_back(measure(reps_, [&] {
        count_work(WorkKind::large_alloc, n);
        const size_t bytes = static_cast<size_t>(n) * 8;
        void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::runtime_error("calibrate: mmap failed");
        std::memset(p, 1, bytes);
        ::munmap(p, bytes);
      }));
    }
    fit(WorkKind::large_alloc, s, "fresh anonymous pages of n elements, touched once");
  }
  {  // correlation-robust hashes
    std::vector<Sample> s;
    for (i64 n : elems) {
      std::vector<Block> in(static_cast<size_t>(n)), out(static_cast<size_t>(n));
      prg.fill_bytes(reinterpret_cast<std::uint8_t*>(in.data()), in.size() * sizeof(Block));
      s.push_back(measure(reps_, [&] { tccr_hash(in.data(), out.data(), in.size(), 0, kTweakRandomOt); }));
    }
    fit(WorkKind::ot_hash, s, "tccr_hash of n blocks");
  }
  {  // OT extension at the default SoftSpokenOT k; a sample is both parties' CPU and counts
    std::vector<Sample> s;
    const int k = CorrelationOptions{}.ot_softspoken_k;
    for (i64 n : q ? std::vector<i64>{1 << 14, 1 << 16} : std::vector<i64>{1 << 14, 1 << 16, 1 << 18}) {
      const auto sides = two_party_best(reps_, [k, n](Comm& c, Role peer, int side) -> std::function<void()> {
        auto ext = std::make_shared<OtExtension>(k);
        ext->setup(c, peer);
        if (side == 0) return [ext, &c, n] { (void)ext->sender().random_ot(c, n); };
        return [ext, &c, n] { (void)ext->receiver().random_ot(c, std::vector<std::uint8_t>(static_cast<size_t>(n), 1)); };
      });
      Sample both = sides[0];
      both.work += sides[1].work;
      both.cpu_s += sides[1].cpu_s;
      s.push_back(both);
    }
    fit(WorkKind::ot_column_byte, s, "random OT extension of n OTs (SoftSpokenOT, both parties)");
  }
  {  // millionaires' comparisons (64-bit); each party is a sample (the client builds the leaf
     // tables, the server picks from them)
    std::vector<Sample> s;
    const int k = CorrelationOptions{}.ot_softspoken_k;
    for (i64 n : q ? std::vector<i64>{1 << 10, 1 << 12} : std::vector<i64>{1 << 10, 1 << 12, 1 << 14}) {
      const auto sides = two_party_best(reps_, [k, n](Comm& c, Role peer, int) -> std::function<void()> {
        auto gates = std::make_shared<OtGates>(c, peer, k);
        gates->set_up();
        auto mine = std::make_shared<std::vector<u64>>(static_cast<size_t>(n));
        Prg::from_os().fill(mine->data(), mine->size());
        return [gates, mine] { (void)gates->greater_than(*mine, 64); };
      });
      s.push_back(sides[0]);
      s.push_back(sides[1]);
    }
    fit(WorkKind::cmp_leaf, s, "millionaires' comparisons of n 64-bit values (each party)");
  }
  {  // RLWE: NTTs of one ciphertext part (every prime of q) and its products with a plaintext
    const std::shared_ptr<const HeContext> context = he_context(HeParams::standard());
    const HeContext& ctx = *context;
    const int L = ctx.levels();
    const std::size_t N = ctx.n();
    std::vector<Sample> s_ntt, s_coeff;
    for (int polys : q ? std::vector<int>{4, 16} : std::vector<int>{4, 16, 48}) {
      std::vector<RnsPoly> p;
      for (int i = 0; i < polys; ++i) p.push_back(sample_uniform(ctx, prg, L));
      s_ntt.push_back(measure(reps_, [&] {
        for (RnsPoly& x : p) {
          x.ntt = false;
          to_ntt(ctx, x);
        }
        count_work(WorkKind::he_ntt, static_cast<u64>(polys) * static_cast<u64>(L));
      }));
      Ciphertext ct{p[0], p[1 % polys]}, acc{RnsPoly(N, L, true), RnsPoly(N, L, true)};
      s_coeff.push_back(measure(reps_, [&] {
        for (const RnsPoly& w : p) multiply_plain_accumulate(ctx, ct, w, acc);
        count_work(WorkKind::he_coeff, static_cast<u64>(polys) * 2 * static_cast<u64>(L) * N);
      }));
    }
    fit(WorkKind::he_ntt, s_ntt, "to_ntt of RLWE polynomials (every prime of q)");
    fit(WorkKind::he_coeff, s_coeff, "ciphertext x plaintext multiply-accumulate (NTT form)");
  }
  refine_on_real_runs();
  model_.machine = this_machine();
  model_.fit_json = report_.dump();
  return model_;
}

// A block point of the calibration's runs: GPT-2's MLP is 4 d wide, LLaMA's about 8/3 d.
Point block(Arch arch, i64 d, i64 heads, i64 b, Stage stage) {
  Point p;
  p.model.arch = arch;
  p.model.d_model = d;
  p.model.n_heads = heads;
  p.model.ffn_dim = arch == Arch::gpt2 ? 4 * d : (8 * d / 3 + 63) / 64 * 64;
  p.b = b;
  p.stage = stage;
  return p;
}

// Small real runs, none of them a point of the accuracy check (phantom_time_cases).
std::vector<std::pair<std::string, Point>> refinement_points(bool quick) {
  std::vector<std::pair<std::string, Point>> shapes;
  if (quick)
    shapes = {{"llama d128 h4 b48 prefill", block(Arch::llama, 128, 4, 48, Stage::prefill)},
              {"gpt2 d192 h3 b24 prefill", block(Arch::gpt2, 192, 3, 24, Stage::prefill)}};
  else
    shapes = {{"llama d640 h10 b96 prefill", block(Arch::llama, 640, 10, 96, Stage::prefill)},
              {"gpt2 d512 h8 b96 prefill", block(Arch::gpt2, 512, 8, 96, Stage::prefill)},
              {"llama d384 h6 b48 prefill", block(Arch::llama, 384, 6, 48, Stage::prefill)},
              {"llama d640 h10 decode after 96", block(Arch::llama, 640, 10, 96, Stage::decode)}};
  std::vector<std::pair<std::string, Point>> out;
  for (Setting st : {Setting::three_pc, Setting::two_pc_dealer})
    for (auto [name, p] : shapes) {
      p.setting = st;
      out.emplace_back(name + " " + setting_name(st), p);
    }
  // 2pc's real runs are slow (OT and HE work): smaller shapes, which weigh its comparisons and HE.
  const std::vector<std::pair<std::string, Point>> two_pc =
      quick ? std::vector<std::pair<std::string, Point>>{{"gpt2 d96 h3 b16 prefill", block(Arch::gpt2, 96, 3, 16, Stage::prefill)}}
            : std::vector<std::pair<std::string, Point>>{{"llama d192 h4 b24 prefill", block(Arch::llama, 192, 4, 24, Stage::prefill)},
                                                         {"gpt2 d128 h4 b32 prefill", block(Arch::gpt2, 128, 4, 32, Stage::prefill)}};
  for (auto [name, p] : two_pc) {
    p.setting = Setting::two_pc;
    out.emplace_back(name + " 2pc", p);
  }
  return out;
}

// Non-negative least squares, by trying every set of free variables (a handful of groups).
std::vector<double> nnls_small(const std::vector<std::vector<double>>& X, const std::vector<double>& y, size_t vars) {
  std::vector<double> best(vars, 0.0);
  double best_err = 0;
  for (double v : y) best_err += v * v;
  for (unsigned mask = 1; mask < (1u << vars); ++mask) {
    std::vector<size_t> free;
    for (size_t j = 0; j < vars; ++j)
      if (mask & (1u << j)) free.push_back(j);
    const size_t m = free.size();
    std::vector<std::vector<double>> A(m, std::vector<double>(m + 1, 0.0));  // normal equations, augmented
    for (size_t i = 0; i < X.size(); ++i)
      for (size_t a = 0; a < m; ++a) {
        for (size_t b = 0; b < m; ++b) A[a][b] += X[i][free[a]] * X[i][free[b]];
        A[a][m] += X[i][free[a]] * y[i];
      }
    bool singular = false;
    for (size_t c = 0; c < m && !singular; ++c) {  // Gauss-Jordan with partial pivoting
      size_t piv = c;
      for (size_t r = c + 1; r < m; ++r)
        if (std::fabs(A[r][c]) > std::fabs(A[piv][c])) piv = r;
      if (std::fabs(A[piv][c]) < 1e-12) singular = true;
      else {
        std::swap(A[c], A[piv]);
        for (size_t r = 0; r < m; ++r) {
          if (r == c) continue;
          const double f = A[r][c] / A[c][c];
          for (size_t k = c; k <= m; ++k) A[r][k] -= f * A[c][k];
        }
      }
    }
    if (singular) continue;
    std::vector<double> sol(vars, 0.0);
    bool feasible = true;
    for (size_t a = 0; a < m; ++a) {
      sol[free[a]] = A[a][m] / A[a][a];
      feasible = feasible && sol[free[a]] >= 0;
    }
    if (!feasible) continue;
    double err = 0;
    for (size_t i = 0; i < X.size(); ++i) {
      double e = y[i];
      for (size_t j = 0; j < vars; ++j) e -= X[i][j] * sol[j];
      err += e * e;
    }
    if (err < best_err) best_err = err, best = sol;
  }
  return best;
}

std::string first_line_of(const std::string& cmd) {
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[256];
    if (fgets(buf, sizeof buf, f)) out = buf;
    pclose(f);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

// The refinement (documented in docs/phantom.md): micro-benchmarks time each kernel alone; a run
// interleaves them, with its own allocations, cache misses and bookkeeping. Small real runs (not the
// accuracy check's points) give each online party's CPU seconds and counted work; one non-negative
// scale per group of kinds, fitted by least squares on relative errors, carries the micro-benchmarks'
// coefficients over to runs. The groups keep the problem well posed: 3pc runs weigh the bit planes,
// 2pc-dealer runs the FSS gates, 2pc runs the OT extension, HE and comparisons, all the element-wise
// kernels and the GEMMs.
void Calibrator::refine_on_real_runs() {
  struct Group {
    const char* name;
    std::vector<WorkKind> kinds;
  };
  const std::vector<Group> groups = {
      {"gemm", {WorkKind::gemm_mac, WorkKind::gemm_thin_mac}},
      {"memory", {WorkKind::ring_elem, WorkKind::ring_copy, WorkKind::prg_byte}},
      {"bits", {WorkKind::bit_word, WorkKind::bit_extract}},
      {"fss", {WorkKind::dcf_gen_level, WorkKind::dcf_eval_level, WorkKind::spline_term}},
      {"messages", {WorkKind::msg, WorkKind::msg_byte, WorkKind::op_call}},
      {"large_alloc", {WorkKind::large_alloc}},
      {"ot", {WorkKind::ot_column_byte, WorkKind::ot_hash}},
      {"he", {WorkKind::he_ntt, WorkKind::he_coeff}},
      {"comparisons", {WorkKind::cmp_leaf}},
  };
  std::vector<std::vector<double>> X;
  std::vector<double> y;
  std::vector<std::pair<Point, double>> real_sim;  // each point's real simulated time (best run)
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  // The real runs charge their parallel sections at this model's speedups, as its phantom runs do.
  const auto fitted = std::make_shared<const ComputeModel>(model_);
  for (auto [name, point] : refinement_points(opt_.quick)) {
    point.compute_model = fitted;
    const PointResult res = run_point(point);
    std::vector<double> least(res.session.parties.size());
    for (size_t i = 0; i < least.size(); ++i) least[i] = res.session.parties[i].ledger.total(Phase::online).cpu_s;
    double best_sim = res.session.online_time_s();
    for (int again = 1; again < (opt_.quick ? 1 : 3); ++again) {  // the best of three runs, as the check takes
      const PointResult more = run_point(point);
      for (size_t i = 0; i < least.size(); ++i) least[i] = std::min(least[i], more.session.parties[i].ledger.total(Phase::online).cpu_s);
      best_sim = std::min(best_sim, more.session.online_time_s());
    }
    real_sim.emplace_back(point, best_sim);
    for (size_t i = 0; i < least.size(); ++i) {
      const PartyReport& party = res.session.parties[i];
      if (party.role == Role::dealer) continue;
      const double cpu = least[i];
      if (cpu <= 0) continue;
      std::vector<double> row;
      for (const Group& g : groups) {
        WorkCounts part;
        for (WorkKind k : g.kinds) part[k] = party.work[k];
        row.push_back(model_.seconds(part) / cpu);  // relative: each run weighs the same
      }
      X.push_back(row);
      y.push_back(1.0);
      runs.push_back({{"point", name}, {"party", role_name(party.role)}, {"cpu_s", cpu}, {"micro_model_s", model_.seconds(party.work)}});
    }
  }
  // Simulated time is not one party's CPU: at every exchange a party waits for the slower side, and a
  // real run's step times jitter where a phantom run's are exact, so a real run's critical path is
  // longer than its parties' CPU alone suggests. So the points' simulated times are fitted too:
  // each group's share of a phantom run's time (its coefficients alone, less the network-only time)
  // against the real run's time (best of its runs), relative errors as above.
  nlohmann::ordered_json sims = nlohmann::ordered_json::array();
  for (auto& [point, real] : real_sim) {
    Point p = point;
    p.mode = Mode::phantom;
    auto phantom_time = [&](const ComputeModel& m) {
      p.compute_model = std::make_shared<const ComputeModel>(m);
      return run_point(p).session.online_time_s();
    };
    ComputeModel only = model_;
    only.seconds_per_unit.fill(0);
    const double network = phantom_time(only);
    std::vector<double> row;
    for (const Group& g : groups) {
      only.seconds_per_unit.fill(0);
      for (WorkKind k : g.kinds) only[k] = model_[k];
      row.push_back(std::max(0.0, phantom_time(only) - network) / real);
    }
    X.push_back(row);
    y.push_back(std::max(0.0, 1 - network / real));
    sims.push_back({{"real_sim_s", real}, {"phantom_network_only_s", network}, {"phantom_micro_model_s", phantom_time(model_)}});
  }
  // A weak prior (scale 1: the micro-benchmarks) keeps a group the runs hardly weigh where it was.
  std::vector<std::vector<double>> Xp = X;
  std::vector<double> yp = y;
  const double prior = std::sqrt(0.02 * static_cast<double>(X.size()));
  for (size_t j = 0; j < groups.size(); ++j) {
    std::vector<double> row(groups.size(), 0.0);
    row[j] = prior;
    Xp.push_back(row);
    yp.push_back(prior);
  }
  const std::vector<double> scale = nnls_small(Xp, yp, groups.size());
  auto rms = [&](const std::vector<double>& sc) {
    double e = 0;
    for (size_t i = 0; i < X.size(); ++i) {
      double pred = 0;
      for (size_t j = 0; j < sc.size(); ++j) pred += X[i][j] * sc[j];
      e += (pred - y[i]) * (pred - y[i]);
    }
    return X.empty() ? 0.0 : std::sqrt(e / static_cast<double>(X.size()));
  };
  const double before = rms(std::vector<double>(groups.size(), 1.0)), after_fit = rms(scale);
  nlohmann::ordered_json scales;
  for (size_t j = 0; j < groups.size(); ++j) {
    const double s = scale[j];
    for (WorkKind k : groups[j].kinds) model_[k] *= s;
    scales[groups[j].name] = s;
  }
  report_["refinement"] = {{"method", "one non-negative scale per group of kinds: least squares on the relative errors of small real runs (each online party's CPU seconds, and each point's simulated time), weak prior at 1"}, {"sim_time_points", sims},
                           {"scales", scales}, {"relative_rms_error_micro_only", before}, {"relative_rms_error_refined", after_fit}, {"runs", runs}};
  if (opt_.log) {
    std::string line = "  refinement on " + std::to_string(X.size()) + " parties of small real runs: scales";
    for (auto it = scales.begin(); it != scales.end(); ++it) {
      char b[64];
      std::snprintf(b, sizeof b, " %s %.3f", it.key().c_str(), it->get<double>());
      line += b;
    }
    char b[160];
    std::snprintf(b, sizeof b, "; relative RMS error %.3f -> %.3f", before, after_fit);
    opt_.log(line + b);
  }
}

MachineInfo this_machine() {
  MachineInfo m;
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string line; std::getline(cpu, line);)
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      m.cpu_model = colon == std::string::npos ? line : line.substr(colon + 2);
      break;
    }
  if (m.cpu_model.empty()) m.cpu_model = "unknown";
  m.cores = static_cast<int>(std::thread::hardware_concurrency());
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  m.date = date;
#ifdef MARILL_SOURCE_DIR
  m.commit = first_line_of(std::string("git -C '") + MARILL_SOURCE_DIR + "' describe --always --dirty --abbrev=12 2>/dev/null");
#endif
  if (m.commit.empty()) m.commit = "unknown";
  return m;
}

ComputeModel calibrate_compute_model(const CalibrationOptions& opt) { return Calibrator(opt).run(); }

std::vector<PhantomTimeCase> phantom_time_cases(bool quick) {
  std::vector<std::pair<std::string, Point>> shapes;
  if (quick) {
    shapes = {{"gpt2 d256 h4 b32 prefill", block(Arch::gpt2, 256, 4, 32, Stage::prefill)},
              {"llama d256 h4 b32 prefill", block(Arch::llama, 256, 4, 32, Stage::prefill)},
              {"llama d256 h4 decode after 32", block(Arch::llama, 256, 4, 32, Stage::decode)}};
  } else {
    shapes = {{"gpt2 d768 h12 b128 prefill", block(Arch::gpt2, 768, 12, 128, Stage::prefill)},
              {"llama d512 h8 b64 prefill", block(Arch::llama, 512, 8, 64, Stage::prefill)},
              {"llama d768 h12 decode after 128", block(Arch::llama, 768, 12, 128, Stage::decode)}};
  }
  std::vector<PhantomTimeCase> cases;
  for (Setting st : {Setting::three_pc, Setting::two_pc_dealer})
    for (const auto& [name, p] : shapes) {
      PhantomTimeCase c{name, p};
      c.point.setting = st;
      cases.push_back(c);
    }
  // 2pc's real runs are slow (OT and HE work): smaller shapes.
  const std::vector<std::pair<std::string, Point>> two_pc =
      quick ? std::vector<std::pair<std::string, Point>>{{"llama d128 h4 b16 prefill", block(Arch::llama, 128, 4, 16, Stage::prefill)}}
            : std::vector<std::pair<std::string, Point>>{{"llama d256 h8 b32 prefill", block(Arch::llama, 256, 8, 32, Stage::prefill)},
                                                         {"gpt2 d256 h8 b64 prefill", block(Arch::gpt2, 256, 8, 64, Stage::prefill)}};
  for (const auto& [name, p] : two_pc) {
    PhantomTimeCase c{name, p};
    c.point.setting = Setting::two_pc;
    cases.push_back(c);
  }
  return cases;
}

PhantomTimeRow phantom_time_check(const PhantomTimeCase& c, std::shared_ptr<const ComputeModel> model, int real_runs) {
  PhantomTimeRow row;
  row.name = c.name;
  row.setting = c.point.setting;
  Point p = c.point;
  p.compute_model = std::move(model);
  p.mode = Mode::real;
  PointResult real = run_point(p);
  for (int again = 1; again < real_runs; ++again) {  // the best run: the least disturbed by other processes
    PointResult more = run_point(p);
    if (more.session.online_time_s() < real.session.online_time_s()) real = std::move(more);
  }
  row.real_sim_s = real.session.online_time_s();
  for (const PartyReport& party : real.session.parties)
    if (party.role != Role::dealer) row.real_cpu_s += party.ledger.total(Phase::online).cpu_s;
  row.real_parties = real.session.parties;
  p.mode = Mode::phantom;
  row.phantom_sim_s = run_point(p).session.online_time_s();
  return row;
}

}  // namespace marill
