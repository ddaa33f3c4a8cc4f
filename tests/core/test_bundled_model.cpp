// The bundled tiny MARILL model (models/bundled/tiny, built by scripts/build_bundled_model.sh):
// its packages load from any clone location with the base's SHA-256 checked, and every private
// layer is a block the secure transformer takes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "models/package/package.h"
#include "models/package/tokenizer.h"
#include "models/secure/secure_block.h"

namespace fs = std::filesystem;
using namespace marill;

namespace {

const std::string kBundled = std::string(MARILL_SOURCE_DIR) + "/models/bundled/tiny";

std::uintmax_t tree_bytes(const std::string& dir) {
  std::uintmax_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

}  // namespace

TEST_CASE("the bundled tiny model: base, full and lf+hm2 packages load with the base checked", "[bundled]") {
  CHECK(tree_bytes(kBundled) < 25u * 1000 * 1000);  // the committed size bound (issue 13)
  const pkg::Package full = pkg::load_package(kBundled + "/full", /*check_base=*/true);
  const pkg::Package lfhm = pkg::load_package(kBundled + "/lf+hm2", /*check_base=*/true);
  // both name the committed base, relative to themselves
  CHECK(fs::equivalent(full.base_path, kBundled + "/base"));
  CHECK(fs::equivalent(lfhm.base_path, kBundled + "/base"));
  CHECK(full.base_sha256 == lfhm.base_sha256);
  // full fine-tuning: every layer and the embedding private
  CHECK(full.frozen_layers == 0);
  CHECK(full.has_embed);
  CHECK(static_cast<int>(full.layers.size()) == full.model.n_layers);
  // lf+hm2: the bottom half public (run by the client), the top half with heads merged in pairs
  CHECK(lfhm.frozen_layers == lfhm.model.n_layers / 2);
  CHECK(!lfhm.has_embed);
  CHECK(lfhm.marill.merge == 2);
  CHECK(lfhm.marill.grouping == "similar");
  CHECK(lfhm.marill.attn_heads(lfhm.model) == lfhm.model.n_heads / 2);
  for (const pkg::Package* p : {&full, &lfhm})
    for (std::size_t i = 0; i < p->layers.size(); ++i) {
      INFO("private layer " << i);
      const FloatBlock b = ml::block_from_package(*p, i);
      CHECK(b.shape.d_model == p->model.d_model);
      CHECK(b.shape.merge == p->marill.merge);
    }
  // the base carries the tokenizer the prompt is encoded with
  const Tokenizer tok = Tokenizer::load(kBundled + "/base/tokenizer.vocab");
  CHECK(tok.vocab_size() == full.model.vocab);
  CHECK(!tok.encode("Datei nicht gefunden").empty());
}

TEST_CASE("the bundled packages load from a copy elsewhere, and not without their base", "[bundled]") {
  const fs::path copy = fs::temp_directory_path() / "marill_bundled_copy";
  fs::remove_all(copy);
  fs::create_directories(copy);
  fs::copy(kBundled, copy / "tiny", fs::copy_options::recursive);
  const pkg::Package p = pkg::load_package((copy / "tiny" / "lf+hm2").string(), true);
  CHECK(fs::equivalent(p.base_path, copy / "tiny" / "base"));
  fs::remove(copy / "tiny" / "base" / "model.safetensors");
  CHECK_THROWS_WITH(pkg::load_package((copy / "tiny" / "lf+hm2").string(), true), Catch::Contains("model.safetensors"));
  fs::remove_all(copy);
}
