#include "s3/client.hpp"

#include <fmt/format.h>
#include <thread>

#include "security/digest.hpp"
#include "xml.hpp"

namespace s3 {

namespace {

bool retryable(const common::OutboundResponse& answer) {
  return answer.status == 0 || answer.status == 429 || answer.status >= 500;
}

std::string header(const common::OutboundResponse& answer, std::string_view name) {
  for (const auto& [n, v] : answer.headers)
    if (n == name) return v;
  return {};
}

Error error_of(const common::OutboundResponse& answer) {
  if (answer.status == 0) return Error(0, answer.error, "S3 endpoint unreachable: " + answer.error);
  std::string code = xml::text(answer.body, "Code");
  std::string message = xml::text(answer.body, "Message");
  if (code.empty()) code = fmt::format("HTTP {}", answer.status);
  return Error(answer.status, code, message.empty() ? code : code + ": " + message);
}

}  // namespace

Error::Error(int status, std::string code, const std::string& message)
    : std::runtime_error(message), status_(status), code_(std::move(code)) {}

Client::Client(ClientConfig config, Transport transport) : config_(std::move(config)), transport_(std::move(transport)) {
  auto sep = config_.endpoint.find("://");
  if (sep == std::string::npos) throw std::invalid_argument("S3 endpoint must be http(s)://host[:port]");
  scheme_ = config_.endpoint.substr(0, sep);
  host_ = config_.endpoint.substr(sep + 3);
  while (!host_.empty() && host_.back() == '/') host_.pop_back();
  if ((scheme_ != "http" && scheme_ != "https") || host_.empty() || host_.find('/') != std::string::npos)
    throw std::invalid_argument("S3 endpoint must be http(s)://host[:port]");
}

common::OutboundResponse Client::send(const Call& call) {
  std::string host = host_, path = "/";
  if (!call.bucket.empty()) {
    if (config_.path_style) {
      path += uri_encode(call.bucket, false) + (call.key.empty() ? "" : "/");
    } else {
      host = call.bucket + "." + host_;
    }
  }
  path += uri_encode(call.key, true);
  std::string date = amz_date(std::chrono::system_clock::now());
  RequestToSign request{call.method, path, call.query, {}, security::sha256_hex(call.body)};
  request.headers = {{"Host", host}, {"X-Amz-Date", date}, {"X-Amz-Content-Sha256", request.payload_sha256}};
  if (!call.body.empty()) request.headers.emplace_back("Content-Type", "application/octet-stream");
  if (!config_.credentials.session_token.empty())
    request.headers.emplace_back("X-Amz-Security-Token", config_.credentials.session_token);
  Signature signature = sign_v4(config_.credentials, {config_.region, "s3"}, date, request);

  common::OutboundRequest out;
  out.method = call.method;
  std::string query;
  for (const auto& [name, value] : call.query)
    query += (query.empty() ? "?" : "&") + uri_encode(name, false) + "=" + uri_encode(value, false);
  out.url = scheme_ + "://" + host + path + query;
  out.headers = request.headers;
  out.headers.emplace_back("Authorization", signature.authorization);
  out.body = std::string(call.body);
  out.timeout = config_.timeout;
  out.ca_file = config_.ca_file;
  out.max_response_bytes = 16 << 20;  // listings of many objects
  if (call.sink) out.on_body = *call.sink;
  return transport_(out);
}

common::OutboundResponse Client::expect_ok(const Call& call) {
  auto answer = send(call);
  if (!answer.ok()) throw error_of(answer);
  return answer;
}

std::vector<Bucket> Client::list_buckets() {
  auto answer = expect_ok({"GET", "", "", {}, {}});
  std::vector<Bucket> out;
  for (auto element : xml::elements(answer.body, "Bucket"))
    out.push_back({xml::text(element, "Name"), xml::text(element, "CreationDate")});
  return out;
}

void Client::create_bucket(std::string_view bucket) {
  std::string body;
  if (config_.region != "us-east-1")  // elsewhere S3 wants the region named
    body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>" +
           xml::escape(config_.region) + "</LocationConstraint></CreateBucketConfiguration>";
  expect_ok({"PUT", std::string(bucket), "", {}, body});
}

void Client::put_object(std::string_view bucket, std::string_view key, std::string_view body) {
  expect_ok({"PUT", std::string(bucket), std::string(key), {}, body});
}

void Client::get_object(std::string_view bucket, std::string_view key,
                        const std::function<bool(std::string_view)>& sink) {
  Call call{"GET", std::string(bucket), std::string(key), {}, {}};
  call.sink = &sink;
  expect_ok(call);
}

void Client::delete_object(std::string_view bucket, std::string_view key) {
  expect_ok({"DELETE", std::string(bucket), std::string(key), {}, {}});
}

std::vector<ObjectSummary> Client::list_objects(std::string_view bucket, std::string_view prefix) {
  std::vector<ObjectSummary> out;
  std::string token;
  for (;;) {
    Call call{"GET", std::string(bucket), "", {{"list-type", "2"}, {"prefix", std::string(prefix)}}, {}};
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    auto answer = expect_ok(call);
    for (auto element : xml::elements(answer.body, "Contents")) {
      out.push_back({xml::text(element, "Key"), std::stoull("0" + xml::text(element, "Size")),
                     xml::text(element, "LastModified"), xml::text(element, "ETag")});
    }
    token = xml::text(answer.body, "NextContinuationToken");
    if (xml::text(answer.body, "IsTruncated") != "true" || token.empty()) break;
  }
  return out;
}

std::string Client::create_multipart_upload(std::string_view bucket, std::string_view key) {
  auto answer = expect_ok({"POST", std::string(bucket), std::string(key), {{"uploads", ""}}, {}});
  std::string id = xml::text(answer.body, "UploadId");
  if (id.empty()) throw Error(answer.status, "InvalidResponse", "CreateMultipartUpload answered without an UploadId");
  return id;
}

std::string Client::upload_part(std::string_view bucket, std::string_view key, std::string_view upload_id,
                                int number, std::string_view body) {
  Call call{"PUT", std::string(bucket), std::string(key),
            {{"partNumber", std::to_string(number)}, {"uploadId", std::string(upload_id)}}, body};
  auto delay = config_.retry.first_delay;
  for (int attempt = 1;; ++attempt) {
    auto answer = send(call);
    if (answer.ok()) {
      std::string etag = header(answer, "etag");
      if (etag.empty()) throw Error(answer.status, "InvalidResponse", "UploadPart answered without an ETag");
      return etag;
    }
    if (!retryable(answer) || attempt >= config_.retry.attempts) throw error_of(answer);
    std::this_thread::sleep_for(delay);
    delay *= 2;
  }
}

void Client::complete_multipart_upload(std::string_view bucket, std::string_view key, std::string_view upload_id,
                                       const std::vector<CompletedPart>& parts) {
  std::string body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& part : parts)
    body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", part.number, xml::escape(part.etag));
  body += "</CompleteMultipartUpload>";
  auto answer = expect_ok({"POST", std::string(bucket), std::string(key), {{"uploadId", std::string(upload_id)}}, body});
  // S3 may answer 200 and still fail the completion (the error is in the body).
  if (!xml::elements(answer.body, "Error").empty()) {
    answer.status = 500;
    throw error_of(answer);
  }
}

