// A TCP port nothing listens on now: the kernel's pick, bound and released for the caller to bind
// next (another process may take it in between; the bind then fails with a clear error).
#pragma once

namespace marill {

// On the loopback interface only, or on every interface. Throws std::runtime_error if none is free.
int free_tcp_port(bool loopback_only);

}  // namespace marill
