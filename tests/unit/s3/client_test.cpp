// s3/client.hpp over a recording transport: addressing, signing headers, error codes, part
// retries from the same bytes, multipart assembly and abort, listing pages.
#include "s3/client.hpp"

#include <catch2/catch.hpp>
#include <deque>

using namespace s3;

namespace {

struct Recorder {
  std::vector<common::OutboundRequest> calls;
  std::deque<common::OutboundResponse> answers;  // popped per call; 200 "" when empty

  Transport transport() {
    return [this](const common::OutboundRequest& request) {
      calls.push_back(request);
      common::OutboundResponse answer{200, "", "", {}};
      if (!answers.empty()) {
        answer = answers.front();
        answers.pop_front();
      }
      if (request.on_body && answer.ok()) {
        request.on_body(answer.body);
        answer.body.clear();
      }
      return answer;
    };
  }
};

ClientConfig config(bool path_style) {
  ClientConfig out;
  out.endpoint = "http://127.0.0.1:4568";
  out.region = "us-east-1";
  out.path_style = path_style;
  out.credentials = {"AKID", "SECRET", ""};
  out.retry = {3, std::chrono::milliseconds(0)};
  return out;
}

std::string header(const common::OutboundRequest& request, std::string_view name) {
  for (const auto& [n, v] : request.headers)
    if (n == name) return v;
  return {};
}

common::OutboundResponse part_ok(std::string etag) { return {200, "", "", {{"etag", std::move(etag)}}}; }

}  // namespace

TEST_CASE("path-style and virtual-host addressing", "[s3]") {
  Recorder path, vhost;
  Client(config(true), path.transport()).put_object("backups", "org 1/a+b.tar.gz", "data");
  Client(config(false), vhost.transport()).put_object("backups", "org 1/a+b.tar.gz", "data");
  CHECK(path.calls[0].url == "http://127.0.0.1:4568/backups/org%201/a%2Bb.tar.gz");
  CHECK(header(path.calls[0], "Host") == "127.0.0.1:4568");
  CHECK(vhost.calls[0].url == "http://backups.127.0.0.1:4568/org%201/a%2Bb.tar.gz");
  CHECK(header(vhost.calls[0], "Host") == "backups.127.0.0.1:4568");
  CHECK(path.calls[0].method == "PUT");
  CHECK(path.calls[0].body == "data");
  CHECK(header(path.calls[0], "X-Amz-Content-Sha256") ==
        "3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7");
  CHECK(header(path.calls[0], "Authorization").starts_with("AWS4-HMAC-SHA256 Credential=AKID/"));
}

TEST_CASE("a bad endpoint is refused", "[s3]") {
  auto bad = config(true);
  bad.endpoint = "ftp://example.com";
  CHECK_THROWS_AS(Client(bad), std::invalid_argument);
  bad.endpoint = "http://example.com/base";
  CHECK_THROWS_AS(Client(bad), std::invalid_argument);
}

TEST_CASE("S3 errors carry status and code", "[s3]") {
  Recorder recorder;
  recorder.answers.push_back(
      {404, "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>", "", {}});
  recorder.answers.push_back({0, "", "Couldn't connect to server", {}});
  Client client(config(true), recorder.transport());
  try {
    client.delete_object("missing", "k");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.status() == 404);
    CHECK(e.code() == "NoSuchBucket");
  }
  try {
    client.list_buckets();
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.status() == 0);
  }
}

TEST_CASE("list buckets and objects (all pages)", "[s3]") {
  Recorder recorder;
  recorder.answers.push_back({200,
                              "<ListAllMyBucketsResult><Buckets><Bucket><Name>a&amp;b</Name><CreationDate>2026-01-01T00:00:"
                              "00.000Z</CreationDate></Bucket><Bucket><Name>c</Name></Bucket></Buckets></"
                              "ListAllMyBucketsResult>",
                              "",
                              {}});
  recorder.answers.push_back({200,
                              "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>p/1</Key><Size>10</"
                              "Size><LastModified>t1</LastModified></Contents><NextContinuationToken>tok/"
                              "1</NextContinuationToken></ListBucketResult>",
                              "",
                              {}});
  recorder.answers.push_back({200,
                              "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>p/2</Key><Size>20</"
                              "Size></Contents></ListBucketResult>",
                              "",
                              {}});
  Client client(config(true), recorder.transport());
  auto buckets = client.list_buckets();
  REQUIRE(buckets.size() == 2);
  CHECK(buckets[0].name == "a&b");
  CHECK(buckets[0].created == "2026-01-01T00:00:00.000Z");
  auto objects = client.list_objects("b", "p/");
  REQUIRE(objects.size() == 2);
  CHECK(objects[0].key == "p/1");
  CHECK(objects[1].size == 20);
  CHECK(recorder.calls[1].url == "http://127.0.0.1:4568/b?list-type=2&prefix=p%2F");
  CHECK(recorder.calls[2].url == "http://127.0.0.1:4568/b?list-type=2&prefix=p%2F&continuation-token=tok%2F1");
}