void Client::abort_multipart_upload(std::string_view bucket, std::string_view key, std::string_view upload_id) {
  expect_ok({"DELETE", std::string(bucket), std::string(key), {{"uploadId", std::string(upload_id)}}, {}});
}

MultipartUpload::MultipartUpload(Client& client, std::string bucket, std::string key, std::size_t part_size)
    : client_(client), bucket_(std::move(bucket)), key_(std::move(key)), part_size_(part_size) {
  if (part_size_ == 0) throw std::invalid_argument("part size must be positive");
  upload_id_ = client_.create_multipart_upload(bucket_, key_);
  part_.reserve(part_size_);
}

MultipartUpload::~MultipartUpload() {
  if (!finished_) abort();
}

void MultipartUpload::write(std::string_view piece) {
  while (!piece.empty()) {
    std::size_t room = part_size_ - part_.size();
    std::size_t n = std::min(room, piece.size());
    part_.append(piece.substr(0, n));
    piece.remove_prefix(n);
    bytes_ += n;
    if (part_.size() == part_size_) flush_part();
  }
}

void MultipartUpload::flush_part() {
  int number = static_cast<int>(parts_.size()) + 1;
  parts_.push_back({number, client_.upload_part(bucket_, key_, upload_id_, number, part_)});
  part_.clear();
}

void MultipartUpload::complete() {
  if (!part_.empty() || parts_.empty()) flush_part();  // an empty object is one empty part
  client_.complete_multipart_upload(bucket_, key_, upload_id_, parts_);
  finished_ = true;
}

void MultipartUpload::abort() {
  if (finished_) return;
  finished_ = true;
  try {
    client_.abort_multipart_upload(bucket_, key_, upload_id_);
  } catch (const Error&) {
    // The upload stays invisible either way: an incomplete upload is never an object.
  }
}

}  // namespace s3
