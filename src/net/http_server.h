// A read-only HTTP server that an outsider cannot exhaust (docs/security.md).
//
// It serves GET/HEAD routes with cpp-httplib's request parser and handlers,
// but owns the sockets, the threads and the clock itself:
//   - a fixed pool of `threads` connection workers; at most `connections_max`
//     connections are open or queued, more are closed at accept;
//   - a request's line and headers must arrive within `header_timeout_ms` and
//     `header_bytes_max` bytes, or the connection is closed (slow-loris and
//     endless-request-line defence);
//   - every read and write waits at most `io_timeout_ms` (a quiet peer is
//     cut), and a connection lives at most `connection_ms_max`;
//   - a keep-alive connection serves at most `keep_alive_requests_max`
//     requests and idles at most `keep_alive_timeout_ms` between them;
//   - a request that announces a body larger than `body_bytes_max`, or a
//     chunked body, is answered 413 right after its headers, before any body
//     byte is read, and its connection is closed (after a lingering close:
//     FIN, then at most 256 KiB / 500 ms of the body read and discarded, so
//     the client sees the 413); methods other than GET/HEAD get 405;
//   - when `token` is set, every path except /healthz needs
//     `Authorization: Bearer <token>` (compared in constant time), else 401.
// Every refusal is answered (when the socket allows) with one line naming the
// reason and reported through `on_refused(reason)`; reasons: oversized,
// method_not_allowed, unauthenticated, header_timeout, connection_timeout,
// too_many_connections.
//
// Thread-safety: Get() before Listen() only; Listen/Stop from one owner
// thread; handlers run on worker threads (several at once) and must be
// thread-safe. Stop() (also run by the destructor) closes the listener, cuts
// open connections and joins every thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace swarm::net {

struct HttpLimits {
  int64_t body_bytes_max = 4096;
  int64_t header_bytes_max = 16 * 1024;
  int64_t header_timeout_ms = 3000;
  int64_t io_timeout_ms = 2000;
  int64_t connection_ms_max = 15000;
  int64_t keep_alive_timeout_ms = 2000;
  int64_t keep_alive_requests_max = 100;
  int64_t threads = 16;
  int64_t connections_max = 256;
  std::string token;  // "" = no token required
};

// True for a listen host that only this machine can reach (127.0.0.0/8, ::1,
// "localhost").
bool IsLoopbackHost(std::string_view host);

class HttpServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  using RefusalFn = std::function<void(std::string_view reason)>;

  // `on_refused` may be empty; it runs on worker/acceptor threads.
  HttpServer(HttpLimits limits, RefusalFn on_refused);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers an exact-path GET (and HEAD) route. Before Listen() only.
  void Get(const std::string& path, Handler handler);

  // Binds host:port (port 0 = any free) and starts serving. Errors: the
  // address does not bind (UNAVAILABLE naming it).
  Status Listen(const std::string& host, int port);
  int port() const { return port_; }
  void Stop();

  // Refusals so far, by reason (for tests and status pages).
  uint64_t refused(std::string_view reason) const;

 private:
  class Engine;
  void AcceptLoop();
  void WorkerLoop();
  void Serve(int fd);
  void Linger(int fd);
  void Refuse(std::string_view reason);

  HttpLimits limits_;
  RefusalFn on_refused_;
  std::unique_ptr<Engine> engine_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> pending_;  // accepted, waiting for a worker
  std::set<int> open_;       // being served
  mutable std::mutex counts_mu_;
  std::vector<std::pair<std::string, uint64_t>> counts_;
};

}  // namespace swarm::net
