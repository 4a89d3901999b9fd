#include "store/database.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <system_error>

#include "private_file.hpp"
#include "sqlite_error.hpp"
#include "store/time.hpp"

namespace store {
namespace {

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

// Creates the parent directory of `file` if it is missing; throws Error on failure.
void create_parent_directories(const std::filesystem::path& file) {
  const std::filesystem::path parent = file.parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) throw Error(SQLITE_CANTOPEN, "create directory " + parent.string() + ": " + ec.message());
}

ConnectionOptions connection_options(const DatabaseOptions& options, bool read_only) {
  return ConnectionOptions{read_only, options.busy_timeout_ms, options.synchronous_full};
}

// Every version recorded in schema_migrations, ascending.
std::vector<int> recorded_versions(Connection& connection) {
  std::vector<int> versions;
  const bool exists = connection
                          .query_int(
                              "SELECT count(*) FROM sqlite_schema "
                              "WHERE type = 'table' AND name = 'schema_migrations'")
                          .value_or(0) > 0;
  if (!exists) return versions;
  Query q = connection.prepare("SELECT version FROM schema_migrations ORDER BY version");
  while (q->step()) versions.push_back(static_cast<int>(q->int64(0)));
  return versions;
}

// Closes an sqlite3 handle on scope exit.
struct HandleCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Handle = std::unique_ptr<sqlite3, HandleCloser>;

// Removes a temporary file (and SQLite's side files) unless it was renamed into place.
class TempFile {
 public:
  explicit TempFile(std::filesystem::path path) : path_(std::move(path)) {}
  ~TempFile() {
    if (!kept_) {
      std::error_code ec;
      std::filesystem::remove(path_, ec);
      std::filesystem::remove(path_.string() + "-journal", ec);
      std::filesystem::remove(path_.string() + "-wal", ec);
      std::filesystem::remove(path_.string() + "-shm", ec);
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void keep() { kept_ = true; }

 private:
  std::filesystem::path path_;
  bool kept_ = false;
};

std::filesystem::path temp_name_next_to(const std::filesystem::path& dest) {
  std::random_device random;
  return dest.string() + ".tmp-" + std::to_string(random()) + std::to_string(random());
}

// Flushes a file or directory to stable storage; throws Error on failure.
void fsync_path(const std::filesystem::path& path, int open_flags) {
  const int fd = ::open(path.c_str(), open_flags | O_CLOEXEC);
  if (fd < 0) throw Error(SQLITE_IOERR, "open " + path.string() + " for fsync failed");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw Error(SQLITE_IOERR_FSYNC, "fsync " + path.string() + " failed");
}

// Copies the snapshot visible to `source` into the (new, empty) database `dest`.
void copy_pages(sqlite3* source, sqlite3* dest) {
  sqlite3_backup* backup = sqlite3_backup_init(dest, "main", source, "main");
  if (backup == nullptr) detail::throw_error(dest, sqlite3_extended_errcode(dest), "backup_init");
  constexpr int kPagesPerStep = 1024;
  int rc = SQLITE_OK;
  while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    rc = sqlite3_backup_step(backup, kPagesPerStep);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(5);
  }
  const int finish = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) detail::throw_error(nullptr, rc, "backup_step");
  detail::check(dest, finish, "backup_finish");
}

// Pages this connection has written to the WAL so far (SQLite counts them per connection).
int pages_written(sqlite3* db) noexcept {
  int current = 0;
  int highwater = 0;
  sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_WRITE, &current, &highwater, 0);
  return current;
}

// The header SQLite keeps twice at the start of the WAL index (WalIndexHdr in its wal.c).
struct WalIndexHeader {
  std::uint32_t version, unused, change;  // change: +1 with every commit, by any connection
  std::uint8_t is_init, big_endian_checksum;
  std::uint16_t page_size;
  std::uint32_t max_frame, pages, frame_checksum[2], salt[2], checksum[2];
};
static_assert(sizeof(WalIndexHeader) == 48);

}  // namespace

