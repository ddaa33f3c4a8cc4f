// The one translation unit that builds Catch2's runner (kept apart so it is compiled once).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "protocols/ring/allocator.h"

// Tests run with the allocator settings of the marill executables (protocols/ring/allocator.h).
int main(int argc, char** argv) {
  marill::tune_allocator_for_protocols();
  return Catch::Session().run(argc, argv);
}
// Note: ctest runs each TEST_CASE by name (catch_discover_tests) with --warn NoTests, so a name that
// stops matching fails loudly instead of passing vacuously. Avoid ';' in test names (CMake lists).
