#include "models/train/parallel.hpp"

namespace nibble::train {

ThreadPool::ThreadPool(unsigned threads) {
  for (unsigned i = 1; i < threads; ++i) m_workers.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  for (auto& worker : m_workers) worker.join();
}

void ThreadPool::run_tasks() {
  for (;;) {
    std::size_t task;
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      if (m_next >= m_tasks) return;
      task = m_next++;
    }
    try {
      (*m_fn)(task);
    } catch (...) {
      std::lock_guard<std::mutex> lock(m_mutex);
      if (!m_error) m_error = std::current_exception();
      m_next = m_tasks;  // no new tasks once one failed
    }
  }
}

void ThreadPool::worker_loop() {
  std::size_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_wake.wait(lock, [&] { return m_stop || m_generation != seen; });
      if (m_stop) return;
      seen = m_generation;
    }
    run_tasks();
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      --m_busy;
    }
    m_done.notify_all();
  }
}

void ThreadPool::parallel_for(std::size_t tasks, const std::function<void(std::size_t)>& fn) {
  if (tasks == 0) return;
  if (m_workers.empty() || tasks == 1) {
    for (std::size_t i = 0; i < tasks; ++i) fn(i);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_fn = &fn;
    m_tasks = tasks;
    m_next = 0;
    m_error = nullptr;
    m_busy = m_workers.size();
    ++m_generation;
  }
  m_wake.notify_all();
  run_tasks();
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_done.wait(lock, [&] { return m_busy == 0; });
    m_fn = nullptr;
    error = m_error;
    m_error = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace nibble::train
