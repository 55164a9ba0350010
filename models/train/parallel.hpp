// A small fixed-size thread pool for the training emulator.
//
// Determinism rule: work is always cut into the same tasks, whatever the
// number of threads (callers choose task boundaries from the data shape
// only), and every task writes disjoint outputs. Threads only decide who runs
// a task, never what it computes, so results are identical at any thread count.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace nibble::train {

class ThreadPool {
 public:
  /// `threads` workers including the caller (1 = run everything inline).
  explicit ThreadPool(unsigned threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Runs fn(0) .. fn(tasks - 1), each exactly once, and returns when all are
  /// done. The first exception thrown by a task is rethrown here.
  void parallel_for(std::size_t tasks, const std::function<void(std::size_t)>& fn);
  /// Number of threads that run tasks (workers + the caller).
  unsigned threads() const { return static_cast<unsigned>(m_workers.size()) + 1; }

 private:
  void worker_loop();
  void run_tasks();

  std::vector<std::thread> m_workers;                   ///< threads() - 1 helpers
  std::mutex m_mutex;                                   ///< guards every field below
  std::condition_variable m_wake;                       ///< new job or shutdown
  std::condition_variable m_done;                       ///< a helper finished its share
  const std::function<void(std::size_t)>* m_fn = nullptr;  ///< the current job
  std::size_t m_tasks = 0;                              ///< tasks in the current job
  std::size_t m_next = 0;                               ///< next task index to hand out
  std::size_t m_busy = 0;                               ///< helpers still inside the job
  std::size_t m_generation = 0;                         ///< job counter, wakes helpers once per job
  std::exception_ptr m_error;                           ///< first exception of the job
  bool m_stop = false;                                  ///< destructor asked helpers to exit
};

/// Splits [0, total) into consecutive blocks of `block` (the last may be
/// shorter); returns the number of blocks. Task boundaries therefore depend
/// on the data only.
inline std::size_t block_count(std::size_t total, std::size_t block) { return (total + block - 1) / block; }

}  // namespace nibble::train