// The -shm file mapped read-only. A committing writer updates the header's second copy, then
// (after a barrier) the first, so two equal copies read first-then-second are consistent.
// The descriptor stays open until every connection is closed: closing any descriptor of a
// file drops all of the process's POSIX locks on it, SQLite's shared-memory locks included.
class Database::WalIndex {
 public:
  explicit WalIndex(const std::filesystem::path& shm) : fd_(::open(shm.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) return;
    struct stat info {};
    if (::fstat(fd_, &info) == 0 && info.st_size >= static_cast<off_t>(2 * sizeof(WalIndexHeader))) {
      void* map = ::mmap(nullptr, 2 * sizeof(WalIndexHeader), PROT_READ, MAP_SHARED, fd_, 0);
      if (map != MAP_FAILED) map_ = static_cast<const unsigned char*>(map);
    }
  }
  ~WalIndex() {
    if (map_ != nullptr) ::munmap(const_cast<unsigned char*>(map_), 2 * sizeof(WalIndexHeader));
    if (fd_ >= 0) ::close(fd_);
  }
  WalIndex(const WalIndex&) = delete;
  WalIndex& operator=(const WalIndex&) = delete;

  // The commit counter, or nullopt when the index is not mapped or keeps changing under us.
  std::optional<std::uint32_t> change() const noexcept {
    if (map_ == nullptr) return std::nullopt;
    for (int attempt = 0; attempt < 16; ++attempt) {
      WalIndexHeader first{};
      WalIndexHeader second{};
      std::memcpy(&first, map_, sizeof first);
      std::atomic_thread_fence(std::memory_order_acquire);
      std::memcpy(&second, map_ + sizeof first, sizeof second);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (first.is_init != 0 && std::memcmp(&first, &second, sizeof first) == 0) return first.change;
    }
    return std::nullopt;
  }

 private:
  int fd_ = -1;
  const unsigned char* map_ = nullptr;
};

// ---- construction ----

Database::Database(std::filesystem::path file, Options options) : file_(std::move(file)), options_(options) {
  if (options_.read_connections < 1) {
    throw Error(SQLITE_MISUSE, "Database: read_connections must be at least 1");
  }
  create_parent_directories(file_);
  writer_ = std::make_unique<Connection>(file_, connection_options(options_, false));
  // Make the new file's directory entry durable too (SQLite syncs only its journal's entry).
  const std::filesystem::path dir = file_.parent_path().empty() ? "." : file_.parent_path();
  fsync_path(dir, O_RDONLY | O_DIRECTORY);
  const auto count = static_cast<std::size_t>(options_.read_connections);
  readers_.reserve(count);
  idle_readers_.reserve(count);  // never reallocates afterwards, so returning cannot throw
  for (std::size_t i = 0; i < count; ++i) {
    readers_.push_back(std::make_unique<Connection>(file_, connection_options(options_, true)));
    idle_readers_.push_back(readers_.back().get());
  }
  writer_->query_int("SELECT count(*) FROM sqlite_schema");  // the WAL index exists from the first read
  wal_index_ = std::make_unique<WalIndex>(file_.string() + "-shm");
  expected_change_.store(wal_index_->change().value_or(0));
  last_change_.store(expected_change_.load());
}

Database::Database(PostgresTarget target) : url_(std::move(target.url)), pg_(std::make_unique<pg::Pool>(url_, target.pool)) {}

Database::~Database() {
  readers_.clear();
  writer_.reset();
  wal_index_.reset();  // after the connections: see WalIndex
}

// ---- locks, leases, observer ----

void Database::run_write(const std::function<void(Connection&)>& block) {
  if (writer_thread_.load() == std::this_thread::get_id())
    throw Error(SQLITE_MISUSE, "write() (or checkpoint/migrate) called inside write() on the same thread");
  PendingWrite me{.block = &block};
  std::unique_lock lock(queue_mutex_);
  queue_.push_back(&me);
  while (!me.done) {
    if (leading_) {
      queue_changed_.wait(lock);
      continue;
    }
    leading_ = true;
    std::vector<PendingWrite*> batch;
    batch.swap(queue_);
    lock.unlock();
    commit_batch(batch);
    lock.lock();
    for (auto* p : batch) p->done = true;
    leading_ = false;
    queue_changed_.notify_all();
  }
  if (me.error) std::rethrow_exception(me.error);
}

