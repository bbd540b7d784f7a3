import Foundation
import QuillCLI
import Testing

@Suite("quill serve's loopback check resolves the host")
struct HostAddressTests {
    @Test("only names whose every address is loopback count; text that merely starts with 127. does not")
    func resolvedNotPrefixed() {
        for host in ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1", "localhost"] {
            #expect(HostAddress.isLoopback(host), "\(host)")
        }
        for host in [
            "", "0.0.0.0", "::", "10.0.0.1", "192.168.1.1", "2001:db8::1", "::ffff:10.0.0.1",
            // Names that only look like loopback: `.invalid` never resolves (RFC 6761), so these would have
            // passed the old prefix test and must not pass now.
            "127.0.0.1.invalid", "127.attacker.invalid",
        ] {
            #expect(!HostAddress.isLoopback(host), "\(host)")
        }
    }
}
