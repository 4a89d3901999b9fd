#pragma once
// An S3 client for AWS and S3-compatible stores (MinIO, Ceph, s3rver ...): configurable
// endpoint and region, path-style or virtual-host addressing, every request signed with
// Signature Version 4. Blocking (common::send): call it from a worker or a background job.
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/http_client.hpp"
#include "s3/sigv4.hpp"

namespace s3 {

// A failed call: status is the HTTP status (0 when no answer arrived), code S3's error code
// ("NoSuchBucket", "SignatureDoesNotMatch", ...) or the transport error.
class Error : public std::runtime_error {
 public:
  Error(int status, std::string code, const std::string& message);
  int status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string code_;
};

struct RetryPolicy {
  int attempts = 4;                                   // per part, the first one included
  std::chrono::milliseconds first_delay{250};         // doubled after each failed attempt
};

struct ClientConfig {
  std::string endpoint = "https://s3.amazonaws.com";  // scheme://host[:port]
  std::string region = "us-east-1";
  bool path_style = false;  // endpoint/bucket/key instead of bucket.endpoint/key
  Credentials credentials;
  std::chrono::milliseconds timeout{60000};  // per request
  std::string ca_file;
  RetryPolicy retry;
};

struct Bucket {
  std::string name;
  std::string created;  // ISO 8601 as S3 gives it
};

struct ObjectSummary {
  std::string key;
  std::uint64_t size = 0;
  std::string last_modified;  // ISO 8601
  std::string etag;
};

struct CompletedPart {
  int number = 0;
  std::string etag;
};

using Transport = std::function<common::OutboundResponse(const common::OutboundRequest&)>;

class Client {
 public:
  // Throws std::invalid_argument when the endpoint is not http(s)://host[:port].
  explicit Client(ClientConfig config, Transport transport = common::send);

  const ClientConfig& config() const { return config_; }

  std::vector<Bucket> list_buckets();
  void create_bucket(std::string_view bucket);
  void put_object(std::string_view bucket, std::string_view key, std::string_view body);
  // The object's bytes go to sink as they arrive; sink returning false stops the transfer
  // (Error "cancelled").
  void get_object(std::string_view bucket, std::string_view key, const std::function<bool(std::string_view)>& sink);
  void delete_object(std::string_view bucket, std::string_view key);  // absent objects too
  // Every object under prefix (ListObjectsV2, all pages), in key order.
  std::vector<ObjectSummary> list_objects(std::string_view bucket, std::string_view prefix);

  std::string create_multipart_upload(std::string_view bucket, std::string_view key);  // the upload id
  // Sends body (the replayable part) up to retry.attempts times with doubling delays while the
  // answer is a transport failure, 429 or 5xx; the part's ETag.
  std::string upload_part(std::string_view bucket, std::string_view key, std::string_view upload_id, int number,
                          std::string_view body);
  void complete_multipart_upload(std::string_view bucket, std::string_view key, std::string_view upload_id,
                                 const std::vector<CompletedPart>& parts);
  void abort_multipart_upload(std::string_view bucket, std::string_view key, std::string_view upload_id);

 private:
  struct Call {
    std::string method;
    std::string bucket;
    std::string key;
    std::vector<std::pair<std::string, std::string>> query;
    std::string_view body;
    const std::function<bool(std::string_view)>* sink = nullptr;
  };
  common::OutboundResponse send(const Call& call);
  common::OutboundResponse expect_ok(const Call& call);

  ClientConfig config_;
  Transport transport_;
  std::string scheme_;
  std::string host_;  // host[:port] of the endpoint
};

// Uploads an object of unknown length as it is produced: bytes are gathered into parts of
// part_size (the only copy held: one part in memory), each part sent with Client::upload_part's
// retries, then the upload is completed. Destroyed before complete(), it aborts the upload so
// that no partial object is ever visible.
class MultipartUpload {
 public:
  // Starts the upload (CreateMultipartUpload). part_size > 0 (S3 wants >= 5 MiB but the last).
  MultipartUpload(Client& client, std::string bucket, std::string key, std::size_t part_size);
  ~MultipartUpload();
  MultipartUpload(const MultipartUpload&) = delete;
  MultipartUpload& operator=(const MultipartUpload&) = delete;

  void write(std::string_view piece);
  void complete();  // sends the last part and CompleteMultipartUpload
  void abort();     // AbortMultipartUpload; errors ignored (the store expires it anyway)

  const std::string& upload_id() const { return upload_id_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  void flush_part();

  Client& client_;
  std::string bucket_;
  std::string key_;
  std::size_t part_size_;
  std::string upload_id_;
  std::string part_;
  std::vector<CompletedPart> parts_;
  std::uint64_t bytes_ = 0;
  bool finished_ = false;
};

}  // namespace s3
