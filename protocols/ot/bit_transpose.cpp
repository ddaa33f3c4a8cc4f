#include "protocols/ot/bit_transpose.h"

#include <emmintrin.h>

#include <cstring>
#include <stdexcept>

namespace marill {

void transpose_bits(const std::uint8_t* in, std::uint8_t* out, std::uint64_t rows, std::uint64_t cols) {
  if (rows % 16 != 0 || cols % 8 != 0)
    throw std::invalid_argument("transpose_bits: rows must be a multiple of 16 and cols of 8");
  const std::uint64_t in_row_bytes = cols / 8, out_row_bytes = rows / 8;
  for (std::uint64_t r = 0; r < rows; r += 16) {
    for (std::uint64_t c = 0; c < cols; c += 8) {
      // Byte c/8 of rows r..r+15: lane k holds bits c..c+7 of row r+k.
      alignas(16) std::uint8_t lanes[16];
      for (int k = 0; k < 16; ++k) lanes[k] = in[(r + k) * in_row_bytes + c / 8];
      __m128i v = _mm_load_si128(reinterpret_cast<const __m128i*>(lanes));
      // movemask takes each lane's top bit: bit 7 of the byte is column c+7, then shift up.
      for (int i = 7; i >= 0; --i) {
        const std::uint16_t plane = static_cast<std::uint16_t>(_mm_movemask_epi8(v));
        std::memcpy(out + (c + static_cast<std::uint64_t>(i)) * out_row_bytes + r / 8, &plane, 2);
        v = _mm_slli_epi64(v, 1);
      }
    }
  }
}

}  // namespace marill
