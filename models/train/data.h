// Datasets from text that Debian packages install (torch-free).
//   public pre-training corpus : English prose (licenses, READMEs, man pages), German man pages
//                                (manpages-de), Python code of third-party modules (dist-packages)
//   private task "translate"   : German -> English pairs from gettext catalogs (*.mo)
//   private task "code"        : Python standard library functions; test = complete the next line
// Everything is deterministic given the packages' files: file lists are sorted, splits use a hash
// of the content, and a manifest (counts + SHA-256) records what was built.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace marill::data {

// ---------------------------------------------------------------- sources
struct MoPair {
  std::string msgid;   // English (context and plural form removed)
  std::string msgstr;  // translation (first plural form)
};
// Parses a GNU gettext binary catalog. Throws naming the file on a malformed one.
std::vector<MoPair> parse_mo(const std::string& path);
// Normalizes a catalog pair into a translation example; false = skip it (multi-line, too long,
// untranslated, only format specifiers, ...). Removes keyboard accelerators (_File, &File).
bool clean_translation_pair(std::string& de, std::string& en);
// Plain text of a man page source (roff requests dropped, font escapes removed).
std::string strip_roff(const std::string& roff);
// Reads a file; *.gz are decompressed (gzip -dc). Throws naming the file when missing.
std::string read_text_file(const std::string& path);
// Top-level functions and methods of a Python source, dedented, tabs expanded, trailing spaces
// removed. Only functions of 3..max_lines lines.
std::vector<std::string> python_functions(const std::string& source, int max_lines = 40);

// ---------------------------------------------------------------- examples
struct Example {
  std::string prompt;  // translate: German text; code test: function prefix (ends with '\n'); code train: ""
  std::string target;  // translate: English text; code test: next line; code train: the function
};
void write_jsonl(const std::string& path, const std::vector<Example>& ex);
std::vector<Example> read_jsonl(const std::string& path);  // clear error naming file and line
void write_docs_jsonl(const std::string& path, const std::vector<std::string>& docs);
std::vector<std::string> read_docs_jsonl(const std::string& path);

// ---------------------------------------------------------------- building
struct BuildOptions {
  std::string lists_dir;  // prose.txt, man_en.txt, man_de.txt, pycode.txt, mo.txt, stdlib.txt (one path a line)
  std::string out_dir;
  std::size_t max_pretrain_bytes = 24u << 20;
  int translate_test = 400;
  int code_test = 400;
  bool verbose = true;
};
struct BuildReport {
  std::map<std::string, std::int64_t> counts;  // name -> count, printed and put in the manifest
};
// Writes pretrain.jsonl, spm_input.txt, translate.{train,test}.jsonl, code.{train,test}.jsonl.
BuildReport build_datasets(const BuildOptions& opt);

// ---------------------------------------------------------------- metrics
// Corpus-level chrF (character 6-grams, beta = 2, whitespace ignored, per-order F averaged, as
// sacreBLEU's chrF), in 0..100.
double chrf(const std::vector<std::string>& hyps, const std::vector<std::string>& refs);
// Exact match after removing trailing whitespace, in 0..100.
double exact_match(const std::vector<std::string>& hyps, const std::vector<std::string>& refs);

// ---------------------------------------------------------------- manifest
std::string sha256_hex(const std::string& bytes);
// files: name (relative to data_dir) -> {count}; writes JSON with counts, sizes and SHA-256.
void write_manifest(const std::string& path, const std::string& data_dir, const std::vector<std::string>& files,
                    const std::map<std::string, std::int64_t>& counts, const std::map<std::string, std::string>& packages);
// Compares data_dir against a manifest; returns human-readable mismatches (empty = all match).
std::vector<std::string> check_manifest(const std::string& path, const std::string& data_dir);

}  // namespace marill::data
