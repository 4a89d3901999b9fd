// User Endpoints.
#include <algorithm>

#include <boost/json.hpp>

#include "common/envelope.hpp"
#include "common/input.hpp"
#include "http/fields.hpp"
#include "http/shapes.hpp"
#include "identity/routes.hpp"

namespace shardlyn {

namespace json = boost::json;

std::vector<common::Route> user_routes(Accounts& accounts, Platform& platform) {
  Accounts* a = &accounts;
  Platform* p = &platform;
  return {
      {.method = "GET",
       .path = "/v1/users/me",
       .auth = "jwt",
       .handler =
           [a, p](common::Request& req) {
             const auto& c = caller_of(req);
             auto out = user_json(a->me(c.user_id));
             json::array orgs;
             for (const auto& [org, role] : p->organizations_of(c))
               orgs.push_back({{"id", org.id}, {"name", org.name}, {"role", role}});
             out["organizations"] = std::move(orgs);
             return common::Response::json(out);
           }},
      {.method = "POST",
       .path = "/v1/users/me/password",
       .auth = "jwt",
       .limit = "login",
       .fields = {"current_password", "new_password"},
       .handler =
           [a](common::Request& req) {
             auto body = req.json_object();
             auto current = fields::password(body, "current_password");
             auto replacement = fields::new_password(body, "new_password");
             a->change_password(caller_of(req), current, replacement);
             return common::Response::json(json::object{{"message", "password changed; other sessions signed out"}});
           },
       .offload = true},
      {.method = "GET",
       .path = "/v1/users",
       .auth = "admin",
       .permission = "admin.users",
       .query = {"limit", "page", "per_page", "search"},
       .handler = [p](common::Request& req) { return user_page(*p, req); }},
      {.method = "POST",
       .path = "/v1/users",
       .auth = "admin",
       .permission = "admin.users",
       .fields = {"email", "is_admin", "name", "password"},
       .handler =
           [p](common::Request& req) {
             auto body = req.json_object();
             auto email = fields::email(body, "email");
             auto password = fields::new_password(body, "password");
             auto name = fields::optional_name(body, "name").value_or(email.substr(0, email.find('@')));
             bool admin = common::input::optional_boolean(body, "is_admin").value_or(false);
             return common::Response::json(user_json(p->create_user(caller_of(req), email, password, name, admin)),
                                           201);
           },
       .offload = true},
      {.method = "GET",
       .path = "/v1/users/{id}",
       .auth = "admin",
       .permission = "admin.users",
       .handler =
           [p](common::Request& req) {
             return common::Response::json(user_json(p->user(fields::uuid_param(req, "id", "user"))));
           }},
      {.method = "DELETE",
       .path = "/v1/users/{id}",
       .auth = "admin",
       .permission = "admin.users",
       .handler =
           [p](common::Request& req) {
             p->delete_user(caller_of(req), fields::uuid_param(req, "id", "user"));
             return common::Response::empty(204);
           }},
  };
}

}  // namespace shardlyn
