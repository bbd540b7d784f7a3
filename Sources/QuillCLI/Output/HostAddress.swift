import Foundation
import QuillCore

/// What a host name given to `quill serve --host` resolves to.
package enum HostAddress {
    /// Whether every address the host resolves to is a loopback address (`127.0.0.0/8`, `::1`, or an
    /// IPv4-mapped `::ffff:127.x.y.z`).
    ///
    /// The name is resolved (`getaddrinfo`), never compared as text, so `127.0.0.1.nip.io` or
    /// `127.attacker.example` count as what they resolve to. A name that does not resolve, or resolves to no
    /// address, is not loopback.
    package static func isLoopback(_ host: String) -> Bool {
        var name = host
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        guard !name.isEmpty else { return false }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Platform.streamSocketType
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else { return false }
        defer { freeaddrinfo(first) }
        var current: UnsafeMutablePointer<addrinfo>? = first
        var count = 0
        while let entry = current {
            guard let address = entry.pointee.ai_addr, isLoopback(address, family: entry.pointee.ai_family) else {
                return false
            }
            count += 1
            current = entry.pointee.ai_next
        }
        return count > 0
    }

    private static func isLoopback(_ address: UnsafeMutablePointer<sockaddr>, family: Int32) -> Bool {
        switch family {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { ipv4 in
                // The address is in network byte order: its first byte is the first octet.
                withUnsafeBytes(of: ipv4.pointee.sin_addr) { $0.first == 127 }
            }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { ipv6 in
                withUnsafeBytes(of: ipv6.pointee.sin6_addr) { raw in
                    let bytes = Array(raw)
                    guard bytes.count == 16 else { return false }
                    let loopback = bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
                    let mappedIPv4 =
                        bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
                        && bytes[12] == 127
                    return loopback || mappedIPv4
                }
            }
        default:
            return false
        }
    }
}