TEST_CASE("get_object streams the body to the sink", "[s3]") {
  Recorder recorder;
  recorder.answers.push_back({200, "object bytes", "", {}});
  Client client(config(true), recorder.transport());
  std::string got;
  client.get_object("b", "k", [&](std::string_view piece) {
    got += piece;
    return true;
  });
  CHECK(got == "object bytes");
}

TEST_CASE("a part is retried with the same bytes on 5xx and transport failures", "[s3][multipart]") {
  Recorder recorder;
  recorder.answers.push_back({503, "<Error><Code>SlowDown</Code></Error>", "", {}});
  recorder.answers.push_back({0, "", "Connection reset by peer", {}});
  recorder.answers.push_back(part_ok("\"e1\""));
  Client client(config(true), recorder.transport());
  CHECK(client.upload_part("b", "k", "up1", 1, "part one") == "\"e1\"");
  REQUIRE(recorder.calls.size() == 3);
  for (const auto& call : recorder.calls) {
    CHECK(call.body == "part one");
    CHECK(call.url == "http://127.0.0.1:4568/b/k?partNumber=1&uploadId=up1");
  }
}

TEST_CASE("a part gives up after the last attempt, and at once on a 4xx", "[s3][multipart]") {
  Recorder recorder;
  for (int i = 0; i < 3; ++i) recorder.answers.push_back({500, "", "", {}});
  recorder.answers.push_back({403, "<Error><Code>SignatureDoesNotMatch</Code></Error>", "", {}});
  Client client(config(true), recorder.transport());
  CHECK_THROWS_AS(client.upload_part("b", "k", "u", 1, "x"), Error);
  CHECK(recorder.calls.size() == 3);
  try {
    client.upload_part("b", "k", "u", 1, "x");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == "SignatureDoesNotMatch");
  }
  CHECK(recorder.calls.size() == 4);
}

TEST_CASE("MultipartUpload cuts parts of part_size and completes in order", "[s3][multipart]") {
  Recorder recorder;
  recorder.answers.push_back({200, "<InitiateMultipartUploadResult><UploadId>U-1</UploadId></InitiateMultipartUploadResult>", "", {}});
  recorder.answers.push_back(part_ok("\"p1\""));
  recorder.answers.push_back(part_ok("\"p2\""));
  recorder.answers.push_back(part_ok("\"p3\""));
  Client client(config(true), recorder.transport());
  MultipartUpload upload(client, "b", "obj", 10);
  upload.write("0123456");
  upload.write("789abcdefghijklmnop");  // 26 bytes so far: two full parts sent
  CHECK(recorder.calls.size() == 3);
  upload.write("qrst");
  upload.complete();
  REQUIRE(recorder.calls.size() == 5);
  CHECK(recorder.calls[0].url == "http://127.0.0.1:4568/b/obj?uploads=");
  CHECK(recorder.calls[1].body == "0123456789");
  CHECK(recorder.calls[2].body == "abcdefghij");
  CHECK(recorder.calls[3].body == "klmnopqrst");
  CHECK(recorder.calls[4].url == "http://127.0.0.1:4568/b/obj?uploadId=U-1");
  CHECK(recorder.calls[4].body.find("<Part><PartNumber>3</PartNumber><ETag>\"p3\"</ETag></Part>") != std::string::npos);
  CHECK(upload.bytes() == 30);
}

TEST_CASE("MultipartUpload left unfinished aborts the upload", "[s3][multipart]") {
  Recorder recorder;
  recorder.answers.push_back({200, "<UploadId>U-2</UploadId>", "", {}});
  Client client(config(true), recorder.transport());
  {
    MultipartUpload upload(client, "b", "obj", 10);
    upload.write("abc");
  }
  REQUIRE(recorder.calls.size() == 2);
  CHECK(recorder.calls[1].method == "DELETE");
  CHECK(recorder.calls[1].url == "http://127.0.0.1:4568/b/obj?uploadId=U-2");
}

TEST_CASE("a completion that fails inside a 200 answer is an error", "[s3][multipart]") {
  Recorder recorder;
  recorder.answers.push_back({200, "<Error><Code>InternalError</Code></Error>", "", {}});
  Client client(config(true), recorder.transport());
  CHECK_THROWS_AS(client.complete_multipart_upload("b", "k", "u", {{1, "\"e\""}}), Error);
}
