// The ring kernels' pool (protocols/ring/thread_pool.h): every chunk runs once, and a parallel
// section is charged its CPU divided by the kind's speedup, also when it finds the pool taken and
// runs on its caller's thread alone.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "protocols/ring/cpu_meter.h"
#include "protocols/ring/thread_pool.h"

using namespace marill;

namespace {

// Burns about `seconds` of this thread's CPU.
void burn(double seconds) {
  const double t0 = thread_cpu_seconds();
  volatile u64 x = 1;
  while (thread_cpu_seconds() - t0 < seconds)
    for (int i = 0; i < 10000; ++i) x = x * 6364136223846793005ULL + 1;
}

// Restores a kind's speedup and the thread count after a test.
struct SpeedupScope {
  WorkKind kind;
  double saved;
  int threads = compute_threads();
  SpeedupScope(WorkKind k, double s) : kind(k), saved(parallel_speedup(k)) { set_parallel_speedup(k, s); }
  ~SpeedupScope() {
    set_parallel_speedup(kind, saved);
    set_compute_threads(threads);
  }
};

}  // namespace

TEST_CASE("parallel_chunks runs every chunk once, on at most max_slots slots", "[thread_pool]") {
  for (int threads : {1, 2, 4}) {
    set_compute_threads(threads);
    std::vector<std::atomic<int>> seen(97);
    std::atomic<int> bad_slot{0};
    parallel_chunks(97, 3, [&](int slot, i64 c) {
      if (slot < 0 || slot >= 3) bad_slot = 1;
      seen[static_cast<size_t>(c)]++;
    }, WorkKind::dcf_eval_level);
    for (auto& s : seen) CHECK(s.load() == 1);
    CHECK(bad_slot.load() == 0);
  }
  set_compute_threads(0);
}

TEST_CASE("a section that finds the pool taken is still charged its CPU divided by the speedup", "[thread_pool]") {
  SpeedupScope scope(WorkKind::dcf_eval_level, 2.0);
  set_compute_threads(2);
  // Another thread holds the pool in a long section until released.
  std::mutex mu;
  std::condition_variable cv;
  bool holding = false, release = false;
  std::thread other([&] {
    parallel_chunks(2, 2, [&](int, i64 c) {
      if (c != 0) return;
      std::unique_lock<std::mutex> lk(mu);
      holding = true;
      cv.notify_all();
      cv.wait(lk, [&] { return release; });
    }, WorkKind::dcf_eval_level);
  });
  {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [&] { return holding; });
  }
  const double off0 = offthread_cpu_seconds(), cpu0 = thread_cpu_seconds();
  int on_caller = 0;
  parallel_chunks(4, 2, [&](int slot, i64) {
    on_caller += slot == 0;
    burn(0.01);
  }, WorkKind::dcf_eval_level);
  const double cpu = thread_cpu_seconds() - cpu0, charged_extra = offthread_cpu_seconds() - off0;
  {
    std::lock_guard<std::mutex> lk(mu);
    release = true;
  }
  cv.notify_all();
  other.join();
  CHECK(on_caller == 4);  // the pool was taken: every chunk ran here
  // Charged cpu / 2 in all: the offthread account took back half of what the thread spent.
  CHECK(charged_extra == Approx(-cpu / 2).margin(0.002));
}

TEST_CASE("a kind without a speedup is charged its whole CPU, and a section inside a section is charged once", "[thread_pool]") {
  SpeedupScope scope(WorkKind::dcf_eval_level, 2.0);
  set_compute_threads(1);  // one thread: nothing runs in parallel, nothing is divided
  const double off0 = offthread_cpu_seconds();
  parallel_chunks(3, 2, [](int, i64) { burn(0.002); }, WorkKind::dcf_eval_level);
  CHECK(offthread_cpu_seconds() == off0);
  set_compute_threads(2);
  // The outer section is charged at the speedup; the inner one runs on its chunk's thread and adds
  // no charge of its own.
  const double off1 = offthread_cpu_seconds(), cpu1 = thread_cpu_seconds();
  std::atomic<int> inner_chunks{0};
  parallel_chunks(2, 2, [&](int, i64) {
    parallel_chunks(3, 2, [&](int, i64) {
      ++inner_chunks;
      burn(0.003);
    }, WorkKind::dcf_eval_level);
  }, WorkKind::dcf_eval_level);
  CHECK(inner_chunks.load() == 6);
  const double spent_here = thread_cpu_seconds() - cpu1, extra = offthread_cpu_seconds() - off1;
  // Whatever the split between the caller and the worker, the whole section (about 18 ms) is
  // charged about 9 ms: the caller's own CPU plus the adjustment.
  CHECK(spent_here + extra == Approx(0.009).margin(0.004));
}
