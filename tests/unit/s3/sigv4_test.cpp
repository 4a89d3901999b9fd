// s3/sigv4.hpp against AWS's published Signature Version 4 examples: the SigV4 test suite's
// get-vanilla and the S3 developer guide's "Examples: Signature Calculations" (GET object,
// PUT object, GET bucket lifecycle, GET bucket list objects).
#include "s3/sigv4.hpp"

#include <catch2/catch.hpp>

using namespace s3;

namespace {

const Credentials kS3Example{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const std::string kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace

TEST_CASE("SigV4 test suite: get-vanilla", "[sigv4]") {
  Credentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  RequestToSign request{"GET", "/", {}, {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
                        kEmptySha256};
  auto signed_ = sign_v4(credentials, {"us-east-1", "service"}, "20150830T123600Z", request);
  CHECK(signed_.canonical_request ==
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + kEmptySha256);
  CHECK(signed_.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  CHECK(signed_.authorization ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,"
        "SignedHeaders=host;x-amz-date,Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST_CASE("S3 example: GET object with a Range", "[sigv4]") {
  RequestToSign request{"GET",
                        "/test.txt",
                        {},
                        {{"Host", "examplebucket.s3.amazonaws.com"},
                         {"Range", "bytes=0-9"},
                         {"x-amz-content-sha256", kEmptySha256},
                         {"x-amz-date", "20130524T000000Z"}},
                        kEmptySha256};
  auto signed_ = sign_v4(kS3Example, {"us-east-1", "s3"}, "20130524T000000Z", request);
  CHECK(signed_.string_to_sign ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  CHECK(signed_.authorization ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("S3 example: PUT object (key with a $, extra headers)", "[sigv4]") {
  const std::string payload = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
  RequestToSign request{"PUT",
                        "/" + uri_encode("test$file.text", true),
                        {},
                        {{"Host", "examplebucket.s3.amazonaws.com"},
                         {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                         {"x-amz-date", "20130524T000000Z"},
                         {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                         {"x-amz-content-sha256", payload}},
                        payload};
  CHECK(request.path == "/test%24file.text");
  auto signed_ = sign_v4(kS3Example, {"us-east-1", "s3"}, "20130524T000000Z", request);
  CHECK(signed_.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_CASE("S3 example: GET bucket lifecycle (a query name without value)", "[sigv4]") {
  RequestToSign request{"GET",
                        "/",
                        {{"lifecycle", ""}},
                        {{"Host", "examplebucket.s3.amazonaws.com"},
                         {"x-amz-date", "20130524T000000Z"},
                         {"x-amz-content-sha256", kEmptySha256}},
                        kEmptySha256};
  auto signed_ = sign_v4(kS3Example, {"us-east-1", "s3"}, "20130524T000000Z", request);
  CHECK(signed_.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_CASE("S3 example: list objects (query sorted by name)", "[sigv4]") {
  RequestToSign request{"GET",
                        "/",
                        {{"prefix", "J"}, {"max-keys", "2"}},
                        {{"Host", "examplebucket.s3.amazonaws.com"},
                         {"x-amz-date", "20130524T000000Z"},
                         {"x-amz-content-sha256", kEmptySha256}},
                        kEmptySha256};
  auto signed_ = sign_v4(kS3Example, {"us-east-1", "s3"}, "20130524T000000Z", request);
  CHECK(signed_.canonical_request.find("\nmax-keys=2&prefix=J\n") != std::string::npos);
  CHECK(signed_.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("header values are trimmed and repeated names joined", "[sigv4]") {
  RequestToSign request{"GET", "/", {}, {{"Host", "h"}, {"My-Header", "  a   b  "}, {"my-header", "c"}}, kEmptySha256};
  auto signed_ = sign_v4(kS3Example, {"us-east-1", "s3"}, "20130524T000000Z", request);
  CHECK(signed_.canonical_request.find("\nmy-header:a b,c\n") != std::string::npos);
}

TEST_CASE("uri_encode and amz_date", "[sigv4]") {
  CHECK(uri_encode("a b/c~d*é", true) == "a%20b/c~d%2A%C3%A9");
  CHECK(uri_encode("a/b", false) == "a%2Fb");
  CHECK(amz_date(std::chrono::system_clock::time_point(std::chrono::seconds(1369353600))) == "20130524T000000Z");
}