void Database::commit_batch(const std::vector<PendingWrite*>& batch) {
  try {
    WriterLock lock(*this);
    Transaction tx(*writer_, Transaction::Kind::immediate);
    // We hold the WAL write lock: the counter is the last commit before ours.
    const std::optional<std::uint32_t> before = wal_index_->change();
    if (before) note_foreign_commits(*before);
    const int written_before = pages_written(writer_->handle());
    for (auto* p : batch) {
      writer_->prepare("SAVEPOINT write_block")->step();
      try {
        (*p->block)(*writer_);
        writer_->prepare("RELEASE write_block")->step();
      } catch (...) {
        p->error = std::current_exception();
        writer_->prepare("ROLLBACK TO write_block")->step();
        writer_->prepare("RELEASE write_block")->step();
      }
    }
    committing_.store(true);
    tx.commit();
    // A commit that wrote pages moved the counter by exactly one.
    if (before) expected_change_.store(*before + (pages_written(writer_->handle()) > written_before ? 1 : 0));
    committing_.store(false);
  } catch (...) {
    committing_.store(false);
    // BEGIN or COMMIT failed: nothing of this batch is durable, so every block fails.
    for (auto* p : batch)
      if (!p->error) p->error = std::current_exception();
  }
}

void Database::note_foreign_commits(std::uint32_t now) noexcept {
  if (now == expected_change_.load()) return;
  foreign_.fetch_add(1);
  expected_change_.store(now);
}

std::uint64_t Database::data_version() noexcept {
  if (pg_) return version_.fetch_add(1) + 1;
  const std::optional<std::uint32_t> now = wal_index_->change();
  if (!now) return version_.fetch_add(1) + 1;  // never equal twice: caches miss
  if (*now != last_change_.load()) {
    version_.fetch_add(1);  // before publishing the counter, so whoever sees it sees this too
    last_change_.store(*now);
  }
  return version_.load();
}

std::uint64_t Database::foreign_commits() noexcept {
  if (pg_) return foreign_.fetch_add(1) + 1;
  const std::optional<std::uint32_t> now = wal_index_->change();
  if (!now) return foreign_.fetch_add(1) + 1;
  const std::uint32_t expected = expected_change_.load();
  // While our own COMMIT lands, the counter is one ahead of what we recorded.
  if (*now != expected && !(committing_.load() && *now == expected + 1)) note_foreign_commits(*now);
  return foreign_.load();
}

Database::WriterLock::WriterLock(Database& db) : db_(db) {
  if (db_.writer_thread_.load() == std::this_thread::get_id()) {
    throw Error(SQLITE_MISUSE, "write() (or checkpoint/migrate) called inside write() on the same thread");
  }
  db_.writer_mutex_.lock();
  db_.writer_thread_.store(std::this_thread::get_id());
}

Database::WriterLock::~WriterLock() {
  db_.writer_thread_.store(std::thread::id());
  db_.writer_mutex_.unlock();
}

Database::ReadLease::ReadLease(Database& db) : db_(db) {
  std::unique_lock lock(db_.readers_mutex_);
  db_.reader_returned_.wait(lock, [&] { return !db_.idle_readers_.empty(); });
  connection_ = db_.idle_readers_.back();
  db_.idle_readers_.pop_back();
}

Database::ReadLease::ReadLease(Database& db, std::chrono::milliseconds timeout) : db_(db) {
  std::unique_lock lock(db_.readers_mutex_);
  if (!db_.reader_returned_.wait_for(lock, timeout, [&] { return !db_.idle_readers_.empty(); })) {
    return;
  }
  connection_ = db_.idle_readers_.back();
  db_.idle_readers_.pop_back();
}

Database::ReadLease::~ReadLease() {
  if (connection_ == nullptr) return;
  {
    std::lock_guard lock(db_.readers_mutex_);
    db_.idle_readers_.push_back(connection_);
  }
  db_.reader_returned_.notify_one();
}

