// Fixture for the CTest arch_check_cores_catches_io: a "core" file with one
// line of each kind scripts/check_cores must refuse. Never compiled.
#include <grpcpp/grpcpp.h>
#include <fstream>
inline void Planted() {
  std::thread worker([] {});
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto t = std::chrono::steady_clock::now();
  posix_spawn(nullptr, "/bin/true", nullptr, nullptr, nullptr, nullptr);
  // std::thread in a comment is fine
}
