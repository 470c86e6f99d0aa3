// Relay: a delaying TCP relay for the multi-host test harness (scripts/netns).
//
// The kernels we test on have no `tc netem`, so latency and jitter between
// network namespaces come from this relay. Transparent mode (the harness's):
// inside a peer's namespace an nftables `redirect` sends every new outgoing
// TCP connection to the relay's port; the relay reads the connection's
// original destination (SO_ORIGINAL_DST), connects there itself with socket
// mark `mark` (which the nft rule exempts, so it is not redirected again), and
// forwards both directions through a DelayLine with the delay and jitter of
// the first route (longest prefix) that matches the destination. With `to`
// set, every connection goes to that one address instead (no nftables
// needed; used by tests and by hand).
//
// Bounds: `buffer_bytes_max` per direction per connection (reads stop while
// full), `connections_max` open connections (more are closed at accept and
// counted). IPv4 only. A failed upstream connect resets the client's
// connection (the client sees the same error as a refused connect, later).
// Not thread-safe: Run() is the whole event loop, on the caller's thread.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace swarm::netrelay {

struct Route {
  uint32_t network = 0;  // host byte order, already masked
  int prefix_len = 0;    // 0..32
  int64_t delay_ms = 0;  // one-way, added in each direction
  int64_t jitter_ms = 0; // uniform in [-jitter, +jitter], jitter <= delay
};

// "CIDR=DELAY_MS[:JITTER_MS]", e.g. "10.77.1.0/24=40:5" (40 ms ± 5 ms each
// way) or "0.0.0.0/0=0". Errors name the text and what is wrong.
StatusOr<Route> ParseRoute(std::string_view text);
// The longest-prefix route for `ip` (host byte order), or nullptr.
const Route* MatchRoute(const std::vector<Route>& routes, uint32_t ip);

inline constexpr uint32_t kDefaultMark = 0x5357;  // "SW"

struct RelayOptions {
  std::string listen = "127.0.0.1:7399";  // host:port; port 0 picks one
  std::string to;                          // fixed upstream host:port; empty = transparent
  std::vector<Route> routes;               // no match: forwarded without delay
  uint32_t mark = kDefaultMark;            // SO_MARK of upstream sockets (transparent mode)
  size_t buffer_bytes_max = 4u << 20;      // per direction per connection
  int connections_max = 1024;
  int connect_timeout_ms = 10000;          // upstream connect
  uint64_t seed = 1;                       // jitter stream
};

struct RelayStats {
  uint64_t accepted = 0;
  uint64_t refused_over_limit = 0;
  uint64_t connect_failures = 0;
  uint64_t bytes_forwarded = 0;
  int open = 0;
};

class Relay {
 public:
  // Validates options, binds and listens. Errors name the flag and value.
  static StatusOr<std::unique_ptr<Relay>> Create(const RelayOptions& options);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  uint16_t port() const { return port_; }
  // Serves until `*stop` becomes true (checked at least every 200 ms).
  // Returns an error only when the event loop itself fails.
  Status Run(const std::atomic<bool>* stop);
  RelayStats stats() const { return stats_; }

 private:
  struct Conn;
  explicit Relay(const RelayOptions& options);
  void Accept(int64_t now_us);
  void OnEvent(Conn& c, int fd, uint32_t events, int64_t now_us);
  void Pump(Conn& c, int64_t now_us);
  void Close(Conn& c, bool reset);
  void Watch(Conn& c, int side);

  RelayOptions options_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  uint16_t port_ = 0;
  sockaddr_in fixed_{};  // `to`, resolved
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  RelayStats stats_;
};

}  // namespace swarm::netrelay