void Database::set_query_observer(QueryObserver observer) {
  auto shared = observer ? std::make_shared<const QueryObserver>(std::move(observer)) : nullptr;
  std::lock_guard lock(observer_mutex_);
  observer_ = std::move(shared);
}

void Database::observe(std::chrono::steady_clock::time_point start) const noexcept {
  std::shared_ptr<const QueryObserver> observer;
  {
    std::lock_guard lock(observer_mutex_);
    observer = observer_;
  }
  if (!observer) return;
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  try {
    (*observer)(elapsed.count());
  } catch (...) {
    // A metrics hook must never turn a successful write into a failure.
  }
}

// ---- migrations ----

void Database::migrate(std::span<const Migration> migrations) {
  if (pg_) return pg_->migrate(migrations);
  check_migration_list(migrations);
  const std::vector<int> applied = write([&](Connection& c) {
    c.exec(kCreateMigrationsTable);
    std::vector<int> versions = recorded_versions(c);
    check_against_applied(migrations, versions);
    return versions;
  });
  const int newest_applied = applied.empty() ? 0 : applied.back();
  for (const Migration& m : migrations) {
    if (m.version > newest_applied) apply_migration(m);
  }
}

void Database::apply_migration(const Migration& m) {
  try {
    write([&](Connection& c) {
      // Another process may have applied it since we looked.
      if (c.query_int("SELECT 1 FROM schema_migrations WHERE version = ?", m.version)) return;
      c.exec(m.sql);
      if (!c.in_transaction()) {
        throw Error(SQLITE_MISUSE, "the script ended the transaction itself (remove BEGIN/COMMIT)");
      }
      c.execute("INSERT INTO schema_migrations(version, name, applied_at) VALUES(?, ?, ?)", m.version, m.name,
                now_rfc3339());
    });
  } catch (const Error& e) {
    throw Error(e.code(),
                "migration " + std::to_string(m.version) + " (" + m.name + ") failed and was rolled back: " + e.what());
  }
}

std::vector<int> Database::applied_versions() {
  if (pg_) return pg_->applied_versions();
  return read([](Connection& c) { return recorded_versions(c); });
}

// ---- operations ----

bool Database::ping() noexcept {
  if (pg_) return pg_->ping();
  try {
    ReadLease lease(*this, std::chrono::milliseconds(options_.busy_timeout_ms));
    if (!lease) return false;
    // Reads page 1, so a missing or unreadable file fails (SELECT 1 alone would not).
    return lease.connection().query_int("SELECT count(*) FROM sqlite_schema").has_value();
  } catch (...) {
    return false;
  }
}

void Database::backup_to(const std::filesystem::path& dest) {
  if (pg_) throw Error(SQLITE_MISUSE, "a PostgreSQL store is backed up by the server's tools (pg_dump), not backup_to");
  create_parent_directories(dest);
  TempFile temp(temp_name_next_to(dest));
  {
    detail::make_private(temp.path());
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(temp.path().c_str(), &raw,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    Handle target(raw);
    detail::check(raw, rc, "open backup file " + temp.path().string());

    ReadLease lease(*this);
    Transaction snapshot(lease.connection(), Transaction::Kind::deferred);
    // Starting the read here pins one snapshot for all steps, so concurrent commits neither
    // restart the copy nor leak into it.
    lease.connection().query_int("SELECT count(*) FROM sqlite_schema");
    copy_pages(lease.connection().handle(), target.get());
    snapshot.commit();

    detail::check(target.get(), sqlite3_close(target.release()), "close backup file");
  }
  fsync_path(temp.path(), O_RDONLY);
  std::error_code ec;
  std::filesystem::rename(temp.path(), dest, ec);
  if (ec) throw Error(SQLITE_IOERR, "rename backup into " + dest.string() + ": " + ec.message());
  temp.keep();
  const std::filesystem::path dir = dest.parent_path().empty() ? "." : dest.parent_path();
  fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

void Database::checkpoint() {
  if (pg_) return;  // no WAL file of ours
  WriterLock lock(*this);
  sqlite3* db = writer_->handle();
  detail::check(db, sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr),
                "wal_checkpoint(TRUNCATE)");
}

}  // namespace store
