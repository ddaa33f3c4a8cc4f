// Bit planes (protocols/ring/bits.h): the 64x64 transposes put bit j of element e at plane j, word
// e / 64, bit e % 64, and take them back, for any element count (partial last words included).
#include <catch2/catch.hpp>

#include "protocols/ring/bits.h"
#include "protocols/ring/prg.h"

using namespace marill;

TEST_CASE("bit planes hold bit j of element e at plane j, and to_ring takes them back, whatever the element count", "[bits]") {
  Prg prg(Key128{9});
  for (i64 n : {1, 63, 64, 65, 130, 200}) {
    INFO("n = " << n);
    const RingTensor t = prg.random({n});
    for (auto [first, count] : {std::pair{0, 64}, std::pair{0, 23}, std::pair{5, 17}, std::pair{63, 1}}) {
      INFO("planes [" << first << ", " << first + count << ")");
      const Bits b = Bits::from_ring(t, first, count);
      REQUIRE(b.planes == count);
      for (i64 e = 0; e < n; ++e)
        for (int j = 0; j < count; ++j) REQUIRE(((b.plane(j)[e >> 6] >> (e & 63)) & 1) == ((t[e] >> (first + j)) & 1));
      const RingTensor back = b.to_ring({n});
      const u64 mask = count == 64 ? ~u64{0} : (u64{1} << count) - 1;
      for (i64 e = 0; e < n; ++e) REQUIRE(back[e] == ((t[e] >> first) & mask));
      for (int j = 0; j < count; ++j) {
        const RingTensor p = b.plane_to_ring(j, {n});
        for (i64 e = 0; e < n; ++e) REQUIRE(p[e] == ((t[e] >> (first + j)) & 1));
      }
    }
  }
}

TEST_CASE("bit planes beyond a 64-bit value and more than 64 planes are refused", "[bits]") {
  const RingTensor t({4});
  CHECK_THROWS_WITH(Bits::from_ring(t, 60, 5), Catch::Contains("planes [60, 65)"));
  CHECK_THROWS_WITH(Bits::zeros(4, 65, false).to_ring({4}), Catch::Contains("65 planes"));
  CHECK_THROWS_WITH(Bits::zeros(4, 3, false).to_ring({5}), Catch::Contains("shape 5 for 4 elements"));
}

TEST_CASE("bits_not flips every bit and random_bits draws what the PRG gives, nothing when phantom", "[bits]") {
  Prg a(Key128{3}), b(Key128{3});
  const Bits r = random_bits(a, 100, 3, false);
  std::vector<u64> same(r.w.size());
  b.fill(same.data(), same.size());
  CHECK(r.w == same);
  const Bits n = bits_not(r);
  for (size_t i = 0; i < r.w.size(); ++i) CHECK(n.w[i] == ~r.w[i]);
  const Bits ph = random_bits(a, 100, 3, true);
  CHECK(ph.phantom);
  CHECK(ph.w.empty());
  CHECK(ph.bytes() == r.bytes());
}

TEST_CASE("packed planes travel back to back in ceil(planes n / 8) bytes and unpack to the same bits, padding dropped", "[bits]") {
  Prg prg(Key128{11});
  for (i64 n : {1, 7, 63, 64, 65, 130, 1365}) {
    for (int planes : {1, 3, 17}) {
      INFO("n = " << n << ", planes = " << planes);
      // bits_not sets the last word's padding bits too: they must not travel.
      const Bits b = bits_not(random_bits(prg, n, planes, false));
      const std::vector<std::uint8_t> bytes = b.packed();
      REQUIRE(bytes.size() == (static_cast<u64>(planes) * static_cast<u64>(n) + 7) / 8);
      REQUIRE(bytes.size() == b.packed_bytes());
      const Bits back = Bits::from_packed(bytes, n, planes);
      for (int j = 0; j < planes; ++j)
        for (i64 e = 0; e < n; ++e) REQUIRE(((back.plane(j)[e >> 6] >> (e & 63)) & 1) == ((b.plane(j)[e >> 6] >> (e & 63)) & 1));
      // Bit e of plane j sits at stream position j n + e.
      for (int j = 0; j < planes; ++j)
        for (i64 e = 0; e < n; e += 5) {
          const u64 pos = static_cast<u64>(j) * static_cast<u64>(n) + static_cast<u64>(e);
          REQUIRE(((bytes[pos / 8] >> (pos % 8)) & 1) == ((b.plane(j)[e >> 6] >> (e & 63)) & 1));
        }
      if (n % 64) CHECK(back.w.back() >> (n % 64) == 0);
    }
  }
  CHECK_NOTHROW(Bits::from_packed(std::vector<std::uint8_t>(5), 13, 3));
  CHECK_THROWS_WITH(Bits::from_packed(std::vector<std::uint8_t>(4), 13, 3), Catch::Contains("4 bytes for 3 planes of 13 bits, want 5"));
}
