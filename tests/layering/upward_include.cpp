// Compiled against the ring layer's include root only (tests/layering in CMakeLists.txt): it must
// NOT build, because the ring layer cannot see the backends above it. ctest expects the failure.
#include "protocols/mpc/backend.h"
int marill_layering_probe() { return 0; }
