// The 2pc-dealer KV cache kept prepared (Backend::append_rows / matmul_cache): a cached row's
// E = K - B is opened exactly once, and looks uniform even for constant rows; every product masks
// its left operand afresh, so two products with the same query open unrelated uniform words. A
// reopened row would show as extra words in the second product; a reused product mask as equal words.
#include "tests/security/security_harness.h"

using namespace marill;
using namespace marill::sectest;

namespace {
constexpr i64 kRows = 64, kWidth = 64;  // 4096 words per opening: enough for the statistics
}  // namespace

TEST_CASE("2pc-dealer opens each cached row once, and every cache product's query under a fresh mask", "[security][openings][prepared_cache]") {
  const FixedPoint fxp{};
  const RingTensor ones(Shape{1, kRows, kWidth}, std::vector<u64>(kRows * kWidth, fxp.encode(1.0)));
  Recorded rec = run_recorded(Setting::two_pc_dealer, [&](Backend& be, FrameLog& log) {
    Shared cache = be.append_rows(Shared{}, be.input(Role::server, own(be, Role::server, ones)));
    Shared q = be.input(Role::client, own(be, Role::client, ones));  // kRows queries at once
    for (int rep = 1; rep <= 2; ++rep) {
      log.mark(be.role(), "cache#" + std::to_string(rep));
      be.matmul_cache(q, cache, true);
      log.mark(be.role(), "");
    }
  });
  const std::vector<u64> first = opened(*rec.log, Role::client, Role::server, "cache#1");
  const std::vector<u64> second = opened(*rec.log, Role::client, Role::server, "cache#2");
  const size_t n = static_cast<size_t>(kRows * kWidth);
  // The first product opens the query and the rows' E; the second the query only.
  REQUIRE(first.size() == 2 * n);
  REQUIRE(second.size() == n);
  const std::vector<u64> q1(first.begin(), first.begin() + static_cast<long>(n)), rows(first.begin() + static_cast<long>(n), first.end());
  for (const auto* w : {&q1, &rows, &second}) {
    const ChiSquare bits = bit_balance(*w), bytes = byte_uniformity(*w);
    INFO("bit balance: " << bits << "; byte uniformity: " << bytes);
    CHECK(bits.passes());
    CHECK(bytes.passes());
  }
  CHECK(equal_words(q1, second) == 0);
  const ChiSquare diff = bit_balance(difference(q1, second));
  INFO("bit balance of the difference of the two query openings: " << diff);
  CHECK(diff.passes());
}
