#include "protocols/ring/cpu_meter.h"

#include <time.h>

namespace marill {

namespace {
thread_local double t_offthread = 0.0;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

void add_offthread_cpu(double seconds) { t_offthread += seconds; }
double offthread_cpu_seconds() { return t_offthread; }

}  // namespace marill
