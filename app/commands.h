// Sub-command entry points of the `marill` CLI.
// Each takes the arguments after the sub-command name and returns the process exit code.
#pragma once

namespace marill {

int bench_primitives(int argc, char** argv);  // app/bench_primitives.cpp
int bench_ring_matmul(int argc, char** argv);  // app/bench_matmul.cpp
int bench_dcf(int argc, char** argv);  // DCF / LTZ micro benchmark (app/bench_dcf.cpp)

}  // namespace marill
