#include "protocols/ring/cpu_meter.h"

#include <time.h>

#include <atomic>
#include <stdexcept>
#include <string>

namespace marill {

namespace {
thread_local double t_offthread = 0.0;
std::atomic<double> g_extra_speedup[kWorkKinds];  // speedup - 1 (zero-initialised: speedup 1)
}  // namespace

void set_parallel_speedup(WorkKind kind, double speedup) {
  if (!(speedup >= 1.0) || speedup > 1024) throw std::invalid_argument("parallel speedup of " + std::string(work_kind_name(kind)) + " must be in [1, 1024], got " + std::to_string(speedup));
  g_extra_speedup[static_cast<size_t>(kind)].store(speedup - 1.0, std::memory_order_relaxed);
}

double parallel_speedup(WorkKind kind) { return 1.0 + g_extra_speedup[static_cast<size_t>(kind)].load(std::memory_order_relaxed); }

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

void add_offthread_cpu(double seconds) { t_offthread += seconds; }
double offthread_cpu_seconds() { return t_offthread; }

}  // namespace marill
