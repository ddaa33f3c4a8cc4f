// The one translation unit that builds Catch2's runner (kept apart so it is compiled once).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
// Note: ctest runs each TEST_CASE by name (catch_discover_tests) with --warn NoTests, so a name that
// stops matching fails loudly instead of passing vacuously. Avoid ';' in test names (CMake lists).
