// Helpers of the tests that run marill (or daemons) as processes: the binary beside the test
// binary, an unused loopback port, a whole file, a sweep CSV's rows.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runner/sweep.h"

namespace marill::test {

// The marill executable beside this test binary.
inline std::string marill_exe() {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "marill").string();
}

// A port nothing listens on now (bound, read, released).
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The rows of a `marill run` CSV (its header checked).
inline std::vector<CsvFields> csv_rows(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  REQUIRE(line == sweep_csv_header());
  std::vector<CsvFields> rows;
  while (std::getline(in, line)) rows.push_back(csv_split(line));
  return rows;
}

}  // namespace marill::test
