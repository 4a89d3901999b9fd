// /api/admin/backup: an online backup on demand (admin).
#include "backups.hpp"
#include "common/envelope.hpp"
#include "common/error.hpp"
#include "routes.hpp"

namespace tc {

namespace {

common::Response backup(Backups& backups, common::Request& req) {
  if (!backups.configured()) throw common::ApiError::not_implemented("TC_BACKUP_DIR");
  auto file = backups.run(actor_of(req));
  return common::envelope_ok({{"file", file.name},
                              {"path", file.path},
                              {"bytes", static_cast<std::int64_t>(file.bytes)},
                              {"createdAt", file.created_at}},
                             201);
}

}  // namespace

std::vector<common::Route> admin_routes(Backups& backups) {
  return {{.method = "POST",
           .path = "/api/admin/backup",
           .auth = "admin",
           .limit = "admin",
           .handler = [&backups](common::Request& r) { return backup(backups, r); },
           .offload = true}};
}

}  // namespace tc
