// The one translation unit that builds Catch2's runner (kept apart so it is compiled once).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
