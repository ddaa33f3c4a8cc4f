#include "protocols/ring/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "protocols/ring/cpu_meter.h"

namespace marill {

namespace {

// Set while a thread takes chunks of a call: a kernel called from inside a chunk runs on its own
// thread (the pool serves one call at a time, and its caller already holds it).
thread_local bool t_in_section = false;

struct SectionFlag {
  SectionFlag() { t_in_section = true; }
  ~SectionFlag() { t_in_section = false; }
};

// A call is cut into chunks that the caller and the woken workers take from a shared counter, so
// a worker that wakes late (or is descheduled: three parties share few cores) costs little: the
// caller just takes more chunks. One parallel call at a time; a caller that finds the pool busy
// (another party's thread is using it) runs its product on its own thread instead of waiting, so
// concurrent callers never block each other and the cores are not oversubscribed. Workers sleep
// on a condition variable between calls (no spinning: idle cores stay free for other parties).
class Pool {
 public:
  using Job = std::function<void(int slot, i64 chunk)>;

  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

  // See pool_try_run.
  bool try_run(int helpers, i64 chunks, const Job& job, double speedup) {
    std::unique_lock<std::mutex> call(call_mu_, std::try_to_lock);
    if (!call.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lk(mu_);
      while (static_cast<int>(workers_.size()) < helpers) {
        const int idx = static_cast<int>(workers_.size());
        workers_.emplace_back([this, idx, g = generation_] { worker_loop(idx, g); });
      }
      job_ = &job;
      chunks_ = chunks;
      next_.store(0, std::memory_order_relaxed);
      helpers_ = helpers;
      worker_cpu_ = 0.0;
      error_ = nullptr;
      ++generation_;
    }
    work_cv_.notify_all();
    const double caller_t0 = thread_cpu_seconds();
    std::exception_ptr error;
    try {
      take_chunks(0, job);
    } catch (...) {
      error = std::current_exception();
      next_.store(chunks, std::memory_order_relaxed);  // stop handing out chunks
    }
    double cpu;
    {
      std::unique_lock<std::mutex> lk(mu_);
      done_cv_.wait(lk, [this] { return inside_ == 0; });
      job_ = nullptr;  // late risers skip this call
      cpu = worker_cpu_;
      if (!error) error = error_;
    }
    // The section's CPU on every thread, charged as it runs on the party's own cores.
    const double caller_cpu = thread_cpu_seconds() - caller_t0;
    add_offthread_cpu((caller_cpu + cpu) / speedup - caller_cpu);
    if (error) std::rethrow_exception(error);
    return true;
  }

 private:
  void take_chunks(int slot, const Job& job) {
    SectionFlag in_section;
    for (i64 c; (c = next_.fetch_add(1, std::memory_order_relaxed)) < chunks_;) job(slot, c);
  }

  void worker_loop(int idx, unsigned long long seen) {
    for (;;) {
      const Job* job;
      {
        std::unique_lock<std::mutex> lk(mu_);
        work_cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (idx >= helpers_ || job_ == nullptr) continue;
        job = job_;
        ++inside_;
      }
      const double t0 = thread_cpu_seconds();
      std::exception_ptr error;
      try {
        take_chunks(idx + 1, *job);
      } catch (...) {
        error = std::current_exception();
        next_.store(chunks_, std::memory_order_relaxed);
      }
      const double dt = thread_cpu_seconds() - t0;
      {
        std::lock_guard<std::mutex> lk(mu_);
        worker_cpu_ += dt;
        if (error && !error_) error_ = error;
        if (--inside_ == 0) done_cv_.notify_one();
      }
    }
  }

  std::mutex call_mu_;  // held for a whole parallel call
  std::mutex mu_;       // guards the fields below (chunks_ is set under it before workers read it)
  std::condition_variable work_cv_, done_cv_;
  std::vector<std::thread> workers_;
  const Job* job_ = nullptr;
  i64 chunks_ = 0;
  std::atomic<i64> next_{0};
  unsigned long long generation_ = 0;
  int helpers_ = 0;  // workers with a lower index join the current call
  int inside_ = 0;   // workers currently taking chunks
  double worker_cpu_ = 0.0;
  std::exception_ptr error_;
  bool stop_ = false;
};

Pool& pool() {
  static Pool p;
  return p;
}

std::atomic<int> g_threads{0};

}  // namespace

int compute_threads() {
  const int t = g_threads.load(std::memory_order_relaxed);
  return t > 0 ? t : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void set_compute_threads(int n) { g_threads.store(std::max(0, n), std::memory_order_relaxed); }

bool in_pool_section() { return t_in_section; }

bool pool_try_run(int helpers, i64 chunks, const PoolJob& job, WorkKind kind) {
  if (t_in_section) return false;
  return pool().try_run(helpers, chunks, job, parallel_speedup(kind));
}

void parallel_chunks(i64 chunks, int max_slots, const PoolJob& job, WorkKind kind) {
  const int helpers = static_cast<int>(std::min<i64>({i64{compute_threads()}, i64{max_slots}, chunks})) - 1;
  if (helpers > 0 && pool_try_run(helpers, chunks, job, kind)) return;
  // On the caller alone. A section that would have run in parallel, but found the pool taken by
  // another in-process party, is still charged as on the party's own cores; one inside another
  // section is part of that section's charge.
  const bool charge_as_parallel = helpers > 0 && !t_in_section;
  const double t0 = charge_as_parallel ? thread_cpu_seconds() : 0.0;
  for (i64 c = 0; c < chunks; ++c) job(0, c);
  if (charge_as_parallel) {
    const double cpu = thread_cpu_seconds() - t0;
    add_offthread_cpu(cpu / parallel_speedup(kind) - cpu);
  }
}

}  // namespace marill
