#include "protocols/ot/tccr_hash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <vector>

#include "protocols/ring/work_meter.h"

namespace marill {

namespace {

// π: AES-128-ECB under a fixed, public key (any constant works in the ideal-permutation model;
// this one is the first 16 bytes of the fractional part of π, a nothing-up-my-sleeve choice).
constexpr unsigned char kFixedKey[16] = {0x24, 0x3f, 0x6a, 0x88, 0x85, 0xa3, 0x08, 0xd3,
                                         0x13, 0x19, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x44};

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

// One context per thread: the two parties of a test run in two threads of one process.
EVP_CIPHER_CTX* fixed_key_aes() {
  thread_local std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter> ctx = [] {
    std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter> c(EVP_CIPHER_CTX_new());
    if (!c || EVP_EncryptInit_ex(c.get(), EVP_aes_128_ecb(), nullptr, kFixedKey, nullptr) != 1)
      throw std::runtime_error("fixed-key AES: EVP_EncryptInit_ex(aes-128-ecb) failed");
    EVP_CIPHER_CTX_set_padding(c.get(), 0);
    return c;
  }();
  return ctx.get();
}

void permute(const Block* in, Block* out, std::size_t n) {
  EVP_CIPHER_CTX* ctx = fixed_key_aes();
  constexpr std::size_t kChunk = std::size_t{1} << 26;  // blocks per EVP call (int lengths)
  for (std::size_t done = 0; done < n; done += kChunk) {
    const std::size_t m = std::min(kChunk, n - done);
    int outl = 0;
    if (EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out + done), &outl,
                          reinterpret_cast<const unsigned char*>(in + done), static_cast<int>(m * 16)) != 1)
      throw std::runtime_error("fixed-key AES: EVP_EncryptUpdate failed");
  }
}

template <class Tweak>
void tccr_core(const Block* in, Block* out, std::size_t n, Tweak tweak) {
  if (n == 0) return;
  count_work(WorkKind::ot_hash, static_cast<u64>(n));
  std::vector<Block> y(n);
  permute(in, y.data(), n);  // y = π(x)
  for (std::size_t k = 0; k < n; ++k) out[k] = y[k] ^ tweak(k);
  permute(out, out, n);  // π(y ⊕ i)
  for (std::size_t k = 0; k < n; ++k) out[k] ^= y[k];
}

}  // namespace

void tccr_hash(const Block* in, Block* out, std::size_t n, u64 first_index, u64 domain) {
  tccr_core(in, out, n, [&](std::size_t k) { return Block{first_index + k, domain}; });
}

void tccr_hash(const Block* in, Block* out, std::size_t n, const Block* tweaks) {
  tccr_core(in, out, n, [&](std::size_t k) { return tweaks[k]; });
}

}  // namespace marill
